// The response head a client or proxy receives: status line and header
// section (RFC 9112 §4, §5), and the body's length by RFC 9112 §6.3's rules,
// in their order. Stateless and resumable like parseRequest: every call
// parses from the first byte, and `prevLen` lets a retry skip the full parse
// until the empty line that ends the head has arrived. The field rules are
// the request's (fields.ts), and so are the framing fields' (head.ts).
import { byteAt, isDigit, scanValue, SP } from "./chars";
import { setResult, RESULT } from "./layout";
import {
  R_REASON_OFF, R_REASON_LEN, R_VERSION, R_HEADER_COUNT, R_FRAMING, R_FLAGS, R_STATUS, R_CONTENT_LENGTH_F64,
  FRAMING_NONE, FRAMING_LENGTH, FRAMING_CHUNKED, FRAMING_UNTIL_CLOSE, FRAMING_TUNNEL, FLAG_KEEP_ALIVE, FLAG_UPGRADE,
  METHOD_OTHER, METHOD_HEAD, METHOD_CONNECT, METHOD_TRACE, SPAN_NAME_OFF, SPAN_NAME_LEN, SPAN_VALUE_OFF, SPAN_VALUE_LEN,
  INCOMPLETE, E_BAD_VERSION, E_BAD_STATUS_CODE, E_BAD_REASON, E_BAD_ARGUMENT,
} from "./abi";
import { fieldSlot } from "./fields";
import {
  headLimit, headResult, skipEmptyLines, parseVersion, fieldSection, fieldKind, resetFraming, framingField, checkFraming, codingAt,
  codings, contentLength, lengthAt, persists, FIELD_TRANSFER_ENCODING, FIELD_CONNECTION, FIELD_UPGRADE,
} from "./head";
import { connectionOptions, TE_CHUNKED_LAST, OPTION_UPGRADE } from "./field-values";
import { fail } from "./errors";

/**
 * Parses the response head at [ptr, ptr + len), which must lie in the
 * receive region; `requestMethod` is the METHOD id of the request it answers
 * (HEAD and CONNECT change how its body is framed; OTHER for any other).
 * Returns the head's length, INCOMPLETE, or an error code. Spans in the
 * result table are relative to ptr.
 */
export function parseResponse(ptr: i32, len: i32, prevLen: i32, requestMethod: i32): i32 {
  // METHOD_TRACE is the last METHOD id.
  if (requestMethod < METHOD_OTHER || requestMethod > METHOD_TRACE) return fail(E_BAD_ARGUMENT, 0);
  const limit = headLimit(ptr, len, prevLen);
  if (limit < 0) return limit;
  return headResult(parseHead(<usize>ptr, limit, requestMethod), len);
}

function parseHead(p: usize, end: i32, requestMethod: i32): i32 {
  // Empty lines (CRLF) before a status line are skipped, as before a request line (RFC 9112 §2.2).
  let i = skipEmptyLines(p, end);
  if (i < 0) return i;

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
  i = parseVersion(p, i, end);
  if (i < 0) return i;
  const minor = byteAt(p, i - 1);
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
  const reasonLen = i - reasonStart;
  const headEnd = fieldSection(p, i, end, E_BAD_REASON);
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
  const tunnel = status == 101 || (requestMethod == METHOD_CONNECT && status >= 200 && status < 300);
  const bodiless = requestMethod == METHOD_HEAD || status < 200 || status == 204 || status == 304;
  // Rules 1 and 2 come first: the framing fields count only for a response that has a body.
  const framed = !tunnel && !bodiless;
  let framing = tunnel ? FRAMING_TUNNEL : FRAMING_NONE;
  resetFraming();
  let connection = 0; // the OPTION_* bits of the Connection fields
  let upgrade = false;
  for (let h = 0; h < count; h++) {
    const nameOff = fieldSlot(h, SPAN_NAME_OFF);
    const kind = fieldKind(p + <usize>nameOff, fieldSlot(h, SPAN_NAME_LEN));
    if (kind == 0) continue;
    const valueOff = fieldSlot(h, SPAN_VALUE_OFF);
    const valueLen = fieldSlot(h, SPAN_VALUE_LEN);
    if (kind <= FIELD_TRANSFER_ENCODING) {
      if (!framed) continue;
      const r = framingField(kind, nameOff, valueOff, p + <usize>valueOff, valueLen);
      if (r < 0) return r;
    } else if (kind == FIELD_CONNECTION) {
      connection |= connectionOptions(p + <usize>valueOff, valueLen);
    } else if (kind == FIELD_UPGRADE) {
      // Upgrade = #protocol: an empty one names no protocol to switch to (RFC 9110 §7.8).
      upgrade = upgrade || valueLen > 0;
    }
  }

  let contentLengthOut: f64 = 0;
  if (framed) {
    const bad = checkFraming(http11);
    if (bad < 0) return bad;
    if (codingAt >= 0) {
      framing = (codings & TE_CHUNKED_LAST) != 0 ? FRAMING_CHUNKED : FRAMING_UNTIL_CLOSE;
      contentLengthOut = (codings & TE_CHUNKED_LAST) != 0 ? -1 : 0;
    } else {
      framing = lengthAt >= 0 ? FRAMING_LENGTH : FRAMING_UNTIL_CLOSE;
      contentLengthOut = contentLength;
    }
  }

  let flags = 0;
  // A body that runs until the close, or a tunnel, leaves no connection to keep for HTTP.
  const reusable = framing != FRAMING_UNTIL_CLOSE && framing != FRAMING_TUNNEL;
  if (reusable && persists(http11, connection)) flags |= FLAG_KEEP_ALIVE;
  // Only a 101 upgrades; Upgrade in any other response advertises what the server supports (RFC 9110 §7.8).
  if (status == 101 && upgrade && (connection & OPTION_UPGRADE) != 0) flags |= FLAG_UPGRADE;
  setResult(R_FLAGS, flags);
  setResult(R_FRAMING, framing);
  store<f64>(RESULT + (<usize>R_CONTENT_LENGTH_F64 << 3), contentLengthOut);
  return 0;
}
