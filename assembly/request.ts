// The request head: request line and header section (RFC 9112 §2-§7, RFC 9110).
// Stateless: every call parses from the first byte, so a caller retries with
// more bytes after INCOMPLETE. `prevLen` (bytes seen by the last attempt) lets
// a retry skip the full parse until the empty line that ends the head arrives.
import { byteAt, isToken, isDigit, isRegNameChar, scanRegName, scanTarget, equalsLower, CR, LF, SP, COLON } from "./chars";
import { setResult, RESULT } from "./layout";
import {
  R_METHOD_OFF, R_METHOD_LEN, R_TARGET_OFF, R_TARGET_LEN, R_VERSION, R_HEADER_COUNT, R_FRAMING, R_FLAGS, R_METHOD_ID,
  R_CONTENT_LENGTH_F64, FRAMING_NONE, FRAMING_LENGTH, FRAMING_CHUNKED, FLAG_KEEP_ALIVE, FLAG_EXPECT_CONTINUE,
  FLAG_EXPECT_OTHER, FLAG_UPGRADE, METHOD_OTHER, METHOD_GET, METHOD_HEAD, METHOD_POST,
  METHOD_PUT, METHOD_DELETE, METHOD_OPTIONS, METHOD_CONNECT, METHOD_PATCH, METHOD_TRACE, E_METHOD_TOO_LONG,
  INCOMPLETE, E_BAD_METHOD, E_BAD_TARGET, E_BAD_VERSION, E_HTTP09, E_BAD_TRANSFER_ENCODING, E_UNSUPPORTED_TRANSFER_CODING,
  E_MISSING_HOST, E_DUPLICATE_HOST, E_BAD_HOST, E_TARGET_TOO_LONG, SPAN_NAME_OFF, SPAN_NAME_LEN,
  SPAN_VALUE_OFF, SPAN_VALUE_LEN,
} from "./abi";
import { fieldSlot } from "./fields";
import {
  headLimit, headResult, skipEmptyLines, parseVersion, fieldSection, fieldKind, resetFraming, framingField, checkFraming, codingAt,
  codings, contentLength, lengthAt, persists, FIELD_TRANSFER_ENCODING, FIELD_HOST, FIELD_CONNECTION, FIELD_EXPECT,
} from "./head";
import { connectionOptions, OPTION_UPGRADE, TE_CHUNKED_LAST, TE_OTHER } from "./field-values";
import { maxMethodBytes, maxTargetBytes } from "./limits";
import { fail } from "./errors";

/**
 * Parses the head at [ptr, ptr + len), which must lie in the receive region.
 * Spans in the result table are relative to ptr.
 */
export function parseRequest(ptr: i32, len: i32, prevLen: i32): i32 {
  const limit = headLimit(ptr, len, prevLen);
  if (limit < 0) return limit;
  return headResult(parseHead(<usize>ptr, limit), len);
}

function parseHead(p: usize, end: i32): i32 {
  // RFC 9112 §2.2: ignore empty lines before the request line.
  let i = skipEmptyLines(p, end);
  if (i < 0) return i;

  const methodStart = i;
  const methodLimit = min(end, methodStart + maxMethodBytes + 1);
  while (i < methodLimit && isToken(byteAt(p, i))) i++;
  if (i - methodStart > maxMethodBytes) return fail(E_METHOD_TOO_LONG, methodStart + maxMethodBytes);
  if (i >= end) return INCOMPLETE;
  if (i == methodStart || byteAt(p, i) != SP) return fail(E_BAD_METHOD, i);
  const methodLen = i - methodStart;
  const methodId = identifyMethod(p + <usize>methodStart, methodLen);
  i++;

  const targetStart = i;
  const targetLimit = min(end, targetStart + maxTargetBytes + 1);
  i = scanTarget(p, i, targetLimit);
  if (i - targetStart > maxTargetBytes) return fail(E_TARGET_TOO_LONG, targetStart + maxTargetBytes);
  if (i >= end) return INCOMPLETE;
  const stop = byteAt(p, i);
  if (stop == CR || stop == LF) return fail(i == targetStart ? E_BAD_TARGET : E_HTTP09, i);
  if (stop != SP || i == targetStart) return fail(E_BAD_TARGET, i);
  const targetLen = i - targetStart;
  const formError = checkTargetForm(p + <usize>targetStart, targetLen, methodId);
  if (formError >= 0) return fail(E_BAD_TARGET, targetStart + formError);
  i++;

  i = parseVersion(p, i, end);
  if (i < 0) return i;
  const minor = byteAt(p, i - 1);
  const headEnd = fieldSection(p, i, end, E_BAD_VERSION);
  if (headEnd < 0) return headEnd;

  setResult(R_METHOD_OFF, methodStart);
  setResult(R_METHOD_LEN, methodLen);
  setResult(R_TARGET_OFF, targetStart);
  setResult(R_TARGET_LEN, targetLen);
  setResult(R_VERSION, <i32>(minor - 0x30));
  setResult(R_METHOD_ID, methodId);
  const semantic = interpretHeaders(p, minor == 0x31);
  return semantic < 0 ? semantic : headEnd;
}

function identifyMethod(m: usize, n: i32): i32 {
  if (n == 3) {
    const w = load<u32>(m) & 0xffffff;
    if (w == 0x544547) return METHOD_GET; // "GET"
    if (w == 0x545550) return METHOD_PUT;
    return METHOD_OTHER;
  }
  if (n < 4) return METHOD_OTHER;
  const w = load<u32>(m);
  if (n == 4) {
    if (w == 0x54534f50) return METHOD_POST; // "POST"
    if (w == 0x44414548) return METHOD_HEAD;
  } else if (n == 5) {
    if (w == 0x43544150 && load<u8>(m, 4) == 0x48) return METHOD_PATCH; // "PATC" "H"
    if (w == 0x43415254 && load<u8>(m, 4) == 0x45) return METHOD_TRACE; // "TRAC" "E"
  } else if (n == 6) {
    if (w == 0x454c4544 && load<u16>(m, 4) == 0x4554) return METHOD_DELETE; // "DELE" "TE"
  } else if (n == 7) {
    const tail = load<u32>(m, 3);
    if (w == 0x4954504f && tail == 0x534e4f49) return METHOD_OPTIONS; // "OPTI" "IONS"
    if (w == 0x4e4e4f43 && tail == 0x5443454e) return METHOD_CONNECT; // "CONN" "NECT"
  }
  return METHOD_OTHER;
}

/** RFC 9112 §3.2: which target forms a method may use. Returns the offset of the fault, or -1. */
function checkTargetForm(t: usize, n: i32, methodId: i32): i32 {
  const first = <u32>load<u8>(t);
  if (methodId == METHOD_CONNECT) {
    // authority-form: uri-host ":" port, the port required (RFC 9112 §3.2.3)
    const bad = checkHost(t, n);
    if (bad >= 0) return bad;
    let k = n;
    while (k > 0 && isDigit(<u32>load<u8>(t + <usize>(k - 1)))) k--;
    // The fault is where the port should be: after the host, or after its colon.
    if (k == n || k < 2 || load<u8>(t + <usize>(k - 1)) != COLON) return n;
    return -1;
  }
  if (first == 0x2a) return n == 1 && methodId == METHOD_OPTIONS ? -1 : 0; // asterisk-form
  if (first == 0x2f) return -1; // origin-form
  // absolute-form: scheme ":" hier-part
  if (!isAlpha(first)) return 0;
  for (let k = 1; k < n; k++) {
    const c = <u32>load<u8>(t + <usize>k);
    if (c == COLON) {
      if (k + 1 >= n) return k;
      const slashes = k + 2 < n && load<u8>(t + <usize>(k + 1)) == 0x2f && load<u8>(t + <usize>(k + 2)) == 0x2f;
      if (slashes) return checkAuthority(t, k + 3, n);
      // http and https URIs always have an authority (RFC 9110 §4.2.1, §4.2.2); other schemes need not.
      if (!equalsLower(t, k, "http") && !equalsLower(t, k, "https")) return -1;
      return k + 1 < n && load<u8>(t + <usize>(k + 1)) == 0x2f ? k + 2 : k + 1; // the byte that breaks "//"
    }
    if (!(isAlpha(c) || isDigit(c) || c == 0x2b || c == 0x2d || c == 0x2e)) return k;
  }
  return n - 1;
}

/**
 * The authority of an absolute-form target, from `start` to the first "/",
 * "?" or "#": [ userinfo "@" ] host [ ":" port ] (RFC 3986 §3.2). It stands
 * in for Host (RFC 9112 §3.2.2), so its host is checked as strictly, and an
 * empty one is invalid (RFC 9110 §4.2.1). Returns the offset of the fault, or -1.
 */
function checkAuthority(t: usize, start: i32, n: i32): i32 {
  let end = start;
  let host = start;
  while (end < n) {
    const c = <u32>load<u8>(t + <usize>end);
    if (c == 0x2f || c == 0x3f || c == 0x23) break;
    if (c == 0x40) host = end + 1;
    end++;
  }
  for (let k = start; k < host - 1; k++) {
    const c = <u32>load<u8>(t + <usize>k);
    if (!(isRegNameChar(c) || c == COLON)) return k;
  }
  if (host == end) return host;
  const bad = checkHost(t + <usize>host, end - host);
  return bad >= 0 ? host + bad : -1;
}

@inline function isAlpha(c: u32): bool {
  return (c | 0x20) - 0x61 < 26;
}

/** What the headers mean for framing and the connection (RFC 9112 §6, §9; RFC 9110 §7.2, §10.1.1). */
function interpretHeaders(p: usize, http11: bool): i32 {
  const count = load<i32>(RESULT + (<usize>R_HEADER_COUNT << 2));
  resetFraming();
  let hosts = 0;
  let flags = 0;
  let connection = 0; // the OPTION_* bits of the Connection fields
  let upgrade = false;
  for (let h = 0; h < count; h++) {
    const nameOff = fieldSlot(h, SPAN_NAME_OFF);
    const nameLen = fieldSlot(h, SPAN_NAME_LEN);
    const valueOff = fieldSlot(h, SPAN_VALUE_OFF);
    const valueLen = fieldSlot(h, SPAN_VALUE_LEN);
    const name = p + <usize>nameOff;
    const value = p + <usize>valueOff;
    const kind = fieldKind(name, nameLen);
    if (kind == 0) continue;
    if (kind <= FIELD_TRANSFER_ENCODING) {
      const r = framingField(kind, nameOff, valueOff, value, valueLen);
      if (r < 0) return r;
      // A request's Transfer-Encoding must end in exactly one "chunked" (RFC 9112 §6.1, §7);
      // a coding we do not implement before it is 501 (RFC 9112 §6.1).
      if (kind == FIELD_TRANSFER_ENCODING && (codings & TE_CHUNKED_LAST) == 0) return fail(E_BAD_TRANSFER_ENCODING, valueOff);
      if (kind == FIELD_TRANSFER_ENCODING && (codings & TE_OTHER) != 0) return fail(E_UNSUPPORTED_TRANSFER_CODING, valueOff);
    } else if (kind == FIELD_HOST) {
      if (++hosts > 1) return fail(E_DUPLICATE_HOST, nameOff);
      const bad = checkHost(value, valueLen);
      if (bad >= 0) return fail(E_BAD_HOST, valueOff + bad);
    } else if (kind == FIELD_CONNECTION) {
      connection |= connectionOptions(value, valueLen);
    } else if (kind == FIELD_EXPECT) {
      flags |= equalsLower(value, valueLen, "100-continue") ? FLAG_EXPECT_CONTINUE : FLAG_EXPECT_OTHER;
    } else {
      upgrade = true;
    }
  }
  if (http11 && hosts == 0) return fail(E_MISSING_HOST, 0);
  const framing = checkFraming(http11);
  if (framing < 0) return framing;

  if (persists(http11, connection)) flags |= FLAG_KEEP_ALIVE;
  if (upgrade && (connection & OPTION_UPGRADE) != 0) flags |= FLAG_UPGRADE;
  setResult(R_FLAGS, flags);
  if (codingAt >= 0) {
    setResult(R_FRAMING, FRAMING_CHUNKED);
    store<f64>(RESULT + (<usize>R_CONTENT_LENGTH_F64 << 3), -1);
  } else {
    setResult(R_FRAMING, lengthAt >= 0 ? FRAMING_LENGTH : FRAMING_NONE);
    store<f64>(RESULT + (<usize>R_CONTENT_LENGTH_F64 << 3), lengthAt >= 0 ? contentLength : 0);
  }
  return 0;
}

/** Host = uri-host [ ":" port ] (RFC 9110 §7.2). Returns the offset of the fault, or -1. */
function checkHost(v: usize, n: i32): i32 {
  let k = 0;
  if (n > 0 && load<u8>(v) == 0x5b) {
    // IP-literal: "[" (hex, ":", ".", and IPvFuture's unreserved / sub-delims) "]"
    k = 1;
    while (k < n && load<u8>(v + <usize>k) != 0x5d) {
      const c = <u32>load<u8>(v + <usize>k);
      if (!(isRegNameChar(c) || c == COLON)) return k;
      k++;
    }
    if (k >= n) return n - 1;
    k++;
  } else {
    k = scanRegName(v, 0, n);
  }
  if (k == n) return -1;
  if (load<u8>(v + <usize>k) != COLON) return k;
  for (k++; k < n; k++) if (!isDigit(<u32>load<u8>(v + <usize>k))) return k;
  return -1;
}

