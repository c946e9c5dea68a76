// Every byte a response puts on the wire, as a client reads it: each test
// sends raw requests over a real socket, reads until the server closes, and
// passes all it received through two strict clients, Node's llhttp in
// response mode and the project's own parseResponse. Both must read the
// expected number of whole responses, with one framing field each and no
// byte left over, whatever the test asserts besides. Where node:http does the
// same thing, the test says what it sends.
import { suite, assert } from "./support/uvu.ts";
import { serve, type Handler, type Response as ServerResponse, type Server } from "../src/index.ts";
import { open } from "./helpers.ts";
import { LlhttpResponses, type LlhttpResponse } from "./support/llhttp.ts";
import { parseResponse } from "../parser/src/parser-node.ts";

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

const llhttp = new LlhttpResponses();

function count(headers: readonly [string, string][], name: string): number {
  return headers.filter(([n]) => n.toLowerCase() === name).length;
}

/**
 * The responses in `bytes`, one per request method, read by llhttp and by
 * parseResponse; fails on any response either refuses, on a message cut
 * short, on duplicate or conflicting framing fields, and on bytes left over.
 */
function strict(bytes: Buffer, methods: readonly string[]): LlhttpResponse[] {
  const shown = JSON.stringify(bytes.toString("latin1"));
  const run = llhttp.parse(bytes, methods, true);
  assert.is(run.error, null, `llhttp refuses ${shown}: ${JSON.stringify(run.error)}`);
  assert.is(run.partial, null, `llhttp: a response cut short in ${shown}`);
  assert.is(run.messages.length, methods.length, `llhttp read ${run.messages.length} responses in ${shown}`);
  let at = 0;
  for (const [i, method] of methods.entries()) {
    const parsed = parseResponse(bytes.subarray(at), { requestMethod: method, endOfInput: true });
    assert.ok("consumed" in parsed, `parseResponse refuses response ${i + 1} of ${shown}: ${JSON.stringify(parsed)}`);
    const lengths = count(parsed.headers, "content-length");
    const codings = count(parsed.headers, "transfer-encoding");
    assert.ok(lengths <= 1 && codings <= 1 && lengths + codings <= 1, `conflicting framing fields in response ${i + 1} of ${shown}`);
    assert.is(Buffer.from(parsed.body).toString("latin1"), run.messages[i].body, `the two clients read different bodies in ${shown}`);
    at += parsed.consumed;
  }
  assert.is(at, bytes.length, `bytes left over after the responses in ${shown}`);
  return run.messages;
}

/** A field of a response llhttp read (the last with that name), or undefined. */
function field(res: LlhttpResponse, name: string): string | undefined {
  return res.headers.findLast(([n]) => n.toLowerCase() === name)?.[1];
}

test.before.each(() => {
  errors.length = 0;
});

// ---- one owner of the output region ---------------------------------------------

test("write, write, end in one tick: one chunked response (node:http sends the same body)", async () => {
  await withServer((_req, res) => {
    res.write("a");
    res.write("b");
    res.end();
  }, async ({ port }) => {
    const [res] = strict(await collect(port, get("/", true)), ["GET"]);
    assert.is(res.body, "ab");
    assert.is(field(res, "transfer-encoding"), "chunked");
  });
});

test("write then end(data) in one tick, twice on one connection (pipelined)", async () => {
  await withServer((req, res) => {
    res.write(req.target);
    res.end("!");
  }, async ({ port }) => {
    const responses = strict(await collect(port, get("/one") + get("/two", true)), ["GET", "GET"]);
    assert.equal(responses.map((r) => r.body), ["/one!", "/two!"]);
  });
});

test("the README's drained() loop, with a response queued behind an unfinished one", async () => {
  await withServer(async (req, res) => {
    for (const piece of ["x", "y", "z"]) {
      if (!res.write(`${req.target}:${piece};`)) await res.drained();
    }
    res.end();
  }, async ({ port }) => {
    const responses = strict(await collect(port, get("/1") + get("/2") + get("/3", true)), ["GET", "GET", "GET"]);
    assert.equal(responses.map((r) => r.body), ["/1:x;/1:y;/1:z;", "/2:x;/2:y;/2:z;", "/3:x;/3:y;/3:z;"]);
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
    const waiter = collect(port, get("/wait", true));
    await waitingStarted;
    const poke = strict(await collect(port, get("/poke", true)), ["GET"]);
    assert.is(poke[0].body, "poked");
    const [waited] = strict(await waiter, ["GET"]);
    assert.is(waited.body, "first;news;done");
  });
});

test.run();
