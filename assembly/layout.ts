// The fixed regions of linear memory. Memory never grows (initial = maximum
// in asconfig.json), so a host's views of these regions stay valid.

/** Receive region: the shim reads sockets straight into it; the parser runs in place. */
export const RECV_CAPACITY: i32 = 192 * 1024;
/** Output region: serialized response heads, and small bodies encoded right after them. */
export const OUT_CAPACITY: i32 = 64 * 1024;
/** Staging region: the host writes response header names and values here for serializeHead. */
export const STAGE_CAPACITY: i32 = 64 * 1024;
/** Most header (or trailer) spans the result table can hold. */
export const MAX_HEADERS_CAP: i32 = 256;
// 64 bytes of padding after each byte region let a 16-byte vector load run past the end.
const PAD: i32 = 64;

export const RECV = memory.data(RECV_CAPACITY + PAD, 16);
export const OUT = memory.data(OUT_CAPACITY + PAD, 16);
export const STAGE = memory.data(STAGE_CAPACITY + PAD, 16);

// Result table (i32 slots) written by parseRequest and decodeChunked.
export const RESULT = memory.data(64 + MAX_HEADERS_CAP * 16, 16);
export const R_METHOD_OFF = 0;
export const R_METHOD_LEN = 1;
export const R_TARGET_OFF = 2;
export const R_TARGET_LEN = 3;
export const R_VERSION = 4; // minor version: 0 or 1
export const R_HEADER_COUNT = 5;
export const R_FRAMING = 6; // FRAMING_*
export const R_FLAGS = 7; // FLAG_*
export const R_ERROR_OFFSET = 8;
export const R_METHOD_ID = 9; // METHOD_*
export const R_CONSUMED = 10; // decodeChunked: input bytes consumed
export const R_DATA_LEN = 11; // decodeChunked: decoded bytes now at the start of the input
export const R_CONTENT_LENGTH_F64 = 6; // f64 slot index (byte offset 48)
export const R_HEADERS = 16; // first span: [nameOff, nameLen, valueOff, valueLen] x count

// Header spans the host stages for serializeHead: [nameOff, nameLen, valueOff, valueLen], relative to STAGE.
export const STAGE_TABLE = memory.data(MAX_HEADERS_CAP * 16, 16);

// Chunked decoder state, saved and restored by the host between calls.
export const CHUNK_STATE = memory.data(32, 8);
export const C_PHASE = 0; // i32 slot
export const C_REMAINING_F64 = 1; // f64 slot (byte offset 8): bytes left in the current chunk
export const C_TOTAL_F64 = 2; // f64 slot (byte offset 16): decoded bytes so far

export const FRAMING_NONE = 0;
export const FRAMING_LENGTH = 1;
export const FRAMING_CHUNKED = 2;

export const FLAG_KEEP_ALIVE = 1;
export const FLAG_EXPECT_CONTINUE = 2;
export const FLAG_EXPECT_OTHER = 4;
export const FLAG_UPGRADE = 8;

@inline export function setResult(slot: i32, value: i32): void {
  store<i32>(RESULT + (<usize>slot << 2), value);
}
@inline export function getResult(slot: i32): i32 {
  return load<i32>(RESULT + (<usize>slot << 2));
}
