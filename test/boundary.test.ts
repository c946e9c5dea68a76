// The shared memory under load from handlers that stress it: many response
// fields, re-entry from inside a batch of pipelined requests, failures while
// connections are added or the server starts. Every response on every
// connection must stay byte-correct, and nothing may leak.
import { suite, assert } from "./support/uvu.ts";
import { readdirSync } from "node:fs";
import { serve, type Handler, type Server } from "../src/index.ts";
import type { Response } from "../src/http/response.ts";
import { REGIONS } from "../parser/src/abi.ts";
import { exchange, open, parseResponses, sleep } from "./helpers.ts";

const test = suite("boundary");

const errors: unknown[] = [];
async function withServer(handler: Handler, body: (server: Server) => Promise<void>): Promise<void> {
  errors.length = 0;
  const server = await serve({ port: 0, host: "127.0.0.1", handler, onError: (e) => errors.push(e) });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;
const openFds = (): number => readdirSync("/proc/self/fd").length;

/** Answers /fields?n=N with N fields; /echo echoes the (possibly chunked) body; anything else "ok <path>". */
const handler: Handler = async (req, res) => {
  if (req.path === "/fields") {
    const n = Number(req.query.get("n"));
    for (let i = 0; i < n; i++) res.appendHeader(`X-Field-${i}`, `value-${i}`);
    return res.end("many");
  }
  if (req.path === "/echo") return res.end(await req.text());
  res.end(`ok ${req.path}`);
};

test("any number of response fields that fits the output region is sent; beyond it one 500, and every other request is served", async () => {
  await withServer(handler, async ({ port }) => {
    // Raw bytes, not fetch: its client refuses heads over 16 KiB.
    for (const n of [255, 256, 257, 270, 1000]) {
      const [r] = (await exchange(port, [get(`/fields?n=${n}`)], { overParserLimits: true })).responses;
      assert.is(r.status, 200, `${n} fields`);
      assert.is(r.body, "many");
      assert.is(r.headers[`x-field-${n - 1}`], `value-${n - 1}`, `the last of ${n} fields`);
      assert.is(Object.keys(r.headers).filter((k) => k.startsWith("x-field-")).length, n);
    }
    assert.equal(errors, []);
    // 10,000 fields do not fit 64 KiB: the handler's end() throws, the request gets a 500...
    const { text } = await exchange(port, [get("/fields?n=10000") + get("/after")]);
    const [tooMany, after] = parseResponses(text);
    assert.is(tooMany.status, 500);
    assert.is(after?.status, 200, "the next request on that connection");
    assert.is(after.body, "ok /after");
    assert.is(errors.length, 1);
    assert.match(String(errors[0]), new RegExp(`Response head too large for the output region \\(${REGIONS.OUT_CAPACITY} bytes\\)`));
    // ... and others, plain and chunked, on other connections, are served whole.
    const chunked = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    const [a, b] = await Promise.all([exchange(port, [chunked]), exchange(port, [get("/x") + get("/fields?n=300")], { overParserLimits: true })]);
    assert.is(parseResponses(a.text)[0].body, "hello world");
    const [x, many] = b.responses;
    assert.is(x.body, "ok /x");
    assert.is(many.headers["x-field-299"], "value-299");
  });
});

test("a handler that refuses a field by name fails its call, not the server", async () => {
  await withServer((req, res) => {
    if (req.path === "/crlf") res.setHeader("X-Bad", "a\r\nInjected: 1");
    res.end("fine");
  }, async ({ port }) => {
    const { text } = await exchange(port, [get("/crlf") + get("/next")]);
    const [bad, next] = parseResponses(text);
    assert.is(bad.status, 500);
    assert.not.ok("injected" in bad.headers);
    assert.is(next.body, "fine");
    assert.match(String(errors[0]), /Invalid value for header "X-Bad"/);
  });
});

test("setHeader and writeHead refuse what cannot be sent at the call, naming the field; writeHead takes Node's forms", async () => {
  const seen: string[] = [];
  await withServer((req, res) => {
    for (const [name, value] of [["Bad Name", "x"], ["X-Nul", "a\0b"], ["X-Lf", "a\nb"]]) {
      try {
        res.setHeader(name, value);
      } catch (error) {
        seen.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    res.writeHead(202, "Taken", [["X-A", "1"], ["X-A", "2"]]);
    res.statusCode = res.statusCode + 1;
    res.end("done");
  }, async ({ port }) => {
    const { text } = await exchange(port, [get("/")]);
    assert.match(text, /^HTTP\/1\.1 203 Taken\r\n/);
    assert.match(text, /\r\nX-A: 1\r\nX-A: 2\r\n/);
    assert.equal(seen, [
      'TypeError: Invalid header name: "Bad Name"',
      'TypeError: Invalid value for header "X-Nul": "a\\u0000b"',
      'TypeError: Invalid value for header "X-Lf": "a\\nb"',
    ]);
  });
});

test("server.close() called by a handler in the middle of a pipelined batch, with other connections' bytes waiting", async () => {
  let server!: Server;
  let closing: Promise<void> | null = null;
  server = await serve({
    port: 0, host: "127.0.0.1", onError: (e) => errors.push(e),
    handler: (req, res) => {
      if (req.path === "/close" && closing === null) closing = server.close();
      res.end(`ok ${req.path}`);
    },
  });
  errors.length = 0;
  // Idle keep-alive connections, which close() reads once more, each with a request already on its way.
  const idle = await Promise.all([0, 1, 2].map(() => open(server.port)));
  const idleReplies = idle.map((socket) => collect(socket));
  for (const [i, socket] of idle.entries()) socket.write(get(`/idle-${i}`));
  await sleep(50);
  const batch = [get("/a"), get("/close"), get("/b"), get("/c")].join("");
  const { text } = await exchange(server.port, [batch]);
  const answered = parseResponses(text);
  assert.equal(answered.map((r) => r.body), ["ok /a", "ok /close", "ok /b", "ok /c"].slice(0, answered.length));
  assert.ok(answered.length >= 2, "the requests up to the close are answered");
  for (const [i, reply] of (await Promise.all(idleReplies)).entries()) {
    const responses = parseResponses(reply);
    assert.is(responses.length, 1, `idle connection ${i}`);
    assert.is(responses[0].body, `ok /idle-${i}`);
  }
  await closing;
  assert.equal(errors, []);
});

test("a handler that completes another connection's pending response from inside a batch", async () => {
  let parked: Response | null = null;
  await withServer((req, res) => {
    if (req.path === "/park") {
      parked = res;
      return;
    }
    if (req.path === "/release" && parked !== null) {
      parked.end(`released ${"x".repeat(3000)}`);
      parked = null;
    }
    res.end(`ok ${req.path}`);
  }, async ({ port }) => {
    const parkedReply = exchange(port, [get("/park")]);
    await sleep(50);
    const { text } = await exchange(port, [get("/one") + get("/release") + get("/two") + get("/three")]);
    assert.equal(parseResponses(text).map((r) => r.body), ["ok /one", "ok /release", "ok /two", "ok /three"]);
    const [released] = parseResponses((await parkedReply).text);
    assert.is(released.body, `released ${"x".repeat(3000)}`);
  });
});

test("a handler that throws in the middle of a batch: one 500, the rest byte-correct", async () => {
  await withServer((req, res) => {
    if (req.path === "/throw") throw new Error("boom");
    res.setHeader("X-Path", req.path);
    res.end(`ok ${req.path}`);
  }, async ({ port }) => {
    const { text } = await exchange(port, [get("/a") + get("/throw") + get("/b") + get("/c")]);
    const responses = parseResponses(text);
    assert.equal(responses.map((r) => r.status), [200, 500, 200, 200]);
    assert.equal(responses.map((r) => r.headers["x-path"]), ["/a", undefined, "/b", "/c"]);
    assert.equal(responses.map((r) => r.body), ["ok /a", "Internal Server Error\n", "ok /b", "ok /c"]);
    assert.is(errors.length, 1);
  });
});

test("epoll_ctl refusing a new connection closes its descriptor, reports it, and the server serves on", async () => {
  await withServer(handler, async (server) => {
    const loop = server.loop as { add: typeof server.loop.add };
    const add = loop.add;
    const before = openFds();
    loop.add = (fd, events, watcher) => {
      if (watcher !== undefined && (watcher as object).constructor.name === "Connection") throw new Error("epoll_ctl: ENOSPC");
      return add.call(server.loop, fd, events, watcher);
    };
    const refused = await exchange(server.port, [get("/refused")], { idleMs: 300 });
    loop.add = add;
    assert.ok(refused.closed, "the client sees the connection closed");
    assert.is(refused.text, "");
    assert.match(String(errors[0]), /ENOSPC/);
    await sleep(20);
    assert.is(openFds(), before, "no descriptor left open");
    const r = await fetch(`http://127.0.0.1:${server.port}/after`);
    assert.is(await r.text(), "ok /after");
  });
});

test("a server whose parser cannot be made throws and leaves no descriptor and no handle behind", async () => {
  const fds = openFds();
  const handles = process.getActiveResourcesInfo().length;
  let thrown: unknown = null;
  try {
    await serve({ port: 0, host: "127.0.0.1", handler, limits: { maxHeadBytes: REGIONS.RECV_CAPACITY } });
  } catch (error) {
    thrown = error;
  }
  assert.instance(thrown, RangeError);
  assert.match(String(thrown), /maxHeadBytes/);
  assert.is(openFds(), fds);
  assert.is(process.getActiveResourcesInfo().length, handles);
});

function collect(socket: import("node:net").Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => resolve(text));
    setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, 3000).unref();
  });
}

test.run();
