// An incremental response parser for one byte stream (a client's side of a
// connection), on a ParserInstance: heads (interim 1xx ones, then the final
// one), bodies (Content-Length, chunked, or until the connection closes) and
// trailers as they arrive, in any split; and the one-shot parse of a whole
// response built on it. The body length rules are RFC 9112 §6.3's, decided
// in the module (assembly/response-head.ts) from the head and the method of
// the request the response answers.
import { FRAMING, INCOMPLETE, E } from "./abi.js";
import type { Fields } from "./fields.js";
import { describeError, methodId, type ParseErrorInfo, type ParserInstance, type ResponseHead } from "./parser.js";
import { concat } from "./request-stream.js";

export interface ResponseHandlers {
  /** Every head: interim (1xx) ones, each followed by end(null), then the final one. */
  head(head: ResponseHead): void;
  /** A view into linear memory, valid only during the call: copy what you keep. */
  data(chunk: Uint8Array): void;
  end(trailers: Fields | null): void;
  /** The response could not be parsed, or the input ended inside it (TRUNCATED). `status` is 502: a gateway's answer. */
  error(error: ParseErrorInfo): void;
}

export interface ResponseOptions {
  /**
   * The method of the request the response answers, as sent ("HEAD",
   * "CONNECT", ...): a response to HEAD has no body, a 2xx to CONNECT opens a
   * tunnel. Default: any other method.
   */
  requestMethod?: string;
}

/** Every error a response gets is answered by a gateway with 502 (RFC 9110 §15.6.3). */
const BAD_GATEWAY = 502;

const AT_HEAD = 0, IN_LENGTH = 1, IN_CHUNKED = 2, UNTIL_CLOSE = 3, STOPPED = 4;

/**
 * An incremental response parser for one byte stream. Bytes go into the
 * instance's receive region as with RequestStream (`prepare`, write at
 * `writeAt`, `commit`; or `push`); only the bytes of a head or chunk line
 * that straddles two inputs are carried. Call `endOfInput()` when the
 * connection closes: it ends a body that runs until the close, and reports a
 * response cut short as TRUNCATED. The chunked decoder's state is this
 * stream's own, so request and response streams can share one instance.
 */
export class ResponseStream {
  /** The method of the request the next response answers (see ResponseOptions); change it between responses. */
  requestMethod: string | undefined;
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

  constructor(private readonly parser: ParserInstance, private readonly on: ResponseHandlers, options: ResponseOptions = {}) {
    this.requestMethod = options.requestMethod;
  }

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

  /**
   * The connection closed: a body that runs until the close ends here
   * (end()); a head, Content-Length or chunked body cut short is an error
   * (TRUNCATED, at the offset where the input ended). Later input is ignored.
   */
  endOfInput(): void {
    const phase = this.phase;
    const pendingHead = this.pendingHead;
    this.stop();
    if (phase === UNTIL_CLOSE) {
      this.on.end(null);
    } else if (phase === IN_LENGTH || phase === IN_CHUNKED) {
      this.on.error(responseError(E.TRUNCATED, this.messageOffset));
    } else if (phase === AT_HEAD && pendingHead > 0) {
      this.on.error(responseError(E.TRUNCATED, pendingHead));
    }
  }

  /** Bytes of a head begun and not ended (empty lines before a status line do not count). */
  private get pendingHead(): number {
    const carry = this.carry;
    if (carry === null) return 0;
    return carry.some((b) => b !== 0x0d && b !== 0x0a) ? carry.length : 0;
  }

  /** Stops parsing: later input is ignored. */
  stop(): void {
    this.phase = STOPPED;
    this.carry = null;
  }

  get stopped(): boolean {
    return this.phase === STOPPED;
  }

  /** Whether a response has begun and not ended. */
  get inMessage(): boolean {
    return this.phase === IN_LENGTH || this.phase === IN_CHUNKED || this.phase === UNTIL_CLOSE || this.carry !== null;
  }

  /** Whether the current body runs until the connection closes: only endOfInput() ends it. */
  get readingUntilClose(): boolean {
    return this.phase === UNTIL_CLOSE;
  }

  /** During a head() or end() callback: where the bytes after that head begin and end in the receive region. */
  private restFrom = 0;
  private restTo = 0;

  /**
   * Only during a head() callback, or the end() right after a tunnel's head:
   * stops parsing and returns a copy of the bytes that followed that head in
   * this input (a tunnel's or new protocol's first bytes).
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
        const r = p.parseResponseHead(base + off, len - off, this.scanned, methodId(this.requestMethod));
        if (r === INCOMPLETE) {
          this.scanned = len - off;
          break;
        }
        if (r < 0) return this.fail(r, p.errorOffset());
        this.scanned = 0;
        const head = p.takeResponseHead(base + off, r);
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

  private fail(code: number, offset: number): void {
    this.stop();
    this.on.error(responseError(code, offset));
  }
}

function responseError(code: number, offset: number): ParseErrorInfo {
  return { ...describeError(code, offset), status: BAD_GATEWAY };
}

// ---- one-shot ------------------------------------------------------------

/** How the final response's body was framed (FRAMING in abi.ts). */
export type ResponseFraming = "none" | "length" | "chunked" | "until-close" | "tunnel";

const FRAMING_NAMES: Record<number, ResponseFraming> = {
  [FRAMING.NONE]: "none", [FRAMING.LENGTH]: "length", [FRAMING.CHUNKED]: "chunked", [FRAMING.UNTIL_CLOSE]: "until-close",
  [FRAMING.TUNNEL]: "tunnel",
};

/** A 1xx response before the final one. */
export interface InterimResponse {
  status: number;
  reason: string;
  headers: [string, string][];
}

export interface ParsedResponse {
  status: number;
  reason: string;
  version: "1.0" | "1.1";
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][];
  /** Bytes of the input this response used (its interim responses included); for a tunnel, where the tunnel's bytes begin. */
  consumed: number;
  /** The connection may carry another response: false after a body that ran until the close, and for a tunnel. */
  keepAlive: boolean;
  /** A 101 with Upgrade and Connection: upgrade. */
  upgrade: boolean;
  /** "until-close": the body was the rest of the input; "tunnel": a 101 or a 2xx to CONNECT, whose bytes follow at `consumed`. */
  framing: ResponseFraming;
  /** The 1xx responses that came first, in order. */
  interim: InterimResponse[];
}
export type ResponseParseResult = ParsedResponse | { error: ParseErrorInfo } | { incomplete: true };

/**
 * Parses the first whole response in `input`: its interim responses, its
 * head and its decoded body. A body that runs until the close (no
 * Content-Length, no chunked) is the rest of the input, as if the
 * connection closed after it; pass `endOfInput: false` to get
 * `{ incomplete: true }` for it instead while more may come.
 */
export function parseResponseWith(
  parser: ParserInstance, input: Uint8Array, options: ResponseOptions & { endOfInput?: boolean } = {},
): ResponseParseResult {
  let head: ResponseHead | null = null;
  let result: ResponseParseResult = { incomplete: true };
  const interim: InterimResponse[] = [];
  const chunks: Uint8Array[] = [];
  const stream: ResponseStream = new ResponseStream(parser, {
    head(h) {
      head = h;
    },
    data(chunk) {
      chunks.push(chunk.slice());
    },
    end(trailers) {
      const h = head!;
      if (h.interim) {
        interim.push({ status: h.status, reason: h.reason, headers: h.headers.toArray() });
        return;
      }
      result = {
        status: h.status, reason: h.reason, version: h.version, headers: h.headers.toArray(), body: concat(chunks),
        trailers: trailers ? trailers.toArray() : [], consumed: stream.position, keepAlive: h.keepAlive, upgrade: h.upgrade,
        framing: FRAMING_NAMES[h.framing], interim,
      };
      stream.stop();
    },
    error(error) {
      result = { error };
    },
  }, options);
  stream.push(input);
  if (stream.readingUntilClose && options.endOfInput !== false) stream.endOfInput();
  return result;
}
