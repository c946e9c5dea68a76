// The strict client every test reads responses through (test/support/strict-client.ts):
// byte strings it must accept, and byte strings it must refuse, so that it cannot
// silently pass everything.
import { request as httpRequest } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { suite, assert } from "./support/uvu.ts";
import { takeClientFaults } from "./support/client-watch.ts";
import { framingFault, readStrictly, StrictResponseError, type StrictOptions } from "./support/strict-client.ts";

const test = suite("strict client");

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");
const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const CHUNKED = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";

const accepted: [string, string, StrictOptions, number[]][] = [
  ["nothing at all", "", {}, []],
  ["one Content-Length response", OK, {}, [200]],
  ["one chunked response", CHUNKED, {}, [200]],
  ["chunked after gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", {}, [200]],
  ["chunked with a trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n", {}, [200]],
  ["pipelined responses", OK + CHUNKED + OK, {}, [200, 200, 200]],
  ["a 100 Continue before the final response", "HTTP/1.1 100 Continue\r\n\r\n" + OK, {}, [100, 200]],
  ["a 204 and a 304 without bodies", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n" + OK, {}, [204, 304, 200]],
  ["HEAD: Content-Length without the body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + OK, { requestMethods: ["HEAD", "GET"] }, [200, 200]],
  ["a body until the close, closed", "HTTP/1.0 200 OK\r\n\r\nall of it", { closed: true }, [200]],
  ["Connection: close, then the close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", { closed: true }, [200]],
  ["a 101 and the new protocol's bytes", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi", {}, [101]],
  ["a body aborted mid-way, when allowed", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", { allowIncomplete: true, closed: true }, []],
];

const refused: [string, string, StrictOptions, RegExp][] = [
  ["two Content-Length fields", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", {}, /Content-Length/],
  ["Content-Length with two values", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", {}, /Content-Length/],
  ["Content-Length with Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {}, /Content-Length|Transfer-Encoding/],
  ["Transfer-Encoding not chunked-last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxyz", { closed: true }, /Transfer-Encoding|TRANSFER_ENCODING/],
  ["Transfer-Encoding twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {}, /Transfer-Encoding/],
  ["bytes left after the last response", OK + "x", {}, /after the last complete response|HPE_INVALID_CONSTANT/],
  ["an empty line after the last response", OK + "\r\n", {}, /after the last complete response/],
  ["an empty line before a response", "\r\n" + OK, {}, /status line/],
  ["bytes after a response that closed the connection", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok" + OK, {}, /./],
  ["garbage", "hello there\r\n\r\n", {}, /refused/],
  ["HTTP/0.9 (a chunk-size line before the status line)", "1\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", {}, /refused/],
  ["HEAD with body bytes", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", { requestMethods: ["HEAD"] }, /./],
  ["a 204 with a body", "HTTP/1.1 204 No Content\r\n\r\nhello", {}, /./],
  ["a 204 with Content-Length", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", {}, /a 204 with Content-Length/],
  ["a body shorter than its Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", { closed: true }, /HPE_INVALID_EOF_STATE|TRUNCATED|end inside/],
  ["a chunked body never ended", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n", {}, /end inside/],
  ["a head cut short", "HTTP/1.1 200 OK\r\nContent-Len", {}, /end inside/],
  ["a body until the close, not closed", "HTTP/1.0 200 OK\r\n\r\nall of it", {}, /end inside/],
  ["a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n", {}, /refused/],
  ["a bare LF in the head", "HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok", {}, /refused/],
  ["a second status line where a body should be", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", {}, /./],
  ["framing fields on a 2xx to CONNECT", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", { requestMethods: ["CONNECT"] }, /CONNECT/],
];

for (const [name, input, options, statuses] of accepted) {
  test(`accepts ${name}`, () => {
    const reading = readStrictly(bytes(input), options);
    assert.equal(reading.responses.map((r) => r.status), statuses);
  });
}

for (const [name, input, options, why] of refused) {
  test(`refuses ${name}`, () => {
    assert.throws(() => readStrictly(bytes(input), options), (e: unknown) => e instanceof StrictResponseError && why.test(e.message));
  });
}

// The framing check on its own: the fetch and node:http clients' wrappers call it with their raw fields.
const fields: [string, number, [string, string][], string | undefined, boolean][] = [
  ["one Content-Length", 200, [["Content-Length", "5"]], undefined, true],
  ["chunked last", 200, [["Transfer-Encoding", "gzip, chunked"]], undefined, true],
  ["no framing on a 204", 204, [["X", "1"]], undefined, true],
  ["Content-Length on a 304", 304, [["content-length", "5"]], undefined, true],
  ["two equal Content-Length", 200, [["Content-Length", "5"], ["content-length", "5"]], undefined, false],
  ["Content-Length not a number", 200, [["Content-Length", "5, 5"]], undefined, false],
  ["Content-Length and Transfer-Encoding", 200, [["Content-Length", "5"], ["Transfer-Encoding", "chunked"]], undefined, false],
  ["two Transfer-Encoding", 200, [["Transfer-Encoding", "chunked"], ["Transfer-Encoding", "chunked"]], undefined, false],
  ["chunked twice", 200, [["Transfer-Encoding", "chunked, chunked"]], undefined, false],
  ["chunked not last", 200, [["Transfer-Encoding", "chunked, gzip"]], undefined, false],
  ["Transfer-Encoding on a 204", 204, [["Transfer-Encoding", "chunked"]], undefined, false],
  ["Content-Length on a 100", 100, [["Content-Length", "0"]], undefined, false],
  ["Content-Length on a 2xx to CONNECT", 200, [["Content-Length", "0"]], "CONNECT", false],
];
for (const [name, status, list, method, fine] of fields) {
  test(`framing fields: ${name} ${fine ? "pass" : "fail"}`, () => {
    assert.is(framingFault(status, list, method) === null, fine);
  });
}

test("reads fields, bodies and the tunnel's bytes", () => {
  const reading = readStrictly(bytes("HTTP/1.1 200 OK\r\nSet-Cookie: a\r\nset-cookie: b\r\n" + CHUNKED.slice(17) + "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nrest"));
  assert.is(reading.responses[0].headers["set-cookie"], "a, b");
  assert.equal(reading.responses[0].fields.slice(0, 2), [["Set-Cookie", "a"], ["set-cookie", "b"]]);
  assert.is(reading.responses[0].body, "ok");
  assert.is(Buffer.from(reading.tunnel).toString("latin1"), "rest");
});

test("a response aborted mid-body, when allowed, is the partial one", () => {
  const reading = readStrictly(bytes(OK + "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"), { allowIncomplete: true });
  assert.is(reading.responses.length, 1);
  assert.is(reading.partial?.body, "abc");
});

// A server that answers every request with the same bytes, and one request to it through node:http or fetch.
async function answeredBy(answer: string, ask: (port: number) => Promise<unknown>): Promise<string[]> {
  const server = createServer((socket) => socket.once("data", () => socket.end(answer)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await ask((server.address() as AddressInfo).port);
    return takeClientFaults();
  } finally {
    server.close();
  }
}

const NOT_CHUNKED_LAST = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nxyz";

test("fetch: a head llhttp takes and the strict client refuses is a fault of the test", async () => {
  const faults = await answeredBy(NOT_CHUNKED_LAST, async (port) => (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer());
  assert.equal(faults, ['fetch: GET answered 200: Transfer-Encoding "gzip": chunked is not the last coding, once']);
  assert.equal(await answeredBy(OK, async (port) => (await fetch(`http://127.0.0.1:${port}/`)).text()), []);
});

test("node:http: a head llhttp takes and the strict client refuses is a fault of the test", async () => {
  const get = (port: number) => new Promise<void>((resolve, reject) => {
    httpRequest({ port, host: "127.0.0.1", agent: false }, (res) => res.resume().on("end", resolve)).on("error", reject).end();
  });
  assert.equal(await answeredBy("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", get), ["node:http: GET answered 204: a 204 with Content-Length"]);
  assert.equal(await answeredBy(OK, get), []);
});

test.run();
