// The wasm ABI, defined once: regions, table slots, chunk state, error codes,
// method ids, flags, framing values and default limits. This file is the
// source; `npm run build:abi` (scripts/abi.ts) writes the module's copy,
// assembly/abi.ts, and the README's ABI section from it, and the module
// exports a hash of it that the host checks when it instantiates the module.
// Plain data only: it is loaded wherever the embeddable parser runs.

/** Region sizes in bytes. Each region is followed by PAD bytes that vector loads may read but nothing writes. */
export const REGIONS = {
  /** Receive region: sockets are read straight into it; parseRequest and decodeChunked work on it in place. */
  RECV_CAPACITY: 192 * 1024,
  /** Output region: serialized response heads (and small bodies the host encodes after them). */
  OUT_CAPACITY: 64 * 1024,
  /** Staging region: the host writes a response's reason phrase (at 0) and field names and values here. */
  STAGE_CAPACITY: 64 * 1024,
  /** Field spans the result table holds (request headers or trailers) and the staging table holds (response fields). */
  MAX_FIELDS: 256,
  PAD: 64,
} as const;

/** Result table: i32 slots written by parseRequest, parseResponse and decodeChunked. */
export const RESULT = {
  METHOD_OFF: 0,
  METHOD_LEN: 1,
  TARGET_OFF: 2,
  TARGET_LEN: 3,
  /** parseResponse: the reason phrase's span, in the slots a request's target takes (a status line has no target). */
  REASON_OFF: 2,
  REASON_LEN: 3,
  /** Minor version: 0 or 1. */
  VERSION: 4,
  HEADER_COUNT: 5,
  /** FRAMING value. */
  FRAMING: 6,
  /** FLAG bits. */
  FLAGS: 7,
  /** Byte offset of the fault (request errors), or index of the refused field (serializer errors). */
  ERROR_OFFSET: 8,
  /** METHOD id. */
  METHOD_ID: 9,
  /** decodeChunked: input bytes consumed. */
  CONSUMED: 10,
  /** decodeChunked: decoded bytes now at the start of the input. */
  DATA_LEN: 11,
  /** parseResponse: the status code, 100-999. */
  STATUS: 14,
  /** f64 slot 6 (bytes 48-55): Content-Length, 0 when there is none, -1 when chunked. */
  CONTENT_LENGTH_F64: 6,
  /** First field span: [nameOff, nameLen, valueOff, valueLen] x HEADER_COUNT, offsets relative to the input. */
  FIELDS: 16,
  /** i32 slots in all. */
  SIZE: 16 + REGIONS.MAX_FIELDS * 4,
} as const;

/** A field span, four i32 slots: in the result table (offsets relative to the input) and in the staging table (relative to the staging region). */
export const SPAN = { NAME_OFF: 0, NAME_LEN: 1, VALUE_OFF: 2, VALUE_LEN: 3, SLOTS: 4 } as const;

/** Chunked decoder state, saved and restored by the host per stream (byte offsets in a 24-byte block). */
export const CHUNK = {
  /** i32 slot 0: CHUNK_PHASE value. */
  PHASE: 0,
  /** f64 slot 1: bytes left in the current chunk. */
  REMAINING_F64: 1,
  /** f64 slot 2: decoded bytes so far. */
  TOTAL_F64: 2,
  /** Bytes in all. */
  SIZE: 24,
} as const;

export const CHUNK_PHASE = { SIZE: 0, DATA: 1, DATA_END: 2, TRAILERS: 3, DONE: 4 } as const;

/** WebSocket frame header (RFC 6455 §5.2), written by parseFrameHeader on success: byte offsets in a 32-byte table at frameTable(). */
export const FRAME = {
  /** i32 slot 0: 1 when FIN is set. */
  FIN: 0,
  /** i32 slot 1: the RSV bits as RSV1 = 4, RSV2 = 2, RSV3 = 1 (see RSV). */
  RSV: 1,
  /** i32 slot 2: OPCODE value. */
  OPCODE: 2,
  /** i32 slot 3: 1 when the payload is masked. */
  MASKED: 3,
  /** i32 slot 4: the masking key's 4 bytes as a little-endian u32, as they appear on the wire (0 when unmasked). */
  MASK: 4,
  /** f64 slot 3 (bytes 24-31): the payload length, 0 to 2^53 - 1. */
  LENGTH_F64: 3,
  /** Bytes in all. */
  SIZE: 32,
} as const;

/** WebSocket opcodes (RFC 6455 §5.2); 3-7 and 11-15 are reserved, and refused. */
export const OPCODE = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** The RSV bits of a frame as parseFrameHeader reports them and writeFrameHeader takes them: the RFC's bit order, RSV1 highest. */
export const RSV = { RSV1: 4, RSV2: 2, RSV3: 1 } as const;

/** WebSocket close codes (RFC 6455 §7.4.1) the codec's errors map to, and the others an endpoint sends. */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  /** Never on the wire: a close frame without a code. */
  NO_STATUS: 1005,
  /** Never on the wire: the connection closed without a close frame. */
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  MANDATORY_EXTENSION: 1010,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
} as const;

/** WebSocket wire limits. */
export const WEBSOCKET = {
  /** A control frame's payload, bytes (RFC 6455 §5.5). */
  MAX_CONTROL_PAYLOAD: 125,
  /** The longest frame header: 2 + 8 (64-bit length) + 4 (masking key). */
  MAX_HEADER: 14,
} as const;

/** validateUtf8: the input is not UTF-8, and no continuation can make it so. */
export const UTF8_INVALID = -1;

/**
 * How a message's body is framed (the result table; NONE, LENGTH and CHUNKED are serializeHead's argument).
 * Responses only: UNTIL_CLOSE, the body is what arrives until the connection closes (RFC 9112 §6.3 items 4 and 8);
 * TUNNEL, no body and the connection stops being HTTP after the head (101, or a 2xx to CONNECT).
 */
export const FRAMING = { NONE: 0, LENGTH: 1, CHUNKED: 2, UNTIL_CLOSE: 3, TUNNEL: 4 } as const;

/** Message flags (RESULT.FLAGS); a response gets KEEP_ALIVE and UPGRADE only. */
export const FLAG = { KEEP_ALIVE: 1, EXPECT_CONTINUE: 2, EXPECT_OTHER: 4, UPGRADE: 8 } as const;

/** serializeHead / endHead flags. */
export const HEAD = {
  /** Add a Date field. */
  DATE: 1,
  /** Add "Connection: close". */
  CLOSE: 2,
  /** Add "Connection: keep-alive" (for HTTP/1.0 clients). */
  KEEP_ALIVE: 4,
} as const;

/** Method ids (RESULT.METHOD_ID; parseResponse's requestMethod argument); OTHER: read the method's span. */
export const METHOD = {
  OTHER: 0, GET: 1, HEAD: 2, POST: 3, PUT: 4, DELETE: 5, OPTIONS: 6, CONNECT: 7, PATCH: 8, TRACE: 9,
} as const;

/** parseRequest: the head is not complete yet; call again with more bytes. decodeChunked returns 0 for this. */
export const INCOMPLETE = -1;

/**
 * Every error code the module returns: [code, name, status, reason]. The status
 * is an HTTP status, except for the WebSocket frame errors (WS_*, -60 and
 * below), where it is the close code (CLOSE) the endpoint closes with.
 */
export const ERRORS = [
  [-2, "BAD_METHOD", 400, "Invalid method"],
  [-3, "BAD_TARGET", 400, "Invalid request target"],
  [-4, "BAD_VERSION", 400, "Invalid HTTP version"],
  [-5, "VERSION_NOT_SUPPORTED", 505, "HTTP version not supported"],
  [-6, "HTTP09", 400, "HTTP/0.9 requests are not supported"],
  [-7, "BAD_HEADER_NAME", 400, "Invalid header name"],
  [-8, "SPACE_BEFORE_COLON", 400, "Whitespace between header name and colon"],
  [-9, "BAD_HEADER_VALUE", 400, "Invalid character in header value"],
  [-10, "OBS_FOLD", 400, "Obsolete line folding"],
  [-11, "BARE_CR", 400, "CR not followed by LF"],
  [-12, "BARE_LF", 400, "LF without CR"],
  [-13, "BAD_CONTENT_LENGTH", 400, "Invalid Content-Length"],
  [-14, "DUPLICATE_CONTENT_LENGTH", 400, "Duplicate Content-Length"],
  [-15, "LENGTH_AND_CHUNKED", 400, "Content-Length with Transfer-Encoding"],
  [-16, "BAD_TRANSFER_ENCODING", 400, "Invalid Transfer-Encoding"],
  [-17, "UNSUPPORTED_TRANSFER_CODING", 501, "Unsupported transfer coding"],
  [-18, "MISSING_HOST", 400, "Missing Host header"],
  [-19, "DUPLICATE_HOST", 400, "Duplicate Host header"],
  [-20, "BAD_HOST", 400, "Invalid Host header"],
  [-21, "TARGET_TOO_LONG", 414, "Request target too long"],
  [-22, "HEAD_TOO_LARGE", 431, "Message head too large"],
  [-23, "TOO_MANY_HEADERS", 431, "Too many header fields"],
  [-24, "HEADER_LINE_TOO_LONG", 431, "Header field too large"],
  [-25, "BODY_TOO_LARGE", 413, "Message body too large"],
  [-26, "BAD_CHUNK_SIZE", 400, "Invalid chunk size"],
  [-27, "CHUNK_SIZE_OVERFLOW", 400, "Chunk size too large"],
  [-28, "BAD_CHUNK_TERMINATOR", 400, "Chunk data not followed by CRLF"],
  [-29, "BAD_CHUNK_EXTENSION", 400, "Invalid chunk extension"],
  [-30, "CHUNK_EXTENSION_TOO_LARGE", 413, "Chunk extension too large"],
  [-31, "BAD_TRAILER", 400, "Invalid trailer"],
  [-32, "TRAILERS_TOO_LARGE", 431, "Trailer section too large"],
  [-33, "METHOD_TOO_LONG", 501, "Method not implemented"],
  // Responses (parseResponse); a response's other faults have the request codes above. A client or
  // proxy answers a bad response with 502, whatever the status column says (ResponseStream reports 502).
  [-34, "BAD_STATUS_CODE", 502, "Invalid status code"],
  [-35, "BAD_REASON", 502, "Invalid character in reason phrase"],
  // The host's, never the module's: the connection ended inside a message (ResponseStream.endOfInput).
  [-36, "TRUNCATED", 502, "Connection closed before the message ended"],
  // The serializer's refusals: the application's fault, so 500.
  [-40, "BAD_STATUS", 500, "Invalid response status"],
  [-41, "BAD_RESPONSE_HEADER_NAME", 500, "Invalid response header name"],
  [-42, "BAD_RESPONSE_HEADER_VALUE", 500, "Invalid response header value"],
  [-43, "HEAD_OVERFLOW", 500, "Response head too large for the output region"],
  // A call the module refuses: an argument outside the region it names, or out of order.
  [-50, "BAD_ARGUMENT", 500, "Argument outside the region or range it names"],
  [-51, "BAD_CHUNK_STATE", 500, "Invalid chunked decoder state"],
  [-52, "NO_HEAD_IN_PROGRESS", 500, "addFields or endHead without beginHead"],
  // WebSocket frame headers (parseFrameHeader): the status column holds the close code.
  [-60, "WS_RESERVED_BITS", CLOSE.PROTOCOL_ERROR, "RSV bit set that no extension allows"],
  [-61, "WS_BAD_OPCODE", CLOSE.PROTOCOL_ERROR, "Reserved opcode"],
  [-62, "WS_FRAGMENTED_CONTROL", CLOSE.PROTOCOL_ERROR, "Fragmented control frame"],
  [-63, "WS_CONTROL_TOO_LONG", CLOSE.PROTOCOL_ERROR, "Control frame payload over 125 bytes"],
  [-64, "WS_UNMASKED", CLOSE.PROTOCOL_ERROR, "Client frame not masked"],
  [-65, "WS_LENGTH_TOO_LARGE", CLOSE.MESSAGE_TOO_BIG, "Payload length over 2^53 - 1"],
] as const;

export type ErrorName = (typeof ERRORS)[number][1];

/** Error codes by name: E.BAD_METHOD === -2. */
export const E = Object.fromEntries(ERRORS.map(([code, name]) => [name, code])) as { readonly [K in ErrorName]: number };

/** Default limits: the module starts with these, and setLimits refuses values above the caps. */
export const LIMITS = {
  /** Request line plus header section, bytes (like Node). At most half the receive region. */
  MAX_HEAD_BYTES: 16384,
  MAX_HEAD_BYTES_CAP: REGIONS.RECV_CAPACITY >> 1,
  /** Header (or trailer) fields, count (like Node). At most MAX_FIELDS. */
  MAX_HEADERS: 100,
  /** One field line, bytes. */
  MAX_HEADER_LINE: 8192,
  /** Request target, bytes. */
  MAX_TARGET_BYTES: 8192,
  /** Method token, bytes: a longer one is no method the server implements (501). */
  MAX_METHOD_BYTES: 32,
  /** Decoded body, bytes: unlimited (2^53 - 1). */
  MAX_BODY_BYTES: Number.MAX_SAFE_INTEGER,
  /** Chunk extensions of one chunk, bytes. At most a quarter of the receive region. */
  MAX_CHUNK_EXTENSION: 4096,
  MAX_CHUNK_EXTENSION_CAP: REGIONS.RECV_CAPACITY >> 2,
} as const;

/** Most parts one writev call takes: the host's contract with the shim (generated into shim/abi.h). */
export const MAX_IOVECS = 64;

/** Everything above, in one object: the generator writes it out and hashes it. */
export const ABI = {
  REGIONS, RESULT, SPAN, CHUNK, CHUNK_PHASE, FRAMING, FLAG, HEAD, METHOD, INCOMPLETE, ERRORS, LIMITS, MAX_IOVECS,
  FRAME, OPCODE, RSV, CLOSE, WEBSOCKET, UTF8_INVALID,
} as const;

/** FNV-1a (32-bit) of the ABI's canonical JSON; the module exports the same number as abiHash(). */
export function abiHash(): number {
  const text = JSON.stringify(ABI);
  let h = 0x811c9dc5;
  for (let k = 0; k < text.length; k++) {
    h ^= text.charCodeAt(k);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

// The ABI in words (each export, each value's meaning) is documentation as
// data, outside the hash: abi-docs.ts.
export { EXPORTS, MEANING, type ExportDoc, type MeaningGroup } from "./abi-docs.js";
