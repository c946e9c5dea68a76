// HTTP/1.1 connection semantics not covered by server.test.ts: OPTIONS *,
// back-pressure from a slow reader, clients that vanish, keep-alive timeouts
// and HTTP/1.0 keep-alive — over real sockets.
import { suite, assert } from "./support/uvu.ts";
import type { Socket } from "node:net";
import { serve, type Handler, type ServeOptions, type Server } from "../src/index.ts";
import { exchange, open, parseResponses, sleep } from "./helpers.ts";

const test = suite("http");

const errors: unknown[] = [];
async function withServer(handler: Handler, body: (server: Server) => Promise<void>, options: Partial<ServeOptions> = {}): Promise<void> {
  const server = await serve({ port: 0, host: "127.0.0.1", handler, onError: (e) => errors.push(e), ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** Collects what a socket receives; `until` resolves once `test` holds for the text so far. */
function reader(socket: Socket) {
  let text = "";
  let waiter: { test: (text: string) => boolean; resolve: () => void } | null = null;
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    text += chunk;
    if (waiter?.test(text)) waiter.resolve();
  });
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  return {
    get text() {
      return text;
    },
    closed,
    until(test: (text: string) => boolean): Promise<void> {
      if (test(text)) return Promise.resolve();
      return new Promise((resolve) => (waiter = { test, resolve }));
    },
  };
}

test("OPTIONS * is answered 200 by the server itself; the handler never sees it", async () => {
  const seen: string[] = [];
  await withServer((req, res) => {
    seen.push(`${req.method} ${req.target}`);
    res.end("handled");
  }, async ({ port }) => {
    const { text } = await exchange(port, [
      "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\nOPTIONS /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    ]);
    const [star, path] = parseResponses(text);
    assert.is(star.status, 200);
    assert.is(star.headers["content-length"], "0");
    assert.is(path.body, "handled");
    assert.equal(seen, ["OPTIONS /x"]);
  });
});

test("a slow reader: write() returns false, drained() holds the handler, and nothing piles up", async () => {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const total = 512; // chunks: 32 MiB, far more than the socket buffers hold
  let written = 0;
  let refused = 0;
  let waiting = false;
  let handlerDone!: () => void;
  const done = new Promise<void>((resolve) => (handlerDone = resolve));
  await withServer(async (_req, res) => {
    res.setHeader("Content-Length", chunk.length * total);
    for (let i = 0; i < total; i++) {
      written++;
      if (!res.write(chunk)) {
        refused++;
        waiting = true;
        await res.drained();
        waiting = false;
      }
    }
    res.end();
    handlerDone();
  }, async ({ port }) => {
    const socket = await open(port);
    socket.pause();
    socket.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await sleep(300);
    assert.ok(waiting, "the handler is waiting on drained()");
    const writtenWhilePaused = written;
    await sleep(100);
    assert.is(written, writtenWhilePaused, "no more writes while the client reads nothing");
    assert.ok(writtenWhilePaused < total / 2, `the server stopped early: ${writtenWhilePaused} of ${total} chunks`);
    const received: Buffer[] = [];
    socket.on("data", (c: Buffer) => received.push(c));
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.resume();
    await closed;
    await done;
    assert.is(written, total);
    assert.ok(refused > 0);
    const [r] = parseResponses(Buffer.concat(received).toString("latin1"));
    assert.is(r.body.length, chunk.length * total, "the whole body arrived");
  });
});

test("a client that disconnects mid-response: drained() rejects, later writes return false, the server goes on", async () => {
  errors.length = 0;
  let outcome: { drained: unknown; write: boolean; finished: boolean } | null = null;
  let reported!: () => void;
  const settled = new Promise<void>((resolve) => (reported = resolve));
  let finishedCalls = 0;
  await withServer(async (req, res) => {
    if (req.path === "/ok") return res.end("still here");
    res.onFinish(() => finishedCalls++);
    const chunk = new Uint8Array(256 * 1024);
    while (res.write(chunk));
    let drained: unknown = null;
    try {
      await res.drained();
    } catch (error) {
      drained = error;
    }
    outcome = { drained, write: res.write(chunk), finished: res.finished };
    res.end("bye");
    reported();
  }, async (server) => {
    const socket = await open(server.port);
    socket.on("error", () => {});
    socket.pause();
    socket.write("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
    await sleep(100);
    socket.destroy();
    await settled;
    assert.instance(outcome!.drained, Error);
    assert.is(outcome!.write, false);
    assert.is(outcome!.finished, true);
    assert.is(finishedCalls, 1, "onFinish ran once");
    const r = await fetch(`http://127.0.0.1:${server.port}/ok`);
    assert.is(await r.text(), "still here");
    assert.equal(errors, [], "nothing reported as a handler failure");
  });
});

test("drained() of a pipelined response resolves once the responses before it have finished", async () => {
  await withServer(async (req, res) => {
    if (req.path === "/first") {
      await sleep(60);
      return res.end("first");
    }
    const now = res.write("second-a|"); // queued behind /first: not sent yet
    const woke = await Promise.race([res.drained().then(() => "drained"), sleep(2000).then(() => "still waiting")]);
    res.end(`${now}|${woke}`);
  }, async ({ port }) => {
    const { text } = await exchange(port, [
      "GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    ], { idleMs: 3000 });
    assert.ok(text.endsWith("\r\n0\r\n\r\n"), "the chunked response ended");
    assert.equal(parseResponses(text).map((r) => r.body), ["first", "second-a|false|drained"]);
  });
});

test("an idle keep-alive connection is closed after timeouts.keepAlive, not before its next request", async () => {
  await withServer((req, res) => res.end(req.path), async ({ port }) => {
    const socket = await open(port);
    const r = reader(socket);
    socket.write("GET /one HTTP/1.1\r\nHost: a\r\n\r\n");
    await r.until((text) => text.endsWith("/one"));
    const answeredAt = Date.now();
    socket.write("GET /two HTTP/1.1\r\nHost: a\r\n\r\n");
    await r.until((text) => text.endsWith("/two"));
    assert.equal(parseResponses(r.text).map((x) => x.body), ["/one", "/two"]);
    await Promise.race([r.closed, sleep(3000)]);
    assert.ok(socket.destroyed || socket.readableEnded, "the server closed the idle connection");
    assert.ok(Date.now() - answeredAt >= 200, "not before the keep-alive timeout");
  }, { timeouts: { keepAlive: 200 } });
});

test("HTTP/1.0 with Connection: keep-alive stays open, with a length; without it, it closes", async () => {
  await withServer((req, res) => {
    if (req.path === "/stream") {
      res.write("a");
      return res.end("b");
    }
    res.end(req.path);
  }, async ({ port }) => {
    const socket = await open(port);
    const r = reader(socket);
    socket.write("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    await r.until((text) => text.endsWith("/one"));
    assert.match(r.text, /^HTTP\/1.1 200 OK\r\n/);
    assert.match(r.text, /\r\nConnection: keep-alive\r\n/i);
    assert.match(r.text, /\r\nContent-Length: 4\r\n/);
    socket.write("GET /two HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    await r.until((text) => text.endsWith("/two"));
    // A streamed body has no length in HTTP/1.0: the close ends it.
    socket.write("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    await Promise.race([r.closed, sleep(3000)]);
    const rs = parseResponses(r.text);
    assert.equal(rs.map((x) => x.body), ["/one", "/two", "ab"]);
    assert.match(r.text.slice(r.text.lastIndexOf("HTTP/1.1")), /Connection: close\r\n/);
    assert.ok(socket.readableEnded || socket.destroyed, "closed after the unframed body");
  });
});

test.run();
