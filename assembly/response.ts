// The response head: status line, the host's header fields (validated, never
// sent when a value could split the message), then Date, framing and
// Connection. Written to OUT; the host sends it with the body in one writev.
import { isToken, isValueChar } from "./chars";
import { OUT, OUT_CAPACITY, STAGE, STAGE_TABLE, setResult, R_ERROR_OFFSET } from "./layout";
import { E_BAD_STATUS, E_BAD_RESPONSE_HEADER_NAME, E_BAD_RESPONSE_HEADER_VALUE, E_HEAD_OVERFLOW } from "./errors";

export const HEAD_DATE = 1; // add a Date field
export const HEAD_CLOSE = 2; // add "Connection: close"
export const HEAD_KEEP_ALIVE = 4; // add "Connection: keep-alive" (HTTP/1.0 clients)

const FRAMING_NONE = 0;
const FRAMING_LENGTH = 1;
const FRAMING_CHUNKED = 2;

const DATE_LEN = 29; // "Sun, 06 Nov 1994 08:49:37 GMT"
const DATE = memory.data(32);
let dateSecond: f64 = -1;

let w: usize = 0; // write cursor into OUT

@inline function put(c: u32): void {
  store<u8>(w++, c);
}
function putString(s: string): void {
  putSlice(s, 0, s.length);
}
function putSlice(s: string, start: i32, n: i32): void {
  for (let k = start; k < start + n; k++) put(<u32>s.charCodeAt(k));
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
    formatImfDate(<i64>nowSeconds);
    dateSecond = nowSeconds;
  }
  memory.copy(w, DATE, DATE_LEN);
  w += DATE_LEN;
}

/**
 * Serializes a head into OUT at offset `at` and returns its length, or an error code with
 * R_ERROR_OFFSET set to the index of the offending header. The header spans
 * are in STAGE_TABLE, relative to STAGE; a custom reason phrase is the span
 * [reasonOff, reasonOff + reasonLen) of STAGE (reasonLen 0: the standard one).
 */
export function serializeHead(
  status: i32, reasonOff: i32, reasonLen: i32, headerCount: i32, framing: i32, contentLength: f64,
  flags: i32, nowSeconds: f64, at: i32,
): i32 {
  if (status < 100 || status > 999) return E_BAD_STATUS;
  // Worst case of what this function adds around the staged bytes.
  let need = 128 + reasonLen;
  for (let h = 0; h < headerCount; h++) {
    const span = STAGE_TABLE + (<usize>h << 4);
    need += load<i32>(span, 4) + load<i32>(span, 12) + 4;
  }
  if (at < 0 || need > OUT_CAPACITY - at) return E_HEAD_OVERFLOW;

  const start = OUT + <usize>at;
  w = start;
  putString("HTTP/1.1 ");
  put(<u32>(status / 100) + 0x30);
  put(<u32>(status / 10 % 10) + 0x30);
  put(<u32>(status % 10) + 0x30);
  put(0x20);
  if (reasonLen > 0) {
    for (let k = 0; k < reasonLen; k++) {
      const c = <u32>load<u8>(STAGE + <usize>(reasonOff + k));
      if (!isValueChar(c)) { setResult(R_ERROR_OFFSET, -1); return E_BAD_RESPONSE_HEADER_VALUE; }
      put(c);
    }
  } else {
    putString(reasonPhrase(status));
  }
  put(0x0d); put(0x0a);

  for (let h = 0; h < headerCount; h++) {
    const span = STAGE_TABLE + (<usize>h << 4);
    const name = STAGE + <usize>load<i32>(span);
    const nameLen = load<i32>(span, 4);
    const value = STAGE + <usize>load<i32>(span, 8);
    const valueLen = load<i32>(span, 12);
    if (nameLen == 0) { setResult(R_ERROR_OFFSET, h); return E_BAD_RESPONSE_HEADER_NAME; }
    for (let k = 0; k < nameLen; k++) {
      const c = <u32>load<u8>(name + <usize>k);
      if (!isToken(c)) { setResult(R_ERROR_OFFSET, h); return E_BAD_RESPONSE_HEADER_NAME; }
      put(c);
    }
    put(0x3a); put(0x20);
    for (let k = 0; k < valueLen; k++) {
      const c = <u32>load<u8>(value + <usize>k);
      if (!isValueChar(c)) { setResult(R_ERROR_OFFSET, h); return E_BAD_RESPONSE_HEADER_VALUE; }
      put(c);
    }
    put(0x0d); put(0x0a);
  }

  if (flags & HEAD_DATE) {
    putString("Date: ");
    putDate(nowSeconds);
    put(0x0d); put(0x0a);
  }
  if (framing == FRAMING_LENGTH) {
    putString("Content-Length: ");
    putDecimal(<u64>contentLength);
    put(0x0d); put(0x0a);
  } else if (framing == FRAMING_CHUNKED) {
    putString("Transfer-Encoding: chunked\r\n");
  }
  if (flags & HEAD_CLOSE) putString("Connection: close\r\n");
  else if (flags & HEAD_KEEP_ALIVE) putString("Connection: keep-alive\r\n");
  put(0x0d); put(0x0a);
  return <i32>(w - start);
}

/** Writes "<hex size>\r\n" at p and returns its length. */
export function writeChunkHeader(p: usize, size: f64): i32 {
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

/** IMF-fixdate (RFC 9110 §5.6.7) of a Unix time, into DATE. */
function formatImfDate(t: i64): void {
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
  w = DATE;
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
