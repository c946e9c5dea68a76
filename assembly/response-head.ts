// The response head a client or proxy receives: status line and header
// section (RFC 9112 §4, §5), and the body's length by RFC 9112 §6.3's rules,
// in their order. Stateless and resumable like parseRequest: every call
// parses from the first byte, and `prevLen` lets a retry skip the full parse
// until the empty line that ends the head has arrived. The field rules are
// the request's (fields.ts), and so are the framing fields' (request.ts).
import { byteAt, isDigit, scanValue, equalsLower, CR, LF, SP } from "./chars";
import { setResult, RESULT, RECV, inRegion } from "./layout";
import {
  R_REASON_OFF, R_REASON_LEN, R_VERSION, R_HEADER_COUNT, R_FRAMING, R_FLAGS, R_STATUS, R_CONTENT_LENGTH_F64,
  FRAMING_NONE, FRAMING_LENGTH, FRAMING_CHUNKED, FRAMING_UNTIL_CLOSE, FRAMING_TUNNEL, FLAG_KEEP_ALIVE, FLAG_UPGRADE,
  RECV_CAPACITY, METHOD_OTHER, METHOD_HEAD, METHOD_CONNECT, METHOD_TRACE, SPAN_NAME_OFF, SPAN_NAME_LEN, SPAN_VALUE_OFF,
  SPAN_VALUE_LEN, INCOMPLETE, E_BAD_VERSION, E_VERSION_NOT_SUPPORTED, E_BARE_CR, E_BARE_LF, E_BAD_STATUS_CODE, E_BAD_REASON,
  E_BAD_CONTENT_LENGTH, E_DUPLICATE_CONTENT_LENGTH, E_LENGTH_AND_CHUNKED, E_BAD_TRANSFER_ENCODING, E_HEAD_TOO_LARGE,
  E_BODY_TOO_LARGE, E_BAD_ARGUMENT,
} from "./abi";
import { parseFields, fieldSlot } from "./fields";
import {
  maxHeadBytes, maxHeaderCount, maxHeaderLine, maxBodyBytes, headEndIn, parseLength, scanTransferCoding, connectionOptions,
  TE_CHUNKED_LAST, OPTION_CLOSE, OPTION_KEEP_ALIVE, OPTION_UPGRADE,
} from "./request";
import { fail } from "./errors";

/**
 * Parses the response head at [ptr, ptr + len), which must lie in the
 * receive region; `requestMethod` is the METHOD id of the request it answers
 * (HEAD and CONNECT change how its body is framed; OTHER for any other).
 * Returns the head's length, INCOMPLETE, or an error code. Spans in the
 * result table are relative to ptr.
 */
export function parseResponse(ptr: i32, len: i32, prevLen: i32, requestMethod: i32): i32 {
  if (!inRegion(ptr, len, RECV, RECV_CAPACITY)) return fail(E_BAD_ARGUMENT, 0);
  // METHOD_TRACE is the last METHOD id.
  if (requestMethod < METHOD_OTHER || requestMethod > METHOD_TRACE) return fail(E_BAD_ARGUMENT, 0);
  const p = <usize>ptr;
  prevLen = prevLen < 0 ? 0 : min(prevLen, len);
  const limit = min(len, maxHeadBytes);
  if (prevLen > 0 && !headEndIn(p, max(prevLen - 3, 0), limit)) {
    return len >= maxHeadBytes ? fail(E_HEAD_TOO_LARGE, maxHeadBytes) : INCOMPLETE;
  }
  const r = parseHead(p, limit, requestMethod);
  if (r == INCOMPLETE && len >= maxHeadBytes) return fail(E_HEAD_TOO_LARGE, maxHeadBytes);
  return r;
}

function parseHead(p: usize, end: i32, requestMethod: i32): i32 {
  let i = 0;
  // Empty lines (CRLF) before a status line are skipped, as before a request line (RFC 9112 §2.2).
  while (i < end && byteAt(p, i) == CR) {
    if (i + 1 >= end) return INCOMPLETE;
    if (byteAt(p, i + 1) != LF) return fail(E_BARE_CR, i);
    i += 2;
  }
  if (i < end && byteAt(p, i) == LF) return fail(E_BARE_LF, i);

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
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
  i++;
  if (i >= end) return INCOMPLETE;
  if (byteAt(p, i) != SP) return fail(E_BAD_VERSION, i);
  i++;

  // status-code = 3DIGIT; 1xx-9xx (RFC 9110 §15: a client treats a code it does not know as x00 of its class).
  const statusStart = i;
  let status = 0;
  for (let k = 0; k < 3; k++, i++) {
    if (i >= end) return INCOMPLETE;
    const c = byteAt(p, i);
    if (!isDigit(c)) return fail(E_BAD_STATUS_CODE, i);
    status = status * 10 + <i32>(c - 0x30);
  }
  if (status < 100) return fail(E_BAD_STATUS_CODE, statusStart);
  if (i >= end) return INCOMPLETE;
  // The SP after the code is there even when the reason is empty (RFC 9112 §4: a server MUST send it).
  if (byteAt(p, i) != SP) return fail(E_BAD_STATUS_CODE, i);
  i++;

  // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ): the bytes a field value may hold.
  const reasonStart = i;
  i = scanValue(p, i, end);
  if (i >= end) return INCOMPLETE;
  const eol = byteAt(p, i);
  if (eol == CR) {
    if (i + 1 >= end) return INCOMPLETE;
    if (byteAt(p, i + 1) != LF) return fail(E_BARE_CR, i);
  } else if (eol == LF) {
    return fail(E_BARE_LF, i);
  } else {
    return fail(E_BAD_REASON, i);
  }
  const reasonLen = i - reasonStart;
  i += 2;

  const headEnd = parseFields(p, i, end, maxHeaderCount, maxHeaderLine);
  if (headEnd < 0) return headEnd;

  setResult(R_STATUS, status);
  setResult(R_REASON_OFF, reasonStart);
  setResult(R_REASON_LEN, reasonLen);
  setResult(R_VERSION, <i32>(minor - 0x30));
  const semantic = interpretResponse(p, minor == 0x31, status, requestMethod);
  return semantic < 0 ? semantic : headEnd;
}

/**
 * The body's length, RFC 9112 §6.3, in order: (1) a response to HEAD, and a
 * 1xx, 204 or 304, has none, whatever its fields say; (2) a 2xx to CONNECT
 * (and a 101) turns the connection into a tunnel; (3) Transfer-Encoding with
 * Content-Length is refused (LENGTH_AND_CHUNKED), as in a request — "ought to
 * be handled as an error", and a strict parser does; (4) Transfer-Encoding
 * with chunked last is chunked, without it the body runs until the close;
 * (5, 6) Content-Length, validated as a request's (one field line, digits);
 * (8) otherwise until the close. Transfer-Encoding in HTTP/1.0 is faulty
 * framing (RFC 9112 §6.1), refused as in a request.
 */
function interpretResponse(p: usize, http11: bool, status: i32, requestMethod: i32): i32 {
  const count = load<i32>(RESULT + (<usize>R_HEADER_COUNT << 2));
  let close = false;
  let keepAlive = false;
  let connectionUpgrade = false;
  let upgrade = false;
  for (let h = 0; h < count; h++) {
    const nameLen = fieldSlot(h, SPAN_NAME_LEN);
    const name = p + <usize>fieldSlot(h, SPAN_NAME_OFF);
    const first = <u32>load<u8>(name) | 0x20;
    if (first == 0x63 && equalsLower(name, nameLen, "connection")) {
      const options = connectionOptions(p + <usize>fieldSlot(h, SPAN_VALUE_OFF), fieldSlot(h, SPAN_VALUE_LEN));
      close = close || (options & OPTION_CLOSE) != 0;
      keepAlive = keepAlive || (options & OPTION_KEEP_ALIVE) != 0;
      connectionUpgrade = connectionUpgrade || (options & OPTION_UPGRADE) != 0;
    } else if (first == 0x75 && equalsLower(name, nameLen, "upgrade")) {
      // Upgrade = #protocol: an empty one names no protocol to switch to (RFC 9110 §7.8).
      upgrade = upgrade || fieldSlot(h, SPAN_VALUE_LEN) > 0;
    }
  }

  let framing = FRAMING_NONE;
  let contentLength: f64 = 0;
  if (status == 101 || (requestMethod == METHOD_CONNECT && status >= 200 && status < 300)) {
    framing = FRAMING_TUNNEL;
  } else if (requestMethod == METHOD_HEAD || status < 200 || status == 204 || status == 304) {
    framing = FRAMING_NONE;
  } else {
    let lengthAt = -1;
    let codingAt = -1;
    let codings = 0;
    for (let h = 0; h < count; h++) {
      const nameOff = fieldSlot(h, SPAN_NAME_OFF);
      const nameLen = fieldSlot(h, SPAN_NAME_LEN);
      const valueOff = fieldSlot(h, SPAN_VALUE_OFF);
      const name = p + <usize>nameOff;
      const first = <u32>load<u8>(name) | 0x20;
      if (first == 0x63 && equalsLower(name, nameLen, "content-length")) {
        if (lengthAt >= 0) return fail(E_DUPLICATE_CONTENT_LENGTH, nameOff);
        contentLength = parseLength(p + <usize>valueOff, fieldSlot(h, SPAN_VALUE_LEN));
        if (contentLength < 0) return fail(E_BAD_CONTENT_LENGTH, valueOff);
        lengthAt = valueOff;
      } else if (first == 0x74 && equalsLower(name, nameLen, "transfer-encoding")) {
        if (codingAt >= 0) return fail(E_BAD_TRANSFER_ENCODING, nameOff);
        codings = scanTransferCoding(p + <usize>valueOff, fieldSlot(h, SPAN_VALUE_LEN));
        if (codings < 0) return fail(codings, valueOff);
        codingAt = valueOff;
      }
    }
    if (codingAt >= 0 && lengthAt >= 0) return fail(E_LENGTH_AND_CHUNKED, max(codingAt, lengthAt));
    if (codingAt >= 0 && !http11) return fail(E_BAD_TRANSFER_ENCODING, codingAt);
    if (contentLength > maxBodyBytes) return fail(E_BODY_TOO_LARGE, lengthAt);
    if (codingAt >= 0) {
      framing = (codings & TE_CHUNKED_LAST) != 0 ? FRAMING_CHUNKED : FRAMING_UNTIL_CLOSE;
      contentLength = (codings & TE_CHUNKED_LAST) != 0 ? -1 : 0;
    } else {
      framing = lengthAt >= 0 ? FRAMING_LENGTH : FRAMING_UNTIL_CLOSE;
    }
  }

  let flags = 0;
  // A body that runs until the close, or a tunnel, leaves no connection to keep for HTTP.
  const reusable = framing != FRAMING_UNTIL_CLOSE && framing != FRAMING_TUNNEL;
  if (reusable && (http11 ? !close : keepAlive && !close)) flags |= FLAG_KEEP_ALIVE;
  // Only a 101 upgrades; Upgrade in any other response advertises what the server supports (RFC 9110 §7.8).
  if (status == 101 && upgrade && connectionUpgrade) flags |= FLAG_UPGRADE;
  setResult(R_FLAGS, flags);
  setResult(R_FRAMING, framing);
  store<f64>(RESULT + (<usize>R_CONTENT_LENGTH_F64 << 3), contentLength);
  return 0;
}
