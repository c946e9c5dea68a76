// The responses of one connection, in request order (RFC 9112 §9.3): only the
// oldest one writes; a later one keeps copies of its output until every
// response before it has ended.
import { FileRegion, dropFiles, type OutputPart, type Response } from "./response.js";
import { copy } from "./outbox.js";

interface Entry {
  res: Response;
  /** Output given before the earlier responses ended: copies, and file regions this entry owns. */
  pending: OutputPart[];
  ended: boolean;
}

export interface QueueHost {
  /** Sends the oldest response's bytes; false when not all went out now. */
  send(parts: OutputPart[]): boolean;
  /** A response that closes the connection was sent: it is the last (RFC 9112 §9.6). */
  closingResponseSent(): void;
  /** A response ended and the next may write. */
  responseEnded(): void;
}

export class ResponseQueue {
  private entries: Entry[] = [];

  constructor(private readonly host: QueueHost) {}

  get length(): number {
    return this.entries.length;
  }

  get oldest(): Response | undefined {
    return this.entries[0]?.res;
  }

  push(res: Response): void {
    this.entries.push({ res, pending: [], ended: false });
  }

  /** Output for `res`: sent if it is the oldest, else kept until it is. */
  output(res: Response, parts: OutputPart[], last: boolean): boolean {
    const first = this.entries[0];
    if (first === undefined || first.res !== res) {
      const entry = this.entries.find((e) => e.res === res);
      if (entry === undefined) {
        dropFiles(parts); // given up on already
        return false;
      }
      for (const part of parts) if (part instanceof FileRegion || part.length > 0) entry.pending.push(copy(part));
      if (last) entry.ended = true;
      return false;
    }
    const sent = this.host.send(parts);
    if (last && this.entries[0] === first) this.finishOldest(); // a failed send has emptied the queue already
    return sent;
  }

  /** Second in line: a 100 Continue for it waits behind the oldest response. */
  sendInOrder(res: Response, bytes: Uint8Array): void {
    if (this.entries[0]?.res === res) this.host.send([bytes]);
    else this.entries.find((e) => e.res === res)?.pending.push(bytes);
  }

  /** The oldest response has ended: let the next ones' kept output go. */
  private finishOldest(): void {
    let done = this.entries.shift()!;
    while (true) {
      if (done.res.closesConnection) {
        this.host.closingResponseSent();
        break;
      }
      const next = this.entries[0];
      if (next === undefined) break;
      if (next.pending.length > 0) this.host.send(next.pending.splice(0));
      if (!next.ended || this.entries[0] !== next) break;
      done = this.entries.shift()!;
    }
    // A fresh array for the next request: an idle connection keeps no grown one.
    if (this.entries.length === 0) this.entries = [];
    this.host.responseEnded();
  }

  /** Gives up on every response in the queue: their kept output is never sent. */
  discardAll(): void {
    const entries = this.entries;
    this.entries = [];
    for (const entry of entries) {
      dropFiles(entry.pending);
      entry.res.drop();
    }
  }
}
