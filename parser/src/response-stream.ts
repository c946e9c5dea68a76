// An incremental response parser for one byte stream (a client's side of a
// connection), on a ParserInstance: heads (interim 1xx ones, then the final
// one), bodies (Content-Length, chunked, or until the connection closes) and
// trailers as they arrive, in any split; and the one-shot parse of a whole
// response built on it. The body length rules are RFC 9112 §6.3's, decided
// in the module (assembly/response-head.ts) from the head and the method of
// the request the response answers.
import { FRAMING, E } from "./abi.js";
import { describeError, methodId, type ParseErrorInfo, type ResponseHead } from "./heads.js";
import type { ParserInstance } from "./instance.js";
import { MessageStream, parseThrough, AT_HEAD, IN_LENGTH, IN_CHUNKED, UNTIL_CLOSE, type MessageHandlers } from "./message-stream.js";

export interface ResponseHandlers extends MessageHandlers<ResponseHead> {
  /** Every head: interim (1xx) ones, each followed by end(null), then the final one. */
  head(head: ResponseHead): void;
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

/**
 * An incremental response parser for one byte stream. Bytes go into the
 * instance's receive region as with RequestStream (`prepare`, write at
 * `writeAt`, `commit`; or `push`); only the bytes of a head or chunk line
 * that straddles two inputs are carried. Call `endOfInput()` when the
 * connection closes: it ends a body that runs until the close, and reports a
 * response cut short as TRUNCATED. The chunked decoder's state is this
 * stream's own, so request and response streams can share one instance.
 * After a tunnel's head (a 101, or a 2xx to CONNECT) the stream stops;
 * `takeRest()` in head() or the end() after it hands over the tunnel's first bytes.
 */
export class ResponseStream extends MessageStream<ResponseHead> {
  /** The method of the request the next response answers (see ResponseOptions); change it between responses. */
  requestMethod: string | undefined;

  constructor(parser: ParserInstance, on: ResponseHandlers, options: ResponseOptions = {}) {
    super(parser, on);
    this.requestMethod = options.requestMethod;
  }

  protected parseHeadAt(ptr: number, len: number, prevLen: number): number {
    return this.parser.parseResponseHead(ptr, len, prevLen, methodId(this.requestMethod));
  }

  protected takeHeadAt(ptr: number, n: number): ResponseHead {
    return this.parser.takeResponseHead(ptr, n);
  }

  protected describe(code: number, offset: number): ParseErrorInfo {
    return responseError(code, offset);
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

  /** Whether the current body runs until the connection closes: only endOfInput() ends it. */
  get readingUntilClose(): boolean {
    return this.phase === UNTIL_CLOSE;
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
  const interim: InterimResponse[] = [];
  return parseThrough<ResponseHead, ResponseStream, ParsedResponse>(
    (on) => new ResponseStream(parser, on, options), input,
    (h, body, trailers, consumed) => {
      if (h.interim) {
        interim.push({ status: h.status, reason: h.reason, headers: h.headers.toArray() });
        return undefined;
      }
      return {
        status: h.status, reason: h.reason, version: h.version, headers: h.headers.toArray(), body, trailers, consumed,
        keepAlive: h.keepAlive, upgrade: h.upgrade, framing: FRAMING_NAMES[h.framing], interim,
      };
    },
    (stream) => {
      if (stream.readingUntilClose && options.endOfInput !== false) stream.endOfInput();
    },
  );
}
