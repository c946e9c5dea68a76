// Frames that come with the upgrade request, and bursts larger than one read:
// an echo leaves from the receive region (delivery.ts), so it must have left
// (or been copied) before the next bytes of any socket land there. The bytes
// read with the request reach the WebSocket copied through the region once
// the upgrade hook has returned (reader.ts feed()), the rest as ordinary
// reads; each echo must come back whole and in order across both. The
// clients are raw sockets that write the request and hundreds of KB of
// masked frames in one write, two at once.
import { suite, assert } from "./support/uvu.ts";
import { serve } from "../src/index.ts";
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { FrameParser, binary, eventsOf, handshake, until, type Opened } from "./support/ws-frames.ts";

const test = suite("websocket upgrade burst");

/** Sizes from 1 B to 60 KB (every head length), the same on every run, adding up to at least `total`. */
function sizes(total: number, seed: number): number[] {
  const out: number[] = [];
  let state = seed;
  for (let sum = 0; sum < total; ) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const n = [1, 125, 126, 1000, 4096, 30000, 60000, 65535][state % 8] - (state >> 8) % 100;
    const size = Math.max(1, n);
    out.push(size);
    sum += size;
  }
  return out;
}

const payloads = (total: number, seed: number): Uint8Array[] =>
  sizes(total, seed).map((n, i) => Uint8Array.from({ length: n }, (_, j) => (j * 7 + i * 13 + seed) & 0xff));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

async function echoServer() {
  return serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("plain"),
    websocket: { message: (ws, message) => void ws.send(message), maxPayloadLength: 1 << 20 },
  });
}

/** Opens a socket whose one write holds the upgrade request and `frames`; resolves once `count` frames came back (or 10 s passed). */
function upgradeWith(port: number, frames: Uint8Array, count: number): Promise<{ status: string; echoed: FrameParser; socket: Socket }> {
  const request =
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    const echoed = new FrameParser();
    let head: Buffer | null = Buffer.alloc(0);
    let status = "";
    const timer = setTimeout(() => resolve({ status, echoed, socket }), 10_000);
    const check = (): void => {
      if (echoed.frames.length < count) return;
      clearTimeout(timer);
      resolve({ status, echoed, socket });
    };
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ status, echoed, socket });
    });
    socket.on("data", (chunk: Buffer) => {
      if (head === null) return void (echoed.push(chunk), check());
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      status = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
      const rest = head.subarray(end + 4);
      head = null;
      echoed.push(rest);
      check();
    });
    socket.on("connect", () => socket.write(Buffer.concat([Buffer.from(request, "latin1"), frames])));
  });
}

test("hundreds of KB of frames written with the upgrade request, by two clients at once: every echo whole and in order", async () => {
  const server = await echoServer();
  try {
    const messages = [payloads(400_000, 1), payloads(300_000, 2)];
    const results = await Promise.all(
      messages.map((m) => upgradeWith(server.port, Buffer.concat(m.map((p) => binary(p))), m.length)),
    );
    for (const [i, { status, echoed, socket }] of results.entries()) {
      socket.destroy();
      assert.equal(status, "HTTP/1.1 101 Switching Protocols", `client ${i} upgraded`);
      const got = (await eventsOf(echoed.frames)).map((e) => (e.type === "binary" ? e.data : JSON.stringify(e)));
      assert.equal(got.length, messages[i].length, `client ${i}: every message echoed`);
      assert.ok(got.every((data, j) => data === hex(messages[i][j])), `client ${i}: echoes byte-identical, in order`);
    }
  } finally {
    await server.close();
  }
});

test("a burst larger than one read after the upgrade, from two clients at once: every echo whole and in order", async () => {
  const server = await echoServer();
  try {
    const messages = [payloads(500_000, 3), payloads(450_000, 4)];
    const clients: Opened[] = await Promise.all(messages.map(() => handshake(server.port)));
    clients.forEach((client, i) => client.socket.write(Buffer.concat(messages[i].map((p) => binary(p)))));
    for (const [i, client] of clients.entries()) {
      assert.ok(await until(client, () => client.parser.frames.length >= messages[i].length, 10_000), `client ${i}: every message echoed`);
      const got = (await eventsOf(client.parser.frames)).map((e) => (e.type === "binary" ? e.data : JSON.stringify(e)));
      assert.ok(got.every((data, j) => data === hex(messages[i][j])), `client ${i}: echoes byte-identical, in order`);
      client.socket.destroy();
    }
  } finally {
    await server.close();
  }
});

test.run();
