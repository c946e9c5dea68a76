// What every benchmark server shares: the routes' payloads, its settings
// (from the environment the harness sets) and how it tells the harness it is up.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";

export const HOST = "127.0.0.1";
/** The directory the harness made; the static file is at STATIC_PATH below it, so a static handler rooted there serves it as is. */
export const STATIC_ROOT = process.env.BENCH_STATIC_ROOT ?? "";
export const STATIC_PATH = "/static/64k.bin";
/** Idle keep-alive timeout, ms: long for the idle benchmark, the servers' usual default otherwise. */
export const KEEP_ALIVE_MS = Number(process.env.BENCH_KEEPALIVE_MS ?? 5000);
/** Worker threads (or processes) for the multi-core scenario; 1 otherwise. */
export const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);

/** Loads a peer from bench/.peers, where the benchmarks install it (bench/peers.ts), never from the package's own dependencies. */
export const peerRequire = createRequire(new URL("../.peers/node_modules/", import.meta.url));

/** A 1 KiB JSON document, serialized afresh per request as a real handler would. */
export const PAYLOAD = {
  id: 4711,
  name: "simplenet benchmark",
  tags: ["http", "wasm", "epoll", "node", "bench"],
  items: Array.from({ length: 15 }, (_, i) => ({ id: i, label: `item number ${i}`, price: 10 + i * 1.25, inStock: i % 3 !== 0 })),
};

/** The static file's path on disk. */
export const STATIC_FILE = join(STATIC_ROOT, STATIC_PATH);

/**
 * The static file, read once at start: the fastest way a node:http peer can
 * serve a small file that never changes. Empty where the harness made none
 * (bench:idle serves no file).
 */
export function cachedStatic(): Buffer {
  return STATIC_ROOT === "" ? Buffer.alloc(0) : readFileSync(STATIC_FILE);
}

/** A port nobody listens on now: for servers whose several processes or threads share one, or that bind it themselves (nginx). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

// A normal exit on the harness's SIGTERM, so that node --cpu-prof writes its profile.
process.once("SIGTERM", () => process.exit(0));

/** The harness waits for this line on stdout. */
export function listening(port: number): void {
  process.stdout.write(`listening ${port}\n`);
}

/** A remark for RESULTS.md, e.g. how a scenario was served. */
export function note(text: string): void {
  process.stdout.write(`note ${text}\n`);
}

/** This server cannot run here (e.g. a feature not built yet): the harness skips it. */
export function unsupported(reason: string): never {
  process.stdout.write(`unsupported ${reason}\n`);
  process.exit(3);
}
