// Every byte a response puts on the wire, as a client reads it: each test
// sends raw requests over a real socket, reads until the server closes, and
// passes all it received through the strict client (llhttp in response mode
// and the project's parseResponse, one framing field per head, no byte left
// over), whatever the test asserts besides. Where node:http does the same
// thing, the test runs the handler on node:http too and compares.
import { suite, assert } from "./support/uvu.ts";
import { createServer, type ServerResponse as NodeResponse } from "node:http";
import { serve, type FetchHandler, type Handler, type Response as ServerResponse, type Server } from "../src/index.ts";
import { methodsOf, open } from "./helpers.ts";
import { readStrictly, type StrictReading, type StrictResponse } from "./support/strict-client.ts";

const test = suite("wire");

const errors: unknown[] = [];
async function withServer(handler: Handler, body: (server: Server) => Promise<void>): Promise<void> {
  const server = await serve({ port: 0, host: "127.0.0.1", handler, onError: (e) => errors.push(e) });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

const get = (path: string, last = false): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n${last ? "Connection: close\r\n" : ""}\r\n`;

/** Opens a connection, writes `requests` at once and returns every byte received until the server closed it. */
async function collect(port: number, requests: string): Promise<Buffer> {
  const socket = await open(port);
  const received: Buffer[] = [];
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000);
    socket.on("data", (chunk) => received.push(chunk));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on("error", () => {});
  });
  socket.write(requests);
  const didClose = await closed;
  socket.destroy();
  assert.ok(didClose, `the server did not close the connection; received ${JSON.stringify(Buffer.concat(received).toString("latin1"))}`);
  return Buffer.concat(received);
}

/** What the server sent for `requests` (read until it closed), through the strict client. */
async function ask(port: number, requests: string, allowIncomplete = false): Promise<StrictReading & { raw: string }> {
  const bytes = await collect(port, requests);
  const reading = readStrictly(bytes, { requestMethods: methodsOf([requests]), closed: true, allowIncomplete });
  return { ...reading, raw: bytes.toString("latin1") };
}

/** The responses simplenet sends for `requests`, all whole. */
async function responses(port: number, requests: string): Promise<StrictResponse[]> {
  return (await ask(port, requests)).responses;
}

/** A handler both servers run: it uses only what simplenet's Response and node:http's ServerResponse share. */
type SharedHandler = (res: ServerResponse | NodeResponse) => void;

/** The responses node:http sends for `requests` with the same handler, read by the strict client. */
async function nodeResponses(handler: SharedHandler, requests: string): Promise<StrictResponse[]> {
  const server = createServer((_req, res) => handler(res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as { port: number };
    return readStrictly(await collect(port, requests), { requestMethods: methodsOf([requests]), closed: true }).responses;
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** What two servers' responses must share: status, framing fields and body. */
function framing(res: StrictResponse): { status: number; length?: string; codings?: string; body: string } {
  return { status: res.status, length: res.headers["content-length"], codings: res.headers["transfer-encoding"], body: res.body };
}

/** Runs `handler` on simplenet and on node:http for the same requests: both read strictly, with the same framing and bodies. */
async function sameAsNode(handler: SharedHandler, requests: string): Promise<StrictResponse[]> {
  let ours: StrictResponse[] = [];
  await withServer((_req, res) => handler(res), async ({ port }) => {
    ours = await responses(port, requests);
  });
  const theirs = await nodeResponses(handler, requests);
  assert.equal(ours.map(framing), theirs.map(framing));
  return ours;
}

test.before.each(() => {
  errors.length = 0;
});

// ---- one owner of the output region ---------------------------------------------

test("write, write, end in one tick: one chunked response, as node:http sends it", async () => {
  const [res] = await sameAsNode((res) => {
    res.write("a");
    res.write("b");
    res.end();
  }, get("/", true));
  assert.is(res.body, "ab");
  assert.is(res.headers["transfer-encoding"], "chunked");
});

test("write then end(data) in one tick, twice on one connection (pipelined)", async () => {
  await withServer((req, res) => {
    res.write(req.target);
    res.end("!");
  }, async ({ port }) => {
    const answers = await responses(port, get("/one") + get("/two", true));
    assert.equal(answers.map((r) => r.body), ["/one!", "/two!"]);
  });
});

test("the README's drained() loop, with a response queued behind an unfinished one", async () => {
  await withServer(async (req, res) => {
    for (const piece of ["x", "y", "z"]) {
      if (!res.write(`${req.target}:${piece};`)) await res.drained();
    }
    res.end();
  }, async ({ port }) => {
    const answers = await responses(port, get("/1") + get("/2") + get("/3", true));
    assert.equal(answers.map((r) => r.body), ["/1:x;/1:y;/1:z;", "/2:x;/2:y;/2:z;", "/3:x;/3:y;/3:z;"]);
  });
});

test("the README's drained() loop behind a response that closes the connection: drained() rejects, so the loop ends", async () => {
  let outcome: Promise<string> | null = null;
  await withServer(async (req, res) => {
    if (req.target === "/1") {
      await new Promise((resolve) => setImmediate(resolve));
      res.setHeader("Connection", "close");
      return res.end("first");
    }
    outcome = (async () => {
      // Without the rejection, a write to the dropped response returns false and drained() resolves: a loop that never ends.
      for (let n = 0; n < 1000; n++) if (!res.write("x".repeat(65536))) await res.drained();
      return "wrote every piece";
    })().catch((e: Error) => `rejected: ${e.message}`);
  }, async ({ port }) => {
    const answers = await responses(port, get("/1") + get("/2"));
    assert.equal(answers.map((r) => r.body), ["first"]);
    assert.is(await outcome, "rejected: connection closed");
  });
});

test("a response written from another connection's handler leaves that connection's batch intact", async () => {
  let waiting: ServerResponse | null = null;
  let arrived!: () => void;
  const waitingStarted = new Promise<void>((resolve) => (arrived = resolve));
  await withServer((req, res) => {
    if (req.target === "/wait") {
      res.write("first;");
      waiting = res;
      arrived();
      return;
    }
    // The poke's own response is corked, unsent, while it writes to the waiting one.
    res.end("poked");
    waiting!.write("news;");
    waiting!.end("done");
  }, async ({ port }) => {
    const waiter = responses(port, get("/wait", true));
    await waitingStarted;
    const poke = await responses(port, get("/poke", true));
    assert.is(poke[0].body, "poked");
    const [waited] = await waiter;
    assert.is(waited.body, "first;news;done");
  });
});

// ---- the handler's framing fields ------------------------------------------------

test("setHeader Content-Length then end(data): one Content-Length, as node:http sends", async () => {
  const answers = await sameAsNode((res) => {
    res.setHeader("Content-Length", "5");
    res.end("hello");
  }, get("/") + get("/", true));
  assert.equal(answers.map((r) => r.fields.filter(([n]) => n.toLowerCase() === "content-length").length), [1, 1]);
});

test("writeHead with content-length (object and pairs), then writes that add up to it: no chunked framing", async () => {
  let n = 0;
  await withServer((_req, res) => {
    if (n++ === 0) res.writeHead(200, { "content-length": 5 });
    else res.writeHead(201, [["Content-Length", "5"]]);
    res.write("hel");
    res.write("lo");
    res.end();
  }, async ({ port }) => {
    const answers = await responses(port, get("/") + get("/", true));
    assert.equal(answers.map(framing), [
      { status: 200, length: "5", codings: undefined, body: "hello" },
      { status: 201, length: "5", codings: undefined, body: "hello" },
    ]);
  });
});

test("end(data) longer than the Content-Length: ERR_HTTP_CONTENT_LENGTH_MISMATCH to the handler, nothing of it sent", async () => {
  const codes: unknown[] = [];
  await withServer((_req, res) => {
    res.setHeader("Content-Length", "3");
    try {
      res.end("hello");
    } catch (error) {
      codes.push((error as { code?: string }).code);
      res.end("abc");
    }
  }, async ({ port }) => {
    const answers = await responses(port, get("/") + get("/", true));
    assert.equal(answers.map(framing), [
      { status: 200, length: "3", codings: undefined, body: "abc" },
      { status: 200, length: "3", codings: undefined, body: "abc" },
    ]);
  });
  assert.equal(codes, ["ERR_HTTP_CONTENT_LENGTH_MISMATCH", "ERR_HTTP_CONTENT_LENGTH_MISMATCH"]);
});

test("a write past the Content-Length throws, and the response cut short closes the connection", async () => {
  const codes: unknown[] = [];
  await withServer((_req, res) => {
    res.setHeader("Content-Length", "4");
    res.write("ab");
    try {
      res.write("cde");
    } catch (error) {
      codes.push((error as { code?: string }).code);
    }
    res.end();
  }, async ({ port }) => {
    // The second request is never answered: the first response is cut short, and the connection with it.
    const { responses: whole, partial, raw } = await ask(port, get("/") + get("/"), true);
    assert.equal(whole, []);
    assert.is(partial?.headers["content-length"], "4");
    assert.is(partial?.body, "ab");
    assert.ok(raw.endsWith("\r\n\r\nab"), raw);
  });
  assert.equal(codes, ["ERR_HTTP_CONTENT_LENGTH_MISMATCH"]);
});

test("end(data) shorter than the Content-Length: sent, and the connection closes after it", async () => {
  await withServer((_req, res) => {
    res.setHeader("Content-Length", "10");
    res.end("hello");
  }, async ({ port }) => {
    const { responses: whole, partial } = await ask(port, get("/") + get("/"), true);
    assert.equal(whole, []);
    assert.is(partial?.body, "hello");
    assert.is(partial?.headers["content-length"], "10");
  });
});

test("the handler's Transfer-Encoding: chunked is honoured (one field, chunked body), as node:http does", async () => {
  const answers = await sameAsNode((res) => {
    res.setHeader("Transfer-Encoding", "chunked");
    res.end("hello");
  }, get("/") + get("/", true));
  assert.equal(answers.map((r) => [r.body, r.fields.filter(([n]) => n.toLowerCase() === "transfer-encoding").length]), [["hello", 1], ["hello", 1]]);
});

test("Transfer-Encoding beside Content-Length: the Content-Length is dropped (RFC 9112 §6.2; node:http sends both)", async () => {
  await withServer((_req, res) => {
    res.setHeader("Content-Length", "5");
    res.setHeader("Transfer-Encoding", "chunked");
    res.write("hel");
    res.end("lo");
  }, async ({ port }) => {
    const answers = await responses(port, get("/") + get("/", true));
    assert.equal(answers.map(framing), [
      { status: 200, length: undefined, codings: "chunked", body: "hello" },
      { status: 200, length: undefined, codings: "chunked", body: "hello" },
    ]);
  });
});

test("a Transfer-Encoding that does not end in chunked gets chunked added (RFC 9112 §6.1), and the connection carries on; HTTP/1.0 gets none", async () => {
  await withServer((_req, res) => {
    res.setHeader("Transfer-Encoding", "gzip");
    res.end("coded by the handler");
  }, async ({ port }) => {
    const answers = await responses(port, get("/") + get("/", true));
    assert.equal(answers.map(framing), [
      { status: 200, length: undefined, codings: "gzip, chunked", body: "coded by the handler" },
      { status: 200, length: undefined, codings: "gzip, chunked", body: "coded by the handler" },
    ]);
    // An HTTP/1.0 client cannot read Transfer-Encoding (RFC 9112 §6.1): it gets the body framed as if none were set.
    const [old] = await responses(port, "GET / HTTP/1.0\r\n\r\n");
    assert.equal(framing(old), { status: 200, length: "20", codings: undefined, body: "coded by the handler" });
  });
});

test("a Transfer-Encoding that names chunked twice goes out with chunked once, last (RFC 9112 §6.1), as node:http sends writeHead's last", async () => {
  const answers = await sameAsNode((res) => {
    res.setHeader("X-Test", "a");
    res.writeHead(404, ["Transfer-Encoding", "chunked", "transfer-encoding", "chunked"]);
    res.end("hello");
  }, get("/") + "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n" + get("/", true));
  assert.equal(answers.map((r) => r.headers["transfer-encoding"]), ["chunked", "chunked", "chunked"]);
});

test("HEAD and 304 keep the handler's Content-Length, once, as node:http does", async () => {
  const requests = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n" + get("/304", true);
  let n = 0;
  const answers = await sameAsNode((res) => {
    res.statusCode = n++ % 2 === 0 ? 200 : 304;
    res.setHeader("Content-Length", "5");
    res.end();
  }, requests);
  assert.equal(answers.map((r) => [r.status, r.fields.filter(([name]) => name.toLowerCase() === "content-length").length]), [[200, 1], [304, 1]]);
});

test("a 304 whose writeHead names Content-Length twice with one value sends it once, as node:http sends writeHead's last", async () => {
  const answers = await sameAsNode((res) => {
    res.setHeader("X-Test", "a");
    res.writeHead(304, ["content-length", "18", "Content-Length", "18"]);
    res.end();
  }, get("/") + get("/", true));
  assert.equal(answers.map((r) => r.fields.filter(([n]) => n.toLowerCase() === "content-length").length), [1, 1]);
});

test("a 204 sends no Content-Length or Transfer-Encoding the handler set (RFC 9110 §8.6; node:http sends them)", async () => {
  let n = 0;
  await withServer((_req, res) => {
    res.statusCode = 204;
    res.setHeader(n++ === 0 ? "Content-Length" : "Transfer-Encoding", n === 1 ? "5" : "chunked");
    res.end();
  }, async ({ port }) => {
    const answers = await responses(port, get("/") + get("/", true));
    assert.equal(answers.map(framing), [
      { status: 204, length: undefined, codings: undefined, body: "" },
      { status: 204, length: undefined, codings: undefined, body: "" },
    ]);
  });
});

test("writeHead's fields replace those set before (pairs here, node:http's flat list there): one of each, writeHead's", async () => {
  const setThenWriteHead = (res: ServerResponse | NodeResponse, fields: unknown[]): void => {
    res.setHeader("Content-Length", "9");
    res.setHeader("X-A", "set");
    res.setHeader("X-Kept", "yes");
    (res.writeHead as (status: number, fields: unknown[]) => void)(200, fields);
    res.end("hello");
  };
  let ours: StrictResponse[] = [];
  await withServer((_req, res) => setThenWriteHead(res, [["content-length", 5], ["x-a", "w1"], ["X-A", "w2"]]), async ({ port }) => {
    ours = await responses(port, get("/", true));
  });
  // node:http takes the flat list only, once a field was set.
  const theirs = await nodeResponses((res) => setThenWriteHead(res, ["content-length", 5, "x-a", ["w1", "w2"]]), get("/", true));
  assert.equal(ours.map(framing), theirs.map(framing));
  const named = (r: StrictResponse, name: string) => r.fields.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  for (const r of [...ours, ...theirs]) {
    assert.equal(named(r, "x-a"), ["w1", "w2"]);
    assert.equal(named(r, "x-kept"), ["yes"]);
  }
});

test("writeHead with node:http's flat list (name, value, name, value), with and without fields set before, as node:http sends it", async () => {
  let n = 0;
  const answers = await sameAsNode((res) => {
    if (n++ % 2 === 1) res.setHeader("X-B", "set");
    res.writeHead(201, ["X-A", "1", "X-B", "2", "Content-Length", "2"]);
    res.end("ok");
  }, get("/") + get("/", true));
  for (const r of answers) assert.equal([r.status, r.headers["x-a"], r.headers["x-b"], r.body], [201, "1", "2", "ok"]);
});

test("writeHead with an object whose keys name one field in two cases: both values sent, as node:http sends them", async () => {
  const named = (r: StrictResponse) => r.fields.filter(([n]) => n.toLowerCase() === "x-a").map(([, v]) => v);
  const handler = (res: ServerResponse | NodeResponse): void => {
    res.writeHead(200, { "X-A": "1", "x-a": "2" });
    res.end("ok");
  };
  let ours: StrictResponse[] = [];
  await withServer((_req, res) => handler(res), async ({ port }) => {
    ours = await responses(port, get("/", true));
  });
  const theirs = await nodeResponses(handler, get("/", true));
  assert.equal([named(ours[0]), named(theirs[0])], [["1", "2"], ["1", "2"]]);
});

test("writeHead with a flat list that leaves a name without its value: ERR_INVALID_ARG_VALUE to the handler, as node:http throws", async () => {
  const codes: unknown[] = [];
  await withServer((_req, res) => {
    try {
      (res.writeHead as (status: number, fields: string[]) => void)(200, ["X-A", "1", "X-B"]);
    } catch (error) {
      codes.push((error as { code?: string }).code);
    }
    res.end("ok");
  }, async ({ port }) => {
    const [answer] = await responses(port, get("/", true));
    assert.is(answer.headers["x-a"], undefined);
  });
  assert.equal(codes, ["ERR_INVALID_ARG_VALUE"]);
});

// ---- a handler that fails after writing --------------------------------------------

test("a pipelined handler that throws after writing: the response finished before it still goes, then the connection closes", async () => {
  await withServer((req, res) => {
    if (req.target === "/1") return res.end("one");
    res.write("two");
    throw new Error("the handler fails");
  }, async ({ port }) => {
    const { responses: whole, raw } = await ask(port, get("/1") + "HEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n" + get("/3"), true);
    assert.is(whole[0]?.body, "one", raw);
    // node:http sends the head HEAD /2 wrote before it destroys the socket; /3 is never answered.
    assert.equal(whole.map((r) => r.status), [200, 200]);
  });
  assert.equal(errors.map((e) => (e as Error).message), ["the handler fails"]);
});

test("a handler that throws while an earlier response is unfinished: that one is sent whole, none of the failing one", async () => {
  await withServer(async (req, res) => {
    if (req.target === "/1") {
      res.write("o");
      await new Promise((resolve) => setTimeout(resolve, 20));
      return res.end("ne");
    }
    res.write("two");
    throw new Error("the handler fails");
  }, async ({ port }) => {
    const { responses: whole, partial, raw } = await ask(port, get("/1") + get("/2") + get("/3"), true);
    assert.equal(whole.map((r) => r.body), ["one"], raw);
    assert.is(partial, null, raw);
  });
});

// ---- HTTP/1.0 ---------------------------------------------------------------------

test("HEAD from an HTTP/1.0 keep-alive client, its body streamed: no body, so no close to end it; the connection stays open", async () => {
  const requests = "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + "GET / HTTP/1.0\r\n\r\n";
  const stream = (res: ServerResponse | NodeResponse): void => {
    res.write("stream");
    res.end("ed");
  };
  // node:http keeps it when the handler says keep-alive (without, it closes: test/support/handler-differences.ts).
  const answers = await sameAsNode((res) => {
    res.setHeader("Connection", "keep-alive");
    stream(res);
  }, requests);
  assert.equal(answers.map((r) => [r.status, r.body]), [[200, ""], [200, "streamed"]]);
  await withServer((_req, res) => stream(res), async ({ port }) => {
    const [head, get] = await responses(port, requests);
    assert.equal([head.headers.connection, head.body, get.body], ["keep-alive", "", "streamed"]);
  });
});

// ---- a fetch handler's Response --------------------------------------------------

/** Fields no response of ours carries from a fetch Response: they described another connection. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "x-hop"];

async function withFetchServer(fetch: FetchHandler, body: (port: number) => Promise<void>): Promise<void> {
  const server = await serve({ port: 0, host: "127.0.0.1", fetch, onError: (e) => errors.push(e) });
  try {
    await body(server.port);
  } finally {
    await server.close();
  }
}

test("an upstream Response (the result of fetch()) is sent without its hop-by-hop and framing fields", async () => {
  const upstream = createServer((req, res) => {
    res.setHeader("Connection", "keep-alive, X-Hop");
    res.setHeader("Keep-Alive", "timeout=5");
    res.setHeader("Proxy-Connection", "keep-alive");
    res.setHeader("X-Hop", "1");
    res.setHeader("Upgrade", "h2c");
    res.setHeader("X-Kept", "yes");
    if (req.url === "/length") {
      res.setHeader("Content-Length", "6");
      res.end("length");
    } else {
      res.setHeader("Trailer", "X-Sum");
      res.addTrailers({ "X-Sum": "7" });
      res.write("chun");
      res.end("ked");
    }
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  try {
    await withFetchServer((request) => fetch(base + new URL(request.url).pathname), async (port) => {
      const answers = await responses(port, get("/length") + get("/chunked", true));
      assert.equal(answers.map((r) => r.body), ["length", "chunked"]);
      for (const res of answers) {
        assert.is(res.headers["x-kept"], "yes");
        for (const name of HOP_BY_HOP) if (name !== "connection" || res !== answers[1]) assert.is(res.headers[name], undefined, name);
      }
      // Ours: the last request asked to close.
      assert.is(answers[1].headers.connection, "close");
    });
  } finally {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  }
});

test("a Response made in the handler: its Content-Length and Transfer-Encoding do not frame the body we send", async () => {
  await withFetchServer((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/record") return new Response("hi", { headers: { "Content-Length": "99", "Transfer-Encoding": "chunked", "X-A": "1" } });
    if (path === "/head") return new Response(null, { headers: [["Content-Length", "42"]] });
    return new Response(new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("str"));
        controller.enqueue(new TextEncoder().encode("eam"));
        controller.close();
      },
    }), { headers: { "Content-Length": "1" } });
  }, async (port) => {
    const answers = await responses(port, get("/record") + "HEAD /head HTTP/1.1\r\nHost: a\r\n\r\n" + get("/stream", true));
    assert.equal(answers.map(framing), [
      { status: 200, length: "2", codings: undefined, body: "hi" },
      // A HEAD answer keeps the length of what a GET would get, as node:http keeps a handler's.
      { status: 200, length: "42", codings: undefined, body: "" },
      { status: 200, length: undefined, codings: "chunked", body: "stream" },
    ]);
    assert.is(answers[0].headers["x-a"], "1");
  });
});

test("a fetch handler's request.json() on a body that is not JSON: 400, the client's fault, as req.json()", async () => {
  await withFetchServer(async (request) => Response.json(await request.json()), async (port) => {
    const body = "{not json";
    const [answer] = await responses(port, `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    assert.is(answer.status, 400);
  });
  assert.equal(errors, []);
});

test.run();
