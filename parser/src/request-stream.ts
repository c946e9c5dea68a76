// An incremental request parser for one byte stream, on a ParserInstance:
// heads, bodies (Content-Length or chunked) and trailers as they arrive, in
// any split; and the one-shot parse of a whole message built on it.
import { FRAMING, INCOMPLETE, SPAN } from "./abi.js";
import type { Fields } from "./fields.js";
import { describeError, type ParseErrorInfo, type ParserInstance, type RequestHead } from "./parser.js";

export interface StreamHandlers {
  head(head: RequestHead): void;
  /** A view into linear memory, valid only during the call: copy what you keep. */
  data(chunk: Uint8Array): void;
  end(trailers: Fields | null): void;
  error(error: ParseErrorInfo): void;
}

const AT_HEAD = 0, IN_LENGTH = 1, IN_CHUNKED = 2, STOPPED = 3;

/**
 * An incremental request parser for one byte stream (one connection).
 * Bytes go into the instance's receive region: either the caller reads into
 * it directly (`prepare`, then write at `writeAt`, then `commit`), or calls
 * `push`. Only the bytes of a head or chunk line that straddles two inputs
 * are copied and carried to the next call.
 */
export class RequestStream {
  /** Bytes of the current message consumed so far. */
  private messageOffset = 0;
  /** Bytes of the stream consumed so far (carried bytes are not consumed yet). */
  position = 0;
  private phase = AT_HEAD;
  private carry: Uint8Array | null = null;
  private carried = 0;
  private scanned = 0;
  private remaining = 0;
  /** The chunked decoder's state, made for the first chunked body. */
  private chunkState: Float64Array | null = null;

  constructor(private readonly parser: ParserInstance, private readonly on: StreamHandlers) {}

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

  /** During a head() callback: where the bytes after that head begin and end in the receive region. */
  private restFrom = 0;
  private restTo = 0;

  /**
   * Only during a head() callback: stops parsing and returns a copy of the
   * bytes that followed that head in this input (a protocol switch's first bytes).
   */
  takeRest(): Uint8Array {
    this.stop();
    return this.parser.bytes.slice(this.restFrom, this.restTo);
  }

  /** Whether a message has begun and not ended. */
  get inMessage(): boolean {
    return this.phase === IN_LENGTH || this.phase === IN_CHUNKED || this.carry !== null;
  }

  private consume(base: number, len: number): void {
    const p = this.parser;
    const start = this.position;
    let off = 0;
    while (off < len && this.phase !== STOPPED) {
      if (this.phase === AT_HEAD) {
        const r = p.parseHead(base + off, len - off, this.scanned);
        if (r === INCOMPLETE) {
          this.scanned = len - off;
          break;
        }
        if (r < 0) return this.fail(r, p.errorOffset());
        this.scanned = 0;
        const head = p.takeHead(base + off, r);
        off += r;
        this.position = start + off;
        this.messageOffset = r;
        if (head.framing === FRAMING.CHUNKED) {
          this.phase = IN_CHUNKED;
          (this.chunkState ??= new Float64Array(3)).fill(0);
        } else if (head.contentLength > 0) {
          this.phase = IN_LENGTH;
          this.remaining = head.contentLength;
        }
        this.restFrom = base + off;
        this.restTo = base + len;
        this.on.head(head);
        if (this.phase === AT_HEAD) this.on.end(null);
      } else if (this.phase === IN_LENGTH) {
        const n = Math.min(this.remaining, len - off);
        this.remaining -= n;
        this.messageOffset += n;
        off += n;
        this.position = start + off;
        if (this.remaining === 0) this.phase = AT_HEAD;
        this.on.data(p.bytes.subarray(base + off - n, base + off));
        if (this.remaining === 0 && this.phase === AT_HEAD) this.on.end(null);
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

  private fail(code: number, offset: number): void {
    this.stop();
    this.on.error(describeError(code, offset));
  }
}

// ---- one-shot ------------------------------------------------------------

export interface ParsedRequest {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][];
  /** Bytes of the input this message used. */
  consumed: number;
  keepAlive: boolean;
}
export type ParseResult = ParsedRequest | { error: ParseErrorInfo } | { incomplete: true };

/** Parses the first whole request in `input`: head and decoded body. */
export function parseRequestWith(parser: ParserInstance, input: Uint8Array): ParseResult {
  if (input.length > parser.recvCapacity) return parseInPieces(parser, input);
  // The whole input fits the receive region: one parse of it, as the stream
  // would do in one pass, with no stream, handlers or intermediate arrays.
  parser.beginParse();
  try {
    parser.bytes.set(input, parser.recv);
    return parseWhole(parser, parser.recv, input.length);
  } finally {
    parser.endParse();
  }
}

function parseWhole(p: ParserInstance, base: number, len: number): ParseResult {
  const n = p.parseHead(base, len, 0);
  if (n === INCOMPLETE) return { incomplete: true };
  if (n < 0) return { error: describeError(n, p.errorOffset()) };
  const head = p.takeHead(base, n);
  let body: Uint8Array;
  let consumed = n;
  let trailers: [string, string][] = [];
  if (head.framing === FRAMING.CHUNKED) {
    const at = base + n;
    const r = p.decodeChunked(at, len - n, new Float64Array(3));
    if (r < 0) return { error: describeError(r, p.errorOffset() + n) };
    if (r !== 1) return { incomplete: true };
    const used = p.chunkConsumed();
    body = p.bytes.slice(at, at + p.chunkDataLength());
    const fields = p.takeTrailers(at, used);
    if (fields.length > 0) trailers = pairs(fields);
    consumed += used;
  } else if (head.contentLength > 0) {
    if (len - n < head.contentLength) return { incomplete: true };
    body = p.bytes.slice(base + n, base + n + head.contentLength);
    consumed += head.contentLength;
  } else {
    body = new Uint8Array(0);
  }
  return {
    method: head.method, target: head.target, version: head.version, headers: pairs(head.headers), body, trailers, consumed,
    keepAlive: head.keepAlive,
  };
}

/** [name, value] pairs, sliced straight from the section's text by the spans. */
function pairs(fields: Fields): [string, string][] {
  const { text, spans, length } = fields;
  const out: [string, string][] = new Array(length);
  for (let i = 0, s = 0; i < length; i++, s += SPAN.SLOTS) {
    const name = spans[s + SPAN.NAME_OFF], value = spans[s + SPAN.VALUE_OFF];
    out[i] = [text.slice(name, name + spans[s + SPAN.NAME_LEN]), text.slice(value, value + spans[s + SPAN.VALUE_LEN])];
  }
  return out;
}

/** The general case: the input goes through a RequestStream in pieces the receive region holds. */
function parseInPieces(parser: ParserInstance, input: Uint8Array): ParseResult {
  let head: RequestHead | null = null;
  let result: ParseResult = { incomplete: true };
  const chunks: Uint8Array[] = [];
  const stream: RequestStream = new RequestStream(parser, {
    head(h) {
      head = h;
    },
    data(chunk) {
      chunks.push(chunk.slice());
    },
    end(trailers) {
      const h = head!;
      result = {
        method: h.method, target: h.target, version: h.version, headers: h.headers.toArray(), body: concat(chunks),
        trailers: trailers ? trailers.toArray() : [], consumed: stream.position, keepAlive: h.keepAlive,
      };
      stream.stop();
    },
    error(error) {
      result = { error };
    },
  });
  stream.push(input);
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
