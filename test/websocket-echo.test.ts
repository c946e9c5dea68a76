// Sending back the message being delivered (an echo): its new frame head is
// written in the bytes of the head it came with and both leave from the
// receive region. What it must keep: every echo whole and in order, whatever
// the sizes and however many frames one read holds; a message sent twice, or
// to another socket too, or as text after binary, each with its own head;
// heads with a non-minimal length encoding; and the large messages (64 KiB and
// over) that go the ordinary way. The clients are raw sockets.
import { suite, assert } from "./support/uvu.ts";
import { serve, type WebSocket } from "../src/index.ts";
import { connect } from "node:net";
import { OP, ClientInflater, FrameParser, binary, frame, eventsOf, handshake, until, writeAlone, type Opened } from "./support/ws-frames.ts";

const test = suite("websocket echo");

const filled = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A server whose message callback is `onMessage`, given the sockets opened so far. */
async function start(onMessage: (ws: WebSocket<unknown>, message: Uint8Array, sockets: WebSocket<unknown>[]) => void) {
  const sockets: WebSocket<unknown>[] = [];
  return serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("plain"),
    websocket: {
      open: (ws) => void sockets.push(ws),
      message: (ws, message) => onMessage(ws, message as Uint8Array, sockets),
      maxPayloadLength: 1 << 20,
    },
  });
}

async function binaries(opened: Opened, count: number): Promise<string[]> {
  assert.ok(await until(opened, () => opened.parser.frames.length >= count, 5000), `${count} frames arrive`);
  return (await eventsOf(opened.parser.frames)).map((e) => (e.type === "binary" ? e.data : `${e.type}:${JSON.stringify(e)}`));
}

test("messages of every head size, many in one write, each echoed whole and in order", async () => {
  const server = await start((ws, message) => void ws.send(message));
  try {
    const client = await handshake(server.port);
    const sizes = [0, 1, 125, 126, 1000, 1025, 16384, 65535, 65536, 70000];
    const messages = sizes.map((n, i) => filled(n, i));
    client.socket.write(Buffer.concat(messages.map((m) => binary(m))));
    assert.equal(await binaries(client, sizes.length), messages.map(hex));
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a message sent twice, as text after binary, and to another socket: each frame has its own head", async () => {
  const server = await start((ws, message, sockets) => {
    ws.send(message);
    ws.send(message, { binary: false });
    const other = sockets.find((s) => s !== ws);
    other?.send(message);
  });
  try {
    const [a, b] = [await handshake(server.port), await handshake(server.port)];
    const word = new TextEncoder().encode("echo".repeat(40)); // 160 bytes of UTF-8: a 4-byte head
    a.socket.write(Buffer.concat([binary(word), binary(filled(3, 9))]));
    assert.ok(await until(a, () => a.parser.frames.length >= 4, 5000));
    const small = hex(filled(3, 9));
    assert.equal(a.parser.frames.map((f) => [f.opcode, hex(f.payload)]), [
      [OP.BINARY, hex(word)], [OP.TEXT, hex(word)], [OP.BINARY, small], [OP.TEXT, small],
    ]);
    assert.equal(await binaries(b, 2), [hex(word), small]);
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    await server.close();
  }
});

test("heads in a longer length encoding than needed: the echo's shorter head fits before the payload", async () => {
  const server = await start((ws, message) => void ws.send(message));
  try {
    const client = await handshake(server.port);
    const small = filled(10, 1), medium = filled(300, 2);
    client.socket.write(Buffer.concat([
      frame({ opcode: OP.BINARY, payload: small, lengthBits: 64 }),
      frame({ opcode: OP.BINARY, payload: medium, lengthBits: 64 }),
      frame({ opcode: OP.BINARY, payload: small, lengthBits: 16 }),
    ]));
    assert.equal(await binaries(client, 3), [hex(small), hex(medium), hex(small)]);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});
test("reading the callbacks of a socket's tunnel leaves its events with the socket", async () => {
  const seen: boolean[] = [];
  const server = await start((ws, message) => {
    const { tunnel } = ws;
    seen.push(typeof tunnel.ondata === "function" && typeof tunnel.onclose === "function" && tunnel.onshutdown === null);
    ws.send(message);
  });
  try {
    const client = await handshake(server.port);
    client.socket.write(binary(filled(5, 1)));
    assert.equal(await binaries(client, 1), [hex(filled(5, 1))]);
    client.socket.write(binary(filled(6, 2)));
    assert.equal(await binaries(client, 2), [hex(filled(5, 1)), hex(filled(6, 2))], "the second message still reaches the socket");
    assert.equal(seen, [true, true], "the callbacks read as functions");
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("an echo while the kernel refuses more (EAGAIN), with another socket read in the same turn, arrives whole", async () => {
  const server = await start((ws, message) => void ws.send(message));
  try {
    const [slow, fast] = [await handshake(server.port), await handshake(server.port)];
    slow.socket.pause(); // reads nothing: the server's sends to it are refused and queued
    const big = Array.from({ length: 24 }, (_, i) => filled(60000, i));
    const small = Array.from({ length: 24 }, (_, i) => filled(100 + i, i));
    for (let i = 0; i < big.length; i++) {
      slow.socket.write(binary(big[i]));
      fast.socket.write(binary(small[i]));
    }
    assert.equal(await binaries(fast, small.length), small.map(hex));
    slow.socket.resume();
    assert.equal(await binaries(slow, big.length), big.map(hex));
    slow.socket.destroy();
    fast.socket.destroy();
  } finally {
    await server.close();
  }
});

test("ws.cork around a send to another socket and the echo: both get the message", async () => {
  const server = await start((ws, message, sockets) => {
    const other = sockets.find((s) => s !== ws);
    ws.cork(() => {
      other?.send(message);
      ws.send(message);
    });
  });
  try {
    const [a, b] = [await handshake(server.port), await handshake(server.port)];
    const messages = [filled(10, 1), filled(200, 2), filled(5000, 3)];
    a.socket.write(Buffer.concat(messages.map((m) => binary(m))));
    assert.equal(await binaries(a, 3), messages.map(hex));
    assert.equal(await binaries(b, 3), messages.map(hex));
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    await server.close();
  }
});

test("on a socket with permessage-deflate, uncompressed messages are echoed (compressed when large)", async () => {
  const server = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("plain"),
    websocket: { message: (ws, message) => void ws.send(message), perMessageDeflate: true },
  });
  try {
    const client = await handshake(server.port, { extensions: "permessage-deflate" });
    assert.ok((client.headers["sec-websocket-extensions"] ?? "").includes("permessage-deflate"), "negotiated");
    const messages = [filled(20, 1), filled(300, 2), filled(3000, 3)];
    client.socket.write(Buffer.concat(messages.map((m) => binary(m))));
    assert.ok(await until(client, () => client.parser.frames.length >= 3, 5000));
    const inflater = new ClientInflater();
    const events = await eventsOf(client.parser.frames, inflater);
    inflater.close();
    assert.equal(events.map((e) => (e.type === "binary" ? e.data : e.type)), messages.map(hex));
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("frames that arrive with the upgrade request are echoed", async () => {
  const server = await start((ws, message) => void ws.send(message));
  try {
    const messages = [filled(5, 1), filled(130, 2), filled(2000, 3)];
    const socket = connect(server.port, "127.0.0.1");
    const frames = new FrameParser();
    let head: Buffer | null = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      if (head === null) return frames.push(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const rest = head.subarray(end + 4);
      head = null;
      frames.push(rest);
    });
    await new Promise((resolve) => socket.on("connect", resolve));
    socket.write(Buffer.concat([
      Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
      ...messages.map((m) => binary(m)),
    ]));
    const deadline = Date.now() + 5000;
    while (frames.frames.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await eventsOf(frames.frames)).map((e) => (e.type === "binary" ? e.data : e.type)), messages.map(hex));
    socket.destroy();
  } finally {
    await server.close();
  }
});

test("a frame head split across two reads: the echo is whole", async () => {
  const server = await start((ws, message) => void ws.send(message));
  try {
    const client = await handshake(server.port);
    const messages = [filled(300, 1), filled(40, 2), filled(70000, 3)];
    for (const m of messages) {
      const whole = binary(m);
      await writeAlone(client.socket, whole.subarray(0, 3)); // inside the head (and its mask)
      await writeAlone(client.socket, whole.subarray(3));
    }
    assert.equal(await binaries(client, 3), messages.map(hex));
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test.run();
