// Faults from either side: clients that reset or half-close, handlers that
// throw, reject, hang or try to inject header lines. After each, the server
// still serves and holds no descriptor it did not hold before.
import { suite, assert } from "../support/uvu.ts";
import type { Handler } from "../../src/index.ts";
import { startRecorder, type Recorder } from "./recorder.ts";
import { converse, header, open, openFds, readResponses, sleep } from "./wire.ts";

const REQUEST_TIMEOUT = 400;
const STREAM_CHUNK = Buffer.alloc(64 << 10, 0x62);

/** Handler outcomes the streaming route saw, for asserting that it was not left hanging. */
const streams = { started: 0, settled: 0 };

const handler: Handler = async (req, res) => {
  switch (req.path) {
    case "/throw":
      throw new Error("thrown on purpose");
    case "/reject":
      await sleep(5);
      throw new Error("rejected on purpose");
    case "/hang":
      return; // never answers
    case "/inject":
      res.setHeader("X-Injected", "a\r\nSet-Cookie: stolen=1");
      return res.end("must not be sent");
    case "/inject-lf":
      res.setHeader("X-Injected", "a\nSet-Cookie: stolen=1");
      return res.end("must not be sent");
    case "/inject-reason":
      res.statusMessage = "OK\r\nSet-Cookie: stolen=1";
      return res.end("must not be sent");
    case "/bad-name":
      res.setHeader("Bad Name", "x");
      return res.end("must not be sent");
    case "/throw-after-head":
      res.write("partial");
      throw new Error("thrown after the head");
    case "/stream": {
      // 256 MiB with backpressure: far more than a client that resets will read.
      streams.started++;
      try {
        for (let i = 0; i < 4096 && !res.finished; i++) {
          if (!res.write(STREAM_CHUNK)) await res.drained();
        }
        res.end();
      } finally {
        streams.settled++;
      }
      return;
    }
    default:
      res.end(`${req.method} ${req.target}\n${await req.text()}`);
  }
};

let recorder: Recorder;
let baseline = 0;

/** Waits (up to a second) for this process's descriptor count to come back to the baseline. */
async function assertNoFdLeak(): Promise<void> {
  let fds = openFds();
  for (let waited = 0; fds > baseline && waited < 1000; waited += 20) {
    await sleep(20);
    fds = openFds();
  }
  assert.ok(fds <= baseline, `${fds - baseline} descriptors more than before`);
  assert.is(recorder.server.connectionCount, 0, "the server holds no connection");
}

/** The server still answers a plain request. */
async function assertStillServing(): Promise<void> {
  const { received, closed } = await converse(recorder.server.port, ["GET /alive HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
  const { responses } = readResponses(received);
  assert.is(responses[0]?.status, 200, "a later request is served");
  assert.is(responses[0].body.toString(), "GET /alive\n");
  assert.ok(closed);
}

const test = suite("security faults");

test.before(async () => {
  recorder = await startRecorder({ timeouts: { headers: 1000, request: REQUEST_TIMEOUT, keepAlive: 1000 } }, handler);
  baseline = openFds();
});
test.after(async () => {
  await recorder.server.close();
});
test.after.each(async () => {
  await assertStillServing();
  await assertNoFdLeak();
});

test("client resets in the middle of a head", async () => {
  const socket = await open(recorder.server.port);
  socket.write("GET /half HTTP/1.1\r\nHost: a\r\nX-Par");
  await sleep(20);
  socket.resetAndDestroy();
});

test("client resets in the middle of a body", async () => {
  const socket = await open(recorder.server.port);
  socket.write("POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nsome of it");
  await sleep(20);
  socket.resetAndDestroy();
});

test("client resets in the middle of a large response; the handler is not left hanging", async () => {
  const before = { ...streams };
  const socket = await open(recorder.server.port);
  socket.on("error", () => {});
  let received = 0;
  const enough = new Promise<void>((resolve) => socket.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received > 1 << 20) resolve();
  }));
  socket.write("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
  await enough;
  socket.resetAndDestroy();
  for (let waited = 0; streams.settled === before.settled && waited < 2000; waited += 20) await sleep(20);
  assert.is(streams.started, before.started + 1);
  assert.is(streams.settled, before.settled + 1, "the handler's write loop ended");
});

test("half-close after the request: the response is still sent", async () => {
  const socket = await open(recorder.server.port);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.end("POST /half HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
  await closed;
  const { responses } = readResponses(Buffer.concat(chunks));
  assert.equal(responses.map((r) => r.status), [200]);
  assert.is(responses[0].body.toString(), "POST /half\nhello");
});

test("half-close after two pipelined requests: both are answered, in order", async () => {
  const socket = await open(recorder.server.port);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.end("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n");
  await closed;
  const { responses } = readResponses(Buffer.concat(chunks));
  assert.equal(responses.map((r) => r.body.toString()), ["GET /one\n", "GET /two\n"]);
});

for (const path of ["/throw", "/reject"]) {
  test(`a handler that ${path.slice(1)}s gets a 500, and the error goes to onError`, async () => {
    const errors = recorder.errors.length;
    const { received } = await converse(recorder.server.port, [`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`]);
    const { responses } = readResponses(received);
    assert.equal(responses.map((r) => r.status), [500]);
    assert.is(recorder.errors.length, errors + 1);
  });
}

test("a handler that never answers: 408 with Connection: close at the request deadline", async () => {
  const started = Date.now();
  const { received, closed } = await converse(recorder.server.port, ["GET /hang HTTP/1.1\r\nHost: a\r\n\r\n"], { waitMs: REQUEST_TIMEOUT + 2000 });
  const { responses } = readResponses(received);
  assert.equal(responses.map((r) => r.status), [408]);
  assert.is(header(responses[0], "connection"), "close");
  assert.ok(closed, "closed");
  assert.ok(Date.now() - started >= REQUEST_TIMEOUT, "not before the deadline");
});

for (const path of ["/inject", "/inject-lf", "/inject-reason", "/bad-name"]) {
  test(`a handler setting an invalid header or reason (${path}) gets a 500, never a split response`, async () => {
    const { received, closed } = await converse(recorder.server.port, [`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`]);
    const text = received.toString("latin1");
    assert.not.match(text, /stolen|must not be sent|Bad Name/i, "nothing of the invalid response went out");
    const { responses } = readResponses(received);
    assert.equal(responses.map((r) => r.status), [500, 200], "a 500, then the next request's response");
    assert.is(responses[1].body.toString(), "GET /next\n");
    assert.ok(closed);
  });
}

test("a handler that throws after the head went out: the connection is cut, no 500 is appended", async () => {
  const { received, closed } = await converse(recorder.server.port, ["GET /throw-after-head HTTP/1.1\r\nHost: a\r\n\r\n"]);
  const text = received.toString("latin1");
  assert.ok(text.startsWith("HTTP/1.1 200 OK\r\n"), text.slice(0, 40));
  assert.not.match(text, /HTTP\/1\.1 500/);
  assert.ok(closed, "closed, so the client sees the body is incomplete");
});

test("many clients resetting at once", async () => {
  const sockets = await Promise.all(Array.from({ length: 50 }, () => open(recorder.server.port)));
  sockets.forEach((socket, i) => socket.write(i % 2 === 0 ? "GET / HTTP/1.1\r\nHost: a\r\n" : "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc"));
  await sleep(30);
  for (const socket of sockets) socket.resetAndDestroy();
});

test.run();
