// A connection's writing side: what its responses write through
// (ResponseSink), and the events its response queue and outbox report back
// (QueueHost, OutboxHost). The bytes themselves go down: response →
// response-queue.ts → outbox.ts → cork.ts → the system call.
import { ConnectionUpgrade } from "./connection-upgrade.js";
import { CORK_HELD, clock } from "./connection-state.js";
import type { BusyState } from "./state-pool.js";
import type { Response, ResponseSink } from "./response.js";
import { dropFiles, memoryOf, type OutputPart } from "./output-part.js";
import type { QueueHost } from "./response-queue.js";
import type { OutboxHost } from "./outbox.js";

export abstract class ConnectionOutput extends ConnectionUpgrade implements ResponseSink, QueueHost, OutboxHost {
  /** No more requests are read: close once the responses in flight are sent. */
  protected abstract stopReadingRequests(): void;
  /** Closes the connection if nothing more is to be read or sent. */
  protected abstract maybeClose(): void;

  protected takeBusyState(): BusyState {
    return this.host.pool.takeBusyState(this);
  }

  get headAt(): number {
    return this.host.cork.headAt;
  }

  /** ResponseSink: a response writes into the output region only while its connection owns the cork. */
  holdCork(): boolean {
    const cork = this.host.cork;
    if (cork.owns(this.outbox)) return false;
    cork.take(this.outbox);
    this.flags |= CORK_HELD;
    return true;
  }

  releaseCork(): boolean {
    this.flags &= ~CORK_HELD;
    if (this.busyState === null) return false; // closed meanwhile
    this.host.cork.release(this.busyState.outbox);
    const sent = !this.busyState.outbox.pending;
    this.maybeClose();
    this.rest();
    return sent && !this.closed;
  }

  serializeHead(
    status: number, reason: string, fields: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number,
  ): number {
    // One clock reading per batch: the read's time stands for now.
    const now = this.batching ? this.host.pool.readAt : Date.now();
    return this.host.cork.serializeHead(status, reason, fields, framing, contentLength, flags, Math.floor(now / 1000));
  }

  output(res: Response, parts: OutputPart[], last: boolean): boolean {
    if (this.closed) {
      dropFiles(parts);
      return false;
    }
    return this.responses.output(res, parts, last);
  }

  outputRegion(res: Response, start: number, end: number, last: boolean): boolean {
    if (this.closed) return false;
    return this.responses.outputRegion(res, start, end, last);
  }

  sendRegion(start: number, end: number): boolean {
    return this.outbox.sendRegion(start, end);
  }

  get regionBytes(): Uint8Array {
    return this.host.parser.bytes;
  }

  /** Resolves once `res` is first in line (or finished) and nothing is queued; rejects if the connection closes first. */
  drained(res: Response): Promise<void> {
    // At rest: nothing is queued and no response is in flight.
    if (this.busyState === null) return this.closed ? Promise.reject(new Error("connection closed")) : Promise.resolve();
    return this.outbox.whenDrained(() => this.responses.oldest === res || res.finished);
  }

  send(parts: OutputPart[]): boolean {
    if (this.batching) this.busy.corkedBytes += memoryOf(parts);
    return this.outbox.send(parts);
  }

  /** QueueHost: a response that closes the connection was sent; it is the last. */
  closingResponseSent(): void {
    this.stopReadingRequests();
    this.responses.discardAll();
  }

  /** QueueHost: a response ended and the next may write. */
  responseEnded(): void {
    // While the requests of a read are handled, that read's time stands for now.
    if (!this.batching) this.lastActivity = clock();
    this.handOverWhenSent();
    this.outbox.wake();
    this.dispatchDeferred();
    this.resumeReading();
    this.maybeClose();
    this.rest();
  }

  /** OutboxHost: everything queued went out. */
  drainedAll(): void {
    this.dispatchDeferred();
    this.resumeReading();
    this.maybeClose();
    this.rest();
  }
}
