// The ABI target: the input is a program of calls to the module's exports
// with hostile arguments (negative, huge, NaN, overlapping, off the ends of
// regions), interleaved with the host's own writes into the regions it owns
// (receive and staging regions, staging table, chunk state). The WebSocket
// exports own the frame table (parseFrameHeader), the range they unmask
// (receive region) or the header they write (output region). After every call
// the oracle checks that nothing trapped and that every byte of linear memory
// outside the regions that call may write is unchanged: the padding after
// each region, the other regions, the module's static data.
import type { HttpExports } from "../parser/src/parser.ts";
import type { FrameExports } from "../parser/src/frames.ts";
import { REGIONS, RESULT, CHUNK, SPAN, FRAME } from "../parser/src/abi.ts";

type Exports = HttpExports & FrameExports;

type Range = readonly [start: number, end: number];

export class AbiTarget {
  private readonly x: Exports;
  private readonly bytes: Uint8Array;
  private readonly before: Uint8Array;
  private readonly recv: Range;
  private readonly out: Range;
  private readonly stage: Range;
  private readonly table: Range;
  private readonly result: Range;
  private readonly chunk: Range;
  private readonly frame: Range;
  /** Interesting i32 values: region edges and integer extremes. */
  private readonly ints: number[];
  /** Calls made, for the report. */
  calls = 0;

  /** `checked`: the bytes of memory the oracle compares (the instrumented build keeps its counters above them). */
  constructor(instance: WebAssembly.Instance, checked: number) {
    this.x = instance.exports as unknown as Exports;
    this.bytes = new Uint8Array(this.x.memory.buffer, 0, checked);
    this.before = new Uint8Array(checked);
    const x = this.x;
    this.recv = [x.recvBuffer(), x.recvBuffer() + REGIONS.RECV_CAPACITY];
    this.out = [x.outBuffer(), x.outBuffer() + REGIONS.OUT_CAPACITY];
    this.stage = [x.stageBuffer(), x.stageBuffer() + REGIONS.STAGE_CAPACITY];
    this.table = [x.stageTable(), x.stageTable() + REGIONS.MAX_FIELDS * SPAN.SLOTS * 4];
    this.result = [x.resultTable(), x.resultTable() + RESULT.SIZE * 4];
    this.chunk = [x.chunkState(), x.chunkState() + CHUNK.SIZE];
    this.frame = [x.frameTable(), x.frameTable() + FRAME.SIZE];
    const edges = [this.recv, this.out, this.stage, this.table, this.result, this.chunk, this.frame].flatMap(([a, b]) => [a, b, a - 1, b - 1, b - a, b + 16]);
    this.ints = [0, 1, -1, 2, 16, 255, 256, 257, 4096, 65535, 65536, 0x7fffffff, -0x80000000, 0x40000000, ...edges];
  }

  /** Runs the program in `input`; returns a description of the first broken rule, or null. */
  run(input: Uint8Array): string | null {
    let at = 0;
    const byte = (): number => (at < input.length ? input[at++] : 0);
    const int = (): number => {
      const b = byte();
      if (b < 0x80) return this.ints[b % this.ints.length];
      if (b < 0xc0) return this.within(this.recv, byte() << 8 | byte());
      if (b < 0xe0) return this.within(this.out, byte() << 8 | byte());
      return ((byte() << 24) | (byte() << 16) | (byte() << 8) | byte()) | 0;
    };
    const float = (): number => FLOATS[byte() % FLOATS.length] ?? int();
    for (let step = 0; step < 24 && at < input.length; step++) {
      const op = byte() % 18;
      const problem = this.step(op, int, float, byte);
      if (problem !== null) return `step ${step}, ${problem}`;
    }
    return null;
  }

  private within([start, end]: Range, n: number): number {
    return start + (n % (end - start + 1));
  }

  private step(op: number, int: () => number, float: () => number, byte: () => number): string | null {
    const x = this.x;
    switch (op) {
      // The host's own writes: any bytes into the regions it owns.
      case 0: return this.hostWrite(this.recv, int(), byte, 0);
      case 1: return this.hostWrite(this.stage, int(), byte, 0);
      case 2: return this.hostWrite(this.table, int(), byte, 4);
      case 3: return this.hostWrite(this.chunk, int(), byte, 8);
      // The module's exports.
      case 4: { const [p, n, prev] = [int(), int(), int()]; return this.call(`parseRequest(${p}, ${n}, ${prev})`, () => x.parseRequest(p, n, prev), [this.result]); }
      case 5: { const [p, n] = [int(), int()]; return this.call(`decodeChunked(${p}, ${n})`, () => x.decodeChunked(p, n), [this.result, this.chunk, inside([p, p + n], this.recv)]); }
      case 6: return this.call("resetChunked()", () => x.resetChunked(), [this.result, this.chunk]);
      case 7: {
        const args = [int(), int(), int(), int(), float(), int(), float(), int()] as const;
        return this.call(`serializeHead(${args.join(", ")})`, () => x.serializeHead(...args), [this.result, this.out]);
      }
      case 8: { const [s, r, a] = [int(), int(), int()]; return this.call(`beginHead(${s}, ${r}, ${a})`, () => x.beginHead(s, r, a), [this.result, this.out]); }
      case 9: { const n = int(); return this.call(`addFields(${n})`, () => x.addFields(n), [this.result, this.out]); }
      case 10: {
        const [f, l, fl, now] = [int(), float(), int(), float()];
        return this.call(`endHead(${f}, ${l}, ${fl}, ${now})`, () => x.endHead(f, l, fl, now), [this.result, this.out]);
      }
      case 11: { const [p, size] = [int(), float()]; return this.call(`writeChunkHeader(${p}, ${size})`, () => x.writeChunkHeader(p, size), [inside([p, p + 16], this.out)]); }
      case 12: {
        const [p, n, m, rsv] = [int(), int(), byte() & 1, (byte() % 10) - 1];
        return this.call(`parseFrameHeader(${p}, ${n}, ${m}, ${rsv})`, () => x.parseFrameHeader(p, n, m, rsv), [this.frame]);
      }
      case 13: {
        const [p, n, key, phase] = [int(), int(), int(), (byte() % 6) - 1];
        return this.call(`unmaskPayload(${p}, ${n}, ${key}, ${phase})`, () => x.unmaskPayload(p, n, key, phase), [inside([p, p + n], this.recv)]);
      }
      case 14: {
        const [p, n, state] = [int(), int(), byte() & 1 ? int() : UTF8_STATES[byte() % UTF8_STATES.length]];
        return this.call(`validateUtf8(${p}, ${n}, ${state})`, () => x.validateUtf8(p, n, state), []);
      }
      case 15: {
        const [p, fin, opcode, rsv, length] = [int(), byte() & 1, (byte() % 18) - 1, (byte() % 10) - 1, float()];
        return this.call(`writeFrameHeader(${p}, ${fin}, ${opcode}, ${rsv}, ${length})`, () => x.writeFrameHeader(p, fin, opcode, rsv, length), [inside([p, p + 10], this.out)]);
      }
      case 16: {
        // The request method id: mostly a valid one, sometimes any i32.
        const [p, n, prev, method] = [int(), int(), int(), byte() & 1 ? int() : (byte() % 12) - 1];
        return this.call(`parseResponse(${p}, ${n}, ${prev}, ${method})`, () => x.parseResponse(p, n, prev, method), [this.result]);
      }
      default: {
        const args = [int(), int(), int(), int(), float(), int(), int()] as const;
        return this.call(`setLimits(${args.join(", ")})`, () => x.setLimits(...args), []);
      }
    }
  }

  /** Writes input bytes (or, for tables, whole i32/f64 values) into a host-owned region. */
  private hostWrite([start, end]: Range, offset: number, byte: () => number, width: number): null {
    const bytes = this.bytes;
    const count = 1 + (byte() % 16);
    if (width === 0) {
      for (let k = 0, p = this.within([start, end - 1], offset >>> 0); k < count && p < end; k++, p++) bytes[p] = byte();
      return null;
    }
    const view = new DataView(bytes.buffer);
    for (let k = 0; k < count; k++) {
      const p = start + width * ((offset >>> 0) % ((end - start) / width) + k);
      if (p + width > end) break;
      if (width === 4) view.setInt32(p, this.ints[byte() % this.ints.length] + (byte() % 3) - 1, true);
      else view.setFloat64(p, FLOATS[byte() % FLOATS.length] ?? 1, true);
    }
    return null;
  }

  private call(what: string, fn: () => unknown, owned: readonly (Range | null)[]): string | null {
    this.calls++;
    this.before.set(this.bytes);
    try {
      fn();
    } catch (error) {
      return `${what} trapped: ${(error as Error).message}`;
    }
    // Compare the stretches between the owned ranges natively, then find the byte.
    const ranges = owned.filter((r): r is Range => r !== null).sort((a, b) => a[0] - b[0]);
    let from = 0;
    for (const [start, end] of [...ranges, [this.bytes.length, this.bytes.length] as Range]) {
      if (start > from && Buffer.compare(this.bytes.subarray(from, start), this.before.subarray(from, start)) !== 0) {
        let i = from;
        while (this.bytes[i] === this.before[i]) i++;
        return `${what} wrote byte ${i} (${this.regionOf(i)}) outside the regions it owns`;
      }
      from = Math.max(from, end);
    }
    return null;
  }

  private regionOf(i: number): string {
    const named: [string, Range][] = [
      ["receive", this.recv], ["output", this.out], ["staging", this.stage], ["staging table", this.table],
      ["result table", this.result], ["chunk state", this.chunk], ["frame table", this.frame],
    ];
    for (const [name, [a, b]] of named) {
      if (i >= a && i < b) return `${name} region +${i - a}`;
      if (i >= b && i < b + REGIONS.PAD) return `padding after the ${name} region +${i - b}`;
    }
    return "static data";
  }
}

const FLOATS: (number | undefined)[] = [
  0, 1, -1, 0.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 - 1, 1e300, -0, 784111777, 4102444799, 253402300800, undefined,
];

/** States validateUtf8 returns (need | lo << 8 | hi << 16, assembly/utf8.ts), and some it must refuse. */
const UTF8_STATES = [0, 0xbf8001, 0xbf8002, 0xbf8003, 0xbfa002, 0x9f8002, 0xbf9003, 0x8f8003, 0xbf8004, 0x8f9003, 0xbfa001, -1];

/** `range` if it lies inside `region`, else null: a call given a range outside its region may write none of it. */
function inside([a, b]: Range, [start, end]: Range): Range | null {
  return a >= start && a <= b && b <= end ? [a, b] : null;
}
