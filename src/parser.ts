// The embeddable parser, and the only code that knows the wasm exports.
// No Node API is needed: `instantiate(bytes)` works wherever WebAssembly does;
// `createParser()` loads the module synchronously where Node's fs exists.
import { Fields, latin1 } from "./fields.js";

interface Exports {
  memory: WebAssembly.Memory;
  parseRequest(ptr: number, len: number, prevLen: number): number;
  decodeChunked(ptr: number, len: number): number;
  resetChunked(): void;
  serializeHead(
    status: number, reasonOff: number, reasonLen: number, headerCount: number, framing: number,
    contentLength: number, flags: number, nowSeconds: number, at: number,
  ): number;
  writeChunkHeader(ptr: number, size: number): number;
  setLimits(head: number, headers: number, line: number, target: number, body: number, chunkExt: number): void;
  recvBuffer(): number; recvCapacity(): number;
  outBuffer(): number; outCapacity(): number;
  stageBuffer(): number; stageCapacity(): number; stageTable(): number;
  resultTable(): number; chunkState(): number; headerCapacity(): number;
  simd(): number;
}

// Result table slots (i32), see assembly/layout.ts.
// Slots 0-3: method offset and length, target offset and length.
const R_VERSION = 4;
const R_HEADER_COUNT = 5, R_FRAMING = 6, R_FLAGS = 7, R_ERROR_OFFSET = 8, R_METHOD_ID = 9;
const R_CONSUMED = 10, R_DATA_LEN = 11, R_CONTENT_LENGTH_F64 = 6, R_HEADERS = 16;
const INCOMPLETE = -1;

export const FRAMING_NONE = 0;
export const FRAMING_LENGTH = 1;
export const FRAMING_CHUNKED = 2;
const FLAG_KEEP_ALIVE = 1, FLAG_EXPECT_CONTINUE = 2, FLAG_EXPECT_OTHER = 4, FLAG_UPGRADE = 8;
/** serializeHead flags */
export const HEAD_DATE = 1, HEAD_CLOSE = 2, HEAD_KEEP_ALIVE = 4;

const METHODS = ["", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE"];

export interface ParseErrorInfo {
  /** HTTP status the server answers with. */
  status: number;
  /** Stable name, e.g. "BAD_HEADER_NAME". */
  code: string;
  reason: string;
  /** Byte offset of the fault within the message. */
  offset: number;
}

/** Each wasm error code, its name, HTTP status and reason. */
export const ERRORS: Readonly<Record<number, readonly [code: string, status: number, reason: string]>> = {
  [-2]: ["BAD_METHOD", 400, "Invalid method"],
  [-3]: ["BAD_TARGET", 400, "Invalid request target"],
  [-4]: ["BAD_VERSION", 400, "Invalid HTTP version"],
  [-5]: ["VERSION_NOT_SUPPORTED", 505, "HTTP version not supported"],
  [-6]: ["HTTP09", 400, "HTTP/0.9 requests are not supported"],
  [-7]: ["BAD_HEADER_NAME", 400, "Invalid header name"],
  [-8]: ["SPACE_BEFORE_COLON", 400, "Whitespace between header name and colon"],
  [-9]: ["BAD_HEADER_VALUE", 400, "Invalid character in header value"],
  [-10]: ["OBS_FOLD", 400, "Obsolete line folding"],
  [-11]: ["BARE_CR", 400, "CR not followed by LF"],
  [-12]: ["BARE_LF", 400, "LF without CR"],
  [-13]: ["BAD_CONTENT_LENGTH", 400, "Invalid Content-Length"],
  [-14]: ["DUPLICATE_CONTENT_LENGTH", 400, "Duplicate Content-Length"],
  [-15]: ["LENGTH_AND_CHUNKED", 400, "Content-Length with Transfer-Encoding"],
  [-16]: ["BAD_TRANSFER_ENCODING", 400, "Invalid Transfer-Encoding"],
  [-17]: ["UNSUPPORTED_TRANSFER_CODING", 501, "Unsupported transfer coding"],
  [-18]: ["MISSING_HOST", 400, "Missing Host header"],
  [-19]: ["DUPLICATE_HOST", 400, "Duplicate Host header"],
  [-20]: ["BAD_HOST", 400, "Invalid Host header"],
  [-21]: ["TARGET_TOO_LONG", 414, "Request target too long"],
  [-22]: ["HEAD_TOO_LARGE", 431, "Request head too large"],
  [-23]: ["TOO_MANY_HEADERS", 431, "Too many header fields"],
  [-24]: ["HEADER_LINE_TOO_LONG", 431, "Header field too large"],
  [-25]: ["BODY_TOO_LARGE", 413, "Request body too large"],
  [-26]: ["BAD_CHUNK_SIZE", 400, "Invalid chunk size"],
  [-27]: ["CHUNK_SIZE_OVERFLOW", 400, "Chunk size too large"],
  [-28]: ["BAD_CHUNK_TERMINATOR", 400, "Chunk data not followed by CRLF"],
  [-29]: ["BAD_CHUNK_EXTENSION", 400, "Invalid chunk extension"],
  [-30]: ["CHUNK_EXTENSION_TOO_LARGE", 413, "Chunk extension too large"],
  [-31]: ["BAD_TRAILER", 400, "Invalid trailer"],
  [-32]: ["TRAILERS_TOO_LARGE", 431, "Trailer section too large"],
  [-40]: ["BAD_STATUS", 500, "Invalid response status"],
  [-41]: ["BAD_RESPONSE_HEADER_NAME", 500, "Invalid response header name"],
  [-42]: ["BAD_RESPONSE_HEADER_VALUE", 500, "Invalid response header value"],
  [-43]: ["HEAD_OVERFLOW", 500, "Response head too large"],
};

export function describeError(code: number, offset: number): ParseErrorInfo {
  const [name, status, reason] = ERRORS[code] ?? ["UNKNOWN", 400, "Bad request"];
  return { status, code: name, reason, offset };
}

export interface ParserLimits {
  /** Request line plus headers, bytes. Default 16 KiB, like Node. */
  maxHeadBytes?: number;
  /** Default 100, like Node. */
  maxHeaders?: number;
  /** One header line, bytes. Default 8 KiB. */
  maxHeaderLine?: number;
  /** Request target, bytes. Default 8 KiB. */
  maxTargetBytes?: number;
  /** Decoded body, bytes. Default unlimited. */
  maxBodyBytes?: number;
  /** Chunk extensions of one chunk, bytes. Default 4 KiB. */
  maxChunkExtension?: number;
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
    /** FRAMING_NONE, FRAMING_LENGTH or FRAMING_CHUNKED */
    readonly framing: number,
    /** Content-Length, 0 when there is none, -1 when chunked. */
    readonly contentLength: number,
    readonly headers: Fields,
  ) {}

  /** The head of a request that could not be parsed, for the error response's sake. */
  static unparsed(): RequestHead {
    return new RequestHead("", 0, 0, 0, 0, 0, 1, 0, FRAMING_NONE, 0, new Fields("", [], 0));
  }

  get method(): string {
    return this.methodId !== 0 ? METHODS[this.methodId] : this.text.slice(this.methodStart, this.methodEnd);
  }
  get target(): string {
    return this.text.slice(this.targetStart, this.targetEnd);
  }
  get version(): string {
    return this.minorVersion === 1 ? "1.1" : "1.0";
  }
  get isHead(): boolean {
    return this.methodId === 2;
  }
  get keepAlive(): boolean {
    return (this.flags & FLAG_KEEP_ALIVE) !== 0;
  }
  get expectContinue(): boolean {
    return (this.flags & FLAG_EXPECT_CONTINUE) !== 0;
  }
  /** An Expect other than 100-continue: the server answers 417. */
  get expectUnsupported(): boolean {
    return (this.flags & FLAG_EXPECT_OTHER) !== 0;
  }
  get upgrade(): boolean {
    return (this.flags & FLAG_UPGRADE) !== 0;
  }
  get hasBody(): boolean {
    return this.framing === FRAMING_CHUNKED || this.contentLength > 0;
  }
}

/** One instance of the wasm module, with views of its fixed memory. */
export class ParserInstance {
  readonly bytes: Uint8Array;
  readonly recv: number;
  readonly recvCapacity: number;
  readonly out: number;
  readonly outCapacity: number;
  readonly stage: number;
  readonly stageCapacity: number;
  readonly simd: boolean;
  private readonly x: Exports;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly result: number; // i32 index
  private readonly stageTable: number; // i32 index
  private readonly chunk: number; // byte offset
  private maxHead = 16384;
  /** Bytes [start, end) of linear memory as a string, one character per byte. */
  readonly text: (start: number, end: number) => string;

  constructor(instance: WebAssembly.Instance, limits: ParserLimits = {}) {
    this.x = instance.exports as unknown as Exports;
    // Memory has a fixed size (initial = maximum), so these views never detach.
    const buffer = this.x.memory.buffer;
    this.bytes = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.recv = this.x.recvBuffer();
    this.recvCapacity = this.x.recvCapacity();
    this.out = this.x.outBuffer();
    this.outCapacity = this.x.outCapacity();
    this.stage = this.x.stageBuffer();
    this.stageCapacity = this.x.stageCapacity();
    this.result = this.x.resultTable() >> 2;
    this.stageTable = this.x.stageTable() >> 2;
    this.chunk = this.x.chunkState();
    this.simd = this.x.simd() !== 0;
    this.text = latin1Decoder(this.bytes);
    this.setLimits(limits);
  }

  setLimits(limits: ParserLimits): void {
    // A carried partial head plus one read must fit in the receive region.
    this.maxHead = Math.min(limits.maxHeadBytes ?? 16384, this.recvCapacity >> 1);
    this.x.setLimits(
      this.maxHead,
      Math.min(limits.maxHeaders ?? 100, this.x.headerCapacity()),
      limits.maxHeaderLine ?? 8192,
      limits.maxTargetBytes ?? 8192,
      limits.maxBodyBytes ?? Number.MAX_SAFE_INTEGER,
      Math.min(limits.maxChunkExtension ?? 4096, this.recvCapacity >> 2),
    );
  }

  /** Parses a head at [ptr, ptr+len): its length, INCOMPLETE (-1), or an error code. */
  parseHead(ptr: number, len: number, prevLen: number): number {
    return this.x.parseRequest(ptr, len, prevLen);
  }

  /** After parseHead returned n > 0: the head, copied out of linear memory. */
  takeHead(ptr: number, n: number): RequestHead {
    const r = this.result;
    const i32 = this.i32;
    const count = i32[r + R_HEADER_COUNT];
    // One string for the whole head: the linear memory is reused by the next
    // read, and every field is a slice of it, made when asked for.
    const text = this.text(ptr, ptr + n);
    const method = i32[r], target = i32[r + 2];
    return new RequestHead(
      text, method, method + i32[r + 1], target, target + i32[r + 3], i32[r + R_METHOD_ID], i32[r + R_VERSION],
      i32[r + R_FLAGS], i32[r + R_FRAMING], this.f64[(r >> 1) + R_CONTENT_LENGTH_F64],
      new Fields(text, this.fieldSpans(count), count),
    );
  }

  errorOffset(): number {
    return this.i32[this.result + R_ERROR_OFFSET];
  }

  /** Runs the chunked decoder with `state` ([phase, remaining, total]) and saves it back. */
  decodeChunked(ptr: number, len: number, state: Float64Array): number {
    const c32 = this.chunk >> 2, c64 = this.chunk >> 3;
    this.i32[c32] = state[0];
    this.f64[c64 + 1] = state[1];
    this.f64[c64 + 2] = state[2];
    const r = this.x.decodeChunked(ptr, len);
    state[0] = this.i32[c32];
    state[1] = this.f64[c64 + 1];
    state[2] = this.f64[c64 + 2];
    return r;
  }
  chunkConsumed(): number {
    return this.i32[this.result + R_CONSUMED];
  }
  chunkDataLength(): number {
    return this.i32[this.result + R_DATA_LEN];
  }
  /** After decodeChunked returned 1: the trailer fields, copied out. */
  takeTrailers(ptr: number, consumed: number): Fields {
    const r = this.result;
    const count = this.i32[r + R_HEADER_COUNT];
    return new Fields(this.text(ptr, ptr + consumed), this.fieldSpans(count), count);
  }

  /**
   * The field spans of the result table, copied to a plain array: V8 makes
   * small arrays on its heap, where a typed array copy costs an allocation
   * outside it, several times slower.
   */
  private fieldSpans(count: number): number[] {
    const spans: number[] = new Array(count * 4);
    const i32 = this.i32;
    const first = this.result + R_HEADERS;
    for (let k = 0; k < spans.length; k++) spans[k] = i32[first + k];
    return spans;
  }

  /**
   * Where in the output region the next response head goes (an offset). A
   * connection that batches the responses of one read into one write moves
   * it forward past the bytes it keeps; otherwise it stays 0.
   */
  outUsed = 0;

  /**
   * Serializes a response head into the output region at `outUsed` and
   * returns its length, or an error code: a header name that is not a token
   * or a value with CR, LF or another control byte is refused.
   */
  serializeHead(
    status: number, reason: string, headers: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number, nowSeconds: number,
  ): number {
    if (!this.isStaged(reason, headers) && !this.stageFields(reason, headers)) return -43;
    return this.x.serializeHead(
      status, 0, reason.length, headers.length, framing, contentLength, flags, nowSeconds, this.outUsed,
    );
  }

  /** The reason and fields staged last, as strings; responses in a row tend to repeat them. */
  private staged: string[] = [];

  private isStaged(reason: string, headers: readonly (readonly [string, string])[]): boolean {
    const staged = this.staged;
    if (staged.length !== 1 + 2 * headers.length || staged[0] !== reason) return false;
    for (let h = 0, k = 1; h < headers.length; h++, k += 2) {
      if (staged[k] !== headers[h][0] || staged[k + 1] !== headers[h][1]) return false;
    }
    return true;
  }

  /** Copies the reason (at the start) and the fields into the staging region and their spans into its table. */
  private stageFields(reason: string, headers: readonly (readonly [string, string])[]): boolean {
    this.staged = [];
    let w = this.stageText(reason, this.stage);
    if (w < 0) return false;
    const table = this.stageTable;
    for (let h = 0; h < headers.length; h++) {
      const [name, value] = headers[h];
      const t = table + h * 4;
      this.i32[t] = w - this.stage;
      this.i32[t + 1] = name.length;
      w = this.stageText(name, w);
      if (w < 0) return false;
      this.i32[t + 2] = w - this.stage;
      this.i32[t + 3] = value.length;
      w = this.stageText(value, w);
      if (w < 0) return false;
    }
    const staged = [reason];
    for (const [name, value] of headers) staged.push(name, value);
    this.staged = staged;
    return true;
  }

  /** Copies s into the staging region at w, one byte per character; returns the end, or -1 when it is full. */
  private stageText(s: string, w: number): number {
    if (w + s.length > this.stage + this.stageCapacity) return -1;
    const bytes = this.bytes;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      bytes[w++] = c < 256 ? c : 0; // NUL is refused by the serializer
    }
    return w;
  }

  /** Writes "<hex>\r\n" at ptr; returns its length. */
  chunkHeader(ptr: number, size: number): number {
    return this.x.writeChunkHeader(ptr, size);
  }
}

export interface StreamHandlers {
  head(head: RequestHead): void;
  /** A view into linear memory, valid only during the call: copy what you keep. */
  data(chunk: Uint8Array): void;
  end(trailers: Fields | null): void;
  error(error: ParseErrorInfo): void;
}

const HEAD = 0, LENGTH = 1, CHUNKED = 2, STOPPED = 3;

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
  private phase = HEAD;
  private carry: Uint8Array | null = null;
  private carried = 0;
  private scanned = 0;
  private remaining = 0;
  /** The chunked decoder's state, made for the first chunked body. */
  private chunkState: Float64Array | null = null;

  constructor(private readonly parser: ParserInstance, private readonly on: StreamHandlers) {}

  /** Moves carried bytes to the receive region; returns how many new bytes fit after them. */
  prepare(): number {
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
    this.process(this.parser.recv, this.carried + n);
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
    return this.phase === LENGTH || this.phase === CHUNKED || this.carry !== null;
  }

  private process(base: number, len: number): void {
    const p = this.parser;
    const start = this.position;
    let off = 0;
    while (off < len && this.phase !== STOPPED) {
      if (this.phase === HEAD) {
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
        if (head.framing === FRAMING_CHUNKED) {
          this.phase = CHUNKED;
          (this.chunkState ??= new Float64Array(3)).fill(0);
        } else if (head.contentLength > 0) {
          this.phase = LENGTH;
          this.remaining = head.contentLength;
        }
        this.on.head(head);
        if (this.phase === HEAD) this.on.end(null);
      } else if (this.phase === LENGTH) {
        const n = Math.min(this.remaining, len - off);
        this.remaining -= n;
        this.messageOffset += n;
        off += n;
        this.position = start + off;
        if (this.remaining === 0) this.phase = HEAD;
        this.on.data(p.bytes.subarray(base + off - n, base + off));
        if (this.remaining === 0 && this.phase === HEAD) this.on.end(null);
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
        if (r === 1) this.phase = HEAD;
        if (dataLength > 0) this.on.data(p.bytes.subarray(at, at + dataLength));
        if (r === 1) {
          if (this.phase === HEAD) this.on.end(trailers!.length > 0 ? trailers : null);
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

type Latin1Buffer = Uint8Array & { latin1Slice(start: number, end: number): string };
type BufferClass = { from(buffer: ArrayBuffer, offset: number, length: number): Latin1Buffer };

/**
 * Where Node's Buffer exists, its native latin1Slice reads linear memory
 * straight into a string; elsewhere the bytes go through String.fromCharCode.
 */
function latin1Decoder(bytes: Uint8Array): (start: number, end: number) => string {
  const NodeBuffer = (globalThis as unknown as { Buffer?: BufferClass }).Buffer;
  if (NodeBuffer !== undefined) {
    const view = NodeBuffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length);
    if (typeof view.latin1Slice === "function") return (start, end) => view.latin1Slice(start, end);
  }
  return (start, end) => latin1(bytes, start, end);
}

// ---- loading -------------------------------------------------------------

export type Build = "simd" | "scalar";
const modules = new Map<Build, WebAssembly.Module>();
const FILES: Record<Build, string> = { simd: "../wasm/simplenet.wasm", scalar: "../wasm/simplenet-scalar.wasm" };

/** The URL of a build's .wasm file, for hosts that fetch it themselves. */
export function wasmUrl(build: Build = "simd"): URL {
  return new URL(FILES[build], import.meta.url);
}

function compileSync(build: Build): WebAssembly.Module {
  let module = modules.get(build);
  if (module === undefined) {
    type Fs = { readFileSync(url: URL): Uint8Array<ArrayBuffer> };
    const proc = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
    const fs = proc?.getBuiltinModule?.("node:fs") as Fs | undefined;
    if (fs === undefined) throw new Error("synchronous loading needs Node's fs; use instantiate(bytes)");
    module = new WebAssembly.Module(fs.readFileSync(wasmUrl(build)));
    modules.set(build, module);
  }
  return module;
}

/** A parser instance, loaded synchronously (Node). */
export function createParser(limits: ParserLimits = {}, build: Build = "simd"): ParserInstance {
  return new ParserInstance(new WebAssembly.Instance(compileSync(build), {}), limits);
}

/** A parser instance from the module's bytes or a compiled module (any runtime). */
export async function instantiate(
  source: BufferSource | WebAssembly.Module, limits: ParserLimits = {},
): Promise<ParserInstance> {
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  return new ParserInstance(await WebAssembly.instantiate(module, {}), limits);
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

let shared: ParserInstance | null = null;

/** One-shot parse with a shared instance (loaded synchronously in Node). */
export function parseRequest(input: Uint8Array): ParseResult {
  shared ??= createParser();
  return parseRequestWith(shared, input);
}
