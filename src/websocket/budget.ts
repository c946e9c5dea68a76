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
// so that one budget holds for the process, not one per thread.
import { isMainThread, workerData } from "node:worker_threads";

/** Bytes of the counters: bytes used, then accounts holding any (two 64-bit integers). */
export const BUDGET_COUNTERS_BYTES = 16;

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
  private readonly counters: BigInt64Array;

  constructor(readonly limit: number, shared?: SharedArrayBuffer) {
    this.counters = new BigInt64Array(shared ?? new ArrayBuffer(BUDGET_COUNTERS_BYTES));
  }

  /** Bytes taken by every account together. */
  get used(): number {
    return Number(Atomics.load(this.counters, USED));
  }

  /** Accounts that hold any bytes. */
  get holders(): number {
    return Number(Atomics.load(this.counters, HOLDERS));
  }

  /** Whether an account holding `held` may take n more: ROOM, OVER_SHARE (it holds more than its share while the budget is nearly full) or FULL. */
  room(held: number, n: number): number {
    const used = this.used;
    if (used + n > this.limit) return FULL;
    if (used + n <= this.limit * PRESSURE) return ROOM;
    return held * this.holders < used ? ROOM : OVER_SHARE;
  }

  /** For accounts: moves the counters. */
  add(bytes: number, holders: number): void {
    if (bytes !== 0) Atomics.add(this.counters, USED, BigInt(bytes));
    if (holders !== 0) Atomics.add(this.counters, HOLDERS, BigInt(holders));
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
