// What one connection sends: through the loop's cork while the connection
// owns it, else straight to the kernel; what the kernel refuses is copied
// into a queue that drains on EPOLLOUT, files by sendfile(2) a budget at a
// time. Drain waiters learn when they may write again.
import { Errno, send, sendfile, writev } from "../socket/syscalls.js";
import { MAX_IOVECS } from "simplenet-parser/abi";
import { FileRegion, copy, dropFiles, hasFile, type OutputPart } from "./output-part.js";
import { NO_PARTS, SendQueue } from "./send-queue.js";
import { concat } from "simplenet-parser";
import type { Cork, CorkOwner } from "./cork.js";

const EAGAIN = -Errno.EAGAIN;
/** File bytes sent per wake-up, so one large file cannot starve the other connections. */
const SENDFILE_BUDGET = 1 << 20;

export interface OutboxHost {
  readonly fd: number;
  /** The kernel refused more (or took everything): watch EPOLLOUT or stop watching it. */
  updateInterest(): void;
  /** A write failed for good: close the connection. */
  destroy(): void;
  /** Everything queued went out. */
  drainedAll(): void;
}

interface Waiter {
  ready: () => boolean;
  wake: () => void;
  fail: (error: Error) => void;
}

/** The empty waiter list every outbox starts with and shares: an idle connection owns no arrays. */
const NO_WAITERS: Waiter[] = [];

export class Outbox extends SendQueue implements CorkOwner {
  /** NO_WAITERS while empty. */
  private waiters: Waiter[] = NO_WAITERS;
  private closed = false;
  /** Bytes to send at the end of this turn of the loop (sendSoon), in order, before anything sent after them. */
  private soon: Uint8Array[] | null = null;
  private soonBytes = 0;

  constructor(private host: OutboxHost, private readonly cork: Cork) {
    super();
  }

  /** Lent to another connection (from a pool): only an outbox at rest is. */
  attach(host: OutboxHost): void {
    this.host = host;
  }

  /** Nothing queued, awaited or gathered, not corked, not closed: it may serve another connection. */
  get atRest(): boolean {
    return this.queue.length === 0 && this.waiters.length === 0 && this.soon === null && !this.closed && !this.cork.owns(this);
  }

  /** Bytes (and file bytes) waiting for EPOLLOUT. */
  get queuedBytes(): number {
    return this.queued + this.soonBytes;
  }

  /** Runs `fn` with this connection's output corked (unless it is already), then sends the batch. */
  corked(fn: () => void): void {
    if (this.cork.owns(this)) return fn();
    this.cork.take(this);
    try {
      fn();
    } finally {
      this.cork.release(this);
    }
  }

  /** Writes now what the kernel takes and queues the rest (copying bytes, which are only lent). False if any was queued. */
  send(parts: OutputPart[]): boolean {
    if (this.closed) {
      dropFiles(parts);
      return false;
    }
    if (this.soon !== null) parts = [...this.takeSoon(), ...parts];
    if (this.cork.owns(this)) {
      if (!hasFile(parts) && this.cork.add(parts as Uint8Array[])) return true;
      this.cork.flush(); // a file, or the batch is full: what is corked goes first
    }
    return this.sendNow(parts);
  }

  /**
   * send() for parser.bytes[start, end), bytes of the output region valid
   * during the call: while this connection is corked, they join the batch
   * without a view being made for them.
   */
  sendRegion(start: number, end: number): boolean {
    const cork = this.cork;
    if (!this.closed && this.soon === null && this.queue.length === 0 && cork.owns(this) && cork.addRange(start, end)) return true;
    return this.send([cork.parser.bytes.subarray(start, end)]);
  }

  /**
   * Sends `bytes` (which must stay unchanged: a prepared frame) at the end of
   * this turn of the loop, with whatever else this connection is given that
   * way meanwhile: a publish to many sockets costs each one write per turn,
   * not one per message.
   */
  sendSoon(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.soon === null) {
      this.soon = [];
      this.cork.later(this);
    }
    this.soon.push(bytes);
    this.soonBytes += bytes.length;
  }

  /** CorkOwner: the turn is over: what sendSoon gathered leaves. */
  sendLater(): void {
    if (this.soon === null || this.closed) return;
    const parts = this.takeSoon();
    if (!this.sendNow(parts.length > MAX_IOVECS ? [concat(parts)] : parts) || this.closed) return;
    // All of it went: whoever counts this connection's queue (a WebSocket's budget share) hears so.
    this.wake();
    this.host.drainedAll();
  }

  private takeSoon(): Uint8Array[] {
    const parts = this.soon ?? [];
    this.soon = null;
    this.soonBytes = 0;
    return parts;
  }

  /** CorkOwner: the batch of this connection's output leaves. */
  sendBatch(parts: Uint8Array[]): void {
    this.sendNow(parts);
  }

  /** CorkOwner: the batch, one range of the output region, leaves: written from the region itself, no view made unless the kernel refuses some. */
  sendRange(start: number, end: number): void {
    if (this.closed) return;
    const bytes = this.cork.parser.bytes;
    if (this.queue.length > 0) {
      this.enqueue(bytes.subarray(start, end));
      return;
    }
    let n = send(this.host.fd, this.cork.memory, start, end - start);
    if (n === end - start) return;
    if (n < 0) {
      if (n !== EAGAIN) return this.host.destroy();
      n = 0;
    }
    this.queue = [bytes.slice(start + n, end)];
    this.queued = end - start - n;
    this.host.updateInterest();
  }

  private sendNow(parts: OutputPart[]): boolean {
    if (this.closed) {
      dropFiles(parts);
      return false;
    }
    if (this.queue.length > 0) {
      for (const part of parts) this.enqueue(part);
      return false;
    }
    if (hasFile(parts)) return this.sendWithFiles(parts);
    const bytes = parts as Uint8Array[];
    let total = 0;
    for (const part of bytes) total += part.length;
    if (total === 0) return true;
    let n = bytes.length === 1 ? send(this.host.fd, bytes[0], 0, total) : writev(this.host.fd, bytes);
    if (n === total) return true;
    if (n < 0) {
      if (n !== EAGAIN) {
        this.host.destroy();
        return false;
      }
      n = 0;
    }
    this.queueUnsent(bytes, n);
    this.host.updateInterest();
    return false;
  }

  /** The queue is empty: send through it, then keep copies of the bytes it still holds. */
  private sendWithFiles(parts: OutputPart[]): boolean {
    if (this.queue === NO_PARTS) this.queue = [];
    for (const part of parts) {
      if (part instanceof FileRegion) this.queued += part.remaining;
      else if (part.length > 0) this.queued += part.length;
      else continue;
      this.queue.push(part);
    }
    this.flush();
    const queue = this.queue;
    for (let i = 0; i < queue.length; i++) queue[i] = copy(queue[i]);
    this.host.updateInterest();
    return queue.length === 0;
  }

  /** Sends what is queued, until the kernel refuses more or this wake-up's file budget is spent. */
  flush(): void {
    this.sealTail();
    const queue = this.queue;
    const fd = this.host.fd;
    let budget = SENDFILE_BUDGET;
    while (queue.length > 0 && !this.closed) {
      const first = queue[0];
      if (first instanceof FileRegion) {
        if (budget <= 0) return; // EPOLLOUT stays on: the rest goes on the next wake-up
        const n = sendfile(fd, first.fd, first.offset, Math.min(first.remaining, budget));
        if (n === EAGAIN) return;
        // An error, or the file shrank under us: the promised length cannot be kept.
        if (n <= 0) return this.host.destroy();
        budget -= n;
        this.queued -= n;
        first.offset += n;
        first.remaining -= n;
        if (first.remaining === 0) {
          queue.shift();
          first.close();
        }
        continue;
      }
      let count = 0;
      while (count < queue.length && count < MAX_IOVECS && !(queue[count] instanceof FileRegion)) count++;
      const batch = queue.slice(0, count) as Uint8Array[];
      let n = writev(fd, batch);
      if (n < 0) {
        if (n !== EAGAIN) this.host.destroy();
        return;
      }
      this.queued -= n;
      let done = 0;
      while (done < batch.length && n >= batch[done].length) n -= batch[done++].length;
      queue.splice(0, done);
      if (n > 0) {
        queue[0] = batch[done].subarray(n);
        return;
      }
      if (done < batch.length) return; // the kernel's buffer is full again
    }
    if (this.closed) return;
    this.queue = NO_PARTS; // drained: a connection at rest keeps no grown array
    this.host.updateInterest();
    this.wake();
    this.host.drainedAll();
  }

  /** Resolves once `ready()` holds with nothing queued; rejects if the connection closes first. */
  whenDrained(ready: () => boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error("connection closed"));
    if (this.queue.length === 0 && ready()) return Promise.resolve();
    if (this.waiters === NO_WAITERS) this.waiters = [];
    return new Promise((wake, fail) => this.waiters.push({ ready, wake, fail }));
  }

  /** Wakes the waiters that may write again. */
  wake(): void {
    if (this.queue.length > 0 || this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = NO_WAITERS;
    for (const waiter of waiting) {
      if (waiter.ready()) waiter.wake();
      else (this.waiters === NO_WAITERS ? (this.waiters = []) : this.waiters).push(waiter);
    }
  }

  /** The connection is closed: nothing more is sent, files are closed, waiters fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cork.abandon(this);
    this.takeSoon();
    this.dropQueue();
    const waiters = this.waiters;
    this.waiters = NO_WAITERS;
    for (const waiter of waiters) waiter.fail(new Error("connection closed"));
  }
}
