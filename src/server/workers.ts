// serve({ workers: N }): N worker threads, each running the app's entry
// module with its own event loop, wasm instance, epoll fd and SO_REUSEPORT
// listener on one port. The kernel spreads connections across them. The
// process's WebSocket memory budget is the one state they share: its
// counters live in a SharedArrayBuffer that every worker is handed.
import { availableParallelism } from "node:os";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { bound, closeListener, type ListenOptions } from "../socket/listener.js";
import { processBudgetCounters } from "../websocket/budget.js";

interface Assignment {
  host: string;
  port: number;
  index: number;
  /** The counters of the process's WebSocket memory budget. */
  budget: SharedArrayBuffer;
}

type Message = { simplenet: "listening" } | { simplenet: "close" } | { simplenet: "failed"; error: string };

let assignment: Assignment | null = !isMainThread ? ((workerData as { simplenet?: Assignment } | null)?.simplenet ?? null) : null;

/**
 * In a worker started by a pool: where the first serve() call of this thread
 * must listen. Later calls (and the main thread) get null.
 */
export function takeAssignment(): Assignment | null {
  const taken = assignment;
  assignment = null;
  return taken;
}

/** In a pool's worker: report the listener's state and obey the pool's close. */
export function joinPool(server: { close(): Promise<void> }): void {
  const port = parentPort!;
  port.postMessage({ simplenet: "listening" } satisfies Message);
  port.on("message", (message: Message) => {
    if (message.simplenet === "close") server.close().then(() => port.close());
  });
}

export function reportFailure(error: unknown): void {
  parentPort?.postMessage({ simplenet: "failed", error: String((error as Error)?.stack ?? error) } satisfies Message);
}

export function workerCount(workers: number | "auto"): number {
  return workers === "auto" ? availableParallelism() : Math.max(1, Math.floor(workers));
}

export interface PoolOptions extends ListenOptions {
  workers: number | "auto";
  /** The module each worker runs; it must call serve(). Default: this process's entry script. */
  entry?: string | URL;
  timeouts?: { close?: number };
  /** Not with workers: a handover passes one listener (see handover.ts). */
  handover?: string;
}

/** The main thread's handle on its workers. */
export class WorkerPool {
  /** The workers still running. */
  readonly workers = new Set<Worker>();
  private closed: Promise<void> | null = null;

  private constructor(readonly host: string, readonly port: number, private readonly closeTimeout: number) {}

  /** Reserves the port, starts the workers and resolves once every one of them listens. */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    if (options.path !== undefined) throw new Error("workers need a TCP port: SO_REUSEPORT does not apply to Unix sockets");
    if (options.handover !== undefined) throw new Error("handover passes one listener: it cannot be used with workers");
    // A bound, never-listening SO_REUSEPORT socket holds the port (also one
    // the kernel picked) while the workers bind theirs; it takes no connections.
    const reservation = bound({ ...options, reusePort: true });
    const pool = new WorkerPool(reservation.host, reservation.port, options.timeouts?.close ?? 10_000);
    const entry = options.entry ?? process.argv[1];
    try {
      await Promise.all(
        Array.from({ length: workerCount(options.workers) }, (_, index) =>
          pool.spawn(entry, { host: reservation.host, port: reservation.port, index, budget: processBudgetCounters() })),
      );
    } catch (error) {
      await pool.close();
      throw error;
    } finally {
      closeListener(reservation);
    }
    return pool;
  }

  private spawn(entry: string | URL, assignment: Assignment): Promise<void> {
    const worker = new Worker(entry, { argv: process.argv.slice(2), workerData: { simplenet: assignment } });
    this.workers.add(worker);
    worker.once("exit", () => this.workers.delete(worker));
    return new Promise((resolve, reject) => {
      worker.on("message", (message: Message) => {
        if (message.simplenet === "listening") resolve();
        if (message.simplenet === "failed") reject(new Error(`worker ${assignment.index} failed: ${message.error}`));
      });
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`worker ${assignment.index} exited with code ${code}`)));
    });
  }

  /** Closes every worker's server gracefully; a worker still running after the deadline is terminated. */
  close(): Promise<void> {
    this.closed ??= Promise.all(
      [...this.workers].map((worker) => {
        const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
        worker.postMessage({ simplenet: "close" } satisfies Message);
        const deadline = setTimeout(() => worker.terminate(), this.closeTimeout + 1000);
        return exited.finally(() => clearTimeout(deadline));
      }),
    ).then(() => undefined);
    return this.closed;
  }
}
