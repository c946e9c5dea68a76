// The embeddable parser, and the only code that knows the wasm exports. It
// uses no Node API, so it runs wherever WebAssembly does: `instantiate(bytes)`
// in any runtime; parser-node.ts adds synchronous loading for Node. The
// layout, codes and flags come from abi.ts, the ABI's one source.
import {
  CHUNK, ERRORS, FLAG, FRAMING, HEAD, LIMITS, METHOD, REGIONS, RESULT, SPAN, E, abiHash,
} from "./abi.js";
import { Fields, latin1 } from "./fields.js";

/** The module's HTTP exports (frames.ts declares its WebSocket ones). */
export interface HttpExports {
  memory: WebAssembly.Memory;
  parseRequest(ptr: number, len: number, prevLen: number): number;
  parseResponse(ptr: number, len: number, prevLen: number, requestMethod: number): number;
  decodeChunked(ptr: number, len: number): number;
  resetChunked(): void;
  serializeHead(
    status: number, reasonLen: number, count: number, framing: number, contentLength: number, flags: number,
    nowSeconds: number, at: number,
  ): number;
  beginHead(status: number, reasonLen: number, at: number): number;
  addFields(count: number): number;
  endHead(framing: number, contentLength: number, flags: number, nowSeconds: number): number;
  writeChunkHeader(ptr: number, size: number): number;
  setLimits(head: number, headers: number, line: number, target: number, body: number, chunkExt: number, method: number): number;
  recvBuffer(): number;
  outBuffer(): number;
  stageBuffer(): number;
  stageTable(): number;
  resultTable(): number;
  chunkState(): number;
  abiHash(): number;
  simd(): number;
}

export { FRAMING, HEAD, ERRORS };
export { Fields, latin1 };

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

export interface ParserLimits {
  /** Request line plus headers, bytes. Default 16 KiB, like Node; at most half the receive region. */
  maxHeadBytes?: number;
  /** Default 100, like Node; at most REGIONS.MAX_FIELDS. */
  maxHeaders?: number;
  /** One header line, bytes. Default 8 KiB. */
  maxHeaderLine?: number;
  /** Request target, bytes. Default 8 KiB. */
  maxTargetBytes?: number;
  /** Decoded body, bytes. Default unlimited. */
  maxBodyBytes?: number;
  /** Chunk extensions of one chunk, bytes. Default 4 KiB. */
  maxChunkExtension?: number;
  /** Method token, bytes; a longer one is refused with 501. Default 32. */
  maxMethodBytes?: number;
}

export interface ParserOptions {
  limits?: ParserLimits;
  /**
   * Makes the function that turns bytes [start, end) of linear memory into a
   * string, one character per byte. Default: String.fromCharCode over the
   * bytes; parser-node.ts passes Node's native latin1 decoder.
   */
  latin1?: (bytes: Uint8Array) => (start: number, end: number) => string;
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

/** One instance of the wasm module, with views of its fixed memory. */
export class ParserInstance {
  readonly bytes: Uint8Array;
  readonly recv: number;
  readonly recvCapacity = REGIONS.RECV_CAPACITY;
  readonly out: number;
  readonly outCapacity = REGIONS.OUT_CAPACITY;
  readonly simd: boolean;
  /** Bytes [start, end) of linear memory as a string, one character per byte. */
  readonly text: (start: number, end: number) => string;
  private readonly x: HttpExports;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly stage: number;
  private readonly result: number; // i32 index
  private readonly stageTable: number; // i32 index
  private readonly chunk: number; // byte offset
  private readonly heads: HeadSerializer;
  /** Whether a RequestStream is parsing the receive region now: nothing may be read into it meanwhile. */
  private parsingNow = false;

  constructor(instance: WebAssembly.Instance, options: ParserOptions = {}) {
    this.x = instance.exports as unknown as HttpExports;
    if (this.x.abiHash() !== abiHash()) {
      throw new Error("the wasm module was built from another ABI than this code's parser/src/abi.ts: run npm run build:wasm");
    }
    // Memory has a fixed size (initial = maximum), so these views never detach.
    const buffer = this.x.memory.buffer;
    this.bytes = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.recv = this.x.recvBuffer();
    this.out = this.x.outBuffer();
    this.stage = this.x.stageBuffer();
    this.result = this.x.resultTable() >> 2;
    this.stageTable = this.x.stageTable() >> 2;
    this.chunk = this.x.chunkState();
    this.simd = this.x.simd() !== 0;
    this.text = (options.latin1 ?? defaultLatin1)(this.bytes);
    this.heads = new HeadSerializer(this.x, this.bytes, this.i32, this.stage, this.stageTable, this.result);
    this.setLimits(options.limits ?? {});
  }

  /** Sets every limit (a missing one takes its default); a value the module refuses throws a RangeError naming it. */
  setLimits(limits: ParserLimits): void {
    const values = {
      maxHeadBytes: limits.maxHeadBytes ?? LIMITS.MAX_HEAD_BYTES,
      maxHeaders: limits.maxHeaders ?? LIMITS.MAX_HEADERS,
      maxHeaderLine: limits.maxHeaderLine ?? LIMITS.MAX_HEADER_LINE,
      maxTargetBytes: limits.maxTargetBytes ?? LIMITS.MAX_TARGET_BYTES,
      maxBodyBytes: limits.maxBodyBytes ?? LIMITS.MAX_BODY_BYTES,
      maxChunkExtension: limits.maxChunkExtension ?? LIMITS.MAX_CHUNK_EXTENSION,
      maxMethodBytes: limits.maxMethodBytes ?? LIMITS.MAX_METHOD_BYTES,
    };
    const r = this.x.setLimits(
      values.maxHeadBytes, values.maxHeaders, values.maxHeaderLine, values.maxTargetBytes, values.maxBodyBytes,
      values.maxChunkExtension, values.maxMethodBytes,
    );
    if (r < 0) {
      const caps = `maxHeadBytes 1-${LIMITS.MAX_HEAD_BYTES_CAP}, maxHeaders 0-${REGIONS.MAX_FIELDS}, ` +
        `maxHeaderLine and maxTargetBytes 1-${REGIONS.RECV_CAPACITY}, maxBodyBytes a whole number up to 2^53-1, ` +
        `maxChunkExtension 1-${LIMITS.MAX_CHUNK_EXTENSION_CAP}, maxMethodBytes 1-${REGIONS.RECV_CAPACITY}`;
      throw new RangeError(`parser limits out of range (${JSON.stringify(values)}); allowed: ${caps}`);
    }
  }

  /** @internal The module's exports, for parser/src/frames.ts (the WebSocket codec, the one other file that knows them). */
  get wasmExports(): WebAssembly.Exports {
    return this.x as unknown as WebAssembly.Exports;
  }

  /** Whether a stream is parsing the receive region right now. */
  get parsing(): boolean {
    return this.parsingNow;
  }

  /** Throws when a parse of the receive region is in progress: nothing may be written into it until that returns. */
  claimReceiveRegion(): void {
    if (this.parsingNow) throw new Error("the receive region is being parsed: write into it after the parse returns");
  }

  /** Marks the receive region busy for the parse of [recv, recv + len). */
  beginParse(): void {
    this.claimReceiveRegion();
    this.parsingNow = true;
  }

  endParse(): void {
    this.parsingNow = false;
  }

  /** Parses a head at [ptr, ptr+len) of the receive region: its length, INCOMPLETE (-1), or an error code. */
  parseHead(ptr: number, len: number, prevLen: number): number {
    return this.x.parseRequest(ptr, len, prevLen);
  }

  /** After parseHead returned n > 0: the head, copied out of linear memory. */
  takeHead(ptr: number, n: number): RequestHead {
    const r = this.result;
    const i32 = this.i32;
    const count = i32[r + RESULT.HEADER_COUNT];
    // One string for the whole head: the linear memory is reused by the next
    // read, and every field is a slice of it, made when asked for.
    const text = this.text(ptr, ptr + n);
    const method = i32[r + RESULT.METHOD_OFF], target = i32[r + RESULT.TARGET_OFF];
    return new RequestHead(
      text, method, method + i32[r + RESULT.METHOD_LEN], target, target + i32[r + RESULT.TARGET_LEN],
      i32[r + RESULT.METHOD_ID], i32[r + RESULT.VERSION], i32[r + RESULT.FLAGS], i32[r + RESULT.FRAMING],
      this.f64[(r >> 1) + RESULT.CONTENT_LENGTH_F64], new Fields(text, this.fieldSpans(count), count),
    );
  }

  /**
   * Parses a response head at [ptr, ptr+len) of the receive region, answering
   * a request whose METHOD id is `requestMethod`: its length, INCOMPLETE (-1),
   * or an error code.
   */
  parseResponseHead(ptr: number, len: number, prevLen: number, requestMethod: number): number {
    return this.x.parseResponse(ptr, len, prevLen, requestMethod);
  }

  /** After parseResponseHead returned n > 0: the head, copied out of linear memory. */
  takeResponseHead(ptr: number, n: number): ResponseHead {
    const r = this.result;
    const i32 = this.i32;
    const count = i32[r + RESULT.HEADER_COUNT];
    const text = this.text(ptr, ptr + n);
    const reason = i32[r + RESULT.REASON_OFF];
    return new ResponseHead(
      text, i32[r + RESULT.STATUS], reason, reason + i32[r + RESULT.REASON_LEN], i32[r + RESULT.VERSION], i32[r + RESULT.FLAGS],
      i32[r + RESULT.FRAMING], this.f64[(r >> 1) + RESULT.CONTENT_LENGTH_F64], new Fields(text, this.fieldSpans(count), count),
    );
  }

  errorOffset(): number {
    return this.i32[this.result + RESULT.ERROR_OFFSET];
  }

  /** Runs the chunked decoder with `state` ([phase, remaining, total]) and saves it back. */
  decodeChunked(ptr: number, len: number, state: Float64Array): number {
    const c32 = (this.chunk >> 2) + CHUNK.PHASE, remaining = (this.chunk >> 3) + CHUNK.REMAINING_F64;
    const total = (this.chunk >> 3) + CHUNK.TOTAL_F64;
    this.i32[c32] = state[0];
    this.f64[remaining] = state[1];
    this.f64[total] = state[2];
    const r = this.x.decodeChunked(ptr, len);
    state[0] = this.i32[c32];
    state[1] = this.f64[remaining];
    state[2] = this.f64[total];
    return r;
  }
  chunkConsumed(): number {
    return this.i32[this.result + RESULT.CONSUMED];
  }
  chunkDataLength(): number {
    return this.i32[this.result + RESULT.DATA_LEN];
  }
  /** After decodeChunked returned 1: the trailer fields, copied out. */
  takeTrailers(ptr: number, consumed: number): Fields {
    const count = this.i32[this.result + RESULT.HEADER_COUNT];
    return new Fields(this.text(ptr, ptr + consumed), this.fieldSpans(count), count);
  }

  /**
   * The field spans of the result table, copied to a plain array: V8 makes
   * small arrays on its heap, where a typed array copy costs an allocation
   * outside it, several times slower.
   */
  private fieldSpans(count: number): number[] {
    const spans: number[] = new Array(count * SPAN.SLOTS);
    const i32 = this.i32;
    const first = this.result + RESULT.FIELDS;
    for (let k = 0; k < spans.length; k++) spans[k] = i32[first + k];
    return spans;
  }

  /**
   * Serializes a response head into the output region at offset `at` and
   * returns its length, or throws a HeadError (see HeadSerializer).
   */
  serializeHead(
    at: number, status: number, reason: string, fields: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number, nowSeconds: number,
  ): number {
    return this.heads.serialize(at, status, reason, fields, framing, contentLength, flags, nowSeconds);
  }

  /** Writes "<hex>\r\n" at ptr (in the output region); returns its length. */
  chunkHeader(ptr: number, size: number): number {
    const n = this.x.writeChunkHeader(ptr, size);
    if (n < 0) throw new RangeError(`chunk header at ${ptr} for ${size} bytes is outside the output region`);
    return n;
  }
}

/**
 * Response heads through the staging region: the reason and fields copied in
 * as bytes, their spans into the staging table, in one batch when they fit
 * (and not again when a response repeats the last one's), else in batches.
 */
class HeadSerializer {
  constructor(
    private readonly x: HttpExports,
    private readonly bytes: Uint8Array,
    private readonly i32: Int32Array,
    /** Byte address of the staging region. */
    private readonly stage: number,
    /** i32 index of the staging table. */
    private readonly table: number,
    /** i32 index of the result table. */
    private readonly result: number,
  ) {}

  /**
   * Serializes a response head into the output region at offset `at` and
   * returns its length, or throws a HeadError: a field name that is not a
   * token, a value with CR, LF or another control byte, or a head larger than
   * the room left in the output region. Any number of fields is taken: they
   * are staged in batches of what the staging table holds.
   */
  serialize(
    at: number, status: number, reason: string, fields: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number, nowSeconds: number,
  ): number {
    let n: number;
    if (this.isStaged(reason, fields) || this.stageWhole(reason, fields)) {
      n = this.x.serializeHead(status, reason.length, fields.length, framing, contentLength, flags, nowSeconds, at);
    } else {
      n = this.serializeInBatches(at, status, reason, fields, framing, contentLength, flags, nowSeconds);
    }
    if (n < 0) this.refuse(n, fields);
    return n;
  }

  /** The field the last refusal was about (batch index + the module's error slot), for the error's message. */
  private batchStart = 0;

  private refuse(code: number, fields: readonly (readonly [string, string])[]): never {
    this.staged = [];
    const index = this.i32[this.result + RESULT.ERROR_OFFSET];
    const field = index >= 0 && this.batchStart + index < fields.length ? fields[this.batchStart + index] : undefined;
    const error = describeError(code, index);
    if (code === E.HEAD_OVERFLOW) error.reason += ` (${REGIONS.OUT_CAPACITY} bytes)`;
    throw new HeadError(error, field === undefined ? null : field[0]);
  }

  private serializeInBatches(
    at: number, status: number, reason: string, fields: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number, nowSeconds: number,
  ): number {
    this.staged = [];
    this.batchStart = 0;
    if (this.stageText(reason, this.stage) < 0) return E.HEAD_OVERFLOW;
    let n = this.x.beginHead(status, reason.length, at);
    for (let h = 0; n >= 0 && h < fields.length; ) {
      this.batchStart = h;
      const count = this.stageBatch(fields, h, 0);
      if (count === 0) return E.HEAD_OVERFLOW; // one field larger than the staging region
      n = this.x.addFields(count);
      h += count;
    }
    return n < 0 ? n : this.x.endHead(framing, contentLength, flags, nowSeconds);
  }

  /** The reason and fields staged last, as strings; responses in a row tend to repeat them. */
  private staged: string[] = [];

  private isStaged(reason: string, fields: readonly (readonly [string, string])[]): boolean {
    const staged = this.staged;
    if (staged.length !== 1 + 2 * fields.length || staged[0] !== reason) return false;
    for (let h = 0, k = 1; h < fields.length; h++, k += 2) {
      if (staged[k] !== fields[h][0] || staged[k + 1] !== fields[h][1]) return false;
    }
    this.batchStart = 0;
    return true;
  }

  /** Stages the reason (at the start) and every field, if they fit in one batch. */
  private stageWhole(reason: string, fields: readonly (readonly [string, string])[]): boolean {
    this.staged = [];
    this.batchStart = 0;
    if (fields.length > REGIONS.MAX_FIELDS) return false;
    const w = this.stageText(reason, this.stage);
    if (w < 0 || this.stageBatch(fields, 0, w - this.stage) < fields.length) return false;
    const staged = [reason];
    for (const [name, value] of fields) staged.push(name, value);
    this.staged = staged;
    return true;
  }

  /** Stages fields from `first` at offset `from` of the staging region, as many as fit; returns how many. */
  private stageBatch(fields: readonly (readonly [string, string])[], first: number, from: number): number {
    const table = this.table, i32 = this.i32, base = this.stage;
    let w = base + from;
    let count = 0;
    for (let h = first; h < fields.length && count < REGIONS.MAX_FIELDS; h++, count++) {
      const [name, value] = fields[h];
      if (w + name.length + value.length > base + REGIONS.STAGE_CAPACITY) break;
      const t = table + count * SPAN.SLOTS;
      i32[t + SPAN.NAME_OFF] = w - base;
      i32[t + SPAN.NAME_LEN] = name.length;
      w = this.stageText(name, w);
      i32[t + SPAN.VALUE_OFF] = w - base;
      i32[t + SPAN.VALUE_LEN] = value.length;
      w = this.stageText(value, w);
    }
    return count;
  }

  /** Copies s into the staging region at w, one byte per character; returns the end, or -1 when it does not fit. */
  private stageText(s: string, w: number): number {
    if (w + s.length > this.stage + REGIONS.STAGE_CAPACITY) return -1;
    const bytes = this.bytes;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      bytes[w++] = c < 256 ? c : 0; // NUL is refused by the serializer
    }
    return w;
  }
}

function defaultLatin1(bytes: Uint8Array): (start: number, end: number) => string {
  return (start, end) => latin1(bytes, start, end);
}

// ---- loading -------------------------------------------------------------

export type Build = "simd" | "scalar";
const FILES: Record<Build, string> = { simd: "../wasm/simplenet.wasm", scalar: "../wasm/simplenet-scalar.wasm" };

/** The URL of a build's .wasm file, for hosts that fetch it themselves. */
export function wasmUrl(build: Build = "simd"): URL {
  return new URL(FILES[build], import.meta.url);
}

/** A parser instance from the module's bytes or a compiled module (any runtime). */
export async function instantiate(
  source: BufferSource | WebAssembly.Module, limits: ParserLimits = {},
): Promise<ParserInstance> {
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  return new ParserInstance(await WebAssembly.instantiate(module, {}), { limits });
}

export { concat } from "./message-stream.js";
export { RequestStream, parseRequestWith, type StreamHandlers, type ParsedRequest, type ParseResult } from "./request-stream.js";
export {
  ResponseStream, parseResponseWith, type ResponseHandlers, type ResponseOptions, type ParsedResponse, type ResponseParseResult,
  type InterimResponse, type ResponseFraming,
} from "./response-stream.js";
