// npm run soak [-- --seconds 30]
// One server in a child process; good, bad and slow clients against it at
// once for N seconds. Reports requests served, outcomes by kind, and the
// server's RSS and open descriptors (/proc/<pid>) before, during and after.
// Exits non-zero if a good request failed or a descriptor was left open.
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import type { Socket } from "node:net";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { serve } from "../src/index.ts";
import { LIMITS, VECTORS, type Vector } from "../test/security/vectors.ts";
import { converse, open, readResponses, sleep, type WireResponse } from "../test/security/wire.ts";

const TIMEOUTS = { headers: 2000, request: 5000, keepAlive: 2000 };
const GOOD_CLIENTS = 8, BAD_CLIENTS = 4, SLOW_CLIENTS = 6;
const BIG = 256 << 10;

// ---- the server (child process) ----------------------------------------------

async function runServer(): Promise<void> {
  const errors = new Map<string, number>();
  const chunk = Buffer.alloc(64 << 10, 0x7a);
  const server = await serve({
    port: 0,
    host: "127.0.0.1",
    limits: LIMITS,
    timeouts: TIMEOUTS,
    onError: (error) => {
      const kind = error instanceof Error ? error.message : String(error);
      errors.set(kind, (errors.get(kind) ?? 0) + 1);
    },
    handler: async (req, res) => {
      if (req.path === "/hi") return res.end("Hi");
      if (req.path === "/echo") return res.end(await req.bytes());
      if (req.path === "/big") {
        const size = Number(req.query.get("size") ?? BIG);
        res.setHeader("Content-Length", size);
        for (let sent = 0; sent < size && !res.finished; sent += chunk.length) {
          if (!res.write(chunk.subarray(0, Math.min(chunk.length, size - sent)))) await res.drained();
        }
        return res.end();
      }
      res.status = 404;
      res.end("Not Found\n");
    },
  });
  setFlagsFromString("--expose-gc");
  const collectGarbage = runInNewContext("gc") as () => void;
  process.send!({ port: server.port });
  process.on("message", async (message) => {
    if (message === "measure") {
      // Live memory after a full collection: what RSS cannot tell apart from the collector's slack.
      collectGarbage();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      process.send!({ live: (heapUsed + arrayBuffers) / (1 << 20) });
    } else if (message === "stop") {
      await server.close();
      process.send!({ errors: Object.fromEntries(errors) }, () => process.exit(0));
    }
  });
}

// ---- measuring the child ---------------------------------------------------------

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "latin1").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}
const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

// ---- clients ---------------------------------------------------------------------

/** Counts by kind, printed sorted. */
class Tally {
  private readonly counts = new Map<string, number>();
  add(kind: string, n = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }
  get(kind: string): number {
    return this.counts.get(kind) ?? 0;
  }
  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
  toString(): string {
    return [...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`).join(", ") || "none";
  }
}

/** A keep-alive connection that sends requests and reads back whole responses. */
class Connection {
  private data = Buffer.alloc(0);
  private waiter: { count: number; resolve: (r: WireResponse[]) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.settle();
    });
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("closed by the server")));
  }

  static async open(port: number): Promise<Connection> {
    return new Connection(await open(port));
  }

  /** Writes `bytes` and resolves with the next `count` responses. */
  exchange(bytes: string | Buffer, count = 1): Promise<WireResponse[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no response in 10 s")), 10_000);
      this.waiter = {
        count,
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.socket.write(bytes);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private settle(): void {
    if (this.waiter === null) return;
    const { responses, rest } = readResponses(this.data);
    if (responses.length < this.waiter.count) return;
    this.data = Buffer.from(rest);
    const waiter = this.waiter;
    this.waiter = null;
    waiter.resolve(responses);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(error);
  }
}

const random = (n: number): number => Math.floor(Math.random() * n);

/** Good requests, each checked: [request bytes, response count, check]. */
function goodRequest(): [string, number, (r: WireResponse[]) => boolean] {
  const body = "x".repeat(random(LIMITS.maxBodyBytes));
  switch (random(5)) {
    case 0:
      return ["GET /hi HTTP/1.1\r\nHost: soak\r\n\r\n", 1, ([r]) => r.status === 200 && r.body.toString() === "Hi"];
    case 1:
      return [`POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 1,
        ([r]) => r.status === 200 && r.body.toString() === body];
    case 2: {
      const chunks = body.match(/[\s\S]{1,100}/g) ?? [];
      const framed = chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join("") + "0\r\n\r\n";
      return [`POST /echo HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n${framed}`, 1,
        ([r]) => r.status === 200 && r.body.toString() === body];
    }
    case 3:
      return ["GET /big HTTP/1.1\r\nHost: soak\r\n\r\n", 1, ([r]) => r.status === 200 && r.body.length === BIG];
    default:
      return ["GET /hi HTTP/1.1\r\nHost: soak\r\n\r\n".repeat(10), 10, (rs) => rs.every((r) => r.status === 200 && r.body.toString() === "Hi")];
  }
}

async function goodClient(port: number, until: number, served: Tally, failures: string[]): Promise<void> {
  while (Date.now() < until) {
    let conn: Connection | null = null;
    try {
      conn = await Connection.open(port);
      // A handful of requests per connection, then a fresh one: both paths get exercised.
      for (let i = 0; i < 20 && Date.now() < until; i++) {
        const [bytes, count, check] = goodRequest();
        const responses = await conn.exchange(bytes, count);
        if (!check(responses)) failures.push(`wrong response to ${JSON.stringify(bytes.slice(0, 40))}: ${responses.map((r) => r.status)}`);
        else served.add("good", count);
      }
    } catch (error) {
      failures.push(String(error));
    } finally {
      conn?.close();
    }
  }
}

/** Hostile vectors that the server must simply reject: one error status, nothing dispatched. */
const REJECTIONS: readonly Vector[] = VECTORS.filter((v) =>
  typeof v.send === "string" && v.expect.length === 1 && v.expect[0] >= 400 && (v.dispatched ?? []).length === 0);

async function badClient(port: number, until: number, outcomes: Tally, unexpected: string[]): Promise<void> {
  while (Date.now() < until) {
    const vector = REJECTIONS[random(REJECTIONS.length)];
    const { received, closed } = await converse(port, [vector.send as string], { gapMs: 0 });
    const statuses = readResponses(received).responses.map((r) => r.status);
    if (closed && statuses.length === 1 && statuses[0] === vector.expect[0]) outcomes.add(String(statuses[0]));
    else unexpected.push(`${vector.name}: ${statuses.join(",") || "none"}${closed ? "" : ", left open"}`);
  }
}

/** Resolves when the socket closes, or after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once("close", () => (clearTimeout(timer), resolve(true)));
  });
}

/** Slow and broken clients, in turn: each must be cut off, or (slow reader) served in the end. */
async function slowClient(port: number, until: number, first: number, outcomes: Tally): Promise<void> {
  for (let turn = first; Date.now() < until; turn++) {
    const socket = await open(port);
    let received = 0;
    socket.on("data", (chunk: Buffer) => (received += chunk.length));
    socket.on("error", () => {});
    const closed = closedWithin(socket, 15_000);
    const trickle = async (head: string, drip: string): Promise<void> => {
      socket.write(head);
      let stopped = false;
      void closed.then(() => (stopped = true));
      while (!stopped) {
        socket.write(drip);
        await sleep(200);
      }
    };
    switch (turn % 5) {
      case 0:
        await trickle("GET / HTTP/1.1\r\nHost: soak\r\nX-Slow: ", "a");
        outcomes.add(`slowloris cut ${received > 0 ? "with 408" : "silently"}`);
        break;
      case 1:
        await trickle("POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 100000\r\n\r\n", "b");
        outcomes.add(`slow body cut ${received > 0 ? "with 408" : "silently"}`);
        break;
      case 2:
        outcomes.add((await closed) ? "idle connection closed" : "idle connection left open");
        break;
      case 3: {
        const size = 8 << 20;
        socket.pause();
        socket.write(`GET /big?size=${size} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n`);
        await sleep(1000);
        socket.resume();
        await closed;
        outcomes.add(received > size ? "slow reader served" : "slow reader cut short");
        break;
      }
      default:
        socket.write("POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 500\r\n\r\npartial");
        await sleep(50);
        socket.resetAndDestroy();
        outcomes.add("reset mid-request");
    }
    socket.destroy();
  }
}

// ---- the run -----------------------------------------------------------------------

function startChild(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL(import.meta.url), ["--serve"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("message", (message) => resolve({ child, port: (message as { port: number }).port }));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** Sends a message to the server and resolves with its answer. */
function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once("message", (answer) => resolve(answer as T));
    child.send(message);
  });
}

async function soak(seconds: number): Promise<number> {
  const { child, port } = await startChild();
  const pid = child.pid!;
  const liveNow = async (): Promise<number> => (await ask<{ live: number }>(child, "measure")).live;
  const start = { rss: rssMiB(pid), fds: openFds(pid), live: await liveNow() };
  console.log(`soak: ${seconds} s against pid ${pid} on port ${port}: ${GOOD_CLIENTS} good, ${BAD_CLIENTS} bad, ${SLOW_CLIENTS} slow clients`);

  const until = Date.now() + seconds * 1000;
  const served = new Tally(), rejected = new Tally(), slow = new Tally();
  const goodFailures: string[] = [], unexpected: string[] = [];
  const rss: number[] = [];
  let peakFds = start.fds;
  const sampler = setInterval(() => {
    rss.push(rssMiB(pid));
    peakFds = Math.max(peakFds, openFds(pid));
  }, 1000);
  let warmLive = start.live;
  const warmUp = sleep(seconds * 200).then(async () => (warmLive = await liveNow()));
  await Promise.all([
    warmUp,
    ...Array.from({ length: GOOD_CLIENTS }, () => goodClient(port, until, served, goodFailures)),
    ...Array.from({ length: BAD_CLIENTS }, () => badClient(port, until, rejected, unexpected)),
    ...Array.from({ length: SLOW_CLIENTS }, (_, i) => slowClient(port, until, i, slow)),
  ]);
  clearInterval(sampler);
  // Lingering closes and keep-alive timers let go of their connections.
  await sleep(TIMEOUTS.keepAlive + 1500);
  const end = { rss: rssMiB(pid), fds: openFds(pid), live: await liveNow() };
  const { errors } = await ask<{ errors: Record<string, number> }>(child, "stop");

  const mib = (n: number): string => n.toFixed(1);
  const every = Math.max(1, Math.round(rss.length / 10));
  console.log(`good requests served: ${served.get("good")} (${(served.get("good") / seconds).toFixed(0)}/s), failed: ${goodFailures.length}`);
  for (const failure of goodFailures.slice(0, 10)) console.log(`  failed: ${failure}`);
  console.log(`bad requests rejected as expected: ${rejected.total} (${rejected}), otherwise: ${unexpected.length}`);
  for (const line of unexpected.slice(0, 10)) console.log(`  unexpected: ${line}`);
  console.log(`slow and broken clients: ${slow}`);
  console.log(`handler errors reported to onError: ${Object.entries(errors).map(([k, n]) => `${k}: ${n}`).join(", ") || "none"}`);
  console.log(`server RSS MiB: start ${mib(start.rss)}, during load ${rss.filter((_, i) => i % every === 0).map(mib).join(" ")}, end ${mib(end.rss)}`);
  console.log(`server live heap + buffers after GC, MiB: start ${mib(start.live)}, after warm-up ${mib(warmLive)}, end ${mib(end.live)}`);
  console.log(`server open fds: start ${start.fds}, peak ${peakFds}, end ${end.fds}`);

  const problems: string[] = [];
  if (goodFailures.length > 0) problems.push(`${goodFailures.length} good requests failed`);
  if (end.fds > start.fds) problems.push(`${end.fds - start.fds} descriptors left open`);
  console.log(problems.length === 0 ? "result: ok" : `result: FAILED (${problems.join("; ")})`);
  return problems.length === 0 ? 0 : 1;
}

const { values } = parseArgs({ options: { seconds: { type: "string", default: "30" }, serve: { type: "boolean", default: false } } });
if (values.serve) await runServer();
else process.exitCode = await soak(Number(values.seconds));
