// The response head: status line, the host's header fields (validated, never
// sent when a value could split the message), then Date, framing and
// Connection. Written to OUT; the host sends it with the body in one writev.
// A head with more fields than the staging table holds is written in passes:
// beginHead, then addFields once per staged batch, then endHead.
// serializeHead does all three for a head whose fields fit in one batch.
import { isValueChar, scanToken, scanValue } from "./chars";
import { OUT, STAGE, STAGE_TABLE, inRegion, inSpan, isByteCount } from "./layout";
import {
  OUT_CAPACITY, STAGE_CAPACITY, MAX_FIELDS, SPAN_SLOTS, SPAN_NAME_OFF, SPAN_NAME_LEN, SPAN_VALUE_OFF, SPAN_VALUE_LEN,
  FRAMING_NONE, FRAMING_LENGTH, FRAMING_CHUNKED, HEAD_DATE, HEAD_CLOSE, HEAD_KEEP_ALIVE,
  E_BAD_STATUS, E_BAD_RESPONSE_HEADER_NAME, E_BAD_RESPONSE_HEADER_VALUE, E_HEAD_OVERFLOW, E_BAD_ARGUMENT,
  E_NO_HEAD_IN_PROGRESS,
} from "./abi";
import { fail } from "./errors";

const DATE_LEN = 29; // "Sun, 06 Nov 1994 08:49:37 GMT"
/**
 * What endHead may add after the fields: Date, Content-Length, Transfer-Encoding,
 * Connection and the empty line. Every step leaves this much room in OUT.
 */
const END_RESERVE = 128;
const HEAD_FLAGS = HEAD_DATE | HEAD_CLOSE | HEAD_KEEP_ALIVE;

// The formatted Date, cached per second in globals rather than memory: the module writes no memory but the regions it is given.
let dateSecond: f64 = -1;
let date0: u64 = 0, date1: u64 = 0, date2: u64 = 0, date3: u32 = 0, date4: u8 = 0;

let w: usize = 0; // write cursor into OUT
let headStart: usize = 0;
let inProgress = false;

@inline function put(c: u32): void {
  store<u8>(w++, c);
}
/** Copies n bytes from src to the cursor: 8 at a time, then the tail, writing nothing past the n bytes. */
@inline function putBytes(src: usize, n: usize): void {
  let k: usize = 0;
  for (; k + 8 <= n; k += 8) store<u64>(w + k, load<u64>(src + k));
  if (k + 4 <= n) { store<u32>(w + k, load<u32>(src + k)); k += 4; }
  if (k + 2 <= n) { store<u16>(w + k, load<u16>(src + k)); k += 2; }
  if (k < n) store<u8>(w + k, load<u8>(src + k));
  w += n;
}
function putString(s: string): void {
  putSlice(s, 0, s.length);
}
function putSlice(s: string, start: i32, n: i32): void {
  const chars = changetype<usize>(s) + (<usize>start << 1);
  for (let k = 0; k < n; k++) put(<u32>load<u16>(chars + (<usize>k << 1)));
}

// The head's fixed texts as bytes, laid out once at start so that putBytes copies them a word at a time.
const LITERALS = memory.data(128, 8);
let literalsEnd = LITERALS;
/** A fixed text's place among LITERALS: offset << 8 | length. */
function literal(text: string): u32 {
  const at = literalsEnd;
  for (let k = 0; k < text.length; k++) store<u8>(literalsEnd++, <u32>text.charCodeAt(k));
  return <u32>(at - LITERALS) << 8 | <u32>text.length;
}
@inline function putLiteral(text: u32): void {
  putBytes(LITERALS + <usize>(text >> 8), <usize>(text & 0xff));
}
const STATUS_LINE = literal("HTTP/1.1 ");
const DATE = literal("Date: ");
const CONTENT_LENGTH = literal("Content-Length: ");
const CHUNKED = literal("Transfer-Encoding: chunked\r\n");
const CLOSE = literal("Connection: close\r\n");
const KEEP_ALIVE = literal("Connection: keep-alive\r\n");
const CRLF: u16 = 0x0a0d; // "\r\n" as a little-endian u16
const COLON_SP: u16 = 0x203a; // ": "
/** Two bytes at the cursor, given as a little-endian u16. */
@inline function putPair(pair: u16): void {
  store<u16>(w, pair);
  w += 2;
}
function putDecimal(v: u64): void {
  const start = w;
  do { put(<u32>(v % 10) + 0x30); v /= 10; } while (v != 0);
  // reverse in place
  let a = start, b = w - 1;
  while (a < b) { const t = load<u8>(a); store<u8>(a, load<u8>(b)); store<u8>(b, t); a++; b--; }
}
function putDate(nowSeconds: f64): void {
  if (nowSeconds != dateSecond) {
    formatImfDate(<i64>nowSeconds, w);
    date0 = load<u64>(w); date1 = load<u64>(w, 8); date2 = load<u64>(w, 16); date3 = load<u32>(w, 24); date4 = load<u8>(w, 28);
    dateSecond = nowSeconds;
  } else {
    store<u64>(w, date0); store<u64>(w, date1, 8); store<u64>(w, date2, 16); store<u32>(w, date3, 24); store<u8>(w, date4, 28);
  }
  w += DATE_LEN;
}

/** Room left in OUT after the cursor. */
@inline function room(): i64 {
  return <i64>(OUT + <usize>OUT_CAPACITY) - <i64>w;
}

/** Gives up the head in progress and returns the error. */
function abandon(code: i32, offset: i32): i32 {
  inProgress = false;
  return fail(code, offset);
}

/**
 * Starts a head at OUT + at: the status line, with the reason phrase staged
 * at the start of STAGE (reasonLen 0: the standard one). Returns the bytes
 * written so far, or an error code.
 */
export function beginHead(status: i32, reasonLen: i32, at: i32): i32 {
  inProgress = false;
  if (status < 100 || status > 999) return fail(E_BAD_STATUS, -1);
  if (!inSpan(0, reasonLen, STAGE_CAPACITY) || at < 0 || at > OUT_CAPACITY) return fail(E_BAD_ARGUMENT, -1);
  headStart = OUT + <usize>at;
  w = headStart;
  if (room() < <i64>(16 + reasonLen + END_RESERVE)) return fail(E_HEAD_OVERFLOW, -1);
  putLiteral(STATUS_LINE);
  put(<u32>(status / 100) + 0x30);
  put(<u32>(status / 10 % 10) + 0x30);
  put(<u32>(status % 10) + 0x30);
  put(0x20);
  if (reasonLen > 0) {
    for (let k = 0; k < reasonLen; k++) {
      const c = <u32>load<u8>(STAGE + <usize>k);
      if (!isValueChar(c)) return fail(E_BAD_RESPONSE_HEADER_VALUE, -1);
      put(c);
    }
  } else {
    putString(reasonPhrase(status));
  }
  putPair(CRLF);
  inProgress = true;
  return <i32>(w - headStart);
}

/**
 * Appends the first `count` fields of STAGE_TABLE to the head in progress.
 * Returns the bytes written so far, or an error code with the refused
 * field's index (in this batch) in the error slot; an error ends the head.
 */
export function addFields(count: i32): i32 {
  if (!inProgress) return fail(E_NO_HEAD_IN_PROGRESS, -1);
  if (count < 0 || count > MAX_FIELDS) return abandon(E_BAD_ARGUMENT, -1);
  // Check every span against STAGE, and the room the batch needs, before writing any of it.
  let need: i64 = END_RESERVE;
  for (let h = 0; h < count; h++) {
    const span = STAGE_TABLE + (<usize>(h * SPAN_SLOTS) << 2);
    const nameLen = load<i32>(span, SPAN_NAME_LEN << 2);
    const valueLen = load<i32>(span, SPAN_VALUE_LEN << 2);
    if (!inSpan(load<i32>(span, SPAN_NAME_OFF << 2), nameLen, STAGE_CAPACITY)) return abandon(E_BAD_ARGUMENT, h);
    if (!inSpan(load<i32>(span, SPAN_VALUE_OFF << 2), valueLen, STAGE_CAPACITY)) return abandon(E_BAD_ARGUMENT, h);
    need += <i64>nameLen + <i64>valueLen + 4;
  }
  if (need > room()) return abandon(E_HEAD_OVERFLOW, -1);
  for (let h = 0; h < count; h++) {
    const span = STAGE_TABLE + (<usize>(h * SPAN_SLOTS) << 2);
    const name = STAGE + <usize>load<i32>(span, SPAN_NAME_OFF << 2);
    const nameLen = load<i32>(span, SPAN_NAME_LEN << 2);
    const value = STAGE + <usize>load<i32>(span, SPAN_VALUE_OFF << 2);
    const valueLen = load<i32>(span, SPAN_VALUE_LEN << 2);
    if (nameLen == 0 || scanToken(name, 0, nameLen) != nameLen) return abandon(E_BAD_RESPONSE_HEADER_NAME, h);
    if (scanValue(value, 0, valueLen) != valueLen) return abandon(E_BAD_RESPONSE_HEADER_VALUE, h);
    putBytes(name, <usize>nameLen);
    putPair(COLON_SP);
    putBytes(value, <usize>valueLen);
    putPair(CRLF);
  }
  return <i32>(w - headStart);
}

/** Ends the head in progress with Date, framing and Connection fields; returns its whole length, or an error code. */
export function endHead(framing: i32, contentLength: f64, flags: i32, nowSeconds: f64): i32 {
  if (!inProgress) return fail(E_NO_HEAD_IN_PROGRESS, -1);
  inProgress = false;
  if (framing < FRAMING_NONE || framing > FRAMING_CHUNKED || (flags & ~HEAD_FLAGS) != 0) return fail(E_BAD_ARGUMENT, -1);
  if (framing == FRAMING_LENGTH && !isByteCount(contentLength)) return fail(E_BAD_ARGUMENT, -1);
  if ((flags & HEAD_DATE) != 0 && !(nowSeconds >= 0 && nowSeconds < 253402300800)) return fail(E_BAD_ARGUMENT, -1); // before year 10000
  if (flags & HEAD_DATE) {
    putLiteral(DATE);
    putDate(Math.floor(nowSeconds));
    putPair(CRLF);
  }
  if (framing == FRAMING_LENGTH) {
    putLiteral(CONTENT_LENGTH);
    putDecimal(<u64>contentLength);
    putPair(CRLF);
  } else if (framing == FRAMING_CHUNKED) {
    putLiteral(CHUNKED);
  }
  if (flags & HEAD_CLOSE) putLiteral(CLOSE);
  else if (flags & HEAD_KEEP_ALIVE) putLiteral(KEEP_ALIVE);
  putPair(CRLF);
  return <i32>(w - headStart);
}

/** A whole head in one call: beginHead, addFields(count), endHead. */
export function serializeHead(
  status: i32, reasonLen: i32, count: i32, framing: i32, contentLength: f64, flags: i32, nowSeconds: f64, at: i32,
): i32 {
  if (count < 0 || count > MAX_FIELDS) return fail(E_BAD_ARGUMENT, -1);
  const r = beginHead(status, reasonLen, at);
  if (r < 0) return r;
  const f = addFields(count);
  if (f < 0) return f;
  return endHead(framing, contentLength, flags, nowSeconds);
}

/** Writes "<hex size>\r\n" at ptr, which must leave 16 bytes in OUT, and returns its length; or an error code. */
export function writeChunkHeader(ptr: i32, size: f64): i32 {
  if (!inRegion(ptr, 16, OUT, OUT_CAPACITY) || !isByteCount(size)) return E_BAD_ARGUMENT;
  const p = <usize>ptr;
  let v = <u64>size;
  let digits = 1;
  for (let t = v >> 4; t != 0; t >>= 4) digits++;
  for (let k = digits - 1; k >= 0; k--) {
    const d = <u32>(v & 0xf);
    store<u8>(p + <usize>k, d < 10 ? d + 0x30 : d + 0x57);
    v >>= 4;
  }
  store<u8>(p + <usize>digits, 0x0d);
  store<u8>(p + <usize>digits + 1, 0x0a);
  return digits + 2;
}

/** IMF-fixdate (RFC 9110 §5.6.7) of a Unix time, written at `at`. */
function formatImfDate(t: i64, at: usize): void {
  const days = t / 86400;
  const secs = <i32>(t % 86400);
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const z = days + 719468;
  const era = z / 146097;
  const doe = <i32>(z - era * 146097);
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const day = doy - (153 * mp + 2) / 5 + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = <i32>(<i64>yoe + era * 400) + (month <= 2 ? 1 : 0);
  const weekday = <i32>(days % 7); // 1970-01-01 was a Thursday

  const save = w;
  w = at;
  putSlice("ThuFriSatSunMonTueWed", weekday * 3, 3);
  putString(", ");
  put2(day);
  put(0x20);
  putSlice("JanFebMarAprMayJunJulAugSepOctNovDec", (month - 1) * 3, 3);
  put(0x20);
  put2(year / 100);
  put2(year % 100);
  put(0x20);
  put2(secs / 3600);
  put(0x3a);
  put2(secs / 60 % 60);
  put(0x3a);
  put2(secs % 60);
  putString(" GMT");
  w = save;
}

@inline function put2(v: i32): void {
  put(<u32>(v / 10) + 0x30);
  put(<u32>(v % 10) + 0x30);
}

function reasonPhrase(status: i32): string {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}
