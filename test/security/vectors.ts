// Hostile requests as data: the bytes a client sends, and what the server must
// (and must not) do with them. Strings are bytes: each char code is one byte.
// The server under test runs with LIMITS (small, so the limits are cheap to hit)
// and the recorder's echo handler: it reads the whole body and answers 200.

export interface Vector {
  name: string;
  /** Written to one connection, piece by piece with a short pause between. */
  send: string | readonly string[];
  /** Statuses of the responses, in order; after the last one the server closes the connection. */
  expect: readonly number[];
  /**
   * Every request the handler may see on this connection ("METHOD target"),
   * in order; anything else got through, e.g. a smuggled request. Default: none.
   */
  dispatched?: readonly string[];
  /** Requests that may follow `dispatched` to the handler (read before the server decided to close), but need not. */
  mayDispatch?: readonly string[];
  /** The bodies the handler read, in order, when they matter. */
  bodies?: readonly string[];
}

export interface KnownFailing extends Vector {
  /** What the server does instead, and where. */
  reason: string;
}

export const LIMITS = {
  maxHeadBytes: 1024,
  maxHeaders: 12,
  maxHeaderLine: 256,
  maxTargetBytes: 128,
  maxBodyBytes: 1024,
  maxChunkExtension: 64,
} as const;

// ---- building blocks --------------------------------------------------------

/** A request head: the request line, then each field line, then the empty line. */
const head = (requestLine: string, ...fields: string[]): string =>
  `${requestLine}\r\n${fields.map((field) => `${field}\r\n`).join("")}\r\n`;
const get = (target = "/", ...fields: string[]): string => head(`GET ${target} HTTP/1.1`, "Host: a", ...fields);
const post = (...fields: string[]): string => head("POST / HTTP/1.1", "Host: a", ...fields);
/** A chunked POST head, with a close so an accepted request ends the conversation. */
const chunkedPost = (...fields: string[]): string => post("Transfer-Encoding: chunked", "Connection: close", ...fields);
const getClose = (target = "/", ...fields: string[]): string => get(target, ...fields, "Connection: close");

const ok = (request: string, body = ""): Pick<Vector, "expect" | "dispatched" | "bodies"> =>
  ({ expect: [200], dispatched: [request], bodies: [body] });
const BODY = "5\r\nhello\r\n0\r\n\r\n";
const tooLong = (n: number): string => "a".repeat(n);
const SMUGGLED = get("/smuggled");

// ---- the vectors --------------------------------------------------------------

const BASE_VECTORS: readonly Vector[] = [
  // Baselines: well-formed requests pass, so a rejection below is about its fault.
  { name: "GET with Host", send: getClose(), ...ok("GET /") },
  { name: "POST with Content-Length body", send: post("Content-Length: 5", "Connection: close") + "hello", ...ok("POST /", "hello") },
  { name: "POST chunked body", send: chunkedPost() + BODY, ...ok("POST /", "hello") },
  { name: "chunked body in pieces", send: [chunkedPost(), "5\r", "\nhel", "lo\r", "\n0\r\n", "\r\n"], ...ok("POST /", "hello") },
  { name: "HTTP/1.0 without Host", send: head("GET / HTTP/1.0"), ...ok("GET /") },
  { name: "OPTIONS * is answered by the server itself", send: head("OPTIONS * HTTP/1.1", "Host: a", "Connection: close"), expect: [200] },
  { name: "CONNECT authority-form: an origin server has no tunnel (RFC 9110 §9.3.6)", send: head("CONNECT a:443 HTTP/1.1", "Host: a:443", "Connection: close"), expect: [501] },
  { name: "absolute-form target", send: head("GET http://a/x HTTP/1.1", "Host: a", "Connection: close"), ...ok("GET http://a/x") },
  { name: "a method the server does not implement is 501 (RFC 9110 §9.1)", send: head("FOO / HTTP/1.1", "Host: a", "Connection: close"), expect: [501] },
  { name: "one empty line before the request line is ignored (RFC 9112 §2.2)", send: "\r\n" + getClose(), ...ok("GET /") },
  { name: "HTTP/1.0 keep-alive, then a second request", send: head("GET /1 HTTP/1.0", "Connection: keep-alive") + head("GET /2 HTTP/1.0"), expect: [200, 200], dispatched: ["GET /1", "GET /2"] },
  { name: "Upgrade: h2c is not taken up: answered as HTTP/1.1", send: getClose("/", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"), ...ok("GET /") },
  { name: "two keep-alive requests, then close", send: get("/1") + getClose("/2"), expect: [200, 200], dispatched: ["GET /1", "GET /2"] },
  { name: "requests after Connection: close are not served (RFC 9112 §9.6)", send: getClose("/1") + get("/smuggled"), expect: [200], dispatched: ["GET /1"] },
  { name: "bytes after a Content-Length body are the next request", send: post("Content-Length: 3") + "abc" + getClose("/next"), expect: [200, 200], dispatched: ["POST /", "GET /next"], bodies: ["abc", ""] },

  // Smuggling: Content-Length with Transfer-Encoding (RFC 9112 §6.1, §6.3: 400 and close).
  { name: "CL.TE: Content-Length then Transfer-Encoding", send: post("Content-Length: 6", "Transfer-Encoding: chunked") + "0\r\n\r\nG", expect: [400] },
  { name: "CL.TE with a whole smuggled request", send: post(`Content-Length: ${5 + SMUGGLED.length}`, "Transfer-Encoding: chunked") + "0\r\n\r\n" + SMUGGLED, expect: [400] },
  { name: "TE.CL: Transfer-Encoding then Content-Length", send: post("Transfer-Encoding: chunked", "Content-Length: 3") + "8\r\nSMUGGLED\r\n0\r\n\r\n", expect: [400] },
  { name: "TE.CL with a smuggled request inside the chunk", send: post("Transfer-Encoding: chunked", "Content-Length: 4") + `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`, expect: [400] },
  { name: "CL: 0 with Transfer-Encoding", send: post("Content-Length: 0", "Transfer-Encoding: chunked") + BODY, expect: [400] },
  { name: "TE.CL with Content-Length: 0", send: post("Transfer-Encoding: chunked", "Content-Length: 0") + BODY, expect: [400] },
  { name: "CL.TE where TE is upper case", send: post("Content-Length: 5", "TRANSFER-ENCODING: CHUNKED") + BODY, expect: [400] },
  // Transfer-Encoding overrides Content-Length (§6.3 rule 3), so its unknown coding is what is refused.
  { name: "CL.TE where TE is gzip, chunked", send: post("Content-Length: 5", "Transfer-Encoding: gzip, chunked") + BODY, expect: [501] },

  // TE.TE: obfuscated Transfer-Encoding (RFC 9112 §6.3 rule 4: chunked not final is 400; RFC 9112 §6.1: 501 for
  // an unknown coding before a final chunked).
  { name: "TE: xchunked", send: post("Transfer-Encoding: xchunked") + BODY, expect: [400] },
  { name: "TE: chunkedx", send: post("Transfer-Encoding: chunkedx") + BODY, expect: [400] },
  { name: "TE: chunked, chunked", send: post("Transfer-Encoding: chunked, chunked") + BODY, expect: [400] },
  { name: "TE: chunked twice on two lines", send: post("Transfer-Encoding: chunked", "Transfer-Encoding: chunked") + BODY, expect: [400] },
  { name: "TE: chunked then TE: x", send: post("Transfer-Encoding: chunked", "Transfer-Encoding: x") + BODY, expect: [400] },
  { name: "TE: x then TE: chunked", send: post("Transfer-Encoding: x", "Transfer-Encoding: chunked") + BODY, expect: [400] },
  { name: "TE: chunked, gzip (chunked not final)", send: post("Transfer-Encoding: chunked, gzip") + BODY, expect: [400] },
  { name: "TE: gzip alone (no chunked)", send: post("Transfer-Encoding: gzip") + BODY, expect: [400] },
  { name: "TE: identity", send: post("Transfer-Encoding: identity") + BODY, expect: [400] },
  { name: "TE: gzip, chunked (unsupported coding)", send: post("Transfer-Encoding: gzip, chunked") + BODY, expect: [501] },
  { name: "TE: deflate, chunked", send: post("Transfer-Encoding: deflate, chunked") + BODY, expect: [501] },
  { name: "TE: \"chunked\" quoted", send: post('Transfer-Encoding: "chunked"') + BODY, expect: [400] },
  { name: "TE: chunked with a VT", send: post("Transfer-Encoding: chunked\x0b") + BODY, expect: [400] },
  { name: "TE: chunked with a NUL", send: post("Transfer-Encoding: chunked\x00") + BODY, expect: [400] },
  { name: "TE: chunk\\red (bare CR inside)", send: post("Transfer-Encoding: chunk\red") + BODY, expect: [400] },
  { name: "TE with space before colon", send: post("Transfer-Encoding : chunked") + BODY, expect: [400] },
  { name: "TE with tab before colon", send: post("Transfer-Encoding\t: chunked") + BODY, expect: [400] },
  { name: "TE value folded onto the next line", send: post("Transfer-Encoding:", " chunked") + BODY, expect: [400] },
  { name: "TE line folded after another field", send: post("X: y", " Transfer-Encoding: chunked") + BODY, expect: [400] },
  { name: "TE in HTTP/1.0 (RFC 9112 §6.1: faulty framing)", send: head("POST / HTTP/1.0", "Transfer-Encoding: chunked") + BODY, expect: [400] },
  { name: "TE: CHUNKED (coding names are case-insensitive)", send: post("Transfer-Encoding: CHUNKED", "Connection: close") + BODY, ...ok("POST /", "hello") },
  { name: "TE with extra OWS", send: post("Transfer-Encoding: \t chunked \t", "Connection: close") + BODY, ...ok("POST /", "hello") },
  { name: "TE with an empty list element (RFC 9110 §5.6.1.2)", send: post("Transfer-Encoding: , chunked", "Connection: close") + BODY, ...ok("POST /", "hello") },
  { name: "Transfer_Encoding is another field: its body is the next request", send: post("Transfer_Encoding: chunked") + BODY, expect: [200, 400], dispatched: ["POST /"] },

  // Content-Length grammar (RFC 9110 §8.6: 1*DIGIT; RFC 9112 §6.3 rule 5: invalid is 400).
  { name: "CL duplicated, same value", send: post("Content-Length: 5", "Content-Length: 5") + "hello", expect: [400] },
  { name: "CL duplicated, different values", send: post("Content-Length: 5", "Content-Length: 6") + "hello!", expect: [400] },
  { name: "CL list of equal values", send: post("Content-Length: 5, 5") + "hello", expect: [400] },
  { name: "CL list of different values", send: post("Content-Length: 5, 6") + "hello!", expect: [400] },
  { name: "CL with a plus sign", send: post("Content-Length: +5") + "hello", expect: [400] },
  { name: "CL negative", send: post("Content-Length: -5") + "hello", expect: [400] },
  { name: "CL in hex", send: post("Content-Length: 0x5") + "hello", expect: [400] },
  { name: "CL with a decimal point", send: post("Content-Length: 5.0") + "hello", expect: [400] },
  { name: "CL in exponent form", send: post("Content-Length: 5e0") + "hello", expect: [400] },
  { name: "CL with an inner space", send: post("Content-Length: 1 5") + "hello", expect: [400] },
  { name: "CL empty", send: post("Content-Length:") + "hello", expect: [400] },
  { name: "CL with a NUL", send: post("Content-Length: 5\x00") + "hello", expect: [400] },
  { name: "CL with a VT", send: post("Content-Length:\x0b5") + "hello", expect: [400] },
  { name: "CL in full-width digits", send: post("Content-Length: \xef\xbc\x95") + "hello", expect: [400] },
  { name: "CL beyond 2^64", send: post("Content-Length: 99999999999999999999999") + "hello", expect: [400] },
  { name: "CL with space before colon", send: post("Content-Length : 5") + "hello", expect: [400] },
  { name: "CL line with leading space (folded)", send: post("X: y", " Content-Length: 5") + "hello", expect: [400] },
  { name: "CL value folded", send: post("Content-Length:", " 5") + "hello", expect: [400] },
  { name: "CL with leading zeros is a number", send: post("Content-Length: 005", "Connection: close") + "hello", ...ok("POST /", "hello") },
  { name: "CL with OWS around the value", send: post("Content-Length: \t5 \t", "Connection: close") + "hello", ...ok("POST /", "hello") },

  // Bare CR and bare LF in the head (RFC 9112 §2.2: a bare CR must be rejected; this server rejects bare LF too).
  { name: "bare LF line endings throughout", send: "GET / HTTP/1.1\nHost: a\n\n", expect: [400] },
  { name: "bare LF after the request line", send: "GET / HTTP/1.1\nHost: a\r\n\r\n", expect: [400] },
  { name: "bare LF after a field line", send: "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", expect: [400] },
  { name: "bare LF ends the head", send: "GET / HTTP/1.1\r\nHost: a\r\n\n", expect: [400] },
  { name: "bare LF inside a value", send: get("/", "X: a\nb"), expect: [400] },
  { name: "bare LF before the request line", send: "\n" + getClose(), expect: [400] },
  { name: "bare CR inside the request line", send: "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", expect: [400] },
  { name: "bare CR ends the request line", send: "GET / HTTP/1.1\rHost: a\r\n\r\n", expect: [400] },
  { name: "bare CR inside a value", send: get("/", "X: a\rb"), expect: [400] },
  { name: "bare CR inside a name", send: get("/", "X\rY: a"), expect: [400] },
  { name: "CR CR LF after a field", send: "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", expect: [400] },
  { name: "bare CR where the head should end", send: "GET / HTTP/1.1\r\nHost: a\r\n\rGET", expect: [400] },
  { name: "bare CR smuggles a field", send: get("/", "X: a\rTransfer-Encoding: chunked"), expect: [400] },

  // Obsolete line folding (RFC 9112 §5.2: reject with 400).
  { name: "obs-fold with a space", send: get("/", "X: a", " b"), expect: [400] },
  { name: "obs-fold with a tab", send: get("/", "X: a", "\tb"), expect: [400] },
  { name: "obs-fold of Host", send: head("GET / HTTP/1.1", "Host:", " a"), expect: [400] },
  { name: "whitespace line before the first field", send: head("GET / HTTP/1.1", " Host: a"), expect: [400] },
  { name: "whitespace-only line among the fields", send: get("/", " ", "X: y"), expect: [400] },

  // Whitespace between name and colon (RFC 9112 §5.1: MUST reject with 400).
  { name: "space before colon", send: get("/", "X-A : b"), expect: [400] },
  { name: "tab before colon", send: get("/", "X-A\t: b"), expect: [400] },
  { name: "space before colon in Host", send: head("GET / HTTP/1.1", "Host : a"), expect: [400] },
  { name: "several spaces before colon", send: get("/", "X-A   : b"), expect: [400] },

  // Field names: tokens only (RFC 9110 §5.1, §5.6.2).
  { name: "line without a colon", send: get("/", "NoColonHere"), expect: [400] },
  { name: "empty name", send: get("/", ": a"), expect: [400] },
  { name: "space inside a name", send: get("/", "X A: b"), expect: [400] },
  { name: "@ in a name", send: get("/", "X@A: b"), expect: [400] },
  { name: "parenthesis in a name", send: get("/", "X(A): b"), expect: [400] },
  { name: "slash in a name", send: get("/", "X/A: b"), expect: [400] },
  { name: "quote in a name", send: get("/", 'X"A: b'), expect: [400] },
  { name: "brace in a name", send: get("/", "X{A}: b"), expect: [400] },
  { name: "NUL in a name", send: get("/", "X\x00A: b"), expect: [400] },
  { name: "DEL in a name", send: get("/", "X\x7fA: b"), expect: [400] },
  { name: "non-ASCII byte in a name", send: get("/", "X\xe9A: b"), expect: [400] },
  { name: "tab as the name", send: get("/", "\t: b"), expect: [400] },

  // Field values: VCHAR, SP, HTAB and obs-text only (RFC 9110 §5.5: CR, LF, NUL are invalid, other CTLs too).
  { name: "NUL in a value", send: get("/", "X: a\x00b"), expect: [400] },
  { name: "SOH in a value", send: get("/", "X: a\x01b"), expect: [400] },
  { name: "BS in a value", send: get("/", "X: a\x08b"), expect: [400] },
  { name: "VT in a value", send: get("/", "X: a\x0bb"), expect: [400] },
  { name: "FF in a value", send: get("/", "X: a\x0cb"), expect: [400] },
  { name: "ESC in a value", send: get("/", "X: \x1b[31mred"), expect: [400] },
  { name: "US in a value", send: get("/", "X: a\x1fb"), expect: [400] },
  { name: "DEL in a value", send: get("/", "X: a\x7fb"), expect: [400] },
  { name: "control character in Host", send: head("GET / HTTP/1.1", "Host: a\x01"), expect: [400] },
  { name: "obs-text in a value is allowed", send: getClose("/", "X: caf\xe9 \xff"), ...ok("GET /") },
  { name: "tab inside a value is allowed", send: getClose("/", "X: a\tb"), ...ok("GET /") },
  { name: "empty value is allowed", send: getClose("/", "X:"), ...ok("GET /") },

  // Request line (RFC 9112 §3: method SP request-target SP HTTP-version, single spaces).
  { name: "method with @", send: head("G@T / HTTP/1.1", "Host: a"), expect: [400] },
  { name: "method with a NUL", send: head("G\x00ET / HTTP/1.1", "Host: a"), expect: [400] },
  { name: "method with a non-ASCII byte", send: head("G\xc9T / HTTP/1.1", "Host: a"), expect: [400] },
  { name: "method with a slash", send: head("GET/ / HTTP/1.1", "Host: a"), expect: [400] },
  { name: "empty method", send: head(" / HTTP/1.1", "Host: a"), expect: [400] },
  { name: "two spaces after the method", send: head("GET  / HTTP/1.1", "Host: a"), expect: [400] },
  { name: "two spaces before the version", send: head("GET /  HTTP/1.1", "Host: a"), expect: [400] },
  { name: "tabs as separators", send: head("GET\t/\tHTTP/1.1", "Host: a"), expect: [400] },
  { name: "trailing space after the version", send: head("GET / HTTP/1.1 ", "Host: a"), expect: [400] },
  { name: "leading space before the method", send: head(" GET / HTTP/1.1", "Host: a"), expect: [400] },
  { name: "missing target", send: head("GET HTTP/1.1", "Host: a"), expect: [400] },
  { name: "HTTP/0.9 simple request", send: "GET /\r\n\r\n", expect: [400] },
  { name: "HTTP/0.9 with a field", send: "GET /\r\nHost: a\r\n\r\n", expect: [400] },
  { name: "TLS ClientHello on the plain port", send: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + "\x00".repeat(32) + "\r\n\r\n", expect: [400] },
  { name: "NUL bytes for a request", send: "\x00\x00\x00\r\n\r\n", expect: [400] },
  { name: "SSH banner", send: "SSH-2.0-OpenSSH_9.6\r\n\r\n", expect: [400] },
  { name: "HTTP/2 connection preface", send: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", expect: [400] },

  // Versions (RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive; RFC 9110 §15.6.6: 505).
  { name: "HTTP/2.0", send: head("GET / HTTP/2.0", "Host: a"), expect: [505] },
  { name: "HTTP/3.0", send: head("GET / HTTP/3.0", "Host: a"), expect: [505] },
  { name: "HTTP/0.9 as a version", send: head("GET / HTTP/0.9", "Host: a"), expect: [505] },
  { name: "HTTP/9.9", send: head("GET / HTTP/9.9", "Host: a"), expect: [505] },
  { name: "HTTP/1 (no minor)", send: head("GET / HTTP/1", "Host: a"), expect: [400] },
  { name: "HTTP/1.1.1", send: head("GET / HTTP/1.1.1", "Host: a"), expect: [400] },
  { name: "HTTP/11", send: head("GET / HTTP/11", "Host: a"), expect: [400] },
  { name: "HTTP/10.0", send: head("GET / HTTP/10.0", "Host: a"), expect: [400] },
  { name: "lower-case http/1.1", send: head("GET / http/1.1", "Host: a"), expect: [400] },
  { name: "HTTP/1.x", send: head("GET / HTTP/1.x", "Host: a"), expect: [400] },
  { name: "HTTPS/1.1", send: head("GET / HTTPS/1.1", "Host: a"), expect: [400] },
  { name: "HTTP/ 1.1", send: head("GET / HTTP/ 1.1", "Host: a"), expect: [400] },

  // Targets (RFC 9112 §3.2: origin-form, absolute-form; asterisk only for OPTIONS, authority only for CONNECT).
  { name: "GET *", send: head("GET * HTTP/1.1", "Host: a"), expect: [400] },
  { name: "POST *", send: head("POST * HTTP/1.1", "Host: a", "Content-Length: 0"), expect: [400] },
  // "a:80" would be an absolute-URI (scheme "a"); a scheme cannot start with a digit, so this is authority-form.
  { name: "GET authority-form", send: head("GET 127.0.0.1:80 HTTP/1.1", "Host: a"), expect: [400] },
  { name: "CONNECT origin-form", send: head("CONNECT / HTTP/1.1", "Host: a"), expect: [400] },
  { name: "target without a leading slash", send: head("GET a HTTP/1.1", "Host: a"), expect: [400] },
  { name: "target of only a query", send: head("GET ?a=b HTTP/1.1", "Host: a"), expect: [400] },
  { name: "NUL in the target", send: head("GET /a\x00b HTTP/1.1", "Host: a"), expect: [400] },
  { name: "control character in the target", send: head("GET /a\x01b HTTP/1.1", "Host: a"), expect: [400] },
  { name: "DEL in the target", send: head("GET /a\x7fb HTTP/1.1", "Host: a"), expect: [400] },
  { name: "non-ASCII byte in the target", send: head("GET /caf\xe9 HTTP/1.1", "Host: a"), expect: [400] },
  { name: "tab in the target", send: head("GET /a\tb HTTP/1.1", "Host: a"), expect: [400] },
  { name: "space in the target", send: head("GET /a b HTTP/1.1", "Host: a"), expect: [400] },

  // Host (RFC 9112 §3.2: 400 for a missing, repeated or invalid Host in HTTP/1.1).
  { name: "HTTP/1.1 without Host", send: head("GET / HTTP/1.1"), expect: [400] },
  { name: "Host twice, same value", send: head("GET / HTTP/1.1", "Host: a", "Host: a"), expect: [400] },
  { name: "Host twice, different values", send: head("GET / HTTP/1.1", "Host: a", "Host: b"), expect: [400] },
  { name: "Host as a list", send: head("GET / HTTP/1.1", "Host: a, b"), expect: [400] },
  { name: "Host with a space", send: head("GET / HTTP/1.1", "Host: a b"), expect: [400] },
  { name: "Host with a path", send: head("GET / HTTP/1.1", "Host: a/b"), expect: [400] },
  { name: "Host with userinfo", send: head("GET / HTTP/1.1", "Host: u@a"), expect: [400] },
  { name: "Host with two ports", send: head("GET / HTTP/1.1", "Host: a:80:80"), expect: [400] },
  { name: "Host with a non-numeric port", send: head("GET / HTTP/1.1", "Host: a:http"), expect: [400] },
  { name: "Host with an unclosed IPv6 literal", send: head("GET / HTTP/1.1", "Host: [::1"), expect: [400] },
  { name: "Host twice, different case", send: head("GET / HTTP/1.1", "Host: a", "host: b"), expect: [400] },
  { name: "Host with an IPv6 literal and port", send: head("GET / HTTP/1.1", "Host: [::1]:8080", "Connection: close"), ...ok("GET /") },
  { name: "empty Host (RFC 9110 §7.2)", send: head("GET / HTTP/1.1", "Host:", "Connection: close"), ...ok("GET /") },

  // Limits: target 414, head size, header count and line length 431 (RFC 9110 §15.5.15, RFC 6585 §5).
  { name: "target at the limit", send: getClose("/" + tooLong(LIMITS.maxTargetBytes - 1)), ...ok("GET /" + tooLong(LIMITS.maxTargetBytes - 1)) },
  { name: "target one byte over the limit", send: get("/" + tooLong(LIMITS.maxTargetBytes)), expect: [414] },
  { name: "target far over the limit, head unfinished", send: "GET /" + tooLong(4000), expect: [414] },
  { name: "field line over the limit", send: get("/", "X: " + tooLong(LIMITS.maxHeaderLine)), expect: [431] },
  { name: "field line over the limit, head unfinished", send: "GET / HTTP/1.1\r\nHost: a\r\nX: " + tooLong(2000), expect: [431] },
  { name: "long field name", send: get("/", tooLong(LIMITS.maxHeaderLine) + ": b"), expect: [431] },
  { name: "header count at the limit", send: getClose("/", ...Array.from({ length: LIMITS.maxHeaders - 2 }, (_, i) => `X-${i}: v`)), ...ok("GET /") },
  { name: "one header over the count", send: get("/", ...Array.from({ length: LIMITS.maxHeaders }, (_, i) => `X-${i}: v`)), expect: [431] },
  { name: "many empty headers", send: get("/", ...Array.from({ length: 50 }, () => "X:")), expect: [431] },
  { name: "head over the total size, lines and count within limits", send: get("/", ...Array.from({ length: 6 }, (_, i) => `X-${i}: ${tooLong(200)}`)), expect: [431] },
  { name: "head over the total size, never finished", send: "GET / HTTP/1.1\r\nHost: a\r\n" + `X: ${tooLong(100)}\r\n`.repeat(20), expect: [431] },
  { name: "endless empty lines before the request line", send: "\r\n".repeat(1000), expect: [431] },

  // Body limits: 413 from Content-Length before the body is read, and from chunk sizes.
  { name: "Content-Length at the limit", send: post(`Content-Length: ${LIMITS.maxBodyBytes}`, "Connection: close") + "b".repeat(LIMITS.maxBodyBytes), ...ok("POST /", "b".repeat(LIMITS.maxBodyBytes)) },
  { name: "Content-Length over the limit, body not sent", send: post(`Content-Length: ${LIMITS.maxBodyBytes + 1}`), expect: [413] },
  { name: "Content-Length of 1 TB, body not sent", send: post("Content-Length: 1000000000000"), expect: [413] },
  { name: "chunked body at the limit", send: chunkedPost() + `400\r\n${"b".repeat(1024)}\r\n0\r\n\r\n`, ...ok("POST /", "b".repeat(1024)) },

  // Chunked framing (RFC 9112 §7.1): sizes, terminators, extensions, trailers.
  { name: "chunk size with leading zeros", send: chunkedPost() + "0005\r\nhello\r\n0\r\n\r\n", ...ok("POST /", "hello") },
  { name: "upper-case hex chunk size", send: chunkedPost() + "A\r\n0123456789\r\n0\r\n\r\n", ...ok("POST /", "0123456789") },
  { name: "chunk extension", send: chunkedPost() + "5;a=b\r\nhello\r\n0\r\n\r\n", ...ok("POST /", "hello") },
  { name: "quoted chunk extension", send: chunkedPost() + '5;a="b; c"\r\nhello\r\n0\r\n\r\n', ...ok("POST /", "hello") },
  { name: "chunk extension with BWS", send: chunkedPost() + "5 ; a = b\r\nhello\r\n0\r\n\r\n", ...ok("POST /", "hello") },
  { name: "extension on the last chunk", send: chunkedPost() + "5\r\nhello\r\n0;end\r\n\r\n", ...ok("POST /", "hello") },
  { name: "trailer field", send: chunkedPost() + "5\r\nhello\r\n0\r\nX-Sum: 5\r\n\r\n", ...ok("POST /", "hello") },
  { name: "empty chunked body", send: chunkedPost() + "0\r\n\r\n", ...ok("POST /") },

  // Expect (RFC 9110 §10.1.1).
  { name: "Expect: 100-continue gets 100, then the response", send: [post("Content-Length: 3", "Expect: 100-continue", "Connection: close"), "abc"], expect: [100, 200], dispatched: ["POST /"], bodies: ["abc"] },
  { name: "Expect: 100-CONTINUE (case-insensitive)", send: [post("Content-Length: 3", "Expect: 100-CONTINUE", "Connection: close"), "abc"], expect: [100, 200], dispatched: ["POST /"], bodies: ["abc"] },
  { name: "unknown expectation gets 417", send: post("Content-Length: 3", "Expect: tea") + "abc", expect: [417] },
  { name: "100-continue listed with another expectation", send: post("Content-Length: 3", "Expect: 100-continue, tea") + "abc", expect: [417] },
  { name: "body over the limit with 100-continue: 413, no 100", send: post("Content-Length: 5000", "Expect: 100-continue"), expect: [413] },
  { name: "chunked body with 100-continue", send: [chunkedPost("Expect: 100-continue"), BODY], expect: [100, 200], dispatched: ["POST /"], bodies: ["hello"] },
  { name: "417 closes: the next request is not served", send: head("GET / HTTP/1.1", "Host: a", "Expect: x") + get("/smuggled"), expect: [417] },

  // Pipelined: the valid response first, then the error, then close; nothing after the error is served.
  { name: "valid, then space before colon", send: get("/first") + get("/bad", "X : y") + get("/never"), expect: [200, 400], dispatched: ["GET /first"] },
  { name: "two valid, then bare LF", send: get("/1") + get("/2") + "GET /bad HTTP/1.1\nHost: a\n\n", expect: [200, 200, 400], dispatched: ["GET /1", "GET /2"] },
  { name: "valid POST, then CL.TE", send: post("Content-Length: 2") + "hi" + post("Content-Length: 6", "Transfer-Encoding: chunked") + "0\r\n\r\nG", expect: [200, 400], dispatched: ["POST /"], bodies: ["hi"] },
  { name: "valid, then HTTP/2.0", send: get("/first") + head("GET / HTTP/2.0", "Host: a"), expect: [200, 505], dispatched: ["GET /first"] },
  { name: "valid, then a long target", send: get("/first") + get("/" + tooLong(200)), expect: [200, 414], dispatched: ["GET /first"] },
  { name: "valid, then too many headers", send: get("/first") + get("/", ...Array.from({ length: 20 }, (_, i) => `X-${i}: v`)), expect: [200, 431], dispatched: ["GET /first"] },
  { name: "valid, then a body over the limit", send: get("/first") + post("Content-Length: 5000"), expect: [200, 413], dispatched: ["GET /first"] },
  { name: "valid, then the HTTP/2 preface", send: get("/first") + "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", expect: [200, 400], dispatched: ["GET /first"] },
  { name: "valid, then duplicate Host", send: get("/first") + head("GET / HTTP/1.1", "Host: a", "Host: b") + get("/never"), expect: [200, 400], dispatched: ["GET /first"] },
  { name: "valid chunked, then garbage", send: post("Transfer-Encoding: chunked") + BODY + "\x00\x01\x02\r\n\r\n", expect: [200, 400], dispatched: ["POST /"], bodies: ["hello"] },
  { name: "valid, then obs-fold, in separate writes", send: [get("/first"), get("/bad", "X: a", " b"), get("/never")], expect: [200, 400], dispatched: ["GET /first"] },
];

// Chunked framing faults found after the head was dispatched: the handler has
// the request, its body read fails, and the client gets one error response.
const AFTER_DISPATCH = { dispatched: ["POST /"] } as const;

const CHUNK_FAULTS: readonly Vector[] = ([
  ["bare LF after the chunk size", "5\nhello\r\n0\r\n\r\n", 400],
  ["bare CR after the chunk size", "5\rhello\r\n0\r\n\r\n", 400],
  ["bare LF after the chunk data", "5\r\nhello\n0\r\n\r\n", 400],
  ["bare CR after the chunk data", "5\r\nhello\r0\r\n\r\n", 400],
  ["chunk data not followed by CRLF", "5\r\nhelloXX0\r\n\r\n", 400],
  ["chunk longer than its size", "3\r\nhello\r\n0\r\n\r\n", 400],
  ["bare LF after the last chunk", "0\n\r\n", 400],
  ["bare LF ends the trailer section", "0\r\n\n", 400],
  ["bare CR in a trailer value", "0\r\nX: a\rb\r\n\r\n", 400],
  ["bare LF after a trailer", "0\r\nX: a\n\r\n", 400],
  ["obs-fold in a trailer", "0\r\nX: a\r\n b\r\n\r\n", 400],
  ["space before colon in a trailer", "0\r\nX : a\r\n\r\n", 400],
  ["trailer line without a colon", "0\r\nNoColon\r\n\r\n", 400],
  ["NUL in a trailer value", "0\r\nX: a\x00\r\n\r\n", 400],
  ["trailer section over the head limit, in one write", "0\r\n" + `X: ${tooLong(200)}\r\n`.repeat(8) + "\r\n", 431],
  ["empty chunk size line", "\r\nhello\r\n0\r\n\r\n", 400],
  ["chunk size not hex", "g\r\nhello\r\n0\r\n\r\n", 400],
  ["chunk size with a plus sign", "+5\r\nhello\r\n0\r\n\r\n", 400],
  ["chunk size with a minus sign", "-5\r\nhello\r\n0\r\n\r\n", 400],
  ["chunk size in 0x form", "0x5\r\nhello\r\n0\r\n\r\n", 400],
  ["chunk size with leading space", " 5\r\nhello\r\n0\r\n\r\n", 400],
  ["chunk size beyond 2^64", "ffffffffffffffffffff\r\n", 400],
  ["chunk size past the body limit, data not sent", "401\r\n", 413],
  ["chunks adding up past the body limit", `200\r\n${"b".repeat(512)}\r\n201\r\n`, 413],
  ["chunk extension over the limit", `5;${"a".repeat(LIMITS.maxChunkExtension + 1)}\r\nhello\r\n0\r\n\r\n`, 413],
  ["chunk extension flood, never finished", `5;${"a=b;".repeat(500)}`, 413],
  ["NUL in a chunk extension", "5;a\x00\r\nhello\r\n0\r\n\r\n", 400],
  ["bare LF in a chunk extension", "5;a\nb\r\nhello\r\n0\r\n\r\n", 400],
  ["chunk extension without a name", "5;=b\r\nhello\r\n0\r\n\r\n", 400],
  ["chunk extension with an empty value", "5;a=\r\nhello\r\n0\r\n\r\n", 400],
  ["chunk extension with two names", "5;a b\r\nhello\r\n0\r\n\r\n", 400],
  ["unclosed quote in a chunk extension", '5;a="b\r\nhello\r\n0\r\n\r\n', 400],
] as const).map(([name, body, status]): Vector => ({ name, send: chunkedPost() + body, expect: [status], ...AFTER_DISPATCH }));

const CLOSING: readonly Vector[] = [
  {
    name: "valid, then an unknown expectation",
    send: get("/first") + head("GET / HTTP/1.1", "Host: a", "Expect: x") + get("/never"),
    expect: [200, 417],
    dispatched: ["GET /first"],
  },
  {
    // Sent whole, both requests may reach the handler before the first one
    // decides to close; the second must not be answered either way.
    name: "a response with Connection: close is the last one (RFC 9112 §9.6)",
    send: get("/first", "X-Close: 1") + get("/second"),
    expect: [200],
    dispatched: ["GET /first"],
    mayDispatch: ["GET /second"],
  },
  {
    name: "Expect: 100-continue in HTTP/1.0 is ignored (RFC 9110 §10.1.1)",
    send: [head("POST / HTTP/1.0", "Content-Length: 3", "Expect: 100-continue"), "abc"],
    expect: [200],
    dispatched: ["POST /"],
    bodies: ["abc"],
  },
];

// What an origin server answers itself, whatever the handler would say (RFC 9110 §9, RFC 9112 §3.2).
const ORIGIN: readonly Vector[] = [
  { name: "methods are case-sensitive: get is not GET (501)", send: head("get / HTTP/1.1", "Host: a", "Connection: close"), expect: [501] },
  { name: "a 2,000-byte method token is refused by the parser (501)", send: head(`${"G".repeat(2000)} / HTTP/1.1`, "Host: a"), expect: [501] },
  { name: "a 33-byte method token is refused by the parser (501)", send: head(`${"G".repeat(33)} / HTTP/1.1`, "Host: a"), expect: [501] },
  { name: "a WebDAV method Node knows reaches the handler", send: head("PROPFIND / HTTP/1.1", "Host: a", "Connection: close"), ...ok("PROPFIND /") },
  { name: "TRACE is 405 by default (cross-site tracing)", send: head("TRACE / HTTP/1.1", "Host: a", "Connection: close"), expect: [405] },
  { name: "absolute-form of a scheme other than http(s) is 400 (RFC 9112 §3.2.2)", send: head("GET localhost:80 HTTP/1.1", "Host: a", "Connection: close"), expect: [400] },
  { name: "absolute-form urn: is 400", send: head("GET urn:x:y HTTP/1.1", "Host: a", "Connection: close"), expect: [400] },
  { name: "absolute-form https reaches the handler", send: head("GET https://a/x HTTP/1.1", "Host: b", "Connection: close"), ...ok("GET https://a/x") },
  { name: "CONNECT with a smuggled request after it", send: head("CONNECT a:443 HTTP/1.1", "Host: a:443") + SMUGGLED, expect: [501], mayDispatch: ["GET /smuggled"] },
  { name: "Upgrade without an upgrade hook is ignored (RFC 9110 §7.8)", send: getClose("/", "Connection: upgrade", "Upgrade: websocket"), ...ok("GET /") },
];

export const VECTORS: readonly Vector[] = [...BASE_VECTORS, ...CHUNK_FAULTS, ...CLOSING, ...ORIGIN];

/** Vectors the server fails today, with their correct outcome; they move to VECTORS once fixed. */
export const KNOWN_FAILING: readonly KnownFailing[] = [];
