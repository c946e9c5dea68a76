// Publishing to many sockets (hub.ts, http/fanout.ts): the subscribers whose
// output is empty get the frame in one crossing into the shim, the others by
// their own send. Each subscriber must still see every message in order with
// its other writes, a slow one must be charged for what it is owed and closed
// by its own limit without holding the others back, and a permessage-deflate
// subscriber gets its own compressed frame. The server runs in this process;
// the clients are raw sockets (test/support/ws-frames.ts).
import { suite, assert } from "./support/uvu.ts";
import { serve, SEND_QUEUED, type Server, type WebSocket, type WebSocketOptions } from "../src/index.ts";
import { OP, eventsOf, handshake, text, until, ClientInflater, type Opened } from "./support/ws-frames.ts";

const test = suite("websocket publish");
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A server whose sockets the test holds, in order of opening, each subscribed to "t" (`echo`: its messages go to everyone, after a reply of its own). */
async function start(options: Partial<WebSocketOptions> = {}): Promise<{ server: Server; sockets: WebSocket<unknown>[] }> {
  const sockets: WebSocket<unknown>[] = [];
  const server: Server = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("plain"),
    websocket: {
      open: (ws) => {
        sockets.push(ws);
        ws.subscribe("t");
      },
      message: (ws, message) => {
        ws.send(`reply to ${Buffer.from(message).toString()}`);
        server.publish("t", Buffer.from(message).toString());
      },
      ...options,
    },
  });
  return { server, sockets };
}

async function clients(server: Server, sockets: WebSocket<unknown>[], n: number, extensions?: string): Promise<Opened[]> {
  const opened: Opened[] = [];
  for (let i = 0; i < n; i++) opened.push(await handshake(server.port, extensions === undefined ? {} : { extensions }));
  for (let i = 0; i < 300 && sockets.length < n; i++) await sleep(10);
  assert.is(sockets.length, n, "all open");
  return opened;
}

/** The sequence numbers of the binary messages a client has read (each message's first 4 bytes). */
function sequence(opened: Opened): number[] {
  return opened.parser.frames.filter((f) => f.opcode === OP.BINARY).map((f) => new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0));
}

test("a subscriber that stops reading is owed the rest of a publish, charged for it, and closed by its own limit; the others get every message in order", async () => {
  const LIMIT = 512 * 1024;
  const { server, sockets } = await start({ maxBackpressure: LIMIT, closeOnBackpressureLimit: true, memoryBudget: 64 * 1024 * 1024 });
  try {
    const [slow, ...readers] = await clients(server, sockets, 3);
    slow.socket.pause(); // reads nothing from now on: the kernel's buffers fill
    const [slowWs] = sockets;
    const message = new Uint8Array(64 * 1024);
    const frameLength = message.length + 4; // a 16-bit length: 4 bytes of head
    let firstOwed = -1;
    let published = 0;
    for (; published < 2000 && slowWs.readyState === 1; published++) {
      new DataView(message.buffer).setUint32(0, published);
      const before = slowWs.getBufferedAmount();
      const count = server.publish("t", message);
      assert.is(count, slowWs.readyState === 1 ? 3 : 2, "all three were sent it or owe it, but the slow one once it is closed");
      await null; // the turn's end: the batch is sent
      const owed = slowWs.getBufferedAmount();
      if (before === 0 && owed > 0 && firstOwed < 0) {
        firstOwed = owed;
        assert.ok(owed <= frameLength, `the kernel took part of the frame, the rest is owed (${owed} of ${frameLength})`);
        assert.is(slowWs.memory.held, owed, "what is owed is charged to the slow subscriber");
      }
      await sleep(0); // the readers read
    }
    assert.ok(firstOwed > 0, "the slow subscriber's send was short once its buffers were full");
    assert.is(slowWs.readyState, 3, `closed by its own limit after ${published} publishes`);
    assert.is(slowWs.memory.held, 0, "it gave back what it held");
    for (const ws of sockets.slice(1)) assert.is(ws.readyState, 1, "the readers are open");
    const expected = Array.from({ length: published }, (_, i) => i);
    for (const reader of readers) {
      assert.ok(await until(reader, () => sequence(reader).length === published, 5000), "every message arrives");
      assert.equal(sequence(reader), expected, "in order");
    }
    assert.is(server.publish("t", new Uint8Array(8)), 2, "the closed one has left the topic");
    for (const o of [slow, ...readers]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a subscriber with output queued gets a publish after it; one publishing from its own message gets its reply first", async () => {
  const { server, sockets } = await start({ maxBackpressure: 64 * 1024 * 1024 });
  try {
    const [held, free] = await clients(server, sockets, 2);
    const [heldWs] = sockets;
    held.socket.pause();
    const big = "q".repeat(256 * 1024);
    let sends = 0;
    while (heldWs.getBufferedAmount() < 4 * 1024 * 1024 && sends < 200) {
      heldWs.send(big);
      sends++;
    }
    assert.is(heldWs.send("last queued"), SEND_QUEUED, "its output is queued");
    // Published once the client reads again: the kernel has room then, but the queue still holds megabytes.
    const published = new Promise<number>((resolve) => held.socket.once("data", () => {
      assert.ok(heldWs.getBufferedAmount() > 0, "still queued");
      resolve(server.publish("t", "published"));
    }));
    held.socket.resume();
    assert.is(await published, 2);
    assert.ok(await until(held, () => held.parser.frames.length === sends + 2, 5000));
    const heldTexts = (await eventsOf(held.parser.frames)).map((e) => (e.type === "text" ? e.data : e.type));
    assert.equal(heldTexts.slice(-2), ["last queued", "published"], "after what was queued before it");
    assert.ok(heldTexts.slice(0, sends).every((t) => t === big));

    // The publisher's own reply is corked when it publishes: the publish must not overtake it.
    free.socket.write(text("hello"));
    assert.ok(await until(free, () => free.parser.frames.length === 3));
    const freeTexts = (await eventsOf(free.parser.frames)).map((e) => (e.type === "text" ? e.data : e.type));
    assert.equal(freeTexts, ["published", "reply to hello", "hello"]);
    assert.ok(await until(held, () => held.parser.frames.length === sends + 3));
    for (const o of [held, free]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test("publishes of one turn leave together, each subscriber's in order with its own sends, its exclusion, a new subscriber and a close", async () => {
  const { server, sockets } = await start();
  try {
    const opened = await clients(server, sockets, 4);
    const [own, excluded, late, closing] = sockets;
    late.unsubscribe("t");
    server.publish("t", "p1");
    assert.ok(own.send("own") > 0, "its own send goes now, after p1");
    server.publish("t", "p2");
    excluded.publish("t", "p3"); // to everyone but itself
    late.subscribe("t"); // from p4 on
    server.publish("t", "p4");
    closing.close(); // in the batch: it leaves, the others are not held up
    server.publish("t", "p5");
    const texts = async (o: Opened): Promise<string[]> => (await eventsOf(o.parser.frames)).flatMap((e) => (e.type === "text" ? [e.data] : []));
    const expected = [
      ["p1", "own", "p2", "p3", "p4", "p5"],
      ["p1", "p2", "p4", "p5"],
      ["p4", "p5"],
    ];
    for (let i = 0; i < 3; i++) {
      assert.ok(await until(opened[i], () => opened[i].parser.frames.length === expected[i].length));
      assert.equal(await texts(opened[i]), expected[i]);
    }
    assert.equal(await texts(opened[3]), ["p1", "p2", "p3", "p4"].slice(0, (await texts(opened[3])).length), "the closed one got a prefix, in order");
    for (const o of opened) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a subscriber whose send fails is closed (1006); the others get the message", async () => {
  const closes: number[] = [];
  const { server, sockets } = await start({ close: (_ws, code) => void closes.push(code) });
  try {
    const [gone, ...rest] = await clients(server, sockets, 3);
    gone.socket.resetAndDestroy(); // a reset, before the server's loop has heard of it: its next send fails
    assert.is(server.publish("t", "after the reset"), 3, "all three are in the turn's batch");
    await null; // the turn's end: the batch is sent, and the third's send fails (its socket closes once the batch is placed)
    for (let i = 0; i < 300 && sockets[0].readyState !== 3; i++) await sleep(10);
    assert.is(sockets[0].readyState, 3, "closed");
    assert.equal(closes, [1006]);
    for (const o of rest) {
      assert.ok(await until(o, () => o.parser.frames.length === 1));
      assert.equal(await eventsOf(o.parser.frames), [{ type: "text", data: "after the reset" }]);
      o.socket.destroy();
    }
  } finally {
    await server.close();
  }
});

test("permessage-deflate subscribers among plain ones: each gets its own compressed frame, the others the shared one", async () => {
  const { server, sockets } = await start({ perMessageDeflate: { threshold: 16 } });
  try {
    const plain = await clients(server, sockets, 2);
    const compressing = await handshake(server.port, { extensions: "permessage-deflate" });
    const last = await handshake(server.port);
    for (let i = 0; i < 300 && sockets.length < 4; i++) await sleep(10);
    const message = "a message worth compressing ".repeat(20);
    assert.is(server.publish("t", message), 4);
    assert.is(server.publish("t", "short"), 4, "under the threshold: sent as it is to all");
    assert.is(server.publish("t", message, { compress: false }), 4, "compress: false: the shared frame for all");
    for (const o of [...plain, last, compressing]) assert.ok(await until(o, () => o.parser.frames.length === 3));
    for (const o of [...plain, last]) {
      assert.ok(o.parser.frames.every((f) => f.rsv === 0), "plain frames");
      assert.equal(await eventsOf(o.parser.frames), [message, "short", message].map((data) => ({ type: "text", data })));
    }
    assert.equal(compressing.parser.frames.map((f) => f.rsv), [4, 0, 0], "compressed for the one that negotiated it");
    const inflater = new ClientInflater();
    assert.equal(await eventsOf(compressing.parser.frames, inflater), [message, "short", message].map((data) => ({ type: "text", data })));
    inflater.close();
    for (const o of [...plain, compressing, last]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a close handler that tells a room who left, run for a subscriber whose send failed, reaches each member of the room once, in order", async () => {
  const sockets: WebSocket<unknown>[] = [];
  const server: Server = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("plain"),
    websocket: {
      open: (ws) => void sockets.push(ws),
      close: () => void server.publish("room", "someone left"),
    },
  });
  try {
    const [gone, both, roomOnly] = await clients(server, sockets, 3);
    const [goneWs, bothWs, roomOnlyWs] = sockets;
    for (const ws of [goneWs, bothWs]) ws.subscribe("news");
    bothWs.subscribe("sports");
    for (const ws of sockets) ws.subscribe("room");
    gone.socket.resetAndDestroy(); // its next send fails
    server.publish("news", "n1");
    server.publish("sports", "s1"); // other subscribers: the news batch is sent now, and fails for the one that is gone
    const texts = async (o: Opened): Promise<string[]> => (await eventsOf(o.parser.frames)).flatMap((e) => (e.type === "text" ? [e.data] : []));
    assert.ok(await until(both, () => both.parser.frames.length === 3));
    assert.equal(await texts(both), ["n1", "s1", "someone left"]);
    assert.ok(await until(roomOnly, () => roomOnly.parser.frames.length === 1));
    assert.equal(await texts(roomOnly), ["someone left"]);
    roomOnlyWs.send("its own");
    assert.ok(await until(roomOnly, () => roomOnly.parser.frames.length === 2));
    await sleep(50);
    assert.equal(await texts(roomOnly), ["someone left", "its own"], "nothing of another topic, nothing twice");
    assert.equal(await texts(both), ["n1", "s1", "someone left"]);
    assert.is(goneWs.readyState, 3);
    for (const o of [both, roomOnly]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test("16 publishes a turn to a client that stopped reading: it never owes more than maxBackpressure, and is closed by it", async () => {
  const LIMIT = 2048;
  const { server, sockets } = await start({ maxBackpressure: LIMIT, closeOnBackpressureLimit: true });
  try {
    const [slow, reader] = await clients(server, sockets, 2);
    slow.socket.pause();
    const [slowWs] = sockets;
    const message = new Uint8Array(1000);
    let published = 0;
    for (let turn = 0; turn < 2000 && slowWs.readyState === 1; turn++) {
      for (let k = 0; k < 16; k++, published++) {
        new DataView(message.buffer).setUint32(0, published);
        server.publish("t", message);
        if (slowWs.readyState === 1) assert.ok(slowWs.getBufferedAmount() <= LIMIT, `owes ${slowWs.getBufferedAmount()} of at most ${LIMIT}`);
      }
      await null; // the turn's end: the batch is sent
      if (slowWs.readyState === 1) assert.ok(slowWs.getBufferedAmount() <= LIMIT, `owes ${slowWs.getBufferedAmount()} of at most ${LIMIT}`);
      await sleep(0);
    }
    assert.is(slowWs.readyState, 3, "closed by its limit");
    assert.is(sockets[1].readyState, 1);
    const expected = Array.from({ length: published }, (_, i) => i);
    assert.ok(await until(reader, () => sequence(reader).length === published, 5000), "the reader gets every message");
    assert.equal(sequence(reader), expected, "in order");
    for (const o of [slow, reader]) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a publish waits in its subscribers' output until the turn's end: buffered, not idle, so closeIdleConnections() in the same turn spares them", async () => {
  const { server, sockets } = await start();
  try {
    const opened = await clients(server, sockets, 2);
    server.publish("t", "first");
    server.publish("t", "second");
    for (const ws of sockets) assert.is(ws.getBufferedAmount(), 7 + 8, "both frames wait (heads of 2 bytes)");
    server.closeIdleConnections();
    for (const o of opened) {
      assert.ok(await until(o, () => o.parser.frames.length === 2));
      assert.equal(await eventsOf(o.parser.frames), ["first", "second"].map((data) => ({ type: "text", data })));
    }
    for (const ws of sockets) assert.is(ws.readyState, 1, "open");
    for (const o of opened) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test("the trace shows a publish's send to each subscriber", async () => {
  const lines: string[] = [];
  const sockets: WebSocket<unknown>[] = [];
  const server = await serve({
    host: "127.0.0.1", port: 0, trace: (line) => lines.push(line), handler: (_req, res) => res.end("plain"),
    websocket: {
      open: (ws) => {
        sockets.push(ws);
        ws.subscribe("t");
      },
    },
  });
  try {
    const opened = await clients(server, sockets, 2);
    server.publish("t", "traced publish");
    for (const o of opened) assert.ok(await until(o, () => o.parser.frames.length === 1));
    assert.is(lines.filter((line) => line.startsWith("sendto(") && line.includes("traced publish")).length, 2, lines.join("\n"));
    for (const o of opened) o.socket.destroy();
  } finally {
    await server.close();
  }
});

test.run();
