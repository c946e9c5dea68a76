// The responses of one connection, in request order (RFC 9112 §9.3): only the
// oldest one writes; a later one keeps copies of its output until every
// response before it has ended. The queue only keeps: it sends nothing and
// calls no one, so its connection (connection-output.ts) asks it who is
// first, hands it what a later response writes, and takes back what a
// response that comes first keeps. The queue is a list threaded through the
// responses themselves (their queue* fields): a request costs it no object,
// and an idle connection's queue holds nothing.
import type { Response } from "./response.js";
import { FileRegion, copy, dropFiles, memoryOf, type OutputPart } from "./output-part.js";

export class ResponseQueue {
  private first: Response | null = null;
  /**
   * The newest response while there are two or more; null stands for
   * `first` otherwise. The usual connection has one response in flight at a
   * time, and a store of a new response into this long-lived object is a
   * write barrier: one per request rather than two.
   */
  private last: Response | null = null;
  length = 0;
  /** Bytes of output kept for responses not first in line yet (file regions hold no memory and count none). */
  keptBytes = 0;

  get oldest(): Response | undefined {
    return this.first ?? undefined;
  }

  push(res: Response): void {
    res.queueNext = null;
    res.queuePending = null;
    res.queueEnded = false;
    res.queued = true;
    if (this.first === null) {
      this.first = res;
    } else {
      (this.last ?? this.first).queueNext = res;
      this.last = res;
    }
    this.length++;
  }

  /** Output of `res`, not first in line: copies are kept until it is (`last`: it has ended). */
  keep(res: Response, parts: readonly OutputPart[], last: boolean): void {
    if (!res.queued) {
      dropFiles(parts); // given up on already
      return;
    }
    for (const part of parts) if (part instanceof FileRegion || part.length > 0) (res.queuePending ??= []).push(copy(part));
    this.keptBytes += memoryOf(parts);
    if (last) res.queueEnded = true;
  }

  /** The oldest response has ended: it leaves the queue. */
  shift(): Response {
    const res = this.first!;
    this.first = res.queueNext;
    if (this.first === this.last) this.last = null; // one left (or none): it is `first` alone
    res.queueNext = null;
    res.queued = false;
    this.length--;
    return res;
  }

  /** What `res`, now first in line, kept meanwhile, for its connection to send (none for one cut short: its files are closed). */
  takeKept(res: Response): OutputPart[] | null {
    const pending = res.queuePending;
    if (pending === null) return null;
    res.queuePending = null;
    this.keptBytes -= memoryOf(pending);
    if (!res.cutShort) return pending;
    dropFiles(pending);
    return null;
  }

  /** Gives up on every response in the queue: their kept output is never sent. */
  discardAll(): void {
    let res = this.first;
    this.first = this.last = null;
    this.length = 0;
    this.keptBytes = 0;
    while (res !== null) {
      const next = res.queueNext;
      res.queueNext = null;
      res.queued = false;
      if (res.queuePending !== null) dropFiles(res.queuePending);
      res.queuePending = null;
      res.drop();
      res = next;
    }
  }
}
