// A connection's writing side: what its responses write through
// (ResponseSink). The bytes go down — response → response-queue.ts (in
// order) → outbox.ts → cork.ts → send-queue.ts → the system call —, none of
// which calls back up: this class drives them. It asks the queue whether a
// response is first in line, sends for it or has the queue keep its output,
// and sends what the next ones kept once the oldest ends; after each send it
// reads the outbox's state (a failed write, bytes waiting for EPOLLOUT, all
// sent) and closes, watches or goes on.
import { ConnectionUpgrade } from "./connection-upgrade.js";
import { BATCHING, CORK_HELD, READ_PAUSED, clock } from "./connection-state.js";
import type { BusyState } from "./state-pool.js";
import type { Response, ResponseSink } from "./response.js";
import { dropFiles, memoryOf, type OutputPart } from "./output-part.js";

export abstract class ConnectionOutput extends ConnectionUpgrade implements ResponseSink {
  /** No more requests are read: close once the responses in flight are sent. */
  protected abstract stopReadingRequests(): void;
  /** Closes the connection if nothing more is to be read or sent. */
  protected abstract maybeClose(): void;

  protected takeBusyState(): BusyState {
    return this.host.pool.takeBusyState(this.fd);
  }

  get headAt(): number {
    return this.host.cork.headAt;
  }

  /** ResponseSink: a response writes into the output region only while its connection owns the cork. */
  holdCork(): boolean {
    if (!(this.busyState ?? this.borrowBusyState()).outbox.takeCork()) return false;
    this.flags |= CORK_HELD;
    return true;
  }

  releaseCork(): boolean {
    this.flags &= ~CORK_HELD;
    if (this.busyState === null) return false; // closed meanwhile
    const outbox = this.busyState.outbox;
    outbox.releaseCork();
    this.afterSend();
    const sent = !outbox.pending;
    this.maybeClose();
    this.rest();
    return sent && !this.closed;
  }

  serializeHead(
    status: number, reason: string, fields: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number,
  ): number {
    // One clock reading per batch of events (the loop's): the read's time stands for now.
    return this.host.cork.serializeHead(status, reason, fields, framing, contentLength, flags, Math.floor(this.host.loop.now() / 1000));
  }

  output(res: Response, parts: OutputPart[], last: boolean): boolean {
    if (this.closed) {
      dropFiles(parts);
      return false;
    }
    const responses = (this.busyState ?? this.borrowBusyState()).responses;
    if (responses.oldest !== res) {
      responses.keep(res, parts, last);
      return false;
    }
    const sent = this.send(parts);
    if (last && responses.oldest === res) this.oldestEnded(); // a failed send has emptied the queue already
    return sent;
  }

  /** output() of parser.bytes[start, end), bytes of the output region valid during the call: while corked, no view is made for them. */
  outputRegion(res: Response, start: number, end: number, last: boolean): boolean {
    if (this.closed) return false;
    const a = this.busyState ?? this.borrowBusyState();
    const responses = a.responses;
    if (responses.oldest !== res) return this.output(res, [this.host.parser.bytes.subarray(start, end)], last);
    const sent = a.outbox.sendRegion(start, end);
    if (!sent) this.afterSend();
    if (last && responses.oldest === res) this.oldestEnded(); // a failed send has emptied the queue already
    return sent;
  }

  /** Bytes for `res` (a 100 Continue) that wait behind the responses before it. */
  protected sendInOrder(res: Response, bytes: Uint8Array): void {
    if (this.responses.oldest === res) this.send([bytes]);
    else this.responses.keep(res, [bytes], false);
  }

  /** The oldest response has ended: the next ones' kept output goes, up to one that has not ended or closes the connection. */
  private oldestEnded(): void {
    const responses = (this.busyState ?? this.borrowBusyState()).responses;
    let done = responses.shift();
    while (true) {
      if (done.closesConnection) {
        // It is the last (RFC 9112 §9.6).
        this.stopReadingRequests();
        responses.discardAll();
        break;
      }
      const next = responses.oldest;
      if (next === undefined) break;
      const kept = responses.takeKept(next);
      if (kept !== null) this.send(kept);
      if (!next.queueEnded || responses.oldest !== next) break;
      done = responses.shift();
    }
    this.responseEnded();
  }

  /** Resolves once `res` is first in line (or finished) and nothing is queued; rejects if the connection closes first. */
  drained(res: Response): Promise<void> {
    // At rest: nothing is queued and no response is in flight.
    if (this.busyState === null) return this.closed ? Promise.reject(new Error("connection closed")) : Promise.resolve();
    return this.outbox.whenDrained(() => this.responses.oldest === res || res.finished);
  }

  private send(parts: OutputPart[]): boolean {
    const a = this.busyState ?? this.borrowBusyState();
    if (this.batching) a.corkedBytes += memoryOf(parts);
    const sent = a.outbox.send(parts);
    if (!sent) this.afterSend();
    return sent;
  }

  /** After a send: a write that failed for good closes the connection; bytes the kernel refused wait for EPOLLOUT. */
  protected afterSend(): void {
    const outbox = this.busyState!.outbox;
    if (outbox.failed) this.destroy();
    else if (outbox.pending) this.updateInterest();
  }

  /** A response ended and the next may write. */
  private responseEnded(): void {
    const a = this.busyState ?? this.borrowBusyState();
    // The usual response ends with none of the steps below to take: each is
    // tested here, not by a call that returns at once (~40 instructions each).
    if (this.extras !== null) this.handOverWhenSent();
    a.outbox.wake();
    if (a.deferred !== null) this.dispatchDeferred();
    if (this.flags & READ_PAUSED) this.resumeReading();
    // While the requests of a read are handled, that read's time stands for
    // now, and neither closing nor resting can happen before the read's end.
    if (this.flags & BATCHING) return;
    this.lastActivity = clock();
    this.maybeClose();
    this.rest();
  }

  /** EPOLLOUT: what waits is sent; once all of it went, the connection goes on (deferred requests, reading, closing). */
  protected sendQueued(): void {
    const outbox = this.busyState!.outbox;
    if (!outbox.flush()) {
      if (outbox.failed) this.destroy();
      return; // EPOLLOUT stays on
    }
    this.updateInterest();
    this.dispatchDeferred();
    this.resumeReading();
    this.maybeClose();
    this.rest();
  }
}
