// The limits of a request head and body, set by the host through setLimits
// (index.ts) and read by the parsers of heads (head.ts, request.ts) and of
// chunked bodies (chunked.ts).
import {
  MAX_FIELDS, RECV_CAPACITY, LIMIT_MAX_HEAD_BYTES, LIMIT_MAX_HEAD_BYTES_CAP, LIMIT_MAX_HEADERS, LIMIT_MAX_HEADER_LINE,
  LIMIT_MAX_TARGET_BYTES, LIMIT_MAX_BODY_BYTES, LIMIT_MAX_METHOD_BYTES, E_BAD_ARGUMENT,
} from "./abi";
import { isByteCount } from "./layout";

export let maxHeadBytes: i32 = LIMIT_MAX_HEAD_BYTES;
export let maxHeaderCount: i32 = LIMIT_MAX_HEADERS;
export let maxHeaderLine: i32 = LIMIT_MAX_HEADER_LINE;
export let maxTargetBytes: i32 = LIMIT_MAX_TARGET_BYTES;
export let maxBodyBytes: f64 = LIMIT_MAX_BODY_BYTES;
export let maxMethodBytes: i32 = LIMIT_MAX_METHOD_BYTES;

/** Takes the limits if every one is in range (line and target lengths at most the receive region); else changes none. */
export function configureRequestLimits(head: i32, headers: i32, line: i32, target: i32, body: f64, method: i32): i32 {
  if (head < 1 || head > LIMIT_MAX_HEAD_BYTES_CAP) return E_BAD_ARGUMENT;
  if (method < 1 || method > RECV_CAPACITY) return E_BAD_ARGUMENT;
  if (headers < 0 || headers > MAX_FIELDS) return E_BAD_ARGUMENT;
  if (line < 1 || line > RECV_CAPACITY || target < 1 || target > RECV_CAPACITY) return E_BAD_ARGUMENT;
  if (!isByteCount(body)) return E_BAD_ARGUMENT;
  maxHeadBytes = head;
  maxHeaderCount = headers;
  maxHeaderLine = line;
  maxTargetBytes = target;
  maxBodyBytes = body;
  maxMethodBytes = method;
  return 0;
}
