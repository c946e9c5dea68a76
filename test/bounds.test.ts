// Bounded by design (SECURITY.md, "Deadlines and backpressure"): what a client
// that never reads, never finishes or never leaves can cost, each with the
// figure it must hold. Timeouts are small through options so that each test
// takes about a second.
import { suite, assert } from "./support/uvu.ts";
import type { Socket } from "node:net";
import { serve, type Server, type ServeOptions } from "../src/index.ts";
import { open, readResponses, sleep } from "./security/wire.ts";

const test = suite("bounds");

/** Past this many bytes held for one connection, it stops reading (the server's high-water mark). */
const HIGH_WATER = 1 << 20;
/** A bound on a hang, not a measure of speed: far beyond the sub-second deadlines here, far under the defaults. */
const PATIENCE = 4000;

async function withServer(options: ServeOptions, body: (server: Server) => Promise<void>): Promise<void> {
  const server = await serve({ port: 0, host: "127.0.0.1", ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** Collects what a socket receives; `closedAt` is when it closed (ms after `since`), or -1. */
function watch(socket: Socket, since = Date.now()) {
  const state = { chunks: [] as Buffer[], closedAt: -1, closed: new Promise<void>((resolve) => socket.once("close", () => resolve())) };
  socket.on("data", (chunk: Buffer) => state.chunks.push(chunk));
  socket.on("error", () => {});
  void state.closed.then(() => (state.closedAt = Date.now() - since));
  return state;
}

/** Resolves true once `condition` holds (checked every 20 ms), false after `ms`. */
async function until(condition: () => boolean, ms = PATIENCE): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

test("a client that pipelines and never reads: the server stops reading, and holds under the high-water mark", async () => {
  const BODY = Buffer.alloc(64 << 10, 0x61);
  const REQUESTS = 2000;
  let dispatched = 0;
  await withServer({ handler: (_req, res) => (dispatched++, res.end(BODY)) }, async (server) => {
    const socket = await open(server.port);
    socket.pause();
    const seen = watch(socket);
    socket.write(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(REQUESTS)));
    // Dispatching stops once the kernel's buffers and the server's high-water mark are full.
    let last = -1;
    await until(() => {
      const settled = dispatched === last && dispatched > 0;
      last = dispatched;
      return settled;
    });
    await sleep(200);
    const held = server.heldBytes;
    console.log(`  never-reading pipeliner: ${dispatched} of ${REQUESTS} dispatched, ${(held / 1024).toFixed(0)} KiB held by the server`);
    // Before: all 2,000 answered at once, 125 MiB; the kernel's socket buffers take a few MiB at most.
    assert.ok(dispatched * BODY.length < 24 << 20, `${dispatched} responses of 64 KiB dispatched to a client that reads nothing`);
    assert.ok(held <= HIGH_WATER + BODY.length + (64 << 10), `${held} bytes held: over the high-water mark plus one response`);
    // Once it reads, every request is answered, in order.
    socket.resume();
    const received = () => seen.chunks.reduce((n, chunk) => n + chunk.length, 0);
    let before = -1;
    await until(() => {
      const settled = received() === before && received() > REQUESTS * BODY.length;
      before = received();
      return settled;
    }, 20_000);
    const { responses } = readResponses(Buffer.concat(seen.chunks), { closed: false });
    assert.is(responses.length, REQUESTS);
    assert.ok(responses.every((r) => r.status === 200 && r.body.length === BODY.length));
    assert.is(server.heldBytes, 0, "nothing held once all is sent");
    socket.destroy();
  });
});

test("a head that starts in the same read as the previous request, then stalls: 408 at the headers deadline", async () => {
  const timeouts = { headers: 300, request: 10_000, keepAlive: 10_000 };
  await withServer({ timeouts, handler: (_req, res) => res.end("ok") }, async (server) => {
    const socket = await open(server.port);
    const seen = watch(socket);
    socket.write("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n");
    await Promise.race([seen.closed, sleep(PATIENCE)]);
    assert.ok(seen.closedAt >= 0, "closed (before: never, the half head had no deadline)");
    // The deadline plus a sweep (every 150 ms here) and room for a busy machine.
    assert.ok(seen.closedAt >= timeouts.headers - 50 && seen.closedAt < timeouts.headers + 700, `closed after ${seen.closedAt} ms`);
    const { responses } = readResponses(Buffer.concat(seen.chunks));
    assert.equal(responses.map((r) => r.status), [200, 408]);
  });
});

test("a body still trickling after the response: closed at the body's minimum-rate deadline", async () => {
  // 300 ms, plus 1 ms for each byte at 1,000 bytes/s: a byte every 50 ms falls behind at once.
  const timeouts = { body: 300, bodyMinRate: 1000, headers: 10_000, request: 10_000, keepAlive: 10_000 };
  await withServer({ timeouts, handler: (_req, res) => res.end("early") }, async (server) => {
    const socket = await open(server.port);
    const since = Date.now();
    const seen = watch(socket, since);
    socket.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nxxxxxxxxxx");
    while (seen.closedAt < 0 && Date.now() - since < PATIENCE) {
      socket.write("x");
      await sleep(50);
    }
    assert.ok(seen.closedAt >= 0, "closed (before: never, the response had ended)");
    assert.ok(seen.closedAt >= timeouts.body - 50 && seen.closedAt < timeouts.body + 900, `closed after ${seen.closedAt} ms`);
    const { responses } = readResponses(Buffer.concat(seen.chunks));
    assert.equal(responses.map((r) => r.body.toString()), ["early"]);
  });
});

test("an upgrade hook slower than the body deadline: a bodiless request has no body to time, its 101 goes out", async () => {
  // Sweeps every 50 ms here; the hook answers after several of them.
  const timeouts = { body: 100, bodyMinRate: 1000, headers: 10_000, request: 10_000, keepAlive: 10_000 };
  await withServer({
    timeouts,
    handler: (_req, res) => res.end("plain"),
    upgrade: async (_req, res) => {
      await sleep(600);
      if (!res.finished) res.upgrade().end();
    },
  }, async (server) => {
    const socket = await open(server.port);
    const seen = watch(socket);
    socket.write("GET /up HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n");
    await until(() => Buffer.concat(seen.chunks).includes("\r\n\r\n"));
    // Before: the upgrade request stayed the connection's current one, and the sweep timed its (absent) body: 408.
    assert.match(Buffer.concat(seen.chunks).toString("latin1"), /^HTTP\/1\.1 101 /);
  });
});

test("a client that never reads a large response: closed at the write deadline", async () => {
  const timeouts = { write: 300, request: 10_000, keepAlive: 10_000 };
  await withServer({ timeouts, handler: (_req, res) => res.end(Buffer.alloc(32 << 20)) }, async (server) => {
    const socket = await open(server.port);
    socket.pause();
    socket.on("error", () => {});
    const since = Date.now();
    socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    // The client reads nothing, so the server's close is seen on the server's side.
    const gone = await until(() => server.connectionCount === 0);
    const after = Date.now() - since;
    assert.ok(gone, "closed (before: never, the response had ended)");
    assert.ok(after >= timeouts.write - 50 && after < timeouts.write + 900, `closed after ${after} ms`);
    socket.destroy();
  });
});

test("maxConnections filled by slowloris sockets: a fresh client is served within 1 s, idle ones go first, then the slowest head", async () => {
  const MAX = 50;
  const timeouts = { headers: 10_000, keepAlive: 10_000 };
  await withServer({ limits: { maxConnections: MAX }, timeouts, handler: (_req, res) => res.end("fresh") }, async (server) => {
    const idle = await open(server.port);
    const idleSeen = watch(idle);
    idle.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.ok(await until(() => idleSeen.chunks.length > 0), "the keep-alive client was answered");
    const slow: { socket: Socket; seen: ReturnType<typeof watch> }[] = [];
    for (let i = 0; i < MAX - 1; i++) {
      const socket = await open(server.port);
      slow.push({ socket, seen: watch(socket) });
      socket.write("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    }
    assert.ok(await until(() => server.connectionCount === MAX), `${server.connectionCount} of ${MAX} open`);
    const drip = setInterval(() => {
      for (const { socket } of slow) if (!socket.destroyed) socket.write("a");
    }, 200);
    try {
      const fresh = async (): Promise<number> => {
        const socket = await open(server.port);
        const started = Date.now();
        const seen = watch(socket);
        socket.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        await Promise.race([seen.closed, sleep(PATIENCE)]);
        const { responses } = readResponses(Buffer.concat(seen.chunks));
        assert.equal(responses.map((r) => r.body.toString()), ["fresh"], "the fresh client is answered (before: reset)");
        return Date.now() - started;
      };
      const first = await fresh();
      assert.ok(first < 1000, `first fresh client answered after ${first} ms`);
      assert.ok(await until(() => idleSeen.closedAt >= 0, 1000), "the idle keep-alive connection went first");
      assert.ok(slow.every(({ seen }) => seen.closedAt < 0), "no slowloris socket was closed for it");
      // The fresh client has gone: one more slowloris socket fills the table again, so there is no idle one left.
      const refill = await open(server.port);
      slow.push({ socket: refill, seen: watch(refill) });
      refill.write("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
      assert.ok(await until(() => server.connectionCount === MAX), `${server.connectionCount} of ${MAX} open`);
      await sleep(200); // until its head is read: a connection that has sent nothing yet is idle, and would go first
      const second = await fresh();
      assert.ok(second < 1000, `second fresh client answered after ${second} ms`);
      assert.ok(await until(() => slow[0].seen.closedAt >= 0, 1000), "the slowest head (the oldest) went next");
      assert.ok(slow.slice(1).every(({ seen }) => seen.closedAt < 0), "only that one");
    } finally {
      clearInterval(drip);
      idle.destroy();
      for (const { socket } of slow) socket.destroy();
    }
  });
});

test.run();
