// The memory budget of WebSockets (those of the process by default, or of one
// server that sets memoryBudget) and each connection's account in it: every
// byte held for a connection (queued output and pongs, a message being
// assembled, inflated or queued behind zlib) is taken from its account as it
// is held and given back as it is released, so both are running counters.
// Nobody else offers a budget (ws issue #2331 asks for it). It is fair: past
// three quarters of it, only connections holding less than the average of
// those holding any may take more, so the slow readers that fill it are the
// ones refused (or closed, with closeOnBackpressureLimit), never the clients
// that read what they are sent. Nothing crashes.
// The counters may live in a SharedArrayBuffer that worker threads share
// (server/workers.ts hands the process's to every worker in its workerData),
// so that one budget holds for the process, not one per thread. Shared, they
// are 32-bit integers moved with Atomics (64-bit ones went through BigInts:
// about 500 instructions per publish delivery in callgrind) and read plainly:
// an aligned 32-bit read never tears, whatever another thread adds meanwhile,
// and every check of room is a moment's answer anyway (Atomics.load was a
// builtin call, about 100 instructions per WebSocket send in callgrind). A
// server's own budget is plain numbers.
import { isMainThread, workerData } from "node:worker_threads";

/** Bytes of the shared counters: bytes used, then accounts holding any (two 32-bit integers). */
export const BUDGET_COUNTERS_BYTES = 8;
/** The largest limit of a shared budget: what is taken past the limit (bytes already held) must stay within 32 bits. */
const MAX_SHARED_LIMIT = 2 ** 30;

let processCounters: SharedArrayBuffer | null = null;

/** The counters of the process's WebSocket memory budget: one for the main thread and every worker a pool starts (and those they start). */
export function processBudgetCounters(): SharedArrayBuffer {
  const handed = isMainThread ? undefined : (workerData as { simplenet?: { budget?: SharedArrayBuffer } } | null)?.simplenet?.budget;
  return (processCounters ??= handed ?? new SharedArrayBuffer(BUDGET_COUNTERS_BYTES));
}
const USED = 0, HOLDERS = 1;
/** Past this share of the limit, only accounts below the average may take more. */
const PRESSURE = 0.75;

/** Why an account may not take more bytes. */
export const ROOM = 0, OVER_SHARE = 1, FULL = 2;

export class MemoryBudget {
  /** The counters shared with other threads, or null: this thread's own, below. */
  private readonly shared: Int32Array | null;
  private ownUsed = 0;
  private ownHolders = 0;

  constructor(readonly limit: number, shared?: SharedArrayBuffer) {
    if (shared !== undefined && limit > MAX_SHARED_LIMIT) throw new RangeError(`a shared memory budget is at most ${MAX_SHARED_LIMIT} bytes`);
    this.shared = shared === undefined ? null : new Int32Array(shared, 0, 2);
  }

  /** Bytes taken by every account together. */
  get used(): number {
    return this.shared === null ? this.ownUsed : this.shared[USED];
  }

  /** Accounts that hold any bytes. */
  get holders(): number {
    return this.shared === null ? this.ownHolders : this.shared[HOLDERS];
  }

  /** Whether an account holding `held` may take n more: ROOM, OVER_SHARE (it holds more than its share while the budget is nearly full) or FULL. */
  room(held: number, n: number): number {
    const used = this.used;
    if (used + n > this.limit) return FULL;
    if (used + n <= this.limit * PRESSURE) return ROOM;
    return held * this.holders < used ? ROOM : OVER_SHARE;
  }

  /**
   * Whether n more bytes, however they are spread over the accounts, keep the
   * budget below its pressure mark, where any account may take more (a
   * publish sending to many sockets at once asks this once, not each).
   */
  allows(n: number): boolean {
    return this.used + n <= this.limit * PRESSURE;
  }

  /** For accounts: moves the counters. */
  add(bytes: number, holders: number): void {
    const shared = this.shared;
    if (shared === null) {
      this.ownUsed += bytes;
      this.ownHolders += holders;
      return;
    }
    if (bytes !== 0) Atomics.add(shared, USED, bytes);
    if (holders !== 0) Atomics.add(shared, HOLDERS, holders);
  }
}

/** What one connection holds of a budget. */
export class Account {
  held = 0;

  constructor(readonly budget: MemoryBudget) {}

  /** ROOM if n more bytes may be taken (see MemoryBudget.room). */
  room(n: number): number {
    return this.budget.room(this.held, n);
  }

  /** Takes n bytes if there is room for them; false if not. */
  reserve(n: number): boolean {
    if (this.room(n) !== ROOM) return false;
    this.take(n);
    return true;
  }

  /** Takes n bytes whether or not they fit: bytes already held. */
  take(n: number): void {
    if (n <= 0) return;
    this.budget.add(n, this.held === 0 ? 1 : 0);
    this.held += n;
  }

  give(n: number): void {
    n = Math.min(n, this.held);
    if (n <= 0) return;
    this.held -= n;
    this.budget.add(-n, this.held === 0 ? -1 : 0);
  }

  /** The connection closed: everything it held is given back. */
  giveAll(): void {
    this.give(this.held);
  }
}
