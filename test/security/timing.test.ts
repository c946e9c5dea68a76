// Time-based attacks against a server with short timeouts: slow headers, slow
// bodies, idle connections, a reader that will not read, and a pipelining flood.
import { suite, assert } from "../support/uvu.ts";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Socket } from "node:net";
import { serve } from "../../src/index.ts";
import { startRecorder, type Recorder } from "./recorder.ts";
import { header, open, readResponses, sleep } from "./wire.ts";

const TIMEOUTS = { headers: 600, request: 800, keepAlive: 500 };
/** The server checks its deadlines every min(1 s, keepAlive/2, headers/2, request/2). */
const SWEEP = Math.min(1000, TIMEOUTS.keepAlive / 2, TIMEOUTS.headers / 2, TIMEOUTS.request / 2);
/**
 * How long a test waits for a close that must come. Only a bound on a hang, not
 * a measure of speed: far beyond these sub-second deadlines on any machine, yet
 * under the server's defaults (5 s keep-alive, 60 s headers, 300 s request),
 * so the deadlines configured here are what closed the connection.
 */
const PATIENCE = 4000;

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** Heap and buffer memory of this process (server and clients), after a full collection. */
function liveBytes(): number {
  collectGarbage();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** Collects what a socket receives; `closedAt` is when it closed (ms since `since`), or -1. */
function watch(socket: Socket, since = Date.now()) {
  const state = { chunks: [] as Buffer[], closedAt: -1, closed: new Promise<void>((resolve) => socket.once("close", () => resolve())) };
  socket.on("data", (chunk: Buffer) => state.chunks.push(chunk));
  socket.on("error", () => {});
  void state.closed.then(() => (state.closedAt = Date.now() - since));
  return state;
}

/** Resolves true when `done` settles within `ms`, false otherwise. */
async function within(ms: number, done: Promise<unknown>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([done.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)))]);
  clearTimeout(timer);
  return result;
}

/** A rejection, if any, must be a 408 that says Connection: close. */
function assertTimeoutAnswer(data: Buffer): void {
  if (data.length === 0) return;
  const { responses } = readResponses(data);
  const last = responses.at(-1)!;
  assert.is(last.status, 408);
  assert.is(header(last, "connection"), "close");
}

const test = suite("security timing");
let recorder: Recorder;

test.before(async () => {
  recorder = await startRecorder({ timeouts: TIMEOUTS });
});
test.after(async () => {
  await recorder.server.close();
});

/**
 * Sends `start` on two connections at once, then `drip` on the first every
 * 50 ms (well inside any per-read timeout) while the second stays silent: the
 * silent one is the baseline, measured in the same run, for when the deadline
 * cuts a connection on this machine now. Returns both once the dripping one
 * is closed, or the silent one is long gone and the dripping one is not.
 */
async function dripBesideSilent(start: string, drip: string) {
  const [dripping, silent] = [await open(recorder.server.port), await open(recorder.server.port)];
  const port = dripping.localPort!;
  for (const s of [dripping, silent]) recorder.forget(s.localPort!);
  const since = Date.now();
  const seen = { dripping: watch(dripping, since), silent: watch(silent, since) };
  dripping.write(start);
  silent.write(start);
  const overdue = () => seen.silent.closedAt >= 0 && Date.now() - since > seen.silent.closedAt + 4 * SWEEP;
  while (seen.dripping.closedAt < 0 && !overdue() && Date.now() - since < PATIENCE) {
    dripping.write(drip);
    await sleep(50);
  }
  await within(PATIENCE, seen.silent.closed);
  return { ...seen, port };
}

test("slowloris: a head trickled byte by byte is cut at the headers deadline, not per read", async () => {
  const { dripping, silent, port } = await dripBesideSilent("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ", "a");
  assert.ok(silent.closedAt >= 0, "the silent connection was closed");
  assert.ok(dripping.closedAt >= 0, "closed while still trickling");
  // Both are cut by the same deadline check: at most one sweep apart.
  assert.ok(dripping.closedAt <= silent.closedAt + SWEEP,
    `trickling put the deadline off: closed after ${dripping.closedAt} ms, the silent connection after ${silent.closedAt} ms`);
  assert.ok(dripping.closedAt >= TIMEOUTS.headers - 50, `not before the deadline (${dripping.closedAt} ms)`);
  assertTimeoutAnswer(Buffer.concat(dripping.chunks));
  assert.equal(recorder.seen(port), [], "never dispatched");
});

test("slow body drip: closed at the request deadline", async () => {
  const { dripping, silent, port } = await dripBesideSilent("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n", "b");
  assert.ok(silent.closedAt >= 0, "the silent connection was closed");
  assert.ok(dripping.closedAt >= 0, "closed while still dripping");
  assert.ok(dripping.closedAt <= silent.closedAt + SWEEP,
    `dripping put the deadline off: closed after ${dripping.closedAt} ms, the silent connection after ${silent.closedAt} ms`);
  assert.ok(dripping.closedAt >= TIMEOUTS.request - 50, `not before the deadline (${dripping.closedAt} ms)`);
  assertTimeoutAnswer(Buffer.concat(dripping.chunks));
  assert.equal(recorder.seen(port), ["POST /"]);
});

test("a connection that never sends a byte is closed", async () => {
  const socket = await open(recorder.server.port);
  const seen = watch(socket);
  assert.ok(await within(PATIENCE, seen.closed), "closed");
  assertTimeoutAnswer(Buffer.concat(seen.chunks));
});

test("an idle keep-alive connection is closed after its response", async () => {
  const socket = await open(recorder.server.port);
  const seen = watch(socket);
  socket.write("GET /once HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.ok(await within(PATIENCE, seen.closed), "closed");
  const { responses } = readResponses(Buffer.concat(seen.chunks));
  assert.equal(responses.map((r) => r.status), [200], "the response came first, then the close");
});

test("a slow reader of a large response: bounded memory, others served, cut at the request deadline", async () => {
  const SIZE = 64 << 20;
  const CHUNK = Buffer.alloc(64 << 10, 0x61);
  let written = 0;
  const slow = await startRecorder({ timeouts: { ...TIMEOUTS, request: 3000 } }, async (req, res) => {
    if (req.path !== "/large") return res.end("small");
    res.setHeader("Content-Length", SIZE);
    // The handler honours backpressure; what the server buffers is then its own business.
    while (written < SIZE && !res.finished) {
      written += CHUNK.length;
      if (!res.write(CHUNK)) await res.drained().catch(() => {});
    }
    res.end();
  });
  try {
    const before = liveBytes();
    const socket = await open(slow.server.port);
    socket.on("error", () => {});
    socket.pause();
    socket.write("GET /large HTTP/1.1\r\nHost: a\r\n\r\n");
    await sleep(500);
    const writtenWhilePaused = written;
    const during = liveBytes();
    // Kernel socket buffers take some megabytes; the rest must wait in the handler, not in the server.
    assert.ok(writtenWhilePaused < 24 << 20, `${writtenWhilePaused >> 20} MiB accepted from the handler while the client read nothing`);
    assert.ok(during - before < 32 << 20, `memory grew ${(during - before) >> 20} MiB`);
    console.log(`  slow reader: ${(writtenWhilePaused / (1 << 20)).toFixed(1)} MiB taken from the handler while paused, live memory change ${((during - before) / (1 << 20)).toFixed(1)} MiB`);
    const other = await fetch(`http://127.0.0.1:${slow.server.port}/small`);
    assert.is(await other.text(), "small", "another connection is served meanwhile");
    // Resume: the whole response arrives.
    let received = 0;
    const done = new Promise<void>((resolve) => socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received >= SIZE) resolve();
    }));
    socket.resume();
    // A hang guard: 64 MiB over loopback takes well under a second; 60 s is for any machine.
    assert.ok(await within(60_000, done), `received ${received} of ${SIZE}+ bytes`);
    // A reader that stops for good is cut off at the request deadline (the response is unfinished).
    const stuck = await open(slow.server.port);
    stuck.on("error", () => {});
    stuck.pause();
    written = 0;
    stuck.write("GET /large HTTP/1.1\r\nHost: a\r\n\r\n");
    socket.destroy();
    const gone = (async () => {
      while (slow.server.connectionCount > 0) await sleep(50);
    })();
    // The 3 s deadline, with room for any machine, but far under the 300 s default: the deadline cut it.
    assert.ok(await within(3000 + 10 * PATIENCE, gone), `${slow.server.connectionCount} connections still open`);
    stuck.destroy();
  } finally {
    await slow.server.close();
  }
});

test("pipelining flood: 100,000 requests on one connection, others served meanwhile, memory flat", async () => {
  const TOTAL = 100_000;
  const WINDOW = 2_000;
  // Not the recorder: its log of 100,000 requests would be the growth measured.
  const flood = await serve({ port: 0, host: "127.0.0.1", handler: (_req, res) => res.end("ok") });
  try {
    const request = Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const batch = Buffer.concat(Array.from({ length: 500 }, () => request));
    const marker = Buffer.from("HTTP/1.1 200 OK\r\n");
    const socket = await open(flood.port);
    socket.on("error", () => {});
    let answered = 0;
    let sent = 0;
    let tail = Buffer.alloc(0);
    let wake: (() => void) | null = null;
    socket.on("data", (chunk: Buffer) => {
      // Count status lines, one may straddle two reads.
      const text = Buffer.concat([tail, chunk]);
      for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length)) answered++;
      tail = text.subarray(Math.max(0, text.length - marker.length + 1));
      wake?.();
    });
    const waitFor = async (condition: () => boolean): Promise<void> => {
      while (!condition()) await new Promise<void>((resolve) => (wake = resolve));
    };
    // Another client, one request at a time for as long as the flood lasts.
    let othersDuringFlood = 0;
    let othersFailed = 0;
    let flooding = true;
    const bystander = (async () => {
      while (flooding) {
        const ok = await fetch(`http://127.0.0.1:${flood.port}/other`).then((r) => r.text()).then((t) => t === "ok", () => false);
        if (!ok) othersFailed++;
        else if (answered < TOTAL) othersDuringFlood++;
        await sleep(50);
      }
    })();
    const samples: number[] = [];
    while (sent < TOTAL) {
      socket.write(batch);
      sent += 500;
      await waitFor(() => sent - answered <= WINDOW);
      if (sent % 20_000 === 0) samples.push(liveBytes());
    }
    const finished = waitFor(() => answered >= TOTAL);
    // A hang guard, not a speed test: the loop above already waited for all but the last window.
    assert.ok(await within(60_000, finished), `${answered} of ${TOTAL} answered`);
    flooding = false;
    await bystander;
    socket.destroy();
    assert.is(answered, TOTAL);
    assert.ok(othersDuringFlood > 0, "another connection was served during the flood");
    assert.is(othersFailed, 0);
    const mib = (n: number): string => (n / (1 << 20)).toFixed(1);
    console.log(`  flood: ${answered} answered, ${othersDuringFlood} requests of another client served meanwhile, live memory ${samples.map(mib).join(" / ")} MiB`);
    // Flat: the last samples are no higher than the first plus GC noise.
    const growth = Math.max(...samples.slice(1)) - samples[0];
    assert.ok(growth < 8 << 20, `memory grew ${mib(growth)} MiB over the flood`);
  } finally {
    await flood.close();
  }
});

test.run();
