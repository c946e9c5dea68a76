// The output region of one event loop and the connection that owns it now.
// As in uSockets, one connection at a time is corked: while the requests of
// one read are handled, the heads (and small bodies) of their responses are
// serialized one after another in the output region and leave in one write
// when the owner releases the cork. Only the owner writes into the region:
// another connection that writes meanwhile (from the owner's handler, or from
// a timer) takes the cork for that write, which sends the owner's batch
// first, and gives it back after. The cork sends a batch into its owner's
// send queue (send-queue.ts), the piece below it, and calls nothing above:
// the connection that owns the cork reads its send queue's state once it
// has released it.
import { MAX_IOVECS } from "simplenet-parser/abi";
import { HeadError, type ParserInstance } from "simplenet-parser";
import type { SendQueue } from "./send-queue.js";

/** Most parts one batch holds: the shim's writev takes MAX_IOVECS, and a queued tail may ride along. */
const MAX_BATCH_PARTS = MAX_IOVECS - 4;

export class Cork {
  /** Bytes at the start of the output region that the owner's batch still needs. */
  private used = 0;
  private owner: SendQueue | null = null;
  /** The owner the cork goes back to when the current one, which took it from them, releases it. */
  private previous: SendQueue | null = null;
  private parts: Uint8Array[] = [];
  /**
   * The batch's last bytes, when they are output-region bytes given by
   * addRange: parser.bytes[rangeStart, rangeEnd), no view made for them yet
   * (rangeEnd 0: none). Back-to-back responses only move rangeEnd.
   */
  private rangeStart = 0;
  private rangeEnd = 0;
  /** Where the last serialized head starts (an index into parser.bytes); only valid until the owner's next write. */
  headAt = 0;
  /**
   * The wasm memory's own ArrayBuffer, which the hot reads and sends pass to
   * the shim: a buffer's pointer costs the shim one cheap call, a view's
   * several, and `bytes.buffer` is a call into V8's runtime each time.
   */
  readonly memory: ArrayBuffer;

  constructor(readonly parser: ParserInstance) {
    this.memory = parser.bytes.buffer as ArrayBuffer;
  }

  /**
   * `owner` batches its output until release(); a different owner's batch is
   * sent first, and that owner gets the cork back at the release.
   */
  take(owner: SendQueue): void {
    if (this.owner !== owner) {
      this.flush();
      this.previous = this.owner;
      this.owner = owner;
    }
  }

  owns(owner: SendQueue): boolean {
    return this.owner === owner;
  }

  /** Sends the owner's batch and gives the region up, to the owner it was taken from if any. */
  release(owner: SendQueue): void {
    if (this.owner !== owner) return;
    this.flush();
    this.owner = this.previous;
    this.previous = null;
  }

  /** Forgets the owner's batch without sending it (its connection is gone). */
  abandon(owner: SendQueue): void {
    if (this.previous === owner) this.previous = null;
    if (this.owner !== owner) return;
    this.parts = [];
    this.rangeEnd = 0;
    this.used = 0;
    this.owner = this.previous;
    this.previous = null;
  }

  /**
   * Adds the owner's byte parts to the batch, keeping the output region's
   * bytes they use. False when the batch cannot take them: the caller flushes
   * and sends them itself.
   */
  add(parts: Uint8Array[]): boolean {
    if (this.parts.length + parts.length + 1 > MAX_BATCH_PARTS) return false;
    this.closeRange();
    const { parser } = this;
    for (const part of parts) {
      if (part.length === 0) continue;
      this.parts.push(part);
      const offset = part.byteOffset - parser.out;
      // (A view's buffer is a call into V8's runtime, some 350 instructions: asked last, and of the memory's kept one.)
      if (offset >= 0 && offset < parser.outCapacity && part.buffer === this.memory) {
        this.used = Math.max(this.used, offset + part.length);
      }
    }
    // Keep room in the output region for the next response's head and body.
    if (this.used > parser.outCapacity >> 1) this.flush();
    return true;
  }

  /**
   * Adds parser.bytes[start, end), bytes of the output region after those the
   * batch keeps (or of the receive region, unchanged until the batch is
   * sent), without a view: right behind the batch's last range, it
   * only grows that range. False when the batch cannot take them.
   */
  addRange(start: number, end: number): boolean {
    if (this.rangeEnd !== start || this.rangeEnd === 0) {
      if (this.parts.length + 2 > MAX_BATCH_PARTS) return false;
      this.closeRange();
      this.rangeStart = start;
    }
    this.rangeEnd = end;
    // (A range of the receive region, which lies before the output region, keeps none of it.)
    this.used = Math.max(this.used, end - this.parser.out);
    if (this.used > this.parser.outCapacity >> 1) this.flush();
    return true;
  }

  /** The open range becomes a view among the parts, for parts that follow it. */
  private closeRange(): void {
    if (this.rangeEnd === 0) return;
    this.parts.push(this.parser.bytes.subarray(this.rangeStart, this.rangeEnd));
    this.rangeEnd = 0;
  }

  /** Sends the owner's batch now; the owner keeps the cork. */
  flush(): void {
    const parts = this.parts;
    const { rangeStart, rangeEnd } = this;
    this.used = 0;
    this.rangeEnd = 0;
    if (parts.length === 0) {
      if (rangeEnd !== 0) this.owner!.sendRange(this.memory, rangeStart, rangeEnd);
      return;
    }
    this.parts = [];
    if (rangeEnd !== 0) parts.push(this.parser.bytes.subarray(rangeStart, rangeEnd));
    this.owner!.send(coalesce(parts));
  }

  /**
   * Where `n` bytes of the output region after the bytes the batch keeps
   * begin (an index into parser.bytes; the batch is sent first when they do
   * not fit), for the caller to fill and send at once; -1 when `n` exceeds
   * what the region can lend.
   */
  placeAt(n: number): number {
    const { parser } = this;
    if (n > parser.outCapacity >> 1) return -1;
    if (this.used + n > parser.outCapacity) this.flush();
    return parser.out + this.used;
  }

  /**
   * Serializes a head after the bytes the batch keeps; when it does not fit
   * there, the batch is sent first and the head goes at the region's start.
   */
  serializeHead(
    status: number, reason: string, fields: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number, nowSeconds: number,
  ): number {
    let at = this.used;
    let n: number;
    try {
      n = this.parser.serializeHead(at, status, reason, fields, framing, contentLength, flags, nowSeconds);
    } catch (error) {
      if (!(error instanceof HeadError && error.error.code === "HEAD_OVERFLOW" && at > 0)) throw error;
      this.flush();
      at = 0;
      n = this.parser.serializeHead(at, status, reason, fields, framing, contentLength, flags, nowSeconds);
    }
    this.headAt = this.parser.out + at;
    return n;
  }
}

/** Joins parts that lie back to back in one buffer (heads and bodies in the output region) into one view. */
function coalesce(parts: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < parts.length; ) {
    const first = parts[i];
    let end = first.byteOffset + first.length;
    let j = i + 1;
    while (j < parts.length && parts[j].byteOffset === end && parts[j].buffer === first.buffer) end += parts[j++].length;
    out.push(j === i + 1 ? first : new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset));
    i = j;
  }
  return out;
}

