// A request body as it arrives: an async iterable of byte chunks that the
// connection pushes into and the handler pulls from.
import { concat } from "simplenet-parser";

/** The request body cannot be read to its end: the client went away, timed out or sent a malformed body. */
export class BodyError extends Error {
  override name = "BodyError";
  /** The status that answers the request when nothing was sent yet: 400 for a body cut short, 413 for one too large. */
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

const nothing = (): void => {};

export class BodyStream implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private consumed = false;
  /** Bytes buffered and not yet taken by the reader. */
  buffered = 0;

  constructor(private readonly onFirstRead: () => void, private readonly onDrain: () => void) {}

  /** The body of a request that has none. */
  static empty(): BodyStream {
    const body = new BodyStream(nothing, nothing);
    body.ended = true;
    return body;
  }

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(error: Error): void {
    if (this.ended) return;
    this.failure = error;
    this.notify();
  }

  get complete(): boolean {
    return this.ended;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.claim();
    while (true) {
      if (this.chunks.length > 0) {
        const chunk = this.chunks.shift()!;
        this.buffered -= chunk.length;
        if (this.buffered === 0) this.onDrain();
        yield chunk;
        continue;
      }
      if (this.failure !== null) throw this.failure;
      if (this.ended) return;
      await this.arrival();
    }
  }

  /** The whole body. Takes what has arrived at each wake-up rather than a chunk per turn of the iterator: most bodies are in by the first call. */
  async bytes(): Promise<Uint8Array> {
    this.claim();
    const parts: Uint8Array[] = [];
    for (;;) {
      if (this.chunks.length > 0) {
        for (const chunk of this.chunks) parts.push(chunk);
        this.chunks.length = 0;
        this.buffered = 0;
        this.onDrain();
      }
      if (this.failure !== null) throw this.failure;
      if (this.ended) break;
      await this.arrival();
    }
    return concat(parts); // one chunk as it is
  }

  /** Resolves when a chunk, the end or a failure arrives. */
  private arrival(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  private claim(): void {
    if (this.consumed) throw new Error("the request body was already read");
    this.consumed = true;
    this.onFirstRead();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
