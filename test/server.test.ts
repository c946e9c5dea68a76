// The server over real sockets on 127.0.0.1, on ports the kernel picks.
import { suite, assert } from "./support/uvu.ts";
import { request as httpRequest, Agent } from "node:http";
import { serve, type Handler, type Server } from "../src/index.ts";
import { exchange, parseResponses, sleep } from "./helpers.ts";

const test = suite("server");

const errors: unknown[] = [];
async function withServer(handler: Handler, body: (server: Server) => Promise<void>, options = {}): Promise<void> {
  const server = await serve({ port: 0, host: "127.0.0.1", handler, onError: (e) => errors.push(e), ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

const hi: Handler = (req, res) => {
  if (req.path === "/hi") return res.end("Hi");
  res.status = 404;
  res.end("Not Found\n");
};

test("GET /hi answers 200 Hi, with Date and Content-Length", async () => {
  await withServer(hi, async ({ port }) => {
    const r = await fetch(`http://127.0.0.1:${port}/hi`);
    assert.is(r.status, 200);
    assert.is(await r.text(), "Hi");
    assert.is(r.headers.get("content-length"), "2");
    assert.ok(Date.parse(r.headers.get("date")!) > 0);
  });
});

test("unknown path answers 404", async () => {
  await withServer(hi, async ({ port }) => {
    const r = await fetch(`http://127.0.0.1:${port}/nope`);
    assert.is(r.status, 404);
    assert.is(await r.text(), "Not Found\n");
  });
});

test("the response's fields are looked up, replaced and removed by name, whatever its case (only letters fold: ^ is not ~)", async () => {
  const handler: Handler = (req, res) => {
    res.setHeader("X-Tag", "a");
    res.appendHeader("x-tag", "b");
    res.setHeader("Content-Type", "text/plain");
    res.setHeader("X-A^B", "caret");
    const seen = [res.getHeader("X-TAG"), res.hasHeader("content-TYPE"), res.hasHeader("X-Ta"), res.hasHeader("x-tag!"), res.getHeader("nope"), res.hasHeader("x-a~b")];
    res.setHeader("CONTENT-TYPE", "text/x-replaced"); // one field, not two
    res.setHeader("X-Gone", "1");
    res.removeHeader("x-GONE");
    res.removeHeader("x-absent");
    res.end(JSON.stringify(seen));
  };
  await withServer(handler, async ({ port }) => {
    const { text } = await exchange(port, ["GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    const [r] = parseResponses(text);
    assert.equal(JSON.parse(r.body), ["a, b", true, false, false, null, false]);
    const fields = text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n").slice(1);
    assert.equal(fields.filter((f) => /^content-type:/i.test(f)), ["CONTENT-TYPE: text/x-replaced"]);
    assert.equal(fields.filter((f) => /^x-tag:/i.test(f)), ["X-Tag: a", "x-tag: b"]);
    assert.not.ok(fields.some((f) => /^x-gone:/i.test(f)));
  });
});

test("a request's fields are found by name whatever the case of either side, and only letters fold (^ is not ~)", async () => {
  const handler: Handler = (req, res) => {
    res.end(JSON.stringify([req.headers.get("X-MIXED-case"), req.headers.get("x-mixed-cas"), req.headers.has("X-Other"), req.headers.get("x-a~b")]));
  };
  await withServer(handler, async ({ port }) => {
    const { text } = await exchange(port, ["GET / HTTP/1.1\r\nHost: a\r\nx-Mixed-Case: one\r\nX-MIXED-CASE: two\r\nX-A^B: caret\r\nConnection: close\r\n\r\n"]);
    assert.equal(JSON.parse(parseResponses(text)[0].body), ["one, two", null, false, null]);
  });
});

test("a target's path and query split at its first \"?\", short and long targets alike", async () => {
  const seen: string[] = [];
  await withServer((req, res) => {
    seen.push(`${req.path} ${req.query.toString()}`);
    res.end();
  }, async ({ port }) => {
    const long = `/${"a".repeat(40)}`;
    for (const target of ["/", "/hi", "/hi?", "/hi?x=1", "/hi?x=1?y", `${long}?x=1`, long, `${long}?x=1?y`]) {
      await fetch(`http://127.0.0.1:${port}${target}`);
    }
    assert.equal(seen, ["/ ", "/hi ", "/hi ", "/hi x=1", "/hi x=1%3Fy", `${long} x=1`, `${long} `, `${long} x=1%3Fy`]);
  });
});

test("port 0 gives a real port", async () => {
  await withServer(hi, async (server) => {
    assert.ok(server.port > 0 && server.port < 65536);
  });
});

test("several requests on one keep-alive connection", async () => {
  const peers = new Set<string>();
  await withServer((req, res) => {
    peers.add(`${req.remote.address}:${req.remote.port}`);
    res.end(req.path);
  }, async ({ port }) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (const path of ["/a", "/b", "/c"]) {
      const body = await new Promise<string>((resolve, reject) => {
        httpRequest({ port, host: "127.0.0.1", path, agent }, (res) => {
          let text = "";
          res.setEncoding("latin1").on("data", (c) => (text += c)).on("end", () => resolve(text));
        }).on("error", reject).end();
      });
      assert.is(body, path);
    }
    agent.destroy();
    assert.is(peers.size, 1, "one connection served all three");
  });
});

test("POST with a Content-Length body", async () => {
  await withServer(async (req, res) => res.end(`got ${await req.text()}`), async ({ port }) => {
    const r = await fetch(`http://127.0.0.1:${port}/echo`, { method: "POST", body: "hello world" });
    assert.is(await r.text(), "got hello world");
  });
});

test("POST with a chunked body and trailers, streamed to the handler", async () => {
  await withServer(async (req, res) => {
    const parts: number[] = [];
    for await (const chunk of req) parts.push(chunk.length);
    res.json({ parts: parts.length > 0, trailer: req.trailers?.get("x-sum") ?? null });
  }, async ({ port }) => {
    const { text } = await exchange(port, [
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
      "5\r\nhello\r\n", "6\r\n world\r\n", "0\r\nX-Sum: 11\r\n\r\n",
    ]);
    const [r] = parseResponses(text);
    assert.equal(JSON.parse(r.body), { parts: true, trailer: "11" });
  });
});

test("a request split over many writes", async () => {
  await withServer(async (req, res) => res.end(`${req.method} ${req.target} ${req.headers.get("x-a")} ${await req.text()}`), async ({ port }) => {
    const raw = "POST /split?q=1 HTTP/1.1\r\nHost: a\r\nX-A: b\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody";
    const pieces = raw.match(/[\s\S]{1,3}/g)!;
    const { text, closed } = await exchange(port, pieces, { gapMs: 2 });
    const [r] = parseResponses(text);
    assert.is(r.status, 200);
    assert.is(r.body, "POST /split?q=1 b body");
    assert.ok(closed, "Connection: close honoured");
  });
});

test("pipelined requests are answered in order, even when a later handler finishes first", async () => {
  await withServer(async (req, res) => {
    const delay = Number(req.query.get("delay"));
    await sleep(delay);
    res.end(req.path);
  }, async ({ port }) => {
    const raw = ["/one?delay=80", "/two?delay=40", "/three?delay=0"]
      .map((t, i) => `GET ${t} HTTP/1.1\r\nHost: a\r\n${i === 2 ? "Connection: close\r\n" : ""}\r\n`).join("");
    const { text } = await exchange(port, [raw]);
    assert.equal(parseResponses(text).map((r) => r.body), ["/one", "/two", "/three"]);
  });
});

test("streamed response goes out chunked", async () => {
  await withServer(async (_req, res) => {
    res.setHeader("Content-Type", "text/plain");
    res.write("a");
    await sleep(5);
    res.write(new TextEncoder().encode("bc"));
    res.end("d");
  }, async ({ port }) => {
    const r = await fetch(`http://127.0.0.1:${port}/`);
    assert.is(r.headers.get("transfer-encoding"), "chunked");
    assert.is(await r.text(), "abcd");
  });
});

test("HEAD gets headers and no body", async () => {
  await withServer(hi, async ({ port }) => {
    const { text } = await exchange(port, ["HEAD /hi HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    assert.ok(text.startsWith("HTTP/1.1 200 OK\r\n"));
    assert.ok(text.endsWith("\r\n\r\n"), "nothing after the head");
    assert.match(text, /Content-Length: 2\r\n/);
  });
});

test("a handler that throws gets a 500 and the server keeps serving", async () => {
  errors.length = 0;
  await withServer((req, res) => {
    if (req.path === "/sync") throw new Error("boom");
    if (req.path === "/async") return Promise.reject(new Error("later boom"));
    if (req.path === "/ended") {
      res.end("sent");
      return Promise.reject(new Error("boom after the end"));
    }
    res.end("fine");
  }, async ({ port }) => {
    assert.is((await fetch(`http://127.0.0.1:${port}/sync`)).status, 500);
    assert.is((await fetch(`http://127.0.0.1:${port}/async`)).status, 500);
    // Rejected after its response ended: the response stands, the error is reported.
    const ended = await fetch(`http://127.0.0.1:${port}/ended`);
    assert.is(ended.status, 200);
    assert.is(await ended.text(), "sent");
    const r = await fetch(`http://127.0.0.1:${port}/ok`);
    assert.is(await r.text(), "fine");
    assert.equal(errors.map((e) => (e as Error).message), ["boom", "later boom", "boom after the end"], "every error reported");
  });
});

test("a bad request gets 400 with Connection: close, queued behind earlier responses", async () => {
  await withServer(async (req, res) => {
    await sleep(30);
    res.end(req.path);
  }, async ({ port }) => {
    const { text, closed } = await exchange(port, ["GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /bad HTTP/1.1\r\nHost : a\r\n\r\n"]);
    const rs = parseResponses(text);
    assert.equal(rs.map((r) => r.status), [200, 400]);
    assert.is(rs[0].body, "/first");
    assert.is(rs[1].headers.connection, "close");
    assert.ok(closed);
  });
});

test("version 2.0 gets 505; a huge head gets 431", async () => {
  await withServer(hi, async ({ port }) => {
    const v = parseResponses((await exchange(port, ["GET / HTTP/2.0\r\nHost: a\r\n\r\n"])).text);
    assert.is(v[0].status, 505);
    const big = parseResponses((await exchange(port, [`GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(20000)}\r\n\r\n`])).text);
    assert.is(big[0].status, 431);
  });
});

test("Expect: 100-continue sends 100 only when the body is read", async () => {
  await withServer(async (req, res) => {
    if (req.path === "/read") return res.end(`read ${await req.text()}`);
    res.status = 403;
    res.end("no");
  }, async ({ port }) => {
    const { text } = await exchange(port, [
      "POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", "abc",
    ], { idleMs: 300 });
    assert.ok(text.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), text);
    const refused = await exchange(port, ["POST /no HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"], { idleMs: 300 });
    assert.ok(refused.text.startsWith("HTTP/1.1 403 Forbidden\r\n"), refused.text);
    const other = await exchange(port, ["GET / HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n"], { idleMs: 300 });
    assert.is(parseResponses(other.text)[0].status, 417);
  });
});

test("a port in use is reported as EADDRINUSE from bind", async () => {
  await withServer(hi, async ({ port }) => {
    try {
      await serve({ port, host: "127.0.0.1", handler: hi });
      assert.unreachable("second bind succeeded");
    } catch (error) {
      const e = error as { code: string; syscall: string };
      assert.is(e.code, "EADDRINUSE");
      assert.is(e.syscall, "bind");
    }
  });
});

test("close() waits for a response in flight, then the port is free", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const server = await serve({ port: 0, host: "127.0.0.1", handler: async (_req, res) => { await gate; res.end("late"); } });
  const pending = fetch(`http://127.0.0.1:${server.port}/`).then((r) => r.text());
  await sleep(50);
  const closed = server.close();
  release();
  assert.is(await pending, "late");
  await closed;
  assert.is(server.connectionCount, 0);
  const again = await serve({ port: server.port, host: "127.0.0.1", handler: hi });
  await again.close();
});

test("serve() without a handler or fetch is refused", async () => {
  await serve({ host: "127.0.0.1", port: 0 }).then(
    () => assert.unreachable("served without a handler"),
    (error: Error) => assert.instance(error, TypeError),
  );
});

test("HTTP/1.0 without keep-alive is closed after the response", async () => {
  await withServer(hi, async ({ port }) => {
    const { text, closed } = await exchange(port, ["GET /hi HTTP/1.0\r\n\r\n"]);
    assert.ok(text.startsWith("HTTP/1.1 200 OK"));
    assert.match(text, /Connection: close/);
    assert.ok(closed);
  });
});

test.run();
