// The lowest piece of a connection's output: it owns the descriptor's
// sending side and makes the system calls. What the kernel refuses is kept
// here in order (copies of the bytes, the file ranges still to send),
// counted as it comes and goes, and sent on EPOLLOUT, files by sendfile(2) a
// budget at a time. It calls no one: whoever sends through it (the outbox,
// the cork) returns, and the connection reads its state — bytes waiting
// (`pending`), a write that failed for good (`failed`) — and acts on it.
import { Errno, send, sendfile, writev } from "../socket/syscalls.js";
import { MAX_IOVECS } from "simplenet-parser/abi";
import { FileRegion, copy, dropFiles, hasFile, type OutputPart } from "./output-part.js";

const EAGAIN = -Errno.EAGAIN;
/** File bytes sent per wake-up, so one large file cannot starve the other connections. */
const SENDFILE_BUDGET = 1 << 20;
/**
 * Queued parts smaller than this are copied into shared chunks of CHUNK
 * bytes: a client that never reads, sent many small messages, costs the
 * bytes it is owed, not a typed array (~200 bytes of heap) per message.
 */
const COALESCE_BELOW = 1024;
const CHUNK = 16 * 1024;

/** The empty queue every send queue starts with and shares: an idle connection owns no array. */
const NO_PARTS: OutputPart[] = [];

export class SendQueue {
  /** What the kernel has not taken yet, in order; byte parts here are copies. NO_PARTS while empty. */
  private queue: OutputPart[] = NO_PARTS;
  /** Bytes (and file bytes) in `queue` and `tail`, counted as they come and go: no walk over the queue learns its size. */
  queued = 0;
  /** A chunk being filled with small parts, after everything in `queue` (only while the queue has something). */
  private tail: Uint8Array | null = null;
  private tailUsed = 0;
  /** Nothing more is sent: the connection closed, or a write failed. */
  closed = false;
  /** A write failed for good: the connection is to close. */
  failed = false;

  constructor(public fd: number) {}

  /** Whether bytes wait for EPOLLOUT. */
  get pending(): boolean {
    return this.queue.length > 0;
  }

  /** Writes now what the kernel takes and queues the rest (copying bytes, which are only lent). False if any was queued, or the write failed. */
  send(parts: OutputPart[]): boolean {
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
    let n = bytes.length === 1 ? send(this.fd, bytes[0], 0, total) : writev(this.fd, bytes);
    if (n === total) return true;
    if (n < 0) {
      if (n !== EAGAIN) {
        this.fail();
        return false;
      }
      n = 0;
    }
    this.queueUnsent(bytes, n);
    return false;
  }

  /** Sends `memory`[start, end) (the output region) from the region itself: no view is made unless the kernel refuses some. */
  sendRange(memory: ArrayBuffer, start: number, end: number): void {
    if (this.closed) return;
    if (this.queue.length > 0) return this.enqueue(new Uint8Array(memory, start, end - start));
    let n = send(this.fd, memory, start, end - start);
    if (n === end - start) return;
    if (n < 0) {
      if (n !== EAGAIN) {
        this.fail();
        return;
      }
      n = 0;
    }
    this.queue = [new Uint8Array(memory.slice(start + n, end))];
    this.queued = end - start - n;
  }

  /** The queue is empty: send through it, then keep copies of the bytes it still holds. */
  private sendWithFiles(parts: OutputPart[]): boolean {
    this.queue = [];
    for (const part of parts) {
      if (part instanceof FileRegion) this.queued += part.remaining;
      else if (part.length > 0) this.queued += part.length;
      else continue;
      this.queue.push(part);
    }
    this.flush();
    const queue = this.queue;
    for (let i = 0; i < queue.length; i++) queue[i] = copy(queue[i]);
    return queue.length === 0 && !this.failed;
  }

  /** Sends what is queued, until the kernel refuses more or this wake-up's file budget is spent; true once all of it went. */
  flush(): boolean {
    this.sealTail();
    const queue = this.queue;
    const fd = this.fd;
    let budget = SENDFILE_BUDGET;
    while (queue.length > 0 && !this.closed) {
      const first = queue[0];
      if (first instanceof FileRegion) {
        if (budget <= 0) return false; // EPOLLOUT stays on: the rest goes on the next wake-up
        const n = sendfile(fd, first.fd, first.offset, Math.min(first.remaining, budget));
        if (n === EAGAIN) return false;
        // An error, or the file shrank under us: the promised length cannot be kept.
        if (n <= 0) return this.fail();
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
      if (n < 0) return n === EAGAIN ? false : this.fail();
      this.queued -= n;
      let done = 0;
      while (done < batch.length && n >= batch[done].length) n -= batch[done++].length;
      queue.splice(0, done);
      if (n > 0) {
        queue[0] = batch[done].subarray(n);
        return false;
      }
      if (done < batch.length) return false; // the kernel's buffer is full again
    }
    if (this.closed) return false;
    this.queue = NO_PARTS; // drained: a connection at rest keeps no grown array
    return true;
  }

  /** Puts a copy of `part` at the end of the queue (a small one into the tail chunk) and counts it. */
  private enqueue(part: OutputPart): void {
    if (part instanceof FileRegion) {
      this.sealTail();
      this.queue.push(part);
      this.queued += part.remaining;
      return;
    }
    const n = part.length;
    if (n === 0) return;
    this.queued += n;
    if (n >= COALESCE_BELOW || this.queue.length === 0) {
      this.sealTail();
      this.queue.push(part.slice());
      return;
    }
    if (this.tail !== null && this.tail.length - this.tailUsed < n) this.sealTail();
    this.tail ??= new Uint8Array(CHUNK);
    this.tail.set(part, this.tailUsed);
    this.tailUsed += n;
  }

  /** The tail chunk's bytes join the queue as one part; the next small part starts a new chunk. */
  private sealTail(): void {
    if (this.tail === null) return;
    if (this.tailUsed > 0) this.queue.push(this.tail.subarray(0, this.tailUsed));
    this.tail = null;
    this.tailUsed = 0;
  }

  /** Queues what the kernel did not take of `parts`, of which it took the first `sent` bytes. */
  private queueUnsent(parts: readonly Uint8Array[], sent: number): void {
    this.queue = [];
    for (const part of parts) {
      if (sent >= part.length) {
        sent -= part.length;
        continue;
      }
      this.enqueue(part.subarray(sent));
      sent = 0;
    }
  }

  /** A write failed for good: nothing more is sent, and the connection reads `failed` and closes. */
  private fail(): false {
    this.failed = true;
    this.close();
    return false;
  }

  /** Nothing more will be sent: the file regions are closed and the copies let go. */
  close(): void {
    this.closed = true;
    dropFiles(this.queue);
    this.queue = NO_PARTS;
    this.queued = 0;
    this.tail = null;
  }
}
