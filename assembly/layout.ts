// The fixed regions of linear memory, laid out from the ABI (abi.ts). Memory
// never grows (initial = maximum in asconfig.json), so a host's views of these
// regions stay valid. Each region has one job, and every export checks that
// what the host passes stays inside the region it names.
import { RECV_CAPACITY, OUT_CAPACITY, STAGE_CAPACITY, MAX_FIELDS, PAD, R_SIZE, C_SIZE, SPAN_SLOTS, F_SIZE } from "./abi";

export const RECV = memory.data(RECV_CAPACITY + PAD, 16);
export const OUT = memory.data(OUT_CAPACITY + PAD, 16);
export const STAGE = memory.data(STAGE_CAPACITY + PAD, 16);
export const RESULT = memory.data(R_SIZE << 2, 16);
export const STAGE_TABLE = memory.data(MAX_FIELDS * SPAN_SLOTS * 4, 16);
export const CHUNK_STATE = memory.data(C_SIZE, 8);
/** The WebSocket frame header parseFrameHeader read last. */
export const FRAME_TABLE = memory.data(F_SIZE, 8);

@inline export function setResult(slot: i32, value: i32): void {
  store<i32>(RESULT + (<usize>slot << 2), value);
}
@inline export function getResult(slot: i32): i32 {
  return load<i32>(RESULT + (<usize>slot << 2));
}

/** Whether [ptr, ptr + len) lies inside the region [base, base + capacity). Arguments come from the host: trust none. */
@inline export function inRegion(ptr: i32, len: i32, base: usize, capacity: i32): bool {
  return len >= 0 && <i64>ptr >= <i64>base && <i64>ptr + <i64>len <= <i64>base + <i64>capacity;
}

/** Whether [off, off + len) lies inside a region of `capacity` bytes (an offset relative to the region). */
@inline export function inSpan(off: i32, len: i32, capacity: i32): bool {
  return off >= 0 && len >= 0 && <i64>off + <i64>len <= <i64>capacity;
}

/** A whole number of bytes a body may have: 0 to 2^53 - 1 (NaN fails). */
@inline export function isByteCount(v: f64): bool {
  return v >= 0 && v <= 9007199254740991 && v == Math.floor(v);
}
