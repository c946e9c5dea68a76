// What RequestStream and ResponseStream share: one byte stream's bytes in the
// instance's receive region (read there directly, or pushed), the head and
// chunk-line bytes carried between inputs, and the bodies — Content-Length,
// chunked with trailers (the decoder's state each stream's own), or until the
// connection closes — with their data, end and error callbacks. A subclass
// says only how a head is parsed and taken, and how an error is reported.
import { FRAMING, INCOMPLETE } from "./abi.js";
import type { Fields } from "./fields.js";
import type { ParseErrorInfo } from "./heads.js";
import type { ParserInstance } from "./instance.js";

/** The head fields the stream needs to read the body that follows. */
export interface FramedHead {
  readonly framing: number;
  readonly contentLength: number;
}

export interface MessageHandlers<Head> {
  head(head: Head): void;
  /** A view into linear memory, valid only during the call: copy what you keep. */
  data(chunk: Uint8Array): void;
  end(trailers: Fields | null): void;
  error(error: ParseErrorInfo): void;
}

export const AT_HEAD = 0, IN_LENGTH = 1, IN_CHUNKED = 2, UNTIL_CLOSE = 3, STOPPED = 4;

export abstract class MessageStream<Head extends FramedHead> {
  /** Bytes of the current message consumed so far. */
  protected messageOffset = 0;
  /** Bytes of the stream consumed so far (carried bytes are not consumed yet). */
  position = 0;
  protected phase = AT_HEAD;
  protected carry: Uint8Array | null = null;
  private carried = 0;
  private scanned = 0;
  private remaining = 0;
  /** The chunked decoder's state, made for the first chunked body. */
  private chunkState: Float64Array | null = null;
  /** During a head() callback (or the end() right after it): where the bytes after that head begin and end in the receive region. */
  private restFrom = 0;
  private restTo = 0;

  constructor(protected readonly parser: ParserInstance, protected readonly on: MessageHandlers<Head>) {}

  /** Parses a head at [ptr, ptr + len): its length, INCOMPLETE or an error code (the module's parse, `prevLen` as there). */
  protected abstract parseHeadAt(ptr: number, len: number, prevLen: number): number;
  /** After parseHeadAt returned n > 0: the head. */
  protected abstract takeHeadAt(ptr: number, n: number): Head;
  /** The error reported for `code` at `offset` from the start of the message. */
  protected abstract describe(code: number, offset: number): ParseErrorInfo;

  /** Moves carried bytes to the receive region; returns how many new bytes fit after them. */
  prepare(): number {
    this.parser.claimReceiveRegion();
    this.carried = 0;
    if (this.carry !== null) {
      this.parser.bytes.set(this.carry, this.parser.recv);
      this.carried = this.carry.length;
    }
    return this.parser.recvCapacity - this.carried;
  }

  /** Where `prepare`'s caller writes the new bytes. */
  get writeAt(): number {
    return this.parser.recv + this.carried;
  }

  /** Parses the carried bytes and n new ones. */
  commit(n: number): void {
    this.carry = null;
    this.parser.beginParse();
    try {
      this.consume(this.parser.recv, this.carried + n);
    } finally {
      this.parser.endParse();
    }
  }

  push(input: Uint8Array): void {
    let i = 0;
    while (i < input.length && this.phase !== STOPPED) {
      const n = Math.min(this.prepare(), input.length - i);
      this.parser.bytes.set(input.subarray(i, i + n), this.writeAt);
      this.commit(n);
      i += n;
    }
  }

  /** Stops parsing: later input is ignored. */
  stop(): void {
    this.phase = STOPPED;
    this.carry = null;
  }

  get stopped(): boolean {
    return this.phase === STOPPED;
  }

  /** Whether a message has begun and not ended. */
  get inMessage(): boolean {
    return this.phase === IN_LENGTH || this.phase === IN_CHUNKED || this.phase === UNTIL_CLOSE || this.carry !== null;
  }

  /**
   * Only during a head() callback (or the end() right after a tunnel's head):
   * stops parsing and returns a copy of the bytes that followed that head in
   * this input (a protocol switch's or tunnel's first bytes).
   */
  takeRest(): Uint8Array {
    this.stop();
    return this.parser.bytes.slice(this.restFrom, this.restTo);
  }

  private consume(base: number, len: number): void {
    const p = this.parser;
    const start = this.position;
    let off = 0;
    while (off < len && this.phase !== STOPPED) {
      if (this.phase === AT_HEAD) {
        const r = this.parseHeadAt(base + off, len - off, this.scanned);
        if (r === INCOMPLETE) {
          this.scanned = len - off;
          break;
        }
        if (r < 0) return this.fail(r, p.errorOffset());
        this.scanned = 0;
        const head = this.takeHeadAt(base + off, r);
        off += r;
        this.position = start + off;
        this.messageOffset = r;
        if (head.framing === FRAMING.CHUNKED) {
          this.phase = IN_CHUNKED;
          (this.chunkState ??= new Float64Array(3)).fill(0);
        } else if (head.framing === FRAMING.LENGTH && head.contentLength > 0) {
          this.phase = IN_LENGTH;
          this.remaining = head.contentLength;
        } else if (head.framing === FRAMING.UNTIL_CLOSE) {
          this.phase = UNTIL_CLOSE;
        }
        this.restFrom = base + off;
        this.restTo = base + len;
        this.on.head(head);
        if (this.phase === AT_HEAD) {
          this.on.end(null);
          if (head.framing === FRAMING.TUNNEL) this.stop();
        }
      } else if (this.phase === IN_LENGTH) {
        const n = Math.min(this.remaining, len - off);
        this.remaining -= n;
        this.messageOffset += n;
        off += n;
        this.position = start + off;
        if (this.remaining === 0) this.phase = AT_HEAD;
        this.on.data(p.bytes.subarray(base + off - n, base + off));
        if (this.remaining === 0 && this.phase === AT_HEAD) this.on.end(null);
      } else if (this.phase === UNTIL_CLOSE) {
        const n = len - off;
        this.messageOffset += n;
        off = len;
        this.position = start + off;
        this.on.data(p.bytes.subarray(base + off - n, base + off));
      } else {
        const r = p.decodeChunked(base + off, len - off, this.chunkState!);
        const consumed = p.chunkConsumed();
        const dataLength = p.chunkDataLength();
        if (r < 0) return this.fail(r, p.errorOffset() + this.messageOffset);
        const at = base + off;
        off += consumed;
        this.position = start + off;
        this.messageOffset += consumed;
        const trailers = r === 1 ? p.takeTrailers(at, consumed) : null;
        if (r === 1) this.phase = AT_HEAD;
        if (dataLength > 0) this.on.data(p.bytes.subarray(at, at + dataLength));
        if (r === 1) {
          if (this.phase === AT_HEAD) this.on.end(trailers!.length > 0 ? trailers : null);
        } else {
          break;
        }
      }
    }
    if (off < len && this.phase !== STOPPED) this.carry = p.bytes.slice(base + off, base + len);
  }

  protected fail(code: number, offset: number): void {
    this.stop();
    this.on.error(this.describe(code, offset));
  }
}

/**
 * The one-shot parses' general case: `input` pushed through the stream
 * `open` makes, each message's body copied out; `ended` makes the result of
 * a message that ends (head, body, trailers, bytes used so far), or
 * undefined to go on to the next one. `after` sees the stream once the input is in.
 */
export function parseThrough<Head extends FramedHead, S extends MessageStream<Head>, R>(
  open: (on: MessageHandlers<Head>) => S, input: Uint8Array,
  ended: (head: Head, body: Uint8Array, trailers: [string, string][], consumed: number) => R | undefined,
  after?: (stream: S) => void,
): R | { error: ParseErrorInfo } | { incomplete: true } {
  let head: Head | null = null;
  let result: R | { error: ParseErrorInfo } | { incomplete: true } = { incomplete: true };
  let chunks: Uint8Array[] = [];
  const stream = open({
    head(h) {
      head = h;
      chunks = [];
    },
    data(chunk) {
      chunks.push(chunk.slice());
    },
    end(trailers) {
      const r = ended(head!, concat(chunks), trailers ? trailers.toArray() : [], stream.position);
      if (r === undefined) return;
      result = r;
      stream.stop();
    },
    error(error) {
      result = { error };
    },
  });
  stream.push(input);
  after?.(stream);
  return result;
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
