// What a connection's kernel has not taken yet, in order: copies of the
// bytes it refused and the file ranges still to send, counted as they come
// and go. The outbox (outbox.ts) sends from it.
import { FileRegion, dropFiles, type OutputPart } from "./output-part.js";

/**
 * Queued parts smaller than this are copied into shared chunks of CHUNK
 * bytes: a client that never reads, sent many small messages, costs the
 * bytes it is owed, not a typed array (~200 bytes of heap) per message.
 */
const COALESCE_BELOW = 1024;
const CHUNK = 16 * 1024;

/** The empty queue every outbox starts with and shares: an idle connection owns no array. */
export const NO_PARTS: OutputPart[] = [];

export abstract class SendQueue {
  /** What the kernel has not taken yet, in order; byte parts here are copies. NO_PARTS while empty. */
  protected queue: OutputPart[] = NO_PARTS;
  /** Bytes (and file bytes) in `queue` and `tail`, counted as they come and go: no walk over the queue learns its size. */
  protected queued = 0;
  /** A chunk being filled with small parts, after everything in `queue` (only while the queue has something). */
  protected tail: Uint8Array | null = null;
  protected tailUsed = 0;

  /** Whether bytes wait for EPOLLOUT. */
  get pending(): boolean {
    return this.queue.length > 0;
  }

  /** Puts a copy of `part` at the end of the queue (a small one into the tail chunk) and counts it. */
  protected enqueue(part: OutputPart): void {
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
  protected sealTail(): void {
    if (this.tail === null) return;
    if (this.tailUsed > 0) this.queue.push(this.tail.subarray(0, this.tailUsed));
    this.tail = null;
    this.tailUsed = 0;
  }

  /** Queues what the kernel did not take of `parts`, of which it took the first `sent` bytes. */
  protected queueUnsent(parts: readonly Uint8Array[], sent: number): void {
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

  /** Nothing more will be sent: the file regions are closed and the copies let go. */
  protected dropQueue(): void {
    dropFiles(this.queue);
    this.queue = NO_PARTS;
    this.queued = 0;
    this.tail = null;
  }
}
