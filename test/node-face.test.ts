// simplenet/node, the node:http face: req is node:http's IncomingMessage and
// res its ServerResponse, the server's API and events are node:http's, and
// each case runs on node:http too — same bytes (Date aside, read by the
// strict client), same events in the same order.
import { suite, assert } from "./support/uvu.ts";
import http, { IncomingMessage, ServerResponse } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket, WebSocketServer } from "ws";
import { createServer } from "../src/node/index.ts";
import { both, close, listen } from "./fixtures/node-apps/compare.ts";
import { exchange, open } from "./helpers.ts";

const test = suite("node:http face");

test("req and res are node:http's classes, and keep working when an app swaps their prototypes (Express)", async () => {
  const seen: unknown[] = [];
  const pair = await both((create) =>
    create((req, res) => {
      const appRequest = Object.create(IncomingMessage.prototype, { hello: { value: () => "hi" } });
      const appResponse = Object.create(ServerResponse.prototype, { shout: { value(this: ServerResponse, text: string) { this.end(text.toUpperCase()); } } });
      seen.push(req instanceof IncomingMessage && res instanceof ServerResponse);
      Object.setPrototypeOf(req, appRequest);
      Object.setPrototypeOf(res, appResponse);
      seen.push(req.headers.host, req.rawHeaders.join("|"), (req as unknown as { hello(): string }).hello(), req.socket === res.socket);
      (res as unknown as { shout(text: string): void }).shout("swapped " + req.url);
    }),
  );
  const [onNode, onSimplenet] = await pair.send("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Two: 1\r\nx-two: 2\r\nConnection: close\r\n\r\n");
  await pair.close();
  assert.match(onNode, /\r\n\r\nSWAPPED \/A\?B=1$/);
  assert.is(onSimplenet, onNode);
  assert.equal(seen.slice(5), seen.slice(0, 5));
  assert.equal(seen.slice(0, 5), [true, "x", "Host|x|X-Two|1|x-two|2|Connection|close", "hi", true]);
});

test("an app that swaps prototypes and sets a field on some requests still reads its prototype's value on the others, after the face has learned its fields", async () => {
  const pair = await both((create) => {
    const appRequest = Object.create(IncomingMessage.prototype, { role: { value: "guest", writable: true, enumerable: true } });
    return create((req, res) => {
      Object.setPrototypeOf(req, appRequest);
      const user = req as IncomingMessage & { role: string; seen?: number };
      if (req.url === "/admin") user.role = "admin";
      user.seen = 1;
      res.end(`${user.role} ${"seen" in req}`);
    });
  });
  // One after another: the face learns from responses that have finished.
  for (let i = 0; i < 20; i++) await pair.send("GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const [onNode, onSimplenet] = await pair.send("GET /home HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await pair.close();
  assert.match(onNode, /guest true$/);
  assert.is(onSimplenet, onNode);
});

test("request bodies stream: pipe, 'data' and for await, with headersDistinct and trailers", async () => {
  const pair = await both((create) =>
    create(async (req, res) => {
      res.setHeader("X-Distinct", JSON.stringify(req.headersDistinct["x-two"]));
      if (req.url === "/pipe") {
        // The request's own length: how the body arrives in pieces is the network's, not a difference.
        res.setHeader("Content-Length", req.headers["x-length"]!);
        return void req.pipe(res);
      }
      if (req.url === "/data") {
        const parts: string[] = [];
        req.on("data", (chunk: Buffer) => parts.push(chunk.toString()));
        req.on("end", () => res.end(`${parts.join("")} complete=${req.complete} trailers=${JSON.stringify(req.trailers)}`));
        return;
      }
      let text = "";
      for await (const chunk of req) text += chunk;
      res.end(`${text} ${req.readableEnded}`);
    }),
  );
  const post = (path: string) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nX-Two: 1\r\nX-Two: 2\r\nX-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n`;
  for (const path of ["/pipe", "/data", "/await"]) {
    const [onNode, onSimplenet] = await pair.send([post(path).slice(0, 90), post(path).slice(90)]);
    assert.match(onNode, /abc/);
    assert.is(onSimplenet, onNode, path);
  }
  await pair.close();
});

test("res: write callbacks, 'finish' then 'close', flushHeaders, cork, addTrailers, writeHead's forms, and the same events as node:http", async () => {
  const events: string[][] = [[], []];
  let which = 0;
  const pair = await both((create) => {
    const log = events[which++];
    return create((req, res) => {
      res.on("finish", () => log.push(`finish ${res.writableFinished}`));
      res.on("close", () => log.push(`close ${res.writableEnded}`));
      req.on("close", () => log.push("req close"));
      if (req.url === "/trailers") {
        res.writeHead(200, { "Transfer-Encoding": "chunked", Trailer: "X-Sum" });
        res.write("ab", () => log.push("write cb"));
        res.addTrailers({ "X-Sum": "2" });
        return void res.end(() => log.push("end cb"));
      }
      if (req.url === "/flush") {
        res.statusCode = 202;
        res.statusMessage = "Taken";
        res.setHeader("Set-Cookie", ["a=1", "b=2"]);
        res.appendHeader("Set-Cookie", "c=3");
        res.flushHeaders();
        log.push(`headersSent ${res.headersSent} ${JSON.stringify(res.getHeaderNames())}`);
        res.cork();
        res.write("one ");
        res.write("two");
        process.nextTick(() => res.uncork());
        return void setTimeout(() => res.end(), 5);
      }
      res.writeHead(200, "Fine", ["X-A", "1", "X-B", "2"]);
      res.end("flat");
    });
  });
  for (const path of ["/trailers", "/flush", "/flat"]) {
    const [onNode, onSimplenet] = await pair.send(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(onNode, /^HTTP\/1\.1 20/);
    assert.is(onSimplenet, onNode, path);
  }
  await pair.close();
  assert.ok(events[0].length > 8);
  assert.equal(events[1], events[0]);
});

test("back-pressure: write() returns false for a slow client and 'drain' comes, as on node:http", async () => {
  const big = Buffer.alloc(1 << 20, 0x61);
  const results: string[] = [];
  const server = createServer((_req, res) => {
    let writes = 0;
    const more = (): void => {
      while (writes < 8) {
        writes++;
        if (!res.write(big)) return void res.once("drain", more);
      }
      res.end(() => results.push(`ended after ${writes}`));
    };
    more();
    results.push(`first pass ${writes}`);
  });
  const port = await listen(server);
  const { responses } = await exchange(port, ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"], { idleMs: 2000 });
  await close(server);
  assert.is(responses[0].body.length, 8 << 20);
  assert.ok(results[0] !== "first pass 8", results[0]);
  assert.equal(results[1], "ended after 8");
});

test("Expect: 100-continue: sent before the request, or left to a 'checkContinue' listener", async () => {
  const plain = await both((create) => create((req, res) => req.pipe(res)));
  const expecting = "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n";
  const [a, b] = await plain.send([expecting, "hi"]);
  await plain.close();
  assert.match(a, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
  assert.is(b, a);
  const checked = await both((create) => {
    const server = create();
    server.on("checkContinue", (_req, res) => {
      res.writeHead(417);
      res.end("no");
    });
    return server;
  });
  const [c, d] = await checked.send([expecting, "hi"]);
  await checked.close();
  assert.match(c, /^HTTP\/1\.1 417 /);
  assert.is(d, c);
});

test("a client that resets mid-response: 'aborted' and 'close' as on node:http, and no 'finish'", async () => {
  const logs: string[][] = [[], []];
  let which = 0;
  const gone: Promise<void>[] = [];
  const pair = await both((create) => {
    const log = logs[which++];
    let done: () => void;
    gone.push(new Promise((resolve) => (done = resolve)));
    return create((req, res) => {
      req.on("aborted", () => log.push("req aborted"));
      req.on("close", () => log.push("req close"));
      res.on("finish", () => log.push("res finish"));
      res.on("close", () => {
        log.push(`res close ${res.writableFinished}`);
        setTimeout(done, 20);
      });
      res.write("partial");
    });
  });
  for (const port of pair.ports) {
    const socket = await open(port);
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    socket.once("data", () => socket.resetAndDestroy());
  }
  await Promise.all(gone);
  await pair.close();
  assert.ok(logs[0].includes("res close false"), logs[0].join());
  assert.equal(logs[1], logs[0]);
});

test("a body that stops coming within requestTimeout is answered 408 and the connection closed, as node:http does", async () => {
  const server = createServer({ requestTimeout: 300 }, (req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => res.end(Buffer.concat(parts)));
  });
  const port = await listen(server);
  const started = Date.now();
  const { responses, closed } = await exchange(port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"], { idleMs: 3000 });
  await close(server);
  assert.is(responses[0]?.status, 408);
  assert.ok(closed);
  assert.ok(Date.now() - started < 3000);
});

test("a request simplenet refuses itself is answered by it and then told to 'clientError', as node:http tells it", async () => {
  const errors: string[][] = [[], []];
  let which = 0;
  const pair = await both((create) => {
    const log = errors[which++];
    const server = create((_req, res) => res.end("never"));
    server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
      log.push(error.code ?? "");
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    });
    return server;
  });
  const [onNode, onSimplenet] = await pair.send("GET / HTTP/1.1\r\nHost: x\r\nBad Field\r\n\r\n");
  await pair.close();
  assert.match(onNode, /^HTTP\/1\.1 400 /);
  assert.match(onSimplenet, /^HTTP\/1\.1 400 /);
  assert.equal(errors.map((log) => log.length), [1, 1]);
  assert.match(errors[1][0], /^HPE_/);
});

test("listen forms, address(), listening, and the events 'listening', 'connection', 'close'", async () => {
  const events: string[] = [];
  const server = createServer((req, res) => res.end(`${req.socket.remoteAddress} ${typeof req.socket.remotePort}`));
  server.on("connection", (socket) => events.push(`connection ${socket.remoteAddress}`));
  server.on("close", () => events.push("close"));
  server.listen({ port: 0, host: "127.0.0.1" }, () => events.push("listening"));
  assert.is(server.listening, true);
  const address = server.address() as { address: string; family: string; port: number };
  assert.equal([address.address, address.family], ["127.0.0.1", "IPv4"]);
  await new Promise((resolve) => server.once("listening", resolve));
  const { responses } = await exchange(address.port, ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]);
  assert.is(responses[0].body, "127.0.0.1 number");
  await new Promise((resolve) => server.close(resolve));
  assert.equal(events, ["listening", "connection 127.0.0.1", "close"]);
  assert.is(server.listening, false);

  const dir = mkdtempSync(join(tmpdir(), "simplenet-face-"));
  try {
    const onPath = createServer((_req, res) => res.end("unix"));
    onPath.listen(join(dir, "s.sock"));
    assert.is(onPath.address(), join(dir, "s.sock"));
    const got = await new Promise<string>((resolve, reject) => {
      http.get({ socketPath: join(dir, "s.sock"), path: "/" }, (res) => res.on("data", (b: Buffer) => resolve(b.toString()))).on("error", reject);
    });
    assert.is(got, "unix");
    await close(onPath);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a taken port is an 'error' event with EADDRINUSE, and close() of a server not listening says so", async () => {
  const first = createServer();
  const port = await listen(first);
  const second = createServer();
  const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
    second.once("error", resolve);
    second.listen(port, "127.0.0.1");
  });
  assert.is(error.code, "EADDRINUSE");
  const notRunning = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => second.close(resolve));
  assert.is(notRunning?.code, "ERR_SERVER_NOT_RUNNING");
  await close(first);
});

test("closeAllConnections() ends kept-alive connections, so close() completes", async () => {
  const server = createServer((_req, res) => res.end("ok"));
  const port = await listen(server);
  const agent = new http.Agent({ keepAlive: true });
  await new Promise((resolve) => http.get({ port, host: "127.0.0.1", agent }, (res) => res.resume().on("end", resolve)));
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await closed;
  agent.destroy();
  assert.is(server.listening, false);
});

test("closeIdleConnections() closes a kept-alive connection between requests, and leaves one with a request in flight", async () => {
  let answer: (() => void) | undefined;
  const server = createServer((req, res) => {
    if (req.url === "/slow") answer = () => res.end("late");
    else res.end("now");
  });
  const port = await listen(server);
  const idle = await open(port);
  const busy = await open(port);
  const idleClosed = new Promise((resolve) => idle.on("close", resolve));
  idle.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise((resolve) => idle.once("data", resolve));
  busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  while (answer === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  server.closeIdleConnections();
  await idleClosed;
  assert.is(busy.destroyed, false);
  const late = new Promise<string>((resolve) => busy.once("data", (b: Buffer) => resolve(b.toString())));
  answer();
  assert.match(await late, /late$/);
  busy.destroy();
  await close(server);
});

test("listen(port) without a host is on every address, IPv6 and IPv4, as node:http's", async () => {
  const server = createServer((_req, res) => res.end("both"));
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const address = server.address() as { address: string; family: string; port: number };
  assert.equal([address.address, address.family], ["::", "IPv6"]);
  const { responses } = await exchange(address.port, ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]);
  assert.is(responses[0].body, "both");
  await close(server);
});

test("ws attaches through 'upgrade' with handleUpgrade, its handshake the same bytes as on node:http", async () => {
  const wss = new WebSocketServer({ noServer: true });
  wss.on("connection", (ws) => ws.on("message", (data) => ws.send(`echo ${data}`)));
  const pair = await both((create) => {
    const server = create((_req, res) => res.end("plain"));
    server.on("upgrade", (req, socket, head) => wss.handleUpgrade(req, socket as never, head, (ws) => wss.emit("connection", ws, req)));
    return server;
  });
  const handshake = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  const [onNode, onSimplenet] = await pair.send(handshake, { idleMs: 100 });
  assert.match(onNode, /^HTTP\/1\.1 101 [^]*s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
  assert.is(onSimplenet, onNode);
  const replies = await Promise.all(
    pair.ports.map(
      (port) =>
        new Promise<string>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`);
          ws.on("open", () => ws.send("hello"));
          ws.on("message", (data) => {
            resolve(String(data));
            ws.close();
          });
          ws.on("error", reject);
        }),
    ),
  );
  assert.equal(replies, ["echo hello", "echo hello"]);
  for (const client of wss.clients) client.terminate();
  await pair.close();
});

test.run();
