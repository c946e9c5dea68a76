// What a WebSocket client can make the server hold, and for how long: every
// byte held for a connection is counted as it comes and goes (no walk over a
// queue), a fragmented message costs its bytes and not an object per
// fragment, pongs owed are limited, reading pauses while output backs up,
// and the memory budget closes the slow readers, not the clients that read.
// Clients are raw sockets (test/support/ws-frames.ts); the server runs in this
// process, so its heap and its sockets are looked at directly.
import { get } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { suite, assert } from "./support/uvu.ts";
import { serve, type Server, type WebSocket, type WebSocketOptions } from "../src/index.ts";
import { OP, frame, ping, handshake, until, eventsOf, deflateAlone, type Opened } from "./support/ws-frames.ts";

const test = suite("websocket bounds");
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** The heap in use after a full collection: what is still held. */
function heapHeld(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function start(options: Partial<WebSocketOptions> = {}): Promise<{ server: Server; sockets: WebSocket<unknown>[]; closes: [number, number][] }> {
  const sockets: WebSocket<unknown>[] = [];
  const closes: [number, number][] = [];
  const server = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("plain"),
    websocket: {
      open: (ws) => void sockets.push(ws),
      close: (ws, code) => void closes.push([sockets.indexOf(ws), code]),
      ...options,
    },
  });
  return { server, sockets, closes };
}

async function waitFor(check: () => boolean, ms = 3000): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < ms; await sleep(5)) if (check()) return true;
  return check();
}

/** A client that reads nothing after the handshake: the kernel's buffers fill, then the server's queue. */
async function neverReading(port: number): Promise<Opened> {
  const opened = await handshake(port);
  opened.socket.pause();
  return opened;
}

/** Sends until the server queues (the kernel took all it will); returns the bytes sent. */
function fillKernel(ws: WebSocket<unknown>): number {
  const chunk = new Uint8Array(64 * 1024);
  let sent = 0;
  while (ws.getBufferedAmount() === 0 && sent < 64 * 1024 * 1024) {
    ws.send(chunk);
    sent += chunk.length;
  }
  return sent;
}

test("a client that never reads: 50,000 small sends queue in linear time, counted, and cost their bytes, not an object each", async () => {
  const { server, sockets } = await start();
  try {
    const client = await neverReading(server.port);
    assert.ok(await waitFor(() => sockets.length === 1));
    const [ws] = sockets;
    fillKernel(ws);
    const before = ws.getBufferedAmount();
    const heapBefore = heapHeld();
    const message = new Uint8Array(10);
    const started = performance.now();
    for (let i = 0; i < 50_000; i++) ws.send(message);
    const elapsed = performance.now() - started;
    // 12 bytes a frame (2 of head, 10 of payload), each counted once.
    assert.is(ws.getBufferedAmount() - before, 50_000 * 12);
    // A walk over the queue per send (as before) is 2.5 billion steps here, seconds of work.
    assert.ok(elapsed < 1000, `50,000 sends took ${elapsed.toFixed(0)} ms`);
    const grown = heapHeld() - heapBefore;
    // 600 KB of frames; a typed array per frame would be ~10 MB of heap.
    assert.ok(grown < 3 * 1024 * 1024, `the queue grew the heap by ${grown} bytes`);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

/** Frames `from` to `to` (exclusive) of a binary message of one-byte fragments, in one buffer (outside the heap); the last is final if `fin`. */
function oneByteFragments(from: number, to: number, fin: boolean): Buffer {
  const frames: Uint8Array[] = [];
  for (let i = from; i < to; i++) frames.push(frame({ opcode: i === 0 ? OP.BINARY : OP.CONT, payload: "a", fin: fin && i === to - 1 }));
  return Buffer.concat(frames);
}

test("fragments: 16,000 one-byte fragments cost their bytes, not an object each; 16,384 make a message, 16,385 close with 1008", async () => {
  const messages: number[] = [];
  const { server, closes } = await start({ message: (_ws, m) => void messages.push(typeof m === "string" ? m.length : m.length) });
  try {
    const client = await handshake(server.port);
    const heapBefore = heapHeld();
    client.socket.write(oneByteFragments(0, 16_000, false));
    // Frames are read in order: the pong says every fragment before it was taken.
    client.socket.write(ping("after"));
    assert.ok(await until(client, () => client.parser.frames.some((f) => f.opcode === OP.PONG)));
    const grown = heapHeld() - heapBefore;
    // 16 KB of payload; a typed array per fragment would be ~3.5 MB.
    assert.ok(grown < 1024 * 1024, `16,000 fragments held ${grown} bytes of heap`);
    client.socket.write(oneByteFragments(16_000, 16_384, true));
    assert.ok(await waitFor(() => messages.length === 1));
    assert.equal(messages, [16_384], "16,384 fragments: one message");

    const over = await handshake(server.port);
    over.socket.write(oneByteFragments(0, 16_385, true));
    assert.ok(await until(over, () => over.isEnded()), "closed");
    assert.equal((await eventsOf(over.parser.frames)).map((e) => (e.type === "close" ? e.code : e.type)), [1008]);
    assert.equal(messages, [16_384], "the 16,385-fragment message was not delivered");
    assert.ok(await waitFor(() => closes.length === 1));
    assert.equal(closes, [[1, 1008]]);
    for (const o of [client, over]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a ping flood from a client that never reads: pongs owed are limited (1008), the server queues little for it", async () => {
  let mostQueued = 0;
  const { server, sockets, closes } = await start({ ping: (ws) => void (mostQueued = Math.max(mostQueued, ws.getBufferedAmount())) });
  try {
    const client = await neverReading(server.port);
    assert.ok(await waitFor(() => sockets.length === 1));
    const pings = Buffer.concat(Array.from({ length: 8192 }, () => ping(new Uint8Array(125)))); // 1 MiB
    let written = 0;
    // Up to 64 MiB of pings (half a million), until the server closes.
    while (!client.isEnded() && written < 64 * 1024 * 1024) {
      if (client.socket.writableLength > 4 * 1024 * 1024) {
        await sleep(5);
        continue;
      }
      client.socket.write(pings);
      written += pings.length;
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(await waitFor(() => closes.length === 1), "closed");
    assert.equal(closes, [[0, 1008]]);
    // 64 pongs of 127 bytes, and what one read's pings add past the pause: not megabytes.
    assert.ok(mostQueued < 256 * 1024, `${mostQueued} bytes queued for it`);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("memory budget: five subscribers that never read are closed (closeOnBackpressureLimit), the publisher and a subscriber that reads are not", async () => {
  const message = new Uint8Array(16 * 1024).fill(7);
  const published: number[] = [];
  const { server, sockets, closes } = await start({
    memoryBudget: 1024 * 1024,
    closeOnBackpressureLimit: true,
    open: (ws) => {
      sockets.push(ws);
      ws.subscribe("news");
    },
    message: (ws, m) => void published.push(ws.publish("news", m)),
  });
  try {
    const slow: Opened[] = [];
    for (let i = 0; i < 5; i++) slow.push(await neverReading(server.port));
    const reader = await handshake(server.port);
    const publisher = await handshake(server.port);
    assert.ok(await waitFor(() => sockets.length === 7));
    const publisherWs = sockets[6];
    publisherWs.unsubscribe("news");
    // 1,000 messages of 16 KiB: 16 MB to each subscriber, past what the kernel holds for one that never reads.
    const count = 1000;
    for (let i = 0; i < count && !publisher.isEnded(); i++) {
      publisher.socket.write(frame({ opcode: OP.BINARY, payload: message }));
      while (publisher.socket.writableLength > 1024 * 1024 && !publisher.isEnded()) await sleep(5);
    }
    assert.ok(await until(reader, () => reader.parser.frames.length >= count, 10_000), `the reader got ${reader.parser.frames.length} of ${count}`);
    assert.equal(closes.map(([index]) => index).sort(), [0, 1, 2, 3, 4], "the five slow subscribers were closed");
    assert.is(published.length, count, "every message reached the server");
    assert.is(reader.parser.frames.filter((f) => f.opcode === OP.BINARY && f.payload.length === message.length).length, count);
    assert.ok(publisherWs.readyState === 1 && sockets[5].readyState === 1, "the publisher and the reader are open");
    assert.ok(server.websockets!.budget.used < 1024 * 1024, "the budget is not full");
    for (const o of [...slow, reader, publisher]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

/** A plain GET to the pool: "threadId bytesTheBudgetHolds". */
function budgetSeen(port: number): Promise<[string, number]> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => {
        const [thread, used] = body.split(" ");
        resolve([thread, Number(used)]);
      });
    }).on("error", reject);
  });
}

test("workers: the process's budget is one for every thread: a message being assembled in one is seen by all", async () => {
  const pool = await serve({
    host: "127.0.0.1", port: 0, workers: 2, handler: () => {},
    entry: new URL("./fixtures/ws-budget-boot.mjs", import.meta.url),
  });
  try {
    const client = await handshake(pool.port);
    // 100 KB of a message that is not finished: held by the thread that read it.
    client.socket.write(frame({ opcode: OP.BINARY, payload: new Uint8Array(100_000), fin: false }));
    client.socket.write(ping());
    assert.ok(await until(client, () => client.parser.frames.some((f) => f.opcode === OP.PONG)));
    const seen = new Map<string, number>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const [thread, used] = await budgetSeen(pool.port);
      seen.set(thread, used);
    }
    assert.is(seen.size, 2, "both threads answered");
    for (const [thread, used] of seen) assert.ok(used >= 100_000, `thread ${thread} sees ${used} bytes held`);
    client.socket.destroy();
  } finally {
    await pool.close();
  }
});

test("behind zlib: reading pauses while a message is inflated, so the messages sent meanwhile wait in the kernel, not in the server", async () => {
  let count = 0;
  let inBurst = false;
  let burst = 0;
  const { server } = await start({
    perMessageDeflate: true,
    message: (_ws, m) => {
      count++;
      if (typeof m !== "string" && m.length > 1_000_000) {
        // What is delivered in the same turn as the inflated message had waited behind it.
        inBurst = true;
        setImmediate(() => (inBurst = false));
      } else if (inBurst) burst += typeof m === "string" ? m.length : m.length;
    },
  });
  try {
    const client = await handshake(server.port, { extensions: "permessage-deflate" });
    const plain = frame({ opcode: OP.BINARY, payload: new Uint8Array(64 * 1024) });
    // 15 MB of zeros (tens of milliseconds of zlib), then 25 MB of messages that need none.
    client.socket.write(frame({ opcode: OP.BINARY, rsv: 4, payload: deflateAlone(new Uint8Array(15_000_000)) }));
    for (let i = 0; i < 400; i++) client.socket.write(plain);
    assert.ok(await waitFor(() => count === 401, 10_000), `${count} of 401 messages`);
    // One read (the receive region) came in while zlib worked, and one after: not megabytes.
    assert.ok(burst < 1024 * 1024, `${burst} bytes waited behind zlib`);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test.run();
