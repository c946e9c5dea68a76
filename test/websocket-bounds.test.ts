// What a WebSocket client can make the server hold, and for how long: every
// byte held for a connection is counted as it comes and goes (no walk over a
// queue), a fragmented message costs its bytes and not an object per
// fragment, pongs owed are limited, reading pauses while output backs up,
// and the memory budget closes the slow readers, not the clients that read.
// Clients are raw sockets (test/support/ws-frames.ts); the server runs in this
// process, so its heap and its sockets are looked at directly.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { suite, assert } from "./support/uvu.ts";
import { serve, type Server, type WebSocket, type WebSocketOptions } from "../src/index.ts";
import { OP, frame, ping, handshake, until, eventsOf, type Opened } from "./support/ws-frames.ts";

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

test.run();
