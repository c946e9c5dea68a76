// The wasm response parser on raw bytes, as tables of input and expected
// outcome, as test/parser.test.ts does for requests: every case on both
// builds (SIMD and scalar), fed whole, split at every byte and a byte at a
// time; then the end of input, a request and a response stream sharing one
// instance, and hostile arguments to the export.
import { suite, assert } from "./support/uvu.ts";
import {
  createParser, parseResponse, parseResponseWith, parseRequestWith, RequestStream, ResponseStream, type Build, type ParsedResponse,
  type ParsedRequest, type ResponseParseResult,
} from "../parser/src/parser-node.ts";
import { E, METHOD, REGIONS, RESULT } from "../parser/src/abi.ts";
import { deferredResponseFault, driveResponses, responseRunKey } from "./support/response-stream.ts";

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);

type Accept = {
  status: number; reason?: string; version?: string; headers?: [string, string][]; body?: string; trailers?: [string, string][];
  keepAlive?: boolean; upgrade?: boolean; framing: string; interim?: number[];
};

const CL5 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

// [name, input, request method, expected]. `consumed` must be the whole input, except for a tunnel (where its bytes begin).
const accepted: [string, string, string | undefined, Accept][] = [
  ["Content-Length body", CL5, undefined, { status: 200, reason: "OK", version: "1.1", headers: [["Content-Length", "5"]], body: "hello", keepAlive: true, framing: "length" }],
  ["empty reason after its SP", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", undefined, { status: 200, reason: "", body: "", framing: "length" }],
  ["reason with tabs, spaces and obs-text", "HTTP/1.1 500 Ori\xebntatie\tprobleem \r\nContent-Length: 0\r\n\r\n", undefined, { status: 500, reason: "Ori\xebntatie\tprobleem ", framing: "length" }],
  ["reason beginning with SP (RFC 9112 §4 reason-phrase)", "HTTP/1.1 200  OK\r\nContent-Length: 0\r\n\r\n", undefined, { status: 200, reason: " OK", framing: "length" }],
  ["HTTP/1.0 with keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", undefined, { status: 200, version: "1.0", body: "hi", keepAlive: true, framing: "length" }],
  ["HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", undefined, { status: 200, version: "1.0", keepAlive: false, framing: "length" }],
  ["Connection: close", "HTTP/1.1 200 OK\r\nConnection: x, close\r\nContent-Length: 0\r\n\r\n", undefined, { status: 200, keepAlive: false, framing: "length" }],
  ["chunked with extensions and trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n", undefined,
    { status: 200, body: "hello0123456789", trailers: [["X-Sum", "1"]], keepAlive: true, framing: "chunked" }],
  ["gzip, chunked: the chunked coding is decoded, the other is the caller's", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n\x1f\x8b\r\n0\r\n\r\n", undefined,
    { status: 200, body: "\x1f\x8b", framing: "chunked" }],
  ["Transfer-Encoding without chunked: until the close (RFC 9112 §6.3 item 4)", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", undefined,
    { status: 200, body: "abc", keepAlive: false, framing: "until-close" }],
  ["chunked not last: until the close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", undefined,
    { status: 200, body: "0\r\n\r\n", keepAlive: false, framing: "until-close" }],
  ["no framing field: until the close (item 8)", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello world", undefined,
    { status: 200, headers: [["Content-Type", "text/plain"]], body: "hello world", keepAlive: false, framing: "until-close" }],
  ["no framing field, empty body", "HTTP/1.1 404 Not Found\r\n\r\n", undefined, { status: 404, reason: "Not Found", body: "", framing: "until-close" }],
  ["response to HEAD: no body, whatever Content-Length says", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD",
    { status: 200, body: "", keepAlive: true, framing: "none" }],
  ["response to HEAD: framing fields are not read", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: x\r\n\r\n", "HEAD",
    { status: 200, body: "", framing: "none" }],
  ["204: no body", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", undefined, { status: 204, body: "", keepAlive: true, framing: "none" }],
  ["304 with Transfer-Encoding and Content-Length: no body (item 1 comes first)", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n", undefined,
    { status: 304, body: "", framing: "none" }],
  ["100 Continue, then the final response", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", undefined,
    { status: 200, body: "ok", framing: "length", interim: [100] }],
  ["103 with fields, an empty line, then the final response", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", undefined,
    { status: 200, framing: "length", interim: [103] }],
  ["two interim responses", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", "POST",
    { status: 201, framing: "length", interim: [100, 102] }],
  ["101: a tunnel, its framing fields not read", "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 4\r\n\r\nbody", undefined,
    { status: 101, upgrade: true, body: "", keepAlive: false, framing: "tunnel" }],
  ["2xx to CONNECT: a tunnel (item 2)", "HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x01", "CONNECT",
    { status: 200, reason: "Connection Established", body: "", keepAlive: false, framing: "tunnel" }],
  ["a 407 to CONNECT has a body", "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nauth", "CONNECT",
    { status: 407, body: "auth", framing: "length" }],
  ["2xx to another method is no tunnel", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", "GET", { status: 200, body: "x", framing: "length" }],
  ["a status code outside 100-599 is taken (RFC 9110 §15: a client treats it as x00 of its class)", "HTTP/1.1 999 Weird\r\nContent-Length: 0\r\n\r\n", undefined,
    { status: 999, framing: "length" }],
  ["empty lines before the status line", "\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", undefined, { status: 200, framing: "length" }],
  ["Content-Length with leading zeros", "HTTP/1.1 200 OK\r\nContent-Length: 0003\r\n\r\nabc", undefined, { status: 200, body: "abc", framing: "length" }],
  ["Content-Length: 0", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", undefined, { status: 200, body: "", keepAlive: true, framing: "length" }],
  ["OWS around values trimmed", "HTTP/1.1 200 OK\r\nContent-Length:\t 2 \r\nX:  a b \r\n\r\nhi", undefined,
    { status: 200, headers: [["Content-Length", "2"], ["X", "a b"]], body: "hi", framing: "length" }],
  ["long field value (SIMD path)", `HTTP/1.1 200 OK\r\nX-Long: ${"v".repeat(100)}\r\nContent-Length: 0\r\n\r\n`, undefined, { status: 200, framing: "length" }],
];

const HEAD = "HTTP/1.1 200 OK\r\n";
// [name, input, request method, code, offset of the fault in the response]
const rejected: [string, string, string | undefined, string, number][] = [
  ["HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", undefined, "VERSION_NOT_SUPPORTED", 0],
  ["HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n", undefined, "VERSION_NOT_SUPPORTED", 0],
  ["HTTP/2 (no minor)", "HTTP/2 200 OK\r\n\r\n", undefined, "BAD_VERSION", 6],
  ["HTP/1.1", "HTP/1.1 200 OK\r\n\r\n", undefined, "BAD_VERSION", 2],
  ["RTSP/1.0", "RTSP/1.0 200 OK\r\n\r\n", undefined, "BAD_VERSION", 0],
  ["lowercase http", "http/1.1 200 OK\r\n\r\n", undefined, "BAD_VERSION", 0],
  ["two-digit minor", "HTTP/1.01 200 OK\r\n\r\n", undefined, "BAD_VERSION", 8],
  ["tab after the version", "HTTP/1.1\t200 OK\r\n\r\n", undefined, "BAD_VERSION", 8],
  ["two SP before the status code", "HTTP/1.1  200 OK\r\n\r\n", undefined, "BAD_STATUS_CODE", 9],
  ["one-digit status code", "HTTP/1.1 2 OK\r\n\r\n", undefined, "BAD_STATUS_CODE", 10],
  ["four-digit status code", "HTTP/1.1 2000 OK\r\n\r\n", undefined, "BAD_STATUS_CODE", 12],
  ["status code below 100", "HTTP/1.1 099 Low\r\n\r\n", undefined, "BAD_STATUS_CODE", 9],
  ["no SP after the status code (RFC 9112 §4: a server MUST send it)", "HTTP/1.1 200\r\n\r\n", undefined, "BAD_STATUS_CODE", 12],
  ["NUL in the reason", "HTTP/1.1 200 O\0K\r\n\r\n", undefined, "BAD_REASON", 14],
  ["DEL in the reason", "HTTP/1.1 200 OK\x7f\r\n\r\n", undefined, "BAD_REASON", 15],
  ["bare LF after the status line", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", undefined, "BARE_LF", 15],
  ["bare CR after the status line", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", undefined, "BARE_CR", 15],
  ["lone LF before the status line", "\nHTTP/1.1 200 OK\r\n\r\n", undefined, "BARE_LF", 0],
  ["obs-fold", HEAD + " Host: foo\r\n\r\n", undefined, "OBS_FOLD", 17],
  ["space before colon", HEAD + "X : y\r\n\r\n", undefined, "SPACE_BEFORE_COLON", 18],
  ["NUL in a value", HEAD + "X: a\0b\r\n\r\n", undefined, "BAD_HEADER_VALUE", 21],
  ["space in a name", HEAD + "en-US Content-Type: text/xml\r\n\r\n", undefined, "SPACE_BEFORE_COLON", 22],
  ["Content-Length with Transfer-Encoding (item 3: refused, as in a request)", HEAD + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", undefined, "LENGTH_AND_CHUNKED", 55],
  ["Content-Length with a Transfer-Encoding without chunked", HEAD + "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n", undefined, "LENGTH_AND_CHUNKED", 58],
  ["duplicate Content-Length", HEAD + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", undefined, "DUPLICATE_CONTENT_LENGTH", 36],
  ["Content-Length list", HEAD + "Content-Length: 3, 3\r\n\r\nabc", undefined, "BAD_CONTENT_LENGTH", 33],
  ["Content-Length not a number", HEAD + "Content-Length: abc\r\n\r\n", undefined, "BAD_CONTENT_LENGTH", 33],
  ["Content-Length past 2^53 - 1", HEAD + "Content-Length: 9007199254740992\r\n\r\n", undefined, "BAD_CONTENT_LENGTH", 33],
  ["Transfer-Encoding twice", HEAD + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", undefined, "BAD_TRANSFER_ENCODING", 45],
  ["chunked twice", HEAD + "Transfer-Encoding: chunked, chunked\r\n\r\n", undefined, "BAD_TRANSFER_ENCODING", 36],
  ["empty Transfer-Encoding", HEAD + "Transfer-Encoding: \r\n\r\n", undefined, "BAD_TRANSFER_ENCODING", 36],
  ["Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1)", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", undefined, "BAD_TRANSFER_ENCODING", 36],
  ["bad chunk size", HEAD + "Transfer-Encoding: chunked\r\n\r\nz\r\n", undefined, "BAD_CHUNK_SIZE", 47],
  ["chunk without its CRLF", HEAD + "Transfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n0\r\n\r\n", undefined, "BAD_CHUNK_TERMINATOR", 52],
  ["the final response's fault, after an interim one", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 20 OK\r\n\r\n", undefined, "BAD_STATUS_CODE", 11],
  ["a bad framing field in a 2xx to a non-CONNECT", HEAD + "Content-Length: -1\r\n\r\n", "GET", "BAD_CONTENT_LENGTH", 33],
];

const isResponse = (r: ResponseParseResult): r is ParsedResponse => "status" in r;

/** `input` cut into a first piece of `first` bytes, then pieces of `step` bytes. */
function pieces(input: Uint8Array, first: number, step = input.length): Uint8Array[] {
  const out = [input.subarray(0, first)];
  for (let at = first; at < input.length; at += step) out.push(input.subarray(at, at + step));
  return out;
}

for (const build of ["simd", "scalar"] as Build[]) {
  const test = suite(`response parser (${build})`);
  const parser = createParser({}, build);

  for (const [name, input, method, want] of accepted) {
    test(`accepts: ${name}`, () => {
      const r = parseResponseWith(parser, bytes(input), { requestMethod: method });
      if (!isResponse(r)) assert.unreachable(`not accepted: ${JSON.stringify(r)}`);
      const res = r as ParsedResponse;
      assert.is(res.status, want.status);
      if (want.reason !== undefined) assert.is(res.reason, want.reason);
      if (want.version) assert.is(res.version, want.version);
      if (want.headers) assert.equal(res.headers, want.headers);
      if (want.body !== undefined) assert.is(text(res.body), want.body);
      assert.equal(res.trailers, want.trailers ?? []);
      if (want.keepAlive !== undefined) assert.is(res.keepAlive, want.keepAlive);
      assert.is(res.upgrade, want.upgrade ?? false);
      assert.is(res.framing, want.framing);
      assert.equal(res.interim.map((i) => i.status), want.interim ?? []);
      if (want.framing === "tunnel") assert.is(text(bytes(input).subarray(res.consumed)), input.slice(input.indexOf("\r\n\r\n") + 4), "the tunnel's bytes follow");
      else assert.is(res.consumed, input.length);
    });
  }

  for (const [name, input, method, code, offset] of rejected) {
    test(`rejects: ${name}`, () => {
      const r = parseResponseWith(parser, bytes(input), { requestMethod: method });
      if (!("error" in r)) assert.unreachable(`accepted: ${JSON.stringify(r)}`);
      const { error } = r as { error: { code: string; status: number; offset: number } };
      assert.is(error.code, code);
      assert.is(error.status, 502, "a gateway answers a bad response with 502");
      // The offset counts from the failing message (after interim responses, from the final one).
      assert.is(error.offset, offset);
      const run = driveResponses(parser, pieces(bytes(input), 1, 1), { requestMethod: method });
      assert.equal(run.error?.offset, offset, "fed a byte at a time");
    });
  }

  test("every split point gives the same result, with and without the end of input", () => {
    const cases: [string, string | undefined][] = [...accepted.map(([, i, m]): [string, string | undefined] => [i, m]), ...rejected.map(([, i, m]): [string, string | undefined] => [i, m])];
    let feeds = 0;
    for (const [input, requestMethod] of cases) {
      for (const endOfInput of [false, true]) {
        const options = { requestMethod, endOfInput };
        const all = bytes(input);
        const whole = driveResponses(parser, [all], options);
        const key = responseRunKey(whole);
        for (let at = 1; at <= all.length; at++) {
          const feed = at === all.length ? pieces(all, 1, 1) : pieces(all, at);
          const split = driveResponses(parser, feed, options);
          feeds++;
          if (responseRunKey(split) === key || deferredResponseFault(parser, feed, whole, split, options)) continue;
          assert.is(responseRunKey(split), key, `${at === all.length ? "bytewise" : `split at ${at}`} of ${JSON.stringify(input)}, endOfInput ${endOfInput}`);
        }
      }
    }
    assert.ok(feeds > 1000, `${feeds} feeds`);
  });

  test("limits apply to responses: body, head, fields", () => {
    const cases: [Record<string, number>, string, string, number][] = [
      [{ maxBodyBytes: 10 }, HEAD + "Content-Length: 11\r\n\r\nabcdefghijk", "BODY_TOO_LARGE", 33],
      [{ maxBodyBytes: 10 }, HEAD + "Transfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n", "BODY_TOO_LARGE", 58],
      [{ maxHeadBytes: 64 }, HEAD + `X: ${"a".repeat(80)}\r\n\r\n`, "HEAD_TOO_LARGE", 64],
      [{ maxHeaders: 2 }, HEAD + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", "TOO_MANY_HEADERS", 29],
      [{ maxHeaderLine: 16 }, HEAD + `X: ${"a".repeat(30)}\r\n\r\n`, "HEADER_LINE_TOO_LONG", 33],
    ];
    for (const [limits, input, code, offset] of cases) {
      const limited = createParser(limits, build);
      const r = parseResponseWith(limited, bytes(input));
      assert.is("error" in r && r.error.code, code, input);
      assert.is("error" in r && r.error.offset, offset, input);
      assert.ok(isResponse(parseResponseWith(parser, bytes(input))), "accepted without the limit");
    }
  });

  test("endOfInput: ends a body that runs until the close, reports one cut short", () => {
    const end = (input: string, method?: string) => driveResponses(parser, [bytes(input)], { requestMethod: method, endOfInput: true });
    const closed = end("HTTP/1.1 200 OK\r\n\r\nall of it");
    assert.is(closed.error, null);
    assert.equal(closed.messages.map((m) => [m.body, m.framing]), [["all of it", "until-close"]]);
    assert.equal(end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel").error, { code: "TRUNCATED", offset: 41, at: 41 });
    assert.equal(end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel").error?.code, "TRUNCATED");
    assert.equal(end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 2").error, { code: "TRUNCATED", offset: 10, at: 53 });
    // Nothing begun: a clean close, before any response or between two.
    assert.is(end("").error, null);
    assert.is(end("HTTP/1.1 204 No Content\r\n\r\n\r\n").error, null);
    assert.equal(end("HTTP/1.1 204 No Content\r\n\r\n\r\n").messages.length, 1);
    // Without endOfInput, the same inputs wait.
    assert.ok(driveResponses(parser, [bytes("HTTP/1.1 200 OK\r\n\r\nall of it")]).pending);
    // The one-shot takes its input as everything, unless told that more may come.
    const untilClose = bytes("HTTP/1.1 200 OK\r\n\r\nall of it");
    assert.is(text((parseResponseWith(parser, untilClose) as ParsedResponse).body), "all of it");
    assert.equal(parseResponseWith(parser, untilClose, { endOfInput: false }), { incomplete: true });
    assert.equal(parseResponseWith(parser, bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel")), { incomplete: true });
    assert.equal(parseResponseWith(parser, bytes("HTTP/1.1 200 OK\r\n")), { incomplete: true });
  });

  test("pipelined responses: each answers its own request's method", () => {
    const input = bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    const methods = ["HEAD", "GET"];
    const seen: [number, string, string][] = [];
    let body = "";
    const stream: ResponseStream = new ResponseStream(parser, {
      head(h) { seen.push([h.status, h.version, stream.requestMethod ?? ""]); },
      data(chunk) { body += text(chunk); },
      end() { stream.requestMethod = methods[seen.length]; },
      error(e) { assert.unreachable(e.code); },
    }, { requestMethod: methods[0] });
    for (const piece of pieces(input, 1, 3)) stream.push(piece);
    assert.equal(seen, [[200, "1.1", "HEAD"], [200, "1.1", "GET"]]);
    assert.is(body, "hi");
    assert.is(stream.position, input.length);
  });

  test("a tunnel's bytes: takeRest in head() or end(), and nothing parsed after it", () => {
    const input = bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello");
    let rest = "";
    let ends = 0;
    const stream: ResponseStream = new ResponseStream(parser, {
      head(h) { assert.ok(h.tunnel && h.upgrade); },
      data() { assert.unreachable("a tunnel has no body"); },
      end() { ends++; rest = text(stream.takeRest()); },
      error(e) { assert.unreachable(e.code); },
    });
    stream.push(input);
    assert.is(ends, 1);
    assert.is(rest, "\x81\x05hello");
    assert.ok(stream.stopped);
  });

  test("a request stream and a response stream on one instance keep their own chunked state", () => {
    const request = bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-R: 1\r\n\r\n");
    const response = bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n5\r\nz1234\r\n0\r\nX-S: 2\r\n\r\n");
    let requestBody = "", responseBody = "";
    const ended: string[] = [];
    const req = new RequestStream(parser, {
      head() {}, data(c) { requestBody += text(c); }, end(t) { ended.push(`request ${t?.get("X-R")}`); }, error(e) { assert.unreachable(e.code); },
    });
    const res = new ResponseStream(parser, {
      head() {}, data(c) { responseBody += text(c); }, end(t) { ended.push(`response ${t?.get("X-S")}`); }, error(e) { assert.unreachable(e.code); },
    });
    // Byte by byte in turn: each call restores its own stream's decoder state.
    for (let i = 0; i < Math.max(request.length, response.length); i++) {
      if (i < request.length) req.push(request.subarray(i, i + 1));
      if (i < response.length) res.push(response.subarray(i, i + 1));
      // And the one-shots, on the same instance, in between.
      if (i % 17 === 0) {
        assert.is(text((parseResponseWith(parser, response) as ParsedResponse).body), "xyz1234");
        assert.is(text((parseRequestWith(parser, request) as ParsedRequest).body), "abcdefg");
      }
    }
    assert.is(requestBody, "abcdefg");
    assert.is(responseBody, "xyz1234");
    assert.equal(ended.sort(), ["request 1", "response 2"]);
  });

  test("hostile arguments to parseResponse are refused, writing nothing outside the result table", () => {
    const x = parser.wasmExports as unknown as { memory: WebAssembly.Memory; parseResponse(...a: number[]): number; resultTable(): number };
    const memory = new Uint8Array(x.memory.buffer);
    const recv = parser.recv, result = x.resultTable();
    const calls: [string, number[]][] = [
      ["before the receive region", [recv - 1, 10, 0, METHOD.GET]],
      ["past its end", [recv + REGIONS.RECV_CAPACITY - 4, 5, 0, METHOD.GET]],
      ["a negative length", [recv, -1, 0, METHOD.GET]],
      ["at the output region", [parser.out, 16, 0, METHOD.GET]],
      ["a huge pointer", [0x7fffffff, 1, 0, METHOD.GET]],
      ["a method id below OTHER", [recv, 16, 0, METHOD.OTHER - 1]],
      ["a method id past the last", [recv, 16, 0, Math.max(...Object.values(METHOD)) + 1]],
    ];
    for (const [what, args] of calls) {
      const before = memory.slice();
      assert.is(x.parseResponse(...args), E.BAD_ARGUMENT, what);
      for (let i = 0; i < memory.length; i++) {
        if (memory[i] !== before[i] && !(i >= result && i < result + RESULT.SIZE * 4)) assert.unreachable(`${what}: wrote byte ${i}`);
      }
    }
  });

  test.run();
}

const shared = suite("parseResponse (Node entry, shared instance)");

shared("parses with the shared instance, the method by name", () => {
  const r = parseResponse(bytes(CL5), { requestMethod: "HEAD" }) as ParsedResponse;
  assert.is(r.framing, "none");
  assert.is(r.consumed, CL5.length - 5, "a response to HEAD ends at its head");
  assert.is((parseResponse(bytes(CL5)) as ParsedResponse).framing, "length");
  // Methods are case-sensitive (RFC 9110 §9.1): "head" is some other method.
  assert.is((parseResponse(bytes(CL5), { requestMethod: "head" }) as ParsedResponse).framing, "length");
});

shared.run();
