// The WebSocket API as an application uses it: topics, send()'s results and
// back-pressure, drain, maxBackpressure, the idle timer's pings, the memory
// budget, the fetch handler's server.upgrade(), subprotocols, the handshake's
// refusals, Origin, the message view's lifetime, and server.close(). The
// server-side WebSocket objects are driven directly (the server runs in this
// process); the clients are raw sockets (test/support/ws-frames.ts).
import { suite, assert } from "./support/uvu.ts";
import { serve, SEND_DROPPED, SEND_QUEUED, type Server, type WebSocket, type WebSocketOptions } from "../src/index.ts";
import { exchange, parseResponses } from "./helpers.ts";
import {
  OP, text, binary, close, pong, frame, deflateAlone, eventsOf, handshake, until, FrameParser, ClientInflater, type Opened, type Event,
} from "./support/ws-frames.ts";

const test = suite("websocket api");
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A server whose sockets the test holds (in order of opening), with every callback recorded. */
async function start(options: Partial<WebSocketOptions> = {}): Promise<{
  server: Server; sockets: WebSocket<unknown>[]; log: unknown[][]; errors: unknown[];
}> {
  const sockets: WebSocket<unknown>[] = [];
  const log: unknown[][] = [];
  const errors: unknown[] = [];
  const server = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("plain"),
    onError: (e) => errors.push(e),
    websocket: {
      open: (ws) => void sockets.push(ws),
      message: (ws, message, isBinary) => void log.push(["message", sockets.indexOf(ws), message, isBinary]),
      close: (ws, code, reason) => void log.push(["close", sockets.indexOf(ws), code, reason]),
      drain: (ws) => void log.push(["drain", sockets.indexOf(ws)]),
      ping: (ws, data) => void log.push(["ping", sockets.indexOf(ws), Buffer.from(data).toString()]),
      pong: (ws, data) => void log.push(["pong", sockets.indexOf(ws), Buffer.from(data).toString()]),
      ...options,
    },
  });
  return { server, sockets, log, errors };
}

async function events(opened: Opened): Promise<Event[]> {
  return eventsOf(opened.parser.frames);
}

async function waitFor(check: () => boolean, ms = 3000): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < ms; await sleep(5)) if (check()) return true;
  return check();
}

const texts = (evs: Event[]): string[] => evs.flatMap((e) => (e.type === "text" ? [e.data] : []));

// ---- topics ------------------------------------------------------------------

test("topics: subscribe, publish in order to the others, unsubscribe, server.publish, leaving on close", async () => {
  const { server, sockets } = await start();
  try {
    const clients = [await handshake(server.port), await handshake(server.port), await handshake(server.port)];
    assert.ok(await waitFor(() => sockets.length === 3));
    const [a, b, c] = sockets;
    for (const ws of [a, b, c]) ws.subscribe("news");
    b.subscribe("sports");
    assert.ok(a.isSubscribed("news") && !a.isSubscribed("sports"));
    assert.is(a.publish("news", "one"), 2, "to b and c, not to a itself");
    assert.is(a.publish("news", "two"), 2);
    assert.is(b.publish("sports", "goal"), 0, "b is the only subscriber: nobody else");
    assert.is(server.publish("news", "three"), 3, "server.publish reaches every subscriber");
    assert.is(server.publish("nobody", "x"), 0);
    b.unsubscribe("news");
    assert.is(c.publish("news", "four"), 1, "only a now");
    assert.is(server.publish("news", new Uint8Array([1, 2])), 2, "binary");
    await sleep(100);
    assert.equal(texts(await events(clients[0])), ["three", "four"]);
    assert.equal(texts(await events(clients[1])), ["one", "two", "three"]);
    assert.equal(texts(await events(clients[2])), ["one", "two", "three"]);
    assert.equal((await events(clients[0])).at(-1), { type: "binary", data: "0102" });
    // A socket that closes leaves its topics.
    clients[2].socket.write(close(1000));
    assert.ok(await waitFor(() => c.readyState === 3));
    assert.is(server.publish("news", "five"), 1);
    assert.is(c.isSubscribed("news"), false);
    for (const o of clients) o.socket.destroy();
  } finally {
    await server.close();
  }
});

// ---- send, back-pressure, drain ----------------------------------------------------

test("send() returns the bytes written, SEND_QUEUED under back-pressure, SEND_DROPPED past maxBackpressure; drain follows", async () => {
  const { server, sockets, log } = await start({ maxBackpressure: 4 * 1024 * 1024 });
  try {
    const client = await handshake(server.port);
    assert.ok(await waitFor(() => sockets.length === 1));
    const ws = sockets[0];
    assert.is(ws.send("hello"), 7, "2 bytes of head and 5 of payload");
    assert.is(ws.send(new Uint8Array(200)), 204, "a 16-bit length");
    client.socket.pause(); // the client stops reading: the kernel's buffers fill
    const big = new Uint8Array(256 * 1024);
    const results: number[] = [];
    for (let i = 0; i < 200 && results.at(-1) !== SEND_DROPPED; i++) results.push(ws.send(big));
    assert.ok(results[0] > 0, "the first big send went out whole");
    const firstQueued = results.indexOf(SEND_QUEUED);
    assert.ok(firstQueued > 0, `a send was queued: ${results.join(",")}`);
    assert.is(results.at(-1), SEND_DROPPED, "then sends were dropped");
    assert.ok(ws.getBufferedAmount() <= 4 * 1024 * 1024 + big.length, "the queue stays near maxBackpressure");
    assert.ok(ws.getBufferedAmount() > 0);
    assert.is(log.filter((e) => e[0] === "drain").length, 0, "no drain yet");
    client.socket.resume();
    assert.ok(await waitFor(() => log.some((e) => e[0] === "drain")), "drain once the client read");
    assert.is(ws.getBufferedAmount(), 0);
    assert.ok(ws.send("after") > 0, "sending works again");
    assert.ok(ws.readyState === 1, "still open: closeOnBackpressureLimit is off");
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("closeOnBackpressureLimit closes a socket that reaches maxBackpressure", async () => {
  const { server, sockets, log } = await start({ maxBackpressure: 1024 * 1024, closeOnBackpressureLimit: true });
  try {
    const client = await handshake(server.port);
    assert.ok(await waitFor(() => sockets.length === 1));
    client.socket.pause();
    const ws = sockets[0];
    const results: number[] = [];
    for (let i = 0; i < 200 && ws.readyState !== 3; i++) results.push(ws.send(new Uint8Array(256 * 1024)));
    assert.is(results.at(-1), SEND_DROPPED);
    assert.ok(await waitFor(() => log.some((e) => e[0] === "close")));
    assert.equal(log.find((e) => e[0] === "close"), ["close", 0, 1006, ""], "closed without a handshake");
    assert.is(ws.send("late"), SEND_DROPPED, "a closed socket drops sends");
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("send() on a closing socket returns SEND_DROPPED; cork batches", async () => {
  const { server, sockets } = await start();
  try {
    const client = await handshake(server.port);
    assert.ok(await waitFor(() => sockets.length === 1));
    const ws = sockets[0];
    ws.cork(() => {
      ws.send("a");
      ws.send("b");
    });
    ws.end(4000, "done");
    assert.is(ws.readyState, 2);
    assert.is(ws.send("late"), SEND_DROPPED);
    assert.ok(await until(client, () => client.parser.frames.length >= 3));
    assert.equal(await events(client), [{ type: "text", data: "a" }, { type: "text", data: "b" }, { type: "close", code: 4000, reason: "done" }]);
    client.socket.write(close(4000));
    assert.ok(await until(client, () => client.isEnded()), "the server closes TCP after the client's answer");
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

// ---- idle timeout ----------------------------------------------------------------

test("idleTimeout: a ping at half, then a silent client is closed; a client that answers stays", async () => {
  const { server, log } = await start({ idleTimeout: 1 });
  try {
    const silent = await handshake(server.port);
    const answering = await handshake(server.port);
    const pingsAnswered = new Set<number>();
    const answer = setInterval(() => {
      answering.parser.frames.forEach((f, i) => {
        if (f.opcode === OP.PING && !pingsAnswered.has(i)) {
          pingsAnswered.add(i);
          answering.socket.write(pong(f.payload));
        }
      });
    }, 20);
    try {
      assert.ok(await until(silent, () => silent.parser.frames.some((f) => f.opcode === OP.PING), 2500), "a ping within the timeout");
      assert.ok(await until(silent, () => silent.isEnded(), 3000), "then closed");
      assert.ok(await waitFor(() => log.some((e) => e[0] === "close" && e[1] === 0)));
      assert.equal(log.find((e) => e[0] === "close" && e[1] === 0), ["close", 0, 1006, ""]);
      await sleep(1500);
      assert.ok(pingsAnswered.size >= 1, "the answering client was pinged");
      assert.is(answering.isEnded(), false, "and is still open");
      assert.ok(log.some((e) => e[0] === "pong" && e[1] === 1), "the pong callback saw its answers");
    } finally {
      clearInterval(answer);
      silent.socket.destroy();
      answering.socket.destroy();
    }
  } finally {
    await server.close();
  }
});

// ---- memory budget -----------------------------------------------------------------

test("memoryBudget (per server): a message over it closes with 1013, a send over it is dropped, nothing crashes", async () => {
  const small = await start({ memoryBudget: 16 * 1024 });
  const roomy = await start(); // the process's default budget: not touched by the small one
  try {
    const client = await handshake(small.server.port);
    // A 64 KiB message in pieces: it must be assembled, and does not fit.
    const message = binary(new Uint8Array(64 * 1024).fill(1));
    for (let at = 0; at < message.length && !client.isEnded(); at += 4096) {
      client.socket.write(message.subarray(at, at + 4096));
      await sleep(2);
    }
    assert.ok(await until(client, () => client.isEnded()), "closed");
    assert.equal((await events(client)).map((e) => (e.type === "close" ? e.code : e.type)), [1013]);
    // Small messages still pass on a new socket; a send over the budget is dropped.
    const second = await handshake(small.server.port);
    second.socket.write(text("fits"));
    assert.ok(await waitFor(() => small.log.some((e) => e[0] === "message" && e[2] === "fits")));
    const ws = small.sockets.at(-1)!;
    assert.is(ws.send(new Uint8Array(32 * 1024)), SEND_DROPPED, "over the budget");
    assert.ok(ws.send("small") > 0);
    // The other server, on the process's budget, takes a large message.
    const third = await handshake(roomy.server.port);
    third.socket.write(binary(new Uint8Array(256 * 1024)));
    assert.ok(await waitFor(() => roomy.log.some((e) => e[0] === "message")), "the roomy server got it");
    assert.equal([...small.errors, ...roomy.errors], []);
    for (const o of [client, second, third]) o.socket.destroy();
  } finally {
    await small.server.close();
    await roomy.server.close();
  }
});

// ---- the fetch form ---------------------------------------------------------------

test("fetch handler: server.upgrade(request, { data, headers }), a plain request served, an invalid handshake refused", async () => {
  const opened: unknown[] = [];
  let upgraded: boolean[] = [];
  const server: Server = await serve({
    host: "127.0.0.1", port: 0,
    fetch: (request) => {
      if (new URL(request.url).pathname === "/ws") {
        const ok = server.upgrade(request, { data: { user: "ada" }, headers: { "X-Hello": "from upgrade" } });
        upgraded.push(ok);
        if (ok) return undefined as unknown as Response;
        return new Response("not a websocket", { status: 400 });
      }
      if (new URL(request.url).pathname === "/ws-headers") {
        server.upgrade(request, { data: 2, headers: new Headers({ "X-Other": "a Headers object" }) });
        return undefined as unknown as Response;
      }
      return new Response("plain page");
    },
    websocket: { open: (ws) => void opened.push(ws.data), message: (ws, m) => void ws.send(m) },
  });
  try {
    const client = await handshake(server.port, { path: "/ws" });
    assert.is(client.status, 101);
    assert.is(client.headers["x-hello"], "from upgrade");
    client.socket.write(text("echo"));
    assert.ok(await until(client, () => client.parser.frames.length > 0));
    assert.equal(await events(client), [{ type: "text", data: "echo" }]);
    assert.equal(opened, [{ user: "ada" }]);
    const withHeaders = await handshake(server.port, { path: "/ws-headers" });
    assert.is(withHeaders.status, 101);
    assert.is(withHeaders.headers["x-other"], "a Headers object", "a Headers object is taken too");
    const plain = parseResponses((await exchange(server.port, ["GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"])).text);
    assert.is(plain[0].body, "plain page");
    const bad = await handshake(server.port, { path: "/ws", version: "8" });
    assert.is(bad.status, 400, "server.upgrade() returned false: the handler answered");
    assert.equal(upgraded, [true, false]);
    for (const o of [client, withHeaders, bad]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

// ---- handshake: subprotocols, versions, Origin --------------------------------------

test("subprotocol: the upgrade hook picks one the client offered; ws.protocol tells", async () => {
  const { server, sockets, errors } = await start({
    upgrade: (req) => {
      const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
      if (offered.includes("bogus")) return { protocol: "never-offered" };
      return { protocol: offered.includes("chat.v2") ? "chat.v2" : undefined };
    },
  });
  try {
    const two = await handshake(server.port, { protocols: "chat.v1, chat.v2" });
    assert.is(two.status, 101);
    assert.is(two.headers["sec-websocket-protocol"], "chat.v2");
    const none = await handshake(server.port, { protocols: "chat.v1" });
    assert.is(none.status, 101);
    assert.is(none.headers["sec-websocket-protocol"], undefined, "no subprotocol chosen: no field");
    assert.ok(await waitFor(() => sockets.length === 2));
    assert.is(sockets[0].protocol, "chat.v2");
    assert.is(sockets[1].protocol, "");
    const bogus = await handshake(server.port, { protocols: "bogus" });
    assert.ok(bogus.status >= 500, `a protocol the client did not offer is the hook's error: ${bogus.status}`);
    assert.is(errors.length, 1);
    for (const o of [two, none, bogus]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test("handshake refusals: 426 for another version (naming 13), 400 for a bad key, 405 for POST", async () => {
  const { server, sockets } = await start();
  try {
    for (const version of ["8", "12", "14", ""]) {
      const r = await handshake(server.port, { version });
      assert.is(r.status, 426, `version ${JSON.stringify(version)}`);
      assert.is(r.headers["sec-websocket-version"], "13");
      r.socket.destroy();
    }
    const key = parseResponses((await exchange(server.port, [
      "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",
    ])).text);
    assert.is(key[0].status, 400);
    const post = parseResponses((await exchange(server.port, [
      "POST / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n\r\n",
    ])).text);
    assert.ok(post.length === 0 || post[0].status === 405 || post[0].status === 200, `POST: ${post[0]?.status}`);
    assert.is(sockets.length, 0, "no socket was opened");
  } finally {
    await server.close();
  }
});

test("Origin is visible in the upgrade hook, which may refuse", async () => {
  const origins: (string | null)[] = [];
  const { server, sockets } = await start({
    upgrade: (req, res) => {
      const origin = req.headers.get("origin");
      origins.push(origin);
      if (origin !== "https://good.example") {
        res.status = 403;
        return res.end("bad origin");
      }
      return { data: origin };
    },
  });
  try {
    const good = await handshake(server.port, { origin: "https://good.example" });
    assert.is(good.status, 101);
    const bad = await handshake(server.port, { origin: "https://evil.example" });
    assert.is(bad.status, 403);
    const none = await handshake(server.port);
    assert.is(none.status, 403);
    assert.equal(origins, ["https://good.example", "https://evil.example", null]);
    assert.ok(await waitFor(() => sockets.length === 1));
    assert.is(sockets[0].data, "https://good.example");
    for (const o of [good, bad, none]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

// ---- the message view --------------------------------------------------------------

test("a binary message is a view valid only during the call: a kept one is overwritten by later bytes", async () => {
  const kept: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  const { server } = await start({
    message: (_ws, message) => {
      kept.push(message as Uint8Array);
      copies.push((message as Uint8Array).slice());
    },
  });
  try {
    const client = await handshake(server.port);
    client.socket.write(binary(new Uint8Array(64).fill(0xaa)));
    assert.ok(await waitFor(() => kept.length === 1));
    client.socket.write(binary(new Uint8Array(64).fill(0x55)));
    assert.ok(await waitFor(() => kept.length === 2));
    assert.equal(copies[0], new Uint8Array(64).fill(0xaa), "a copy made in the call keeps the message");
    assert.equal(copies[1], new Uint8Array(64).fill(0x55));
    assert.not.equal(kept[0], copies[0], "the view kept past the call no longer holds it (documented: copy what you keep)");
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

// ---- server.close() ------------------------------------------------------------------

test("server.close() sends close 1001 to open sockets and finishes once they answer", async () => {
  const { server, log } = await start();
  const client = await handshake(server.port);
  await sleep(20);
  const closing = server.close();
  assert.ok(await until(client, () => client.parser.frames.some((f) => f.opcode === OP.CLOSE)), "a close frame came");
  assert.equal(await events(client), [{ type: "close", code: 1001, reason: "Server shutting down" }]);
  client.socket.write(close(1001));
  const done = await Promise.race([closing.then(() => true), sleep(3000).then(() => false)]);
  assert.ok(done, "server.close() resolved");
  assert.ok(client.isEnded() || (await until(client, () => client.isEnded(), 1000)));
  assert.equal(log.find((e) => e[0] === "close"), ["close", 0, 1001, "Server shutting down"]);
  client.socket.destroy();
});

// ---- compression housekeeping ----------------------------------------------------------

test("permessage-deflate: a client leaving does not stop the others' compressed sends (the shared compressor)", async () => {
  const { server, sockets } = await start({
    perMessageDeflate: { threshold: 16 },
    message: (ws, m, isBinary) => void ws.send(m, { binary: isBinary }),
  });
  try {
    const big = "a message to compress, ".repeat(50);
    const first = await handshake(server.port, { extensions: "permessage-deflate" });
    first.socket.write(frame({ opcode: OP.TEXT, rsv: 4, payload: deflateAlone(big) }));
    assert.ok(await until(first, () => first.parser.frames.length === 1));
    assert.is(first.parser.frames[0].rsv, 4, "compressed");
    first.socket.write(close(1000));
    assert.ok(await until(first, () => first.isEnded()));
    assert.ok(await waitFor(() => sockets[0].readyState === 3));
    const second = await handshake(server.port, { extensions: "permessage-deflate" });
    second.socket.write(frame({ opcode: OP.TEXT, rsv: 4, payload: deflateAlone(big) }));
    assert.ok(await until(second, () => second.parser.frames.length === 1), "the second client's echo came");
    first.socket.destroy();
    second.socket.destroy();
  } finally {
    await server.close();
  }
});

test("permessage-deflate: corrupt messages give back their slot of the zlib cap", async () => {
  const { server } = await start({
    perMessageDeflate: { threshold: 16, maxConcurrency: 2 },
    message: (ws, m, isBinary) => void ws.send(m, { binary: isBinary }),
  });
  try {
    for (let i = 0; i < 4; i++) {
      const bad = await handshake(server.port, { extensions: "permessage-deflate" });
      bad.socket.write(frame({ opcode: OP.BINARY, rsv: 4, payload: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2) }));
      assert.ok(await until(bad, () => bad.isEnded()), `corrupt ${i}: closed`);
      assert.equal((await events(bad)).map((e) => (e.type === "close" ? e.code : e.type)), [1007]);
      bad.socket.destroy();
    }
    const good = await handshake(server.port, { extensions: "permessage-deflate" });
    good.socket.write(frame({ opcode: OP.TEXT, rsv: 4, payload: deflateAlone("still inflating ".repeat(20)) }));
    assert.ok(await until(good, () => good.parser.frames.length === 1), "a good message is still inflated");
    good.socket.destroy();
  } finally {
    await server.close();
  }
});

test("end() refuses a code that may not be sent, and a reason over 123 bytes", async () => {
  const { server, sockets } = await start();
  try {
    const client = await handshake(server.port);
    assert.ok(await waitFor(() => sockets.length === 1));
    const ws = sockets[0];
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000]) assert.throws(() => ws.end(code), RangeError, `code ${code}`);
    assert.throws(() => ws.end(1000, "x".repeat(124)), RangeError);
    assert.is(ws.readyState, 1, "still open");
    ws.end(3000, "x".repeat(123));
    assert.ok(await until(client, () => client.parser.frames.length === 1));
    assert.equal((await events(client))[0], { type: "close", code: 3000, reason: "x".repeat(123) });
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a callback that throws is reported and fails its socket with 1011", async () => {
  const { server, errors } = await start({
    message: () => {
      throw new Error("the application broke");
    },
  });
  try {
    const client = await handshake(server.port);
    client.socket.write(text("boom"));
    assert.ok(await until(client, () => client.isEnded()));
    assert.equal((await events(client)).map((e) => (e.type === "close" ? e.code : e.type)), [1011]);
    assert.is(errors.length, 1);
    assert.match(String(errors[0]), /the application broke/);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("frames sent in the same write as the handshake are read after the 101", async () => {
  const { server } = await start({ message: (ws, m, isBinary) => void ws.send(m, { binary: isBinary }) });
  try {
    const request = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    const frames = Buffer.concat([text("early one"), binary(Uint8Array.of(1, 2, 3)), text("early two"), close(1000)]);
    const { text: answer, closed } = await exchange(server.port, [Buffer.concat([Buffer.from(request, "latin1"), frames])]);
    assert.ok(answer.startsWith("HTTP/1.1 101"), answer.slice(0, 40));
    assert.ok(answer.includes("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "the RFC's sample accept key");
    const body = Buffer.from(answer.slice(answer.indexOf("\r\n\r\n") + 4), "latin1");
    const parser = new FrameParser();
    parser.push(body);
    assert.equal(await eventsOf(parser.frames), [
      { type: "text", data: "early one" }, { type: "binary", data: "010203" }, { type: "text", data: "early two" },
      { type: "close", code: 1000, reason: "" },
    ]);
    assert.ok(closed, "closed after the close handshake");
  } finally {
    await server.close();
  }
});

test("compressed sends still being compressed go out before a close the application sends after them", async () => {
  const { server, sockets } = await start({ perMessageDeflate: { threshold: 16 } });
  try {
    const client = await handshake(server.port, { extensions: "permessage-deflate" });
    assert.ok(await waitFor(() => sockets.length === 1));
    const ws = sockets[0];
    const messages = [1, 2, 3].map((i) => `message ${i} `.repeat(200));
    for (const m of messages) assert.is(ws.send(m), SEND_QUEUED, "queued while zlib works");
    assert.ok(ws.send("short") === SEND_QUEUED, "a short one waits behind them, in order");
    ws.end(4000, "after the messages");
    assert.ok(await until(client, () => client.parser.frames.some((f) => f.opcode === OP.CLOSE)));
    const inflater = new ClientInflater();
    const evs = await eventsOf(client.parser.frames, inflater);
    inflater.close();
    assert.equal(evs, [...messages.map((data) => ({ type: "text", data })), { type: "text", data: "short" }, { type: "close", code: 4000, reason: "after the messages" }]);
    assert.ok(client.parser.frames.slice(0, 3).every((f) => f.rsv === 4), "compressed");
    client.socket.write(close(4000));
    assert.ok(await until(client, () => client.isEnded()));
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("pings: the client's are answered and reported; the server's reach the client", async () => {
  const { server, sockets, log } = await start();
  try {
    const client = await handshake(server.port);
    assert.ok(await waitFor(() => sockets.length === 1));
    client.socket.write(frame({ opcode: OP.PING, payload: "are you there" }));
    assert.ok(await until(client, () => client.parser.frames.length === 1));
    assert.equal(await events(client), [{ type: "pong", data: Buffer.from("are you there").toString("hex") }]);
    assert.ok(await waitFor(() => log.some((e) => e[0] === "ping")));
    assert.equal(log.find((e) => e[0] === "ping"), ["ping", 0, "are you there"]);
    assert.ok(sockets[0].ping("from the server") > 0);
    assert.ok(await until(client, () => client.parser.frames.length === 2));
    assert.equal((await events(client))[1], { type: "ping", data: Buffer.from("from the server").toString("hex") });
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a client that leaves without a close frame: close(1006); the socket leaves its topics", async () => {
  const { server, sockets, log } = await start();
  try {
    const client = await handshake(server.port);
    assert.ok(await waitFor(() => sockets.length === 1));
    sockets[0].subscribe("room");
    client.socket.end(); // FIN, no close frame
    assert.ok(await waitFor(() => log.some((e) => e[0] === "close")));
    assert.equal(log.find((e) => e[0] === "close"), ["close", 0, 1006, ""]);
    assert.is(server.publish("room", "anyone?"), 0);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a plain request pipelined before the upgrade is answered first, then the 101, then the echo", async () => {
  const { server } = await start({ message: (ws, m, isBinary) => void ws.send(m, { binary: isBinary }) });
  try {
    const plain = "GET /first HTTP/1.1\r\nHost: a\r\n\r\n";
    const upgrade = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    const { text: answer } = await exchange(server.port, [Buffer.concat([Buffer.from(plain + upgrade, "latin1"), text("after both"), close(1000)])]);
    const first = answer.indexOf("HTTP/1.1 200");
    const second = answer.indexOf("HTTP/1.1 101");
    assert.ok(first === 0 && second > first, answer.slice(0, 200));
    const body = Buffer.from(answer.slice(answer.indexOf("\r\n\r\n", second) + 4), "latin1");
    const parser = new FrameParser();
    parser.push(body);
    assert.equal(await eventsOf(parser.frames), [{ type: "text", data: "after both" }, { type: "close", code: 1000, reason: "" }]);
  } finally {
    await server.close();
  }
});

test("permessage-deflate: a send queued for compression is followed by drain, and counts against maxBackpressure", async () => {
  const { server, sockets, log } = await start({ perMessageDeflate: { threshold: 16 }, maxBackpressure: 1024 * 1024 });
  try {
    const client = await handshake(server.port, { extensions: "permessage-deflate" });
    assert.ok(await waitFor(() => sockets.length === 1));
    const ws = sockets[0];
    assert.is(ws.send("compress this please ".repeat(100)), SEND_QUEUED);
    assert.ok(await waitFor(() => log.some((e) => e[0] === "drain")), "drain once it went out (the application was told to wait for it)");
    assert.ok(await until(client, () => client.parser.frames.length === 1));
    // A client that reads nothing, and sends that compress badly: the queue is bounded by maxBackpressure.
    client.socket.pause();
    const noise = bytesOfNoise(64 * 1024);
    const results: number[] = [];
    for (let i = 0; i < 2000 && results.at(-1) !== SEND_DROPPED; i++) results.push(ws.send(noise));
    assert.is(results.at(-1), SEND_DROPPED, `sends are dropped once ${results.length - 1} are waiting`);
    assert.ok(results.length * noise.length < 8 * 1024 * 1024, `no more than about maxBackpressure is queued (${results.length} sends)`);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

/** Bytes that do not compress. */
function bytesOfNoise(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test("memoryBudget and permessage-deflate: a compressed message over the budget closes with 1013; clients that leave mid-inflation give their share back", async () => {
  // The first message of each socket closes it: the rest are still with zlib then.
  const { server, sockets } = await start({ perMessageDeflate: { threshold: 16 }, memoryBudget: 64 * 1024, message: (ws) => ws.close() });
  try {
    const budget = server.websockets!.budget;
    const big = await handshake(server.port, { extensions: "permessage-deflate" });
    big.socket.write(frame({ opcode: OP.BINARY, rsv: 4, payload: deflateAlone(bytesOfNoise(80 * 1024)) }));
    assert.ok(await until(big, () => big.isEnded()));
    assert.equal((await events(big)).map((e) => (e.type === "close" ? e.code : e.type)), [1013]);
    big.socket.destroy();
    // Sockets closed while zlib still has some of their messages.
    for (let round = 0; round < 10; round++) {
      const o = await handshake(server.port, { extensions: "permessage-deflate" });
      const message = frame({ opcode: OP.BINARY, rsv: 4, payload: deflateAlone(bytesOfNoise(4000)) });
      o.socket.write(Buffer.concat([message, message, message, message, message]));
      assert.ok(await until(o, () => o.isEnded()));
      o.socket.destroy();
    }
    assert.ok(await waitFor(() => sockets.length === 11 && sockets.every((ws) => ws.readyState === 3)), "all closed");
    await sleep(200);
    assert.is(budget.used, 0, "nothing is left counted against the budget");
  } finally {
    await server.close();
  }
});

test("an async upgrade hook: the 101 waits for it; a client gone meanwhile is no error (its socket, if opened, closes with 1006)", async () => {
  const { server, sockets, errors, log } = await start({
    upgrade: async (req) => {
      await sleep(50);
      return { data: req.path };
    },
  });
  try {
    const client = await handshake(server.port, { path: "/later" });
    assert.is(client.status, 101);
    assert.ok(await waitFor(() => sockets.length === 1));
    assert.is(sockets[0].data, "/later");
    // A client that leaves before the hook answers.
    const { open } = await import("./helpers.ts");
    const gone = await open(server.port);
    gone.write("GET /gone HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    await sleep(10);
    gone.destroy();
    // The connection notices the client left once the hook has answered: the socket opens and closes at once.
    assert.ok(await waitFor(() => sockets.slice(1).every((ws) => ws.readyState === 3) && log.filter((e) => e[0] === "close").length === sockets.length - 1));
    assert.equal(log.filter((e) => e[0] === "close").map((e) => e[2]), sockets.slice(1).map(() => 1006));
    assert.is(sockets[0].readyState, 1, "the first one is still open");
    assert.equal(errors, []);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("an open callback that throws is reported and fails its socket with 1011", async () => {
  const { server, errors } = await start({
    open: () => {
      throw new Error("open broke");
    },
  });
  try {
    const client = await handshake(server.port);
    assert.ok(await until(client, () => client.isEnded()));
    assert.equal((await events(client)).map((e) => (e.type === "close" ? e.code : e.type)), [1011]);
    assert.match(String(errors[0]), /open broke/);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("end() and a client that never answers: the connection is closed after the close wait (5 s)", async () => {
  const { server, sockets, log } = await start();
  try {
    const client = await handshake(server.port);
    assert.ok(await waitFor(() => sockets.length === 1));
    const started = Date.now();
    sockets[0].end(4001, "bye");
    assert.ok(await until(client, () => client.parser.frames.length === 1));
    assert.ok(await until(client, () => client.isEnded(), 8000), "closed without the client's answer");
    const waited = Date.now() - started;
    assert.ok(waited >= 4500 && waited < 8000, `after ${waited} ms`);
    assert.ok(await waitFor(() => log.some((e) => e[0] === "close")));
    assert.equal(log.find((e) => e[0] === "close"), ["close", 0, 4001, "bye"], "the close callback has the code the server sent");
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test.run();
