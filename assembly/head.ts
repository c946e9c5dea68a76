// What a request head (request.ts) and a response head (response-head.ts)
// share: the checks and the size limit around a head's parse, the empty lines
// before its first line, the HTTP-version, the first line's CRLF and the
// field lines after it, the names of the fields that decide framing and the
// connection, whether the connection persists, and the framing fields
// themselves — Content-Length and Transfer-Encoding, recorded as the field
// lines go by and judged together at the end (RFC 9112 §6).
import { byteAt, isDigit, scanLf, CR, LF } from "./chars";
import { RECV, inRegion } from "./layout";
import {
  RECV_CAPACITY, INCOMPLETE, E_BAD_VERSION, E_VERSION_NOT_SUPPORTED, E_BARE_CR, E_BARE_LF, E_BAD_CONTENT_LENGTH,
  E_DUPLICATE_CONTENT_LENGTH, E_LENGTH_AND_CHUNKED, E_BAD_TRANSFER_ENCODING, E_HEAD_TOO_LARGE, E_BODY_TOO_LARGE,
  E_BAD_ARGUMENT,
} from "./abi";
import { parseFields } from "./fields";
import { maxHeadBytes, maxHeaderCount, maxHeaderLine, maxBodyBytes } from "./limits";
import { parseLength, scanTransferCoding, OPTION_CLOSE, OPTION_KEEP_ALIVE } from "./field-values";
import { fail } from "./errors";

/**
 * The checks before a head's parse at [ptr, ptr + len), which must lie in
 * the receive region: returns how many of its bytes the head may take (>= 0),
 * or what the parse returns without parsing — an error, or INCOMPLETE when a
 * retry (`prevLen`, the bytes the last attempt saw) brought no end of a head.
 */
@inline export function headLimit(ptr: i32, len: i32, prevLen: i32): i32 {
  if (!inRegion(ptr, len, RECV, RECV_CAPACITY)) return fail(E_BAD_ARGUMENT, 0);
  prevLen = prevLen < 0 ? 0 : min(prevLen, len);
  const limit = min(len, maxHeadBytes);
  if (prevLen > 0 && !headEndIn(<usize>ptr, max(prevLen - 3, 0), limit)) {
    return len >= maxHeadBytes ? fail(E_HEAD_TOO_LARGE, maxHeadBytes) : INCOMPLETE;
  }
  return limit;
}

/** A head parse's result over `len` bytes: INCOMPLETE with the size limit reached is HEAD_TOO_LARGE. */
@inline export function headResult(r: i32, len: i32): i32 {
  return r == INCOMPLETE && len >= maxHeadBytes ? fail(E_HEAD_TOO_LARGE, maxHeadBytes) : r;
}

/** Skips empty lines (CRLF) before a request or status line (RFC 9112 §2.2): the index of the line, INCOMPLETE or an error. */
@inline export function skipEmptyLines(p: usize, end: i32): i32 {
  let i = 0;
  while (i < end && byteAt(p, i) == CR) {
    if (i + 1 >= end) return INCOMPLETE;
    if (byteAt(p, i + 1) != LF) return fail(E_BARE_CR, i);
    i += 2;
  }
  if (i < end && byteAt(p, i) == LF) return fail(E_BARE_LF, i);
  return i;
}

/**
 * HTTP-version = "HTTP/" DIGIT "." DIGIT at i (RFC 9112 §2.3), 1.0 or 1.1:
 * the index after it (the minor digit is the byte before), INCOMPLETE or an
 * error. Known as soon as the digits are in: no need to wait for the line's end.
 */
@inline export function parseVersion(p: usize, i: i32, end: i32): i32 {
  const versionStart = i;
  const prefix = "HTTP/";
  for (let k = 0; k < 5; k++, i++) {
    if (i >= end) return INCOMPLETE;
    if (byteAt(p, i) != <u32>prefix.charCodeAt(k)) return fail(E_BAD_VERSION, i);
  }
  if (i >= end) return INCOMPLETE;
  const major = byteAt(p, i);
  if (!isDigit(major)) return fail(E_BAD_VERSION, i);
  i++;
  if (i >= end) return INCOMPLETE;
  if (byteAt(p, i) != 0x2e) return fail(E_BAD_VERSION, i);
  i++;
  if (i >= end) return INCOMPLETE;
  const minor = byteAt(p, i);
  if (!isDigit(minor)) return fail(E_BAD_VERSION, i);
  if (major != 0x31 || minor > 0x31) return fail(E_VERSION_NOT_SUPPORTED, versionStart);
  return i + 1;
}

/**
 * The CRLF that ends the first line at i (BARE_CR, BARE_LF, or `otherwise`
 * for any other byte), then the header section's field lines: the index
 * after the head, INCOMPLETE or an error.
 */
@inline export function fieldSection(p: usize, i: i32, end: i32, otherwise: i32): i32 {
  if (i >= end) return INCOMPLETE;
  const eol = byteAt(p, i);
  if (eol == CR) {
    if (i + 1 >= end) return INCOMPLETE;
    if (byteAt(p, i + 1) != LF) return fail(E_BARE_CR, i);
  } else {
    return eol == LF ? fail(E_BARE_LF, i) : fail(otherwise, i);
  }
  return parseFields(p, i + 2, end, maxHeaderCount, maxHeaderLine);
}

export const FIELD_CONTENT_LENGTH = 1;
export const FIELD_TRANSFER_ENCODING = 2;
export const FIELD_HOST = 3;
export const FIELD_CONNECTION = 4;
export const FIELD_EXPECT = 5;
export const FIELD_UPGRADE = 6;

/**
 * Which of the fields that matter here a name is (ASCII case-insensitive),
 * or 0: by its length, then a word or two at a time. The name's bytes are
 * tchars, of which `| 0x20` changes only the upper-case letters, so a masked
 * word equals a lower-case name's word exactly when the bytes match ignoring case.
 */
@inline export function fieldKind(name: usize, n: i32): i32 {
  switch (n) {
    case 4: return (load<u32>(name) | 0x20202020) == 0x74736f68 ? FIELD_HOST : 0; // "host"
    case 6: // "expe" "ct"
      return (load<u32>(name) | 0x20202020) == 0x65707865 && (<u32>load<u16>(name, 4) | 0x2020) == 0x7463 ? FIELD_EXPECT : 0;
    case 7: // "upgr" "rade"
      return (load<u32>(name) | 0x20202020) == 0x72677075 && (load<u32>(name, 3) | 0x20202020) == 0x65646172 ? FIELD_UPGRADE : 0;
    case 10: // "connecti" "on"
      return (load<u64>(name) | 0x2020202020202020) == 0x697463656e6e6f63 && (<u32>load<u16>(name, 8) | 0x2020) == 0x6e6f
        ? FIELD_CONNECTION : 0;
    case 14: // "content-" "t-length"
      return (load<u64>(name) | 0x2020202020202020) == 0x2d746e65746e6f63 && (load<u64>(name, 6) | 0x2020202020202020) == 0x6874676e656c2d74
        ? FIELD_CONTENT_LENGTH : 0;
    case 17: // "transfer" "-encodin" "g"
      return (load<u64>(name) | 0x2020202020202020) == 0x726566736e617274 && (load<u64>(name, 8) | 0x2020202020202020) == 0x6e69646f636e652d &&
        (<u32>load<u8>(name, 16) | 0x20) == 0x67 ? FIELD_TRANSFER_ENCODING : 0;
  }
  return 0;
}

// The framing fields of the head being parsed, from resetFraming() on.
/** Content-Length's value offset, or -1. */
export let lengthAt = -1;
/** Transfer-Encoding's value offset, or -1. */
export let codingAt = -1;
/** Content-Length's value (0 without one). */
export let contentLength: f64 = 0;
/** scanTransferCoding's TE_* bits for Transfer-Encoding. */
export let codings = 0;

@inline export function resetFraming(): void {
  lengthAt = -1;
  codingAt = -1;
  contentLength = 0;
  codings = 0;
}

/**
 * A Content-Length or Transfer-Encoding field line (`kind`), name at
 * `nameOff` and value at `valueOff` (its `n` bytes at `value`): one of each,
 * Content-Length 1*DIGIT, Transfer-Encoding a list of codings. 0 or an error.
 */
@inline export function framingField(kind: i32, nameOff: i32, valueOff: i32, value: usize, n: i32): i32 {
  if (kind == FIELD_CONTENT_LENGTH) {
    if (lengthAt >= 0) return fail(E_DUPLICATE_CONTENT_LENGTH, nameOff);
    contentLength = parseLength(value, n);
    if (contentLength < 0) return fail(E_BAD_CONTENT_LENGTH, valueOff);
    lengthAt = valueOff;
  } else {
    if (codingAt >= 0) return fail(E_BAD_TRANSFER_ENCODING, nameOff);
    codings = scanTransferCoding(value, n);
    if (codings < 0) return fail(codings, valueOff);
    codingAt = valueOff;
  }
  return 0;
}

/**
 * The framing fields together: Transfer-Encoding with Content-Length is
 * refused (RFC 9112 §6.3: "ought to be handled as an error", and a strict
 * parser does); Transfer-Encoding in HTTP/1.0 means the framing is faulty
 * (RFC 9112 §6.1); a length past the limit is too large. 0 or an error.
 */
@inline export function checkFraming(http11: bool): i32 {
  if (codingAt >= 0 && lengthAt >= 0) return fail(E_LENGTH_AND_CHUNKED, max(codingAt, lengthAt));
  if (codingAt >= 0 && !http11) return fail(E_BAD_TRANSFER_ENCODING, codingAt);
  if (contentLength > maxBodyBytes) return fail(E_BODY_TOO_LARGE, lengthAt);
  return 0;
}

/**
 * Whether the connection persists after the message (RFC 9112 §9.3), by
 * the OPTION_* bits of its Connection fields: in HTTP/1.1 unless "close",
 * in HTTP/1.0 only with "keep-alive" and without "close".
 */
@inline export function persists(http11: bool, connection: i32): bool {
  return (connection & OPTION_CLOSE) == 0 && (http11 || (connection & OPTION_KEEP_ALIVE) != 0);
}

/** Whether [from, end) holds an LF followed by CRLF or LF: the earliest a head can end. */
export function headEndIn(p: usize, from: i32, end: i32): bool {
  let i = scanLf(p, from, end);
  while (i < end) {
    if (i + 1 < end) {
      const next = byteAt(p, i + 1);
      if (next == LF || (next == CR && i + 2 < end)) return true;
    }
    i = scanLf(p, i + 1, end);
  }
  return false;
}
