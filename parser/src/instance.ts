// One instance of the wasm module: the only code that knows the module's HTTP
// exports, with views of its fixed memory. It uses no Node API, so it runs
// wherever WebAssembly does (parser.ts instantiates it; parser-node.ts loads
// it synchronously for Node). The layout, codes and flags come from abi.ts.
import { CHUNK, LIMITS, REGIONS, RESULT, SPAN, abiHash } from "./abi.js";
import { Fields, latin1 } from "./fields.js";
import { RequestHead, ResponseHead } from "./heads.js";
import { HeadSerializer } from "./head-serializer.js";
import type { HttpExports } from "./http-exports.js";

export type { HttpExports };

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

function defaultLatin1(bytes: Uint8Array): (start: number, end: number) => string {
  return (start, end) => latin1(bytes, start, end);
}
