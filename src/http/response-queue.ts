// The responses of one connection, in request order (RFC 9112 §9.3): only the
// oldest one writes; a later one keeps copies of its output until every
// response before it has ended. The queue is a list threaded through the
// responses themselves (their queue* fields): a request costs it no object,
// and an idle connection's queue holds nothing.
import type { Response } from "./response.js";
import { FileRegion, copy, dropFiles, memoryOf, type OutputPart } from "./output-part.js";

export interface QueueHost {
  /** Sends the oldest response's bytes; false when not all went out now. */
  send(parts: OutputPart[]): boolean;
  /** send() for parser.bytes[start, end), bytes of the output region valid during the call. */
  sendRegion(start: number, end: number): boolean;
  /** The bytes the output region's offsets index. */
  readonly regionBytes: Uint8Array;
  /** A response that closes the connection was sent: it is the last (RFC 9112 §9.6). */
  closingResponseSent(): void;
  /** A response ended and the next may write. */
  responseEnded(): void;
}

export class ResponseQueue {
  private first: Response | null = null;
  private last: Response | null = null;
  length = 0;
  /** Bytes of output kept for responses not first in line yet (file regions hold no memory and count none). */
  keptBytes = 0;

  constructor(private host: QueueHost) {}

  /** Lent to another connection (from a pool): only an empty queue is. */
  attach(host: QueueHost): void {
    this.host = host;
  }

  get oldest(): Response | undefined {
    return this.first ?? undefined;
  }

  push(res: Response): void {
    res.queueNext = null;
    res.queuePending = null;
    res.queueEnded = false;
    res.queued = true;
    if (this.last === null) this.first = res;
    else this.last.queueNext = res;
    this.last = res;
    this.length++;
  }

  /** Output for `res`: sent if it is the oldest, else kept until it is. */
  output(res: Response, parts: OutputPart[], last: boolean): boolean {
    const first = this.first;
    if (first !== res) {
      if (!res.queued) {
        dropFiles(parts); // given up on already
        return false;
      }
      for (const part of parts) if (part instanceof FileRegion || part.length > 0) (res.queuePending ??= []).push(copy(part));
      this.keptBytes += memoryOf(parts);
      if (last) res.queueEnded = true;
      return false;
    }
    const sent = this.host.send(parts);
    if (last && this.first === first) this.finishOldest(); // a failed send has emptied the queue already
    return sent;
  }

  /** output() of regionBytes[start, end), bytes of the output region valid during the call. */
  outputRegion(res: Response, start: number, end: number, last: boolean): boolean {
    const first = this.first;
    if (first !== res) return this.output(res, [this.host.regionBytes.subarray(start, end)], last);
    const sent = this.host.sendRegion(start, end);
    if (last && this.first === first) this.finishOldest(); // a failed send has emptied the queue already
    return sent;
  }

  /** Second in line: a 100 Continue for it waits behind the oldest response. */
  sendInOrder(res: Response, bytes: Uint8Array): void {
    if (this.first === res) this.host.send([bytes]);
    else if (res.queued) {
      (res.queuePending ??= []).push(bytes);
      this.keptBytes += bytes.length;
    }
  }

  private shift(): Response {
    const res = this.first!;
    this.first = res.queueNext;
    if (this.first === null) this.last = null;
    res.queueNext = null;
    res.queued = false;
    this.length--;
    return res;
  }

  /** The oldest response has ended: let the next ones' kept output go. */
  private finishOldest(): void {
    let done = this.shift();
    while (true) {
      if (done.closesConnection) {
        this.host.closingResponseSent();
        break;
      }
      const next = this.first;
      if (next === null) break;
      const pending = next.queuePending;
      if (pending !== null) {
        next.queuePending = null;
        this.keptBytes -= memoryOf(pending);
        if (next.cutShort) dropFiles(pending);
        else this.host.send(pending);
      }
      if (!next.queueEnded || this.first !== next) break;
      done = this.shift();
    }
    this.host.responseEnded();
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
