// What one connection sends: through the loop's cork while the connection
// owns it, else straight to its send queue (send-queue.ts), which makes the
// system calls and keeps what the kernel refuses. Bytes gathered to leave at
// the end of the loop's turn, and the waiters that learn when they may write
// again, are kept here too. It calls no one up: each method returns what
// happened, and the connection reads the state (`pending`, `failed`) after
// a send and acts on it.
import { MAX_IOVECS } from "simplenet-parser/abi";
import { dropFiles, hasFile, type OutputPart } from "./output-part.js";
import { SendQueue } from "./send-queue.js";
import { concat } from "simplenet-parser";
import type { Cork } from "./cork.js";

interface Waiter {
  ready: () => boolean;
  wake: () => void;
  fail: (error: Error) => void;
}

/**
 * A publish's frames, shared by the outboxes of every connection in its batch
 * (fanout.ts, joinShared) as the bytes each gathers for the end of the turn;
 * `left` counts those that have since taken them on their own (to send them
 * before something else, or dropped them closing); `bytes`, their length.
 */
export interface SharedFrames extends Array<Uint8Array> {
  left: number;
  bytes: number;
}

/** The empty waiter list every outbox starts with and shares: an idle connection owns no arrays. */
const NO_WAITERS: Waiter[] = [];

export class Outbox {
  /** What the cork batches for, and what sends: the connection's sending side. */
  private readonly sender: SendQueue;
  /** NO_WAITERS while empty. */
  private waiters: Waiter[] = NO_WAITERS;
  /** Bytes to send at the end of this turn of the loop (sendSoon), in order, before anything sent after them. */
  private soon: Uint8Array[] | null = null;
  private soonBytes = 0;

  constructor(fd: number, private readonly cork: Cork) {
    this.sender = new SendQueue(fd);
  }

  /** Lent to another connection (from a pool): only an outbox at rest is. */
  attach(fd: number): void {
    this.sender.fd = fd;
  }

  /** Nothing queued, awaited or gathered, not corked, not closed: it may serve another connection. */
  get atRest(): boolean {
    const sender = this.sender;
    return !sender.pending && this.waiters.length === 0 && this.soon === null && !sender.closed && !this.cork.owns(sender);
  }

  /**
   * Joins a publish's batch (fanout.ts): `frames`, one array shared by every
   * connection that joins, become the bytes this one gathers for the end of
   * the turn, so what it sends meanwhile goes after them (send() takes them
   * first, and sendSoon() a copy). Only while nothing is queued, gathered or
   * corked and it is open: true if it joined. (`closed === false`: a field
   * tested bare costs a full ToBoolean in optimized code.)
   */
  joinShared(frames: SharedFrames): boolean {
    const sender = this.sender;
    if (this.soon !== null || sender.closed !== false || sender.pending || this.cork.owns(sender)) return false;
    this.soon = frames;
    return true;
  }

  /** The batch is sent: the descriptor to send `frames` to if this connection still gathers them, else -1 (it sent them itself, with what it sent since, or closed). */
  leaveShared(frames: SharedFrames): number {
    if (this.soon !== frames) return -1;
    this.soon = null;
    return this.sender.fd;
  }

  /** Whether this connection still gathers a batch's `frames`. */
  gathers(frames: SharedFrames): boolean {
    return this.soon === frames;
  }

  /** Whether bytes wait for EPOLLOUT. */
  get pending(): boolean {
    return this.sender.pending;
  }

  /** A write failed for good: the connection is to close. */
  get failed(): boolean {
    return this.sender.failed;
  }

  /** Bytes (and file bytes) waiting for EPOLLOUT or the turn's end (a publish batch's frames too, while it gathers them). */
  get queuedBytes(): number {
    const soon = this.soon as Partial<SharedFrames> | null;
    return this.sender.queued + (soon !== null && soon.bytes !== undefined ? soon.bytes : this.soonBytes);
  }

  /** Whether this connection's output is corked now. */
  get ownsCork(): boolean {
    return this.cork.owns(this.sender);
  }

  /** Corks this connection's output unless it is already: true when it took the cork, to give back with releaseCork(). */
  takeCork(): boolean {
    if (this.cork.owns(this.sender)) return false;
    this.cork.take(this.sender);
    return true;
  }

  /** Sends the batch and gives the cork up (to the connection it was taken from, if any). */
  releaseCork(): void {
    this.cork.release(this.sender);
  }

  /** Runs `fn` with this connection's output corked (unless it is already), then sends the batch. */
  corked(fn: () => void): void {
    if (!this.takeCork()) return fn();
    try {
      fn();
    } finally {
      this.releaseCork();
    }
  }

  /** Writes now what the kernel takes and queues the rest (copying bytes, which are only lent). False if any was queued, or the write failed. */
  send(parts: OutputPart[]): boolean {
    const sender = this.sender;
    if (sender.closed) {
      dropFiles(parts);
      return false;
    }
    if (this.soon !== null) parts = [...this.takeSoon(), ...parts];
    if (this.cork.owns(sender)) {
      if (!hasFile(parts) && this.cork.add(parts as Uint8Array[])) return !sender.failed;
      this.cork.flush(); // a file, or the batch is full: what is corked goes first
    }
    return sender.send(parts);
  }

  /**
   * send() for parser.bytes[start, end), bytes of the output region valid
   * during the call: while this connection is corked, they join the batch
   * without a view being made for them.
   */
  sendRegion(start: number, end: number): boolean {
    const { cork, sender } = this;
    if (!sender.closed && this.soon === null && !sender.pending && cork.owns(sender) && cork.addRange(start, end)) return !sender.failed;
    return this.send([cork.parser.bytes.subarray(start, end)]);
  }

  /**
   * Gathers `bytes` (which must stay unchanged: a prepared frame) to send at
   * the end of this turn of the loop, with whatever else this connection is
   * given that way meanwhile: a publish to many sockets costs each one write
   * per turn, not one per message. True when it is the first of this turn:
   * the caller has sendGathered() called once the turn is over.
   */
  sendSoon(bytes: Uint8Array): boolean {
    if (this.sender.closed) return false;
    // A batch's shared frames (joinShared) go on as this connection's own, which its own turn-end send takes.
    const shared = this.soon !== null && (this.soon as Partial<SharedFrames>).left !== undefined;
    const first = this.soon === null || shared;
    if (shared) for (const frame of (this.soon = [...this.takeSoon()])) this.soonBytes += frame.length;
    (this.soon ??= []).push(bytes);
    this.soonBytes += bytes.length;
    return first;
  }

  /** The turn is over: what sendSoon gathered leaves. True when all of it went (the waiters are woken). */
  sendGathered(): boolean {
    if (this.soon === null || this.sender.closed) return false;
    const parts = this.takeSoon();
    if (!this.sender.send(parts.length > MAX_IOVECS ? [concat(parts)] : parts)) return false;
    this.wake();
    return true;
  }

  private takeSoon(): Uint8Array[] {
    const parts = this.soon ?? [];
    if ((parts as Partial<SharedFrames>).left !== undefined) (parts as SharedFrames).left++; // a batch's: this connection takes them on its own
    this.soon = null;
    this.soonBytes = 0;
    return parts;
  }

  /** EPOLLOUT: sends what is queued; true once all of it went (the waiters are woken). */
  flush(): boolean {
    if (!this.sender.flush()) return false;
    this.wake();
    return true;
  }

  /** Resolves once `ready()` holds with nothing queued; rejects if the connection closes first. */
  whenDrained(ready: () => boolean): Promise<void> {
    if (this.sender.closed) return Promise.reject(new Error("connection closed"));
    if (!this.sender.pending && ready()) return Promise.resolve();
    if (this.waiters === NO_WAITERS) this.waiters = [];
    return new Promise((wake, fail) => this.waiters.push({ ready, wake, fail }));
  }

  /** Wakes the waiters that may write again. */
  wake(): void {
    if (this.sender.pending || this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = NO_WAITERS;
    for (const waiter of waiting) {
      if (waiter.ready()) waiter.wake();
      else (this.waiters === NO_WAITERS ? (this.waiters = []) : this.waiters).push(waiter);
    }
  }

  /** The connection is closed: nothing more is sent, files are closed, waiters fail. */
  close(): void {
    this.cork.abandon(this.sender);
    this.takeSoon();
    this.sender.close();
    const waiters = this.waiters;
    this.waiters = NO_WAITERS;
    for (const waiter of waiters) waiter.fail(new Error("connection closed"));
  }
}
