// Response heads written by the module: the host's half of serializeHead,
// which stages the reason and fields as bytes for the wasm to check and
// write. Used by one ParserInstance (instance.ts), through its exports.
import { E, REGIONS, RESULT, SPAN } from "./abi.js";
import { HeadError, describeError } from "./heads.js";
import type { HttpExports } from "./http-exports.js";

/**
 * Response heads through the staging region: the reason and fields copied in
 * as bytes, their spans into the staging table, in one batch when they fit
 * (and not again when a response repeats the last one's), else in batches.
 */
export class HeadSerializer {
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
