// What a parse gives the host: the heads of requests and responses as spans
// over their text, the errors a parse or the serializer reports, and method
// ids. No wasm here: the instance (instance.ts) makes these from its tables.
import { ERRORS, FLAG, FRAMING, METHOD } from "./abi.js";
import { Fields } from "./fields.js";

/** Method names by id (METHOD in abi.ts); "" for OTHER, whose name is read from the head. */
const METHOD_NAMES: readonly string[] = Object.entries(METHOD).reduce<string[]>((names, [name, id]) => {
  names[id] = id === METHOD.OTHER ? "" : name;
  return names;
}, []);

export interface ParseErrorInfo {
  /** HTTP status the server answers with. */
  status: number;
  /** Stable name, e.g. "BAD_HEADER_NAME". */
  code: string;
  reason: string;
  /** Byte offset of the fault within the message. */
  offset: number;
}

const ERROR_BY_CODE = new Map<number, (typeof ERRORS)[number]>(ERRORS.map((e) => [e[0], e]));

export function describeError(code: number, offset: number): ParseErrorInfo {
  const entry = ERROR_BY_CODE.get(code);
  if (entry === undefined) return { status: 500, code: "UNKNOWN", reason: `Unknown parser error ${code}`, offset };
  const [, name, status, reason] = entry;
  return { status, code: name, reason, offset };
}

/** The parsed head of one request: spans over its text. */
export class RequestHead {
  constructor(
    /** The head, one character per byte. */
    readonly text: string,
    private readonly methodStart: number,
    private readonly methodEnd: number,
    private readonly targetStart: number,
    private readonly targetEnd: number,
    private readonly methodId: number,
    /** 0 or 1 */
    readonly minorVersion: number,
    readonly flags: number,
    /** FRAMING.NONE, FRAMING.LENGTH or FRAMING.CHUNKED */
    readonly framing: number,
    /** Content-Length, 0 when there is none, -1 when chunked. */
    readonly contentLength: number,
    readonly headers: Fields,
  ) {}

  /** The head of a request that could not be parsed, for the error response's sake. */
  static unparsed(): RequestHead {
    return new RequestHead("", 0, 0, 0, 0, METHOD.OTHER, 1, 0, FRAMING.NONE, 0, new Fields("", [], 0));
  }

  get method(): string {
    return this.methodId !== METHOD.OTHER ? METHOD_NAMES[this.methodId] : this.text.slice(this.methodStart, this.methodEnd);
  }
  get target(): string {
    return this.text.slice(this.targetStart, this.targetEnd);
  }
  get version(): string {
    return this.minorVersion === 1 ? "1.1" : "1.0";
  }
  get isHead(): boolean {
    return this.methodId === METHOD.HEAD;
  }
  get keepAlive(): boolean {
    return (this.flags & FLAG.KEEP_ALIVE) !== 0;
  }
  get expectContinue(): boolean {
    return (this.flags & FLAG.EXPECT_CONTINUE) !== 0;
  }
  /** An Expect other than 100-continue: the server answers 417. */
  get expectUnsupported(): boolean {
    return (this.flags & FLAG.EXPECT_OTHER) !== 0;
  }
  get upgrade(): boolean {
    return (this.flags & FLAG.UPGRADE) !== 0;
  }
  get hasBody(): boolean {
    return this.framing === FRAMING.CHUNKED || this.contentLength > 0;
  }
}

/** The parsed head of one response: spans over its text. */
export class ResponseHead {
  constructor(
    /** The head, one character per byte. */
    readonly text: string,
    readonly status: number,
    private readonly reasonStart: number,
    private readonly reasonEnd: number,
    /** 0 or 1 */
    readonly minorVersion: number,
    readonly flags: number,
    /** A FRAMING value: NONE, LENGTH, CHUNKED, UNTIL_CLOSE or TUNNEL. */
    readonly framing: number,
    /** Content-Length, 0 when there is none or the framing is not LENGTH, -1 when chunked. */
    readonly contentLength: number,
    readonly headers: Fields,
  ) {}

  get reason(): string {
    return this.text.slice(this.reasonStart, this.reasonEnd);
  }
  get version(): "1.0" | "1.1" {
    return this.minorVersion === 1 ? "1.1" : "1.0";
  }
  /** The connection may carry another response after this one. */
  get keepAlive(): boolean {
    return (this.flags & FLAG.KEEP_ALIVE) !== 0;
  }
  /** A 101 with Upgrade and Connection: upgrade (in another response, Upgrade only advertises, RFC 9110 §7.8). */
  get upgrade(): boolean {
    return (this.flags & FLAG.UPGRADE) !== 0;
  }
  /** A 1xx other than 101: an interim response, the final one follows (RFC 9110 §15.2). */
  get interim(): boolean {
    return this.status < 200 && this.status !== 101;
  }
  /** A 101, or a 2xx to CONNECT: what follows the head is not HTTP. */
  get tunnel(): boolean {
    return this.framing === FRAMING.TUNNEL;
  }
  /** The body is every byte until the connection closes. */
  get untilClose(): boolean {
    return this.framing === FRAMING.UNTIL_CLOSE;
  }
}

/** A METHOD id for parseResponse's requestMethod: the method's name as sent (methods are case-sensitive), OTHER for any other. */

export function methodId(method: string | undefined): number {
  if (method === undefined || method === "OTHER" || !Object.hasOwn(METHOD, method)) return METHOD.OTHER;
  return METHOD[method as keyof typeof METHOD];
}

/** A response field the serializer refused, or a head that does not fit: the message names the field or the limit. */
export class HeadError extends TypeError {
  override name = "HeadError";
  constructor(readonly error: ParseErrorInfo, readonly field: string | null) {
    super(field === null ? error.reason : `${error.reason}: ${JSON.stringify(field)}`);
  }
}
