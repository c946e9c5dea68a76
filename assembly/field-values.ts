// The values of the fields that decide a message's framing and its
// connection, read the same way in requests (request.ts) and responses
// (response-head.ts, head.ts): Connection's options, Content-Length and
// Transfer-Encoding's codings.
import { isDigit, isOws, isToken, equalsLower } from "./chars";
import { E_BAD_TRANSFER_ENCODING } from "./abi";

const MAX_SAFE_INTEGER: f64 = 9007199254740991;

export const OPTION_CLOSE = 1;
export const OPTION_KEEP_ALIVE = 2;
export const OPTION_UPGRADE = 4;

/**
 * Which option the `n` bytes at `o` are, ignoring ASCII case, or 0: by length,
 * then masked words. A value holds no CR, and `| 0x20` makes a letter or "-"
 * only of that letter in either case or of "-".
 */
function connectionOption(o: usize, n: i32): i32 {
  if (n == 5) { // "clos" "e"
    return (load<u32>(o) | 0x20202020) == 0x736f6c63 && (<u32>load<u8>(o, 4) | 0x20) == 0x65 ? OPTION_CLOSE : 0;
  }
  if (n == 10) { // "keep-ali" "ve"
    return (load<u64>(o) | 0x2020202020202020) == 0x696c612d7065656b && (<u32>load<u16>(o, 8) | 0x2020) == 0x6576 ? OPTION_KEEP_ALIVE : 0;
  }
  if (n == 7) { // "upgr" "rade"
    return (load<u32>(o) | 0x20202020) == 0x72677075 && (load<u32>(o, 3) | 0x20202020) == 0x65646172 ? OPTION_UPGRADE : 0;
  }
  return 0;
}

/**
 * The Connection options that matter here, from a comma-separated list
 * (RFC 9110 §7.6.1, §5.6.1). An element counts only when it is the whole
 * option: "keep-alive x" is one unknown element, not keep-alive.
 */
export function connectionOptions(v: usize, n: i32): i32 {
  let options = 0;
  let k = 0;
  while (k <= n) {
    let start = k;
    while (k < n && load<u8>(v + <usize>k) != 0x2c) k++;
    let stop = k;
    while (start < stop && isOws(<u32>load<u8>(v + <usize>start))) start++;
    while (stop > start && isOws(<u32>load<u8>(v + <usize>(stop - 1)))) stop--;
    options |= connectionOption(v + <usize>start, stop - start);
    k++;
  }
  return options;
}

/** 1*DIGIT up to 2^53 - 1, or -1. Lists ("5, 5") and signs are malformed. */
export function parseLength(v: usize, n: i32): f64 {
  if (n == 0) return -1;
  let value: f64 = 0;
  for (let k = 0; k < n; k++) {
    const c = <u32>load<u8>(v + <usize>k);
    if (!isDigit(c)) return -1;
    value = value * 10 + <f64>(c - 0x30);
    // Leading zeros are digits like any other (RFC 9110 §8.6); past 2^53 - 1 no length is exact.
    if (value > MAX_SAFE_INTEGER) return -1;
  }
  return value;
}

/** scanTransferCoding's result bits: chunked is the last coding; a coding other than chunked is listed. */
export const TE_CHUNKED_LAST = 1;
export const TE_OTHER = 2;

/**
 * Transfer-Encoding's list of codings (RFC 9112 §6.1, §7): tokens with
 * parameters, chunked at most once and with none. Returns
 * BAD_TRANSFER_ENCODING, or TE_* bits saying what the list holds.
 */
export function scanTransferCoding(v: usize, n: i32): i32 {
  let k = 0;
  let codings = 0;
  let chunkedSeen = false;
  let lastIsChunked = false;
  let other = false;
  while (k < n) {
    while (k < n && (isOws(<u32>load<u8>(v + <usize>k)) || load<u8>(v + <usize>k) == 0x2c)) k++;
    if (k >= n) break;
    const start = k;
    while (k < n && isToken(<u32>load<u8>(v + <usize>k))) k++;
    if (k == start) return E_BAD_TRANSFER_ENCODING;
    const isChunked = equalsLower(v + <usize>start, k - start, "chunked");
    // Skip transfer parameters; chunked takes none.
    while (k < n && load<u8>(v + <usize>k) != 0x2c) {
      if (isChunked) {
        if (!isOws(<u32>load<u8>(v + <usize>k))) return E_BAD_TRANSFER_ENCODING;
      }
      k++;
    }
    if (isChunked && chunkedSeen) return E_BAD_TRANSFER_ENCODING;
    chunkedSeen = chunkedSeen || isChunked;
    if (!isChunked) other = true;
    lastIsChunked = isChunked;
    codings++;
  }
  if (codings == 0) return E_BAD_TRANSFER_ENCODING;
  return (lastIsChunked ? TE_CHUNKED_LAST : 0) | (other ? TE_OTHER : 0);
}
