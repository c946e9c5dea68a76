// What a send takes from the bytes it is given: an application's own buffer
// as it is at the call, whatever its size and whatever it does with it after;
// a message view relayed inside its callback to a socket of another server
// (whose receive region lies at the same offsets in a memory of its own) as
// exactly its bytes; and a message view kept past its callback, whose bytes
// are another read's by then, not at all (a TypeError). The clients are raw
// sockets; callbacks only record, the asserts run outside them.
import { suite, assert } from "./support/uvu.ts";
import { connect } from "node:net";
import { serve, type WebSocket } from "../src/index.ts";
import { binary, eventsOf, handshake, until, type Opened } from "./support/ws-frames.ts";

const test = suite("websocket views");

const filled = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

async function binaries(opened: Opened, count: number): Promise<string[]> {
  assert.ok(await until(opened, () => opened.parser.frames.length >= count, 5000), `${count} frames arrive`);
  return (await eventsOf(opened.parser.frames)).map((e) => (e.type === "binary" ? e.data : `${e.type}:${JSON.stringify(e)}`));
}

/** An HTTP request with a credential, answered: its bytes stay in `port`'s receive region after. */
function requestWithSecret(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("GET /account HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOP-SECRET-TOKEN\r\nCookie: session=VVVVVVVVVVVVVVVV\r\n\r\n");
    });
    socket.on("data", () => {
      socket.destroy();
      resolve();
    });
  });
}

test("a message relayed inside its callback to a socket of another server arrives as exactly its bytes", async () => {
  let receiver: WebSocket<unknown> | null = null;
  const results: number[] = [];
  const other = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("ok"),
    websocket: { open: (ws) => void (receiver = ws), message: () => {} },
  });
  const relay = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("ok"),
    websocket: { message: (_ws, message) => void results.push(receiver!.send(message as Uint8Array)), maxPayloadLength: 1 << 20 },
  });
  try {
    const listener = await handshake(other.port);
    await requestWithSecret(other.port);
    const sender = await handshake(relay.port);
    const messages = [new Uint8Array(120).fill(0x61), filled(300, 1), filled(3000, 2), filled(40000, 3)];
    for (const m of messages) sender.socket.write(binary(m));
    assert.equal(await binaries(listener, messages.length), messages.map(hex));
    assert.equal(results, messages.map((m) => m.length + (m.length < 126 ? 2 : m.length < 65536 ? 4 : 10)));
    listener.socket.destroy();
    sender.socket.destroy();
  } finally {
    await relay.close();
    await other.close();
  }
});

test("send() takes an application's own bytes as they are at the call, at every size", async () => {
  const sizes = [500, 2000, 40000, 70000];
  const server = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("ok"),
    websocket: {
      message: (ws) => {
        for (const n of sizes) {
          const mine = new Uint8Array(n).fill(1);
          ws.send(mine);
          mine.fill(2);
          ws.send(mine);
        }
      },
    },
  });
  try {
    const client = await handshake(server.port);
    client.socket.write(binary(new Uint8Array(3)));
    // Each frame as its length and the byte values it holds.
    const expected = sizes.flatMap((n) => [`${n}: 1`, `${n}: 2`]);
    assert.ok(await until(client, () => client.parser.frames.length >= expected.length, 5000));
    assert.equal(client.parser.frames.map((f) => `${f.payload.length}: ${[...new Set(f.payload)].join(",")}`), expected);
    client.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a message view kept past its callback is refused when sent, and nobody gets what the region holds by then", async () => {
  let kept: Uint8Array | null = null;
  const errors: unknown[] = [];
  const sockets: WebSocket<unknown>[] = [];
  const server = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("ok"),
    websocket: {
      open: (ws) => void sockets.push(ws),
      message: (ws, message) => {
        if (kept === null) return void (kept = message as Uint8Array);
        // The second client's message: the first client's view, kept, sent to the first client.
        try {
          sockets[0].send(kept);
        } catch (error) {
          errors.push(error);
        }
        ws.send(message); // the message being delivered may still be sent (an echo), and a part of it
        ws.send((message as Uint8Array).subarray(2));
      },
    },
  });
  try {
    const a = await handshake(server.port), b = await handshake(server.port);
    a.socket.write(binary(new TextEncoder().encode("A-secret-AAAAAAAAAAAAAAAA")));
    await new Promise((r) => setTimeout(r, 100));
    const fromB = new TextEncoder().encode("B-secret-BBBBBBBBBBBBBBBB");
    b.socket.write(binary(fromB));
    assert.equal(await binaries(b, 2), [hex(fromB), hex(fromB.subarray(2))]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.parser.frames.map((f) => Buffer.from(f.payload).toString("latin1")), [], "the first client got nothing");
    assert.equal(errors.length, 1);
    assert.instance(errors[0], TypeError);
    assert.match(String(errors[0]), /kept past its callback/);
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    await server.close();
  }
});

test("a message view kept from a callback that threw, whose error handler threw too, is refused when sent later", async () => {
  let kept: Uint8Array | null = null;
  let owner: WebSocket<unknown> | null = null;
  const server = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("ok"),
    onError: () => {
      throw new Error("the error handler fails too");
    },
    websocket: {
      message: (ws, message) => {
        kept ??= message as Uint8Array;
        owner ??= ws;
        throw new Error("the callback fails");
      },
    },
  });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => void uncaught.push(error);
  process.on("uncaughtException", onUncaught);
  try {
    const a = await handshake(server.port), b = await handshake(server.port);
    a.socket.write(binary(filled(40, 1)));
    await until(a, () => kept !== null, 2000);
    await requestWithSecret(server.port);
    let refused: unknown = null;
    try {
      owner!.send(kept!);
    } catch (error) {
      refused = error;
    }
    assert.instance(refused, TypeError);
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    process.off("uncaughtException", onUncaught);
    await server.close();
  }
});

test.run();
