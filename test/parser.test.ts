// The wasm parser on raw bytes, as tables of input and expected outcome.
// Every case runs against both builds (SIMD and scalar), fed whole and split
// at every byte.
import { suite, assert } from "./support/uvu.ts";
import { createParser, parseRequestWith, RequestStream, type Build, type ParseResult, type ParsedRequest } from "../parser/src/parser-node.ts";
import { driveStream, runKey } from "./support/stream.ts";
import { HeadError, type RequestHead } from "../parser/src/parser.ts";
import { FRAMING, HEAD, REGIONS } from "../parser/src/abi.ts";

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);

type Accept = { method: string; target: string; version?: string; headers?: [string, string][]; body?: string; trailers?: [string, string][]; keepAlive?: boolean };

const accepted: [string, string, Accept][] = [
  ["simple GET", "GET /hi HTTP/1.1\r\nHost: a\r\n\r\n", { method: "GET", target: "/hi", headers: [["Host", "a"]], keepAlive: true }],
  ["OWS trimmed", "GET / HTTP/1.1\r\nHost:  a \t\r\nX-Empty:\r\n\r\n", { method: "GET", target: "/", headers: [["Host", "a"], ["X-Empty", ""]] }],
  ["HTTP/1.0 closes", "GET / HTTP/1.0\r\n\r\n", { method: "GET", target: "/", version: "1.0", keepAlive: false }],
  ["HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", { method: "GET", target: "/", keepAlive: true }],
  ["Connection: close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", { method: "GET", target: "/", keepAlive: false }],
  ["Content-Length body", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", { method: "POST", target: "/p", body: "hello" }],
  ["chunked body with extensions and trailers",
    "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b;c=\"d e\"\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n",
    { method: "POST", target: "/p", body: "hello0123456789", trailers: [["X-Sum", "1"]] }],
  ["any token method", "M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n", { method: "M-SEARCH", target: "/x" }],
  ["OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", { method: "OPTIONS", target: "*" }],
  ["absolute-form", "GET http://a.example/x?y=1 HTTP/1.1\r\nHost: a.example\r\n\r\n", { method: "GET", target: "http://a.example/x?y=1" }],
  ["authority-form", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", { method: "CONNECT", target: "a.example:443" }],
  ["authority-form, IPv6", "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", { method: "CONNECT", target: "[::1]:443" }],
  ["IPv6 host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", { method: "GET", target: "/" }],
  ["leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", { method: "GET", target: "/" }],
  ["obs-text in value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n", { method: "GET", target: "/", headers: [["Host", "a"], ["X", "caf\xe9"]] }],
  ["chunk extensions with whitespace around ; and =",
    "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 ; a = b ;c=\"d\\\"e\"\r\nhello\r\n0\r\n\r\n",
    { method: "POST", target: "/p", body: "hello" }],
  ["absolute-form with userinfo and port", "GET http://u:p@a.example:8080/x HTTP/1.1\r\nHost: a\r\n\r\n", { method: "GET", target: "http://u:p@a.example:8080/x" }],
  ["absolute-form of a scheme without authority", "GET urn:x:y HTTP/1.1\r\nHost: a\r\n\r\n", { method: "GET", target: "urn:x:y" }],
  ["Connection: an option is the whole element", "GET / HTTP/1.0\r\nConnection: keep-alive x\r\n\r\n", { method: "GET", target: "/", keepAlive: false }],
  ["Connection: options in a list", "GET / HTTP/1.0\r\nConnection: foo ,\tKeep-Alive \r\n\r\n", { method: "GET", target: "/", keepAlive: true }],
  ["Content-Length with leading zeros (RFC 9110 §8.6)", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 00000000000000000005\r\n\r\nhello", { method: "POST", target: "/p", body: "hello" }],
  ["long header value (SIMD path)", `GET / HTTP/1.1\r\nHost: a\r\nX-Long: ${"v".repeat(100)} x\r\n\r\n`, { method: "GET", target: "/" }],
];

// The last column: where the fault is, as the parser reports it (error.offset), whole or fed in pieces.
const rejected: [string, string, string, number, number][] = [
  ["HTTP/0.9", "GET /\r\n\r\n", "HTTP09", 400, 5],
  ["lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", "BAD_VERSION", 400, 6],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "VERSION_NOT_SUPPORTED", 505, 6],
  ["HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", "VERSION_NOT_SUPPORTED", 505, 6],
  ["no method", " / HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_METHOD", 400, 0],
  ["bad method char", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_METHOD", 400, 1],
  ["NUL in target", "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_TARGET", 400, 5],
  ["DEL in target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_TARGET", 400, 5],
  ["asterisk with M-SEARCH", "M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_TARGET", 400, 9],
  ["asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_TARGET", 400, 4],
  ["CONNECT with path", "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_TARGET", 400, 8],
  // Found by the fuzzer: the host of an authority-form target was not checked.
  ["CONNECT host with |", "CONNECT a.examp|e:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", "BAD_TARGET", 400, 15],
  ["CONNECT host with a quote", "CONNECT a\"example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", "BAD_TARGET", 400, 9],
  ["CONNECT without port", "CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n", "BAD_TARGET", 400, 17], // where the port should be
  ["CONNECT with empty port", "CONNECT a.example: HTTP/1.1\r\nHost: a.example\r\n\r\n", "BAD_TARGET", 400, 18],
  ["relative target", "GET x HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_TARGET", 400, 4],
  ["space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "SPACE_BEFORE_COLON", 400, 20],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", "OBS_FOLD", 400, 31],
  ["bare CR in value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", "BARE_CR", 400, 23],
  ["bare LF line end", "GET / HTTP/1.1\nHost: a\r\n\r\n", "BARE_LF", 400, 14],
  ["bare LF in headers", "GET / HTTP/1.1\r\nHost: a\n\r\n", "BARE_LF", 400, 23],
  ["NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", "BAD_HEADER_VALUE", 400, 29],
  ["control in name", "GET / HTTP/1.1\r\nHost: a\r\nX\x01: a\r\n\r\n", "BAD_HEADER_NAME", 400, 26],
  ["empty name", "GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", "BAD_HEADER_NAME", 400, 25],
  ["CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "LENGTH_AND_CHUNKED", 400, 64],
  ["duplicate CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "DUPLICATE_CONTENT_LENGTH", 400, 45],
  ["CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", "BAD_CONTENT_LENGTH", 400, 42],
  ["CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", "BAD_CONTENT_LENGTH", 400, 42],
  ["CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", "BAD_CONTENT_LENGTH", 400, 42],
  ["TE not ending in chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "BAD_TRANSFER_ENCODING", 400, 45],
  ["TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "BAD_TRANSFER_ENCODING", 400, 45],
  ["TE header twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "BAD_TRANSFER_ENCODING", 400, 54],
  ["TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "UNSUPPORTED_TRANSFER_CODING", 501, 45],
  ["TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "BAD_TRANSFER_ENCODING", 400, 36],
  ["missing Host", "GET / HTTP/1.1\r\n\r\n", "MISSING_HOST", 400, 0],
  ["duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "DUPLICATE_HOST", 400, 25],
  ["bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "BAD_HOST", 400, 23],
  ["bad Host port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", "BAD_HOST", 400, 25],
  ["chunk size not hex", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", "BAD_CHUNK_SIZE", 400, 56],
  ["chunk size overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", "CHUNK_SIZE_OVERFLOW", 400, 69],
  ["chunk without CRLF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", "BAD_CHUNK_TERMINATOR", 400, 62],
  ["chunk line bare LF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", "BARE_LF", 400, 57],
  ["bad chunk extension", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a\x01\r\nabc\r\n0\r\n\r\n", "BAD_CHUNK_EXTENSION", 400, 59],
  ["whitespace after chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", "BAD_CHUNK_SIZE", 400, 57],
  ["chunk extension without ;", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n0\r\n\r\n", "BAD_CHUNK_EXTENSION", 400, 58],
  ["chunk extension without a name", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n", "BAD_CHUNK_EXTENSION", 400, 58],
  ["chunk extension with an empty value", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\r\nabc\r\n0\r\n\r\n", "BAD_CHUNK_EXTENSION", 400, 60],
  ["chunk extension with whitespace at the end", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a \r\nabc\r\n0\r\n\r\n", "BAD_CHUNK_EXTENSION", 400, 59],
  ["absolute-form with a bad host", "GET http://a.ex{mple/ HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_TARGET", 400, 15],
  ["absolute-form with an empty host", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_TARGET", 400, 11],
  ["http URI without authority", "GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", "BAD_TARGET", 400, 10], // the x that breaks "//"
  ["lone LF before the request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "BARE_LF", 400, 0],
  ["trailer with obs-fold", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", "OBS_FOLD", 400, 65],
];

// The last column: where the fault is; for a size limit, the first byte over it.
const limitCases: [string, string, Record<string, number>, string, number, number][] = [
  ["target over the limit", `GET /${"a".repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`, { maxTargetBytes: 64 }, "TARGET_TOO_LONG", 414, 68],
  ["head over the limit", `GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(300)}\r\n\r\n`, { maxHeadBytes: 256 }, "HEAD_TOO_LARGE", 431, 256],
  ["too many headers", `GET / HTTP/1.1\r\nHost: a\r\n${"X: 1\r\n".repeat(5)}\r\n`, { maxHeaders: 4 }, "TOO_MANY_HEADERS", 431, 43],
  ["header line over the limit", `GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(80)}\r\n\r\n`, { maxHeaderLine: 64 }, "HEADER_LINE_TOO_LONG", 431, 89], // the line's 65th byte, the first over the limit
  ["body over the limit (Content-Length)", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nabcdefghijk", { maxBodyBytes: 10 }, "BODY_TOO_LARGE", 413, 42],
  ["body over the limit (chunked)", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n", { maxBodyBytes: 10 }, "BODY_TOO_LARGE", 413, 67],
  ["chunk extension over the limit", `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;${"x".repeat(100)}\r\nabc\r\n0\r\n\r\n`, { maxChunkExtension: 32 }, "CHUNK_EXTENSION_TOO_LARGE", 413, 89],
  ["trailers over the head limit, in one piece", `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${"X: 1234567890\r\n".repeat(20)}\r\n`, { maxHeadBytes: 256 }, "TRAILERS_TOO_LARGE", 431, 315],
];

function isRequest(r: ParseResult): r is ParsedRequest {
  return "method" in r;
}

{
  // The vector scans (tchar by nibble tables, reg-name by class) and their scalar twins agree on every byte,
  // at every position of a 16-byte step, and at the end of what was read.
  const test = suite("parser: SIMD and scalar builds agree byte by byte");
  test("field names, Host values and targets with each byte value at each offset", () => {
    const simd = createParser({}, "simd"), scalar = createParser({}, "scalar");
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c);
      for (let at = 0; at < 18; at++) {
        const name = "x".repeat(at) + ch + "y".repeat(17 - at);
        const host = "h".repeat(at) + ch + "i".repeat(17 - at);
        for (const input of [
          `GET / HTTP/1.1\r\nHost: a\r\n${name}: v\r\n\r\n`,
          `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
          `GET / HTTP/1.1\r\nHost: a\r\n${name.slice(0, at + 1)}`,
        ]) {
          const a = parseRequestWith(simd, bytes(input)), b = parseRequestWith(scalar, bytes(input));
          assert.equal(a, b, JSON.stringify(input));
        }
      }
    }
  });
  test("the fields that matter are known by name in any case, and a name one tchar off is another field", () => {
    const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const cases: [string, (n: string) => string, (h: RequestHead | null) => boolean][] = [
      ["Host", (n) => `GET / HTTP/1.1\r\n${n}: a\r\n\r\n`, (h) => h !== null],
      ["Content-Length", (n) => `POST / HTTP/1.1\r\nHost: a\r\n${n}: 3\r\n\r\n`, (h) => h!.contentLength === 3],
      ["Transfer-Encoding", (n) => `POST / HTTP/1.1\r\nHost: a\r\n${n}: chunked\r\n\r\n`, (h) => h!.framing === FRAMING.CHUNKED],
      ["Connection", (n) => `GET / HTTP/1.1\r\nHost: a\r\n${n}: close\r\n\r\n`, (h) => !h!.keepAlive],
      ["Expect", (n) => `GET / HTTP/1.1\r\nHost: a\r\n${n}: 100-continue\r\n\r\n`, (h) => h!.expectContinue],
      ["Upgrade", (n) => `GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n${n}: websocket\r\n\r\n`, (h) => h!.upgrade],
    ];
    for (const build of ["simd", "scalar"] as Build[]) {
      const parser = createParser({}, build);
      const head = (input: string): RequestHead | null => {
        const b = bytes(input);
        parser.bytes.set(b, parser.recv);
        const n = parser.parseHead(parser.recv, b.length, 0);
        return n > 0 ? parser.takeHead(parser.recv, n) : null;
      };
      for (const [name, message, known] of cases) {
        for (let k = 0; k < name.length; k++) {
          for (const t of tchars) {
            const variant = name.slice(0, k) + t + name.slice(k + 1);
            const same = t.toLowerCase() === name[k].toLowerCase();
            assert.is(known(head(message(same ? variant.toUpperCase() : variant))), same, `${build}: ${variant}`);
          }
        }
        assert.not.ok(known(head(message(name + "x"))), `${build}: ${name}x`);
      }
      // Connection options, whose bytes may be any a value holds: one byte off (every value byte) is another option.
      const options: [string, (h: RequestHead) => boolean][] = [
        ["close", (h) => !h.keepAlive], ["keep-alive", (h) => h.keepAlive], ["upgrade", (h) => h.upgrade],
      ];
      for (const [option, known] of options) {
        // HTTP/1.1 keeps the connection open unless told to close; HTTP/1.0 closes it unless told to keep it.
        const version = option === "close" ? "1.1" : "1.0";
        const message = (o: string) => `GET / HTTP/${version}\r\nHost: a\r\nUpgrade: x\r\nConnection: a, ${o}\r\n\r\n`;
        assert.ok(known(head(message(option.toUpperCase()))!), `${build}: ${option.toUpperCase()}`);
        for (let k = 0; k < option.length; k++) {
          for (let c = 0x20; c < 0x100; c++) {
            if (c === 0x7f || c === 0x2c || String.fromCharCode(c).toLowerCase() === option[k]) continue;
            const variant = option.slice(0, k) + String.fromCharCode(c) + option.slice(k + 1);
            if (variant.trim() !== variant) continue;
            const h = head(message(variant));
            assert.ok(h !== null && !known(h), `${build}: ${JSON.stringify(variant)}`);
          }
        }
      }
    }
  });
  test.run();
}

for (const build of ["simd", "scalar"] as Build[]) {
  const test = suite(`parser (${build})`);
  const parser = createParser({}, build);

  test("the build is the one asked for", () => {
    assert.is(parser.simd, build === "simd");
  });

  for (const [name, input, want] of accepted) {
    test(`accepts: ${name}`, () => {
      const r = parseRequestWith(parser, bytes(input));
      if (!isRequest(r)) assert.unreachable(`rejected: ${JSON.stringify(r)}`);
      const req = r as ParsedRequest;
      assert.is(req.method, want.method);
      assert.is(req.target, want.target);
      if (want.version) assert.is(req.version, want.version);
      if (want.headers) assert.equal(req.headers, want.headers);
      assert.is(text(req.body), want.body ?? "");
      if (want.trailers) assert.equal(req.trailers, want.trailers);
      if (want.keepAlive !== undefined) assert.is(req.keepAlive, want.keepAlive);
      assert.is(req.consumed, input.length);
    });
  }

  for (const [name, input, code, status, offset] of rejected) {
    test(`rejects: ${name}`, () => {
      const r = parseRequestWith(parser, bytes(input));
      if (!("error" in r)) assert.unreachable(`accepted: ${JSON.stringify(r)}`);
      const { error } = r as { error: { code: string; status: number; offset: number } };
      assert.is(error.code, code);
      assert.is(error.status, status);
      assert.is(error.offset, offset, `the fault at ${error.offset}: ${at(input, error.offset)}`);
      assert.equal(driveStream(parser, pieces(bytes(input), 1, 1)).error?.offset, offset, "fed a byte at a time");
    });
  }

  for (const [name, input, limits, code, status, offset] of limitCases) {
    test(`limit: ${name}`, () => {
      const limited = createParser(limits, build);
      const r = parseRequestWith(limited, bytes(input));
      if (!("error" in r)) assert.unreachable(`accepted: ${JSON.stringify(r)}`);
      const { error } = r as { error: { code: string; status: number; offset: number } };
      assert.is(error.code, code);
      assert.is(error.status, status);
      assert.is(error.offset, offset, `the fault at ${error.offset}: ${at(input, error.offset)}`);
      assert.equal(driveStream(limited, pieces(bytes(input), 1, 1)).error?.offset, offset, "fed a byte at a time");
      const relaxed = parseRequestWith(createParser({}, build), bytes(input));
      assert.ok(isRequest(relaxed), "accepted without the limit");
    });
  }

  test("every split point gives the same result", () => {
    const cases = [...accepted.map(([, input]) => input), ...rejected.map(([, input]) => input)];
    for (const input of cases) {
      const all = bytes(input);
      const whole = runKey(driveStream(parser, [all]));
      for (let at = 1; at < all.length; at++) {
        assert.is(runKey(driveStream(parser, pieces(all, at))), whole, `split at ${at} of ${JSON.stringify(input)}`);
      }
      // One byte at a time.
      assert.is(runKey(driveStream(parser, pieces(all, 1, 1))), whole, `bytewise ${JSON.stringify(input)}`);
    }
  });

  test("incomplete input asks for more", () => {
    for (const input of ["GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"]) {
      assert.equal(parseRequestWith(parser, bytes(input)), { incomplete: true }, input);
    }
  });

  test("an unsupported version is refused before its line ends", () => {
    const r = parseRequestWith(parser, bytes("GET / HTTP/5.6"));
    assert.is("error" in r && r.error.code, "VERSION_NOT_SUPPORTED");
  });

  test("one-shot: a message within the receive region and one past it give what the stream gives", () => {
    for (const size of [10, REGIONS.RECV_CAPACITY + 1000]) {
      const body = "b".repeat(size);
      const chunked = `${size.toString(16)}\r\n${body}\r\n0\r\nT: 1\r\n\r\n`;
      for (const input of [
        `POST /l HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n${body}GET /next HTTP/1.1\r\n\r\n`,
        `POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`,
      ]) {
        const r = parseRequestWith(parser, bytes(input));
        if (!isRequest(r)) assert.unreachable(`rejected: ${JSON.stringify(r)}`);
        const req = r as ParsedRequest;
        const streamed = driveStream(parser, [bytes(input)]).messages[0];
        assert.ok(req.body.length === size && req.body.every((b) => b === 0x62), "the body");
        assert.is(req.consumed, input.indexOf("GET /next") >= 0 ? input.indexOf("GET /next") : input.length);
        assert.equal(req.headers, streamed.headers);
        assert.equal(req.trailers, input.includes("T: 1") ? [["T", "1"]] : []);
        assert.is(req.keepAlive, !input.includes("close"));
      }
    }
    // A parse of the receive region is running (the stream is in its head callback): the one-shot refuses to write over it.
    let refused = "";
    new RequestStream(parser, {
      head() {
        try {
          parseRequestWith(parser, bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        } catch (error) {
          refused = (error as Error).message;
        }
      },
      data() {}, end() {}, error() {},
    }).push(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert.match(refused, /being parsed/);
  });

  test("pipelined messages: consumed marks where the next begins", () => {
    const a = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    const b = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
    const first = parseRequestWith(parser, bytes(a + b)) as ParsedRequest;
    assert.is(first.consumed, a.length);
    const second = parseRequestWith(parser, bytes(a + b).subarray(first.consumed)) as ParsedRequest;
    assert.is(second.target, "/b");
  });

  test("serializer: status line, fields, Date, framing", () => {
    const n = parser.serializeHead(0, 200, "", [["Content-Type", "text/plain"]], FRAMING.LENGTH, 2, HEAD.DATE | HEAD.CLOSE, 784111777);
    const head = text(parser.bytes.subarray(parser.out, parser.out + n));
    assert.is(head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
    const chunked = parser.serializeHead(0, 404, "Nope", [], FRAMING.CHUNKED, 0, 0, 0);
    assert.is(text(parser.bytes.subarray(parser.out, parser.out + chunked)), "HTTP/1.1 404 Nope\r\nTransfer-Encoding: chunked\r\n\r\n");
  });

  test("serializer: repeated and changed fields, and heads placed after one another", () => {
    const head = (fields: [string, string][], at = 0): string => {
      const n = parser.serializeHead(at, 200, "", fields, FRAMING.LENGTH, 0, 0, 0);
      return text(parser.bytes.subarray(parser.out + at, parser.out + at + n));
    };
    assert.match(head([["X", "1"]]), /\r\nX: 1\r\n/);
    assert.match(head([["X", "1"]]), /\r\nX: 1\r\n/);
    assert.match(head([["X", "2"]]), /\r\nX: 2\r\n/);
    assert.match(head([["X", "2"], ["Y", "3"]]), /\r\nX: 2\r\nY: 3\r\n/);
    assert.not.match(head([]), /X:/);
    assert.match(head([["X", "1"]]), /\r\nX: 1\r\n/);
    const second = head([["Z", "9"]], 100);
    assert.ok(second.startsWith("HTTP/1.1 200 OK\r\nZ: 9\r\n"), "written at the offset");
  });

  test("serializer: more fields than the staging table holds go in batches", () => {
    for (const count of [REGIONS.MAX_FIELDS - 1, REGIONS.MAX_FIELDS, REGIONS.MAX_FIELDS + 1, 1000]) {
      const fields = Array.from({ length: count }, (_, i): [string, string] => [`X-${i}`, `v${i}`]);
      const n = parser.serializeHead(0, 200, "", fields, FRAMING.LENGTH, 0, 0, 0);
      const lines = text(parser.bytes.subarray(parser.out, parser.out + n)).split("\r\n");
      assert.is(lines.length, count + 4, `${count} fields`); // status line, fields, Content-Length, empty line, ""
      assert.is(lines[count], `X-${count - 1}: v${count - 1}`);
    }
    const tooMany = Array.from({ length: 10000 }, (_, i): [string, string] => [`X-${i}`, `value-${i}`]);
    assert.throws(() => parser.serializeHead(0, 200, "", tooMany, FRAMING.LENGTH, 0, 0, 0), (e: Error) =>
      e instanceof HeadError && e.error.code === "HEAD_OVERFLOW" && e.message.includes(`${REGIONS.OUT_CAPACITY} bytes`));
    assert.match(head1(), /^HTTP\/1.1 200 OK\r\nA: b\r\n/, "the next head is whole");
  });

  const head1 = (): string => {
    const n = parser.serializeHead(0, 200, "", [["A", "b"]], FRAMING.LENGTH, 0, 0, 0);
    return text(parser.bytes.subarray(parser.out, parser.out + n));
  };

  test("serializer refuses CR, LF and NUL in values and bad names, naming the field", () => {
    const refusal = (status: number, fields: [string, string][]): [string, string | null] => {
      try {
        parser.serializeHead(0, status, "", fields, FRAMING.NONE, 0, 0, 0);
      } catch (error) {
        assert.instance(error, HeadError);
        return [(error as HeadError).error.code, (error as HeadError).field];
      }
      throw new Error("not refused");
    };
    assert.equal(refusal(200, [["A", "1"], ["X", "a\r\nSet-Cookie: x"]]), ["BAD_RESPONSE_HEADER_VALUE", "X"]);
    assert.equal(refusal(200, [["X", "a\nb"]]), ["BAD_RESPONSE_HEADER_VALUE", "X"]);
    assert.equal(refusal(200, [["X", "a\0b"]]), ["BAD_RESPONSE_HEADER_VALUE", "X"]);
    assert.equal(refusal(200, [["Bad Name", "a"]]), ["BAD_RESPONSE_HEADER_NAME", "Bad Name"]);
    assert.equal(refusal(200, [["X", "\u2603"]]), ["BAD_RESPONSE_HEADER_VALUE", "X"]);
    const many = Array.from({ length: 600 }, (_, i): [string, string] => [`X-${i}`, "v"]);
    many[400] = ["Bad:Name", "v"];
    assert.equal(refusal(200, many), ["BAD_RESPONSE_HEADER_NAME", "Bad:Name"], "a field in a later batch");
    assert.equal(refusal(99, []), ["BAD_STATUS", null]);
    assert.match(head1(), /^HTTP\/1.1 200 OK\r\nA: b\r\n/, "a refusal leaves the serializer usable");
  });

  test("Date follows the clock", () => {
    const dates = [0, 951782400, 1709164800, 4102444799].map((t) => {
      const n = parser.serializeHead(0, 200, "", [], FRAMING.NONE, 0, HEAD.DATE, t);
      return /Date: (.*)\r\n/.exec(text(parser.bytes.subarray(parser.out, parser.out + n)))![1];
    });
    assert.equal(dates, [0, 951782400, 1709164800, 4102444799].map((t) => new Date(t * 1000).toUTCString()));
  });

  test.run();
}

/** `input` cut into a first piece of `first` bytes, then pieces of `step` bytes. */
function pieces(input: Uint8Array, first: number, step = input.length): Uint8Array[] {
  const out = [input.subarray(0, first)];
  for (let at = first; at < input.length; at += step) out.push(input.subarray(at, at + step));
  return out;
}

/** The input around an offset, the byte at it in brackets. */
function at(input: string, offset: number): string {
  return JSON.stringify(input.slice(Math.max(0, offset - 8), offset)) + `[${JSON.stringify(input.slice(offset, offset + 1))}]` +
    JSON.stringify(input.slice(offset + 1, offset + 9));
}
