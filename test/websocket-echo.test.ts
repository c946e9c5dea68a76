// Sending back the message being delivered (an echo): its new frame head is
// written in the bytes of the head it came with and both leave from the
// receive region. What it must keep: every echo whole and in order, whatever
// the sizes and however many frames one read holds; a message sent twice, or
// to another socket too, or as text after binary, each with its own head;
// heads with a non-minimal length encoding; and the large messages (64 KiB and
// over) that go the ordinary way. The clients are raw sockets.
import { suite, assert } from "./support/uvu.ts";
import { serve, type WebSocket } from "../src/index.ts";
import { OP, binary, frame, eventsOf, handshake, until, type Opened } from "./support/ws-frames.ts";

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
  const server = await start((ws, message) => {
    const { tunnel } = ws;
    assert.ok(typeof tunnel.ondata === "function" && typeof tunnel.onclose === "function" && tunnel.onshutdown === null);
    ws.send(message);
  });
  try {
    const client = await handshake(server.port);
    client.socket.write(binary(filled(5, 1)));
    assert.equal(await binaries(client, 1), [hex(filled(5, 1))]);
    client.socket.write(binary(filled(6, 2)));
    assert.equal(await binaries(client, 2), [hex(filled(5, 1)), hex(filled(6, 2))], "the second message still reaches the socket");
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test.run();
