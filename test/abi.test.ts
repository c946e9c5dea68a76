// The wasm boundary: one source for the ABI, and a module that refuses any
// argument outside the region it names, writing nothing outside the regions
// the call owns.
import { suite, assert } from "./support/uvu.ts";
import { readdirSync, readFileSync } from "node:fs";
import { E, REGIONS, RESULT, CHUNK, SPAN, abiHash } from "../parser/src/abi.ts";
import { ParserInstance, createParser, wasmUrl, type Build } from "../parser/src/parser-node.ts";
import { expectedFiles } from "../scripts/abi.ts";
import { AbiTarget } from "../fuzz/abi.ts";

const test = suite("abi");
const root = new URL("../", import.meta.url);

test("the generated copies of the ABI (module, shim, README) match parser/src/abi.ts", () => {
  for (const [path, text] of expectedFiles()) {
    assert.ok(readFileSync(new URL(path, root), "utf8") === text, `${path} is out of date: run npm run build:abi`);
  }
});

type Exports = Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };
const instances = (["simd", "scalar"] as Build[]).map((build) => {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmUrl(build))), {});
  return { build, instance, x: instance.exports as unknown as Exports };
});

for (const { build, instance, x } of instances) {
  test(`${build}: the module was built from this ABI`, () => {
    assert.is(x.abiHash(), abiHash());
  });

  test(`${build}: hostile arguments are refused, and nothing outside the owned regions changes`, () => {
    const target = new AbiTarget(instance, x.memory.buffer.byteLength);
    const recv = x.recvBuffer(), out = x.outBuffer();
    const cases: [string, () => number, readonly number[]][] = [
      ["parseRequest before the receive region", () => x.parseRequest(recv - 1, 10, 0), [E.BAD_ARGUMENT]],
      ["parseRequest past its end", () => x.parseRequest(recv + REGIONS.RECV_CAPACITY - 4, 5, 0), [E.BAD_ARGUMENT]],
      ["parseRequest with a negative length", () => x.parseRequest(recv, -1, 0), [E.BAD_ARGUMENT]],
      ["parseRequest at the output region", () => x.parseRequest(out, 16, 0), [E.BAD_ARGUMENT]],
      ["parseRequest at a huge pointer", () => x.parseRequest(0x7fffffff, 1, 0), [E.BAD_ARGUMENT]],
      ["decodeChunked over the staging region", () => x.decodeChunked(x.stageBuffer(), 100), [E.BAD_ARGUMENT]],
      ["serializeHead with more fields than the table", () => x.serializeHead(200, 0, REGIONS.MAX_FIELDS + 1, 0, 0, 0, 0, 0), [E.BAD_ARGUMENT]],
      ["serializeHead with a negative count", () => x.serializeHead(200, 0, -5, 0, 0, 0, 0, 0), [E.BAD_ARGUMENT]],
      ["serializeHead past the output region", () => x.serializeHead(200, 0, 0, 0, 0, 0, 0, REGIONS.OUT_CAPACITY + 1), [E.BAD_ARGUMENT]],
      ["serializeHead with no room left", () => x.serializeHead(200, 0, 0, 0, 0, 0, 0, REGIONS.OUT_CAPACITY - 8), [E.HEAD_OVERFLOW]],
      ["serializeHead with a reason longer than the staging region", () => x.serializeHead(200, REGIONS.STAGE_CAPACITY + 1, 0, 0, 0, 0, 0, 0), [E.BAD_ARGUMENT]],
      ["serializeHead with a NaN length", () => x.serializeHead(200, 0, 0, 1, NaN, 0, 0, 0), [E.BAD_ARGUMENT]],
      ["serializeHead with an unknown framing", () => x.serializeHead(200, 0, 0, 7, 0, 0, 0, 0), [E.BAD_ARGUMENT]],
      ["serializeHead with an infinite clock", () => x.serializeHead(200, 0, 0, 0, 0, 1, Infinity, 0), [E.BAD_ARGUMENT]],
      ["addFields with no head begun", () => x.addFields(1), [E.NO_HEAD_IN_PROGRESS]],
      ["endHead with no head begun", () => x.endHead(0, 0, 0, 0), [E.NO_HEAD_IN_PROGRESS]],
      ["writeChunkHeader in the receive region", () => x.writeChunkHeader(recv, 10), [E.BAD_ARGUMENT]],
      ["writeChunkHeader at the output region's end", () => x.writeChunkHeader(out + REGIONS.OUT_CAPACITY - 15, 10), [E.BAD_ARGUMENT]],
      ["writeChunkHeader of a negative size", () => x.writeChunkHeader(out, -1), [E.BAD_ARGUMENT]],
      ["setLimits with a head larger than half the receive region", () => x.setLimits(REGIONS.RECV_CAPACITY, 100, 8192, 8192, 1e6, 4096, 32), [E.BAD_ARGUMENT]],
      ["setLimits with more headers than the table", () => x.setLimits(16384, REGIONS.MAX_FIELDS + 1, 8192, 8192, 1e6, 4096, 32), [E.BAD_ARGUMENT]],
      ["setLimits with a NaN body limit", () => x.setLimits(16384, 100, 8192, 8192, NaN, 4096), [E.BAD_ARGUMENT]],
      ["setLimits with a zero method limit", () => x.setLimits(16384, 100, 8192, 8192, 1e6, 4096, 0), [E.BAD_ARGUMENT]],
      ["setLimits with a huge line limit", () => x.setLimits(16384, 100, 0x7fffffff, 8192, 1e6, 4096, 32), [E.BAD_ARGUMENT]],
      ["parseFrameHeader at the output region", () => x.parseFrameHeader(out, 14, 1, 0), [E.BAD_ARGUMENT]],
      ["parseFrameHeader past the receive region", () => x.parseFrameHeader(recv + REGIONS.RECV_CAPACITY - 1, 2, 1, 0), [E.BAD_ARGUMENT]],
      ["parseFrameHeader with RSV bits outside 0-7", () => x.parseFrameHeader(recv, 2, 1, 8), [E.BAD_ARGUMENT]],
      ["unmaskPayload at the output region", () => x.unmaskPayload(out, 16, 0x01020304, 0), [E.BAD_ARGUMENT]],
      ["unmaskPayload with a negative length", () => x.unmaskPayload(recv, -16, 0x01020304, 0), [E.BAD_ARGUMENT]],
      ["unmaskPayload with phase 4", () => x.unmaskPayload(recv, 16, 0x01020304, 4), [E.BAD_ARGUMENT]],
      ["validateUtf8 over the staging region", () => x.validateUtf8(x.stageBuffer(), 16, 0), [E.BAD_ARGUMENT]],
      ["validateUtf8 past the output region", () => x.validateUtf8(out + REGIONS.OUT_CAPACITY - 1, 2, 0), [E.BAD_ARGUMENT]],
      ["validateUtf8 from a state it never returns", () => x.validateUtf8(recv, 1, 0x7fffffff), [E.BAD_ARGUMENT]],
      ["writeFrameHeader in the receive region", () => x.writeFrameHeader(recv, 1, 2, 0, 5), [E.BAD_ARGUMENT]],
      ["writeFrameHeader with 9 bytes left for a 10-byte header", () => x.writeFrameHeader(out + REGIONS.OUT_CAPACITY - 9, 1, 2, 0, 70000), [E.BAD_ARGUMENT]],
      ["writeFrameHeader of a reserved opcode", () => x.writeFrameHeader(out, 1, 3, 0, 5), [E.BAD_ARGUMENT]],
      ["writeFrameHeader of a NaN length", () => x.writeFrameHeader(out, 1, 2, 0, NaN), [E.BAD_ARGUMENT]],
    ];
    const memory = new Uint8Array(x.memory.buffer);
    const result = [x.resultTable(), x.resultTable() + RESULT.SIZE * 4];
    for (const [what, call, expected] of cases) {
      const before = memory.slice();
      const r = call();
      assert.ok(expected.includes(r), `${what}: returned ${r}`);
      // The serializer owns the output region (a refused head may have begun there); every call owns the result table.
      const owned = (i: number): boolean => (i >= result[0] && i < result[1]) ||
        (what.startsWith("serializeHead") && i >= out && i < out + REGIONS.OUT_CAPACITY);
      for (let i = 0; i < memory.length; i++) {
        if (memory[i] !== before[i] && !owned(i)) assert.unreachable(`${what} wrote byte ${i}`);
      }
    }
    // A staging table whose spans point outside the staging region.
    const i32 = new Int32Array(x.memory.buffer);
    const table = x.stageTable() >> 2;
    for (const [off, len] of [[-1, 1], [REGIONS.STAGE_CAPACITY, 1], [0, REGIONS.STAGE_CAPACITY + 1], [0x7fffffff, 0x7fffffff]]) {
      i32[table + SPAN.NAME_OFF] = off;
      i32[table + SPAN.NAME_LEN] = len;
      i32[table + SPAN.VALUE_OFF] = 0;
      i32[table + SPAN.VALUE_LEN] = 0;
      assert.is(x.serializeHead(200, 0, 1, 0, 0, 0, 0, 0), E.BAD_ARGUMENT, `span ${off}+${len}`);
    }
    // A chunk state the host corrupted.
    const c32 = x.chunkState() >> 2, c64 = x.chunkState() >> 3;
    for (const [phase, remaining] of [[9, 0], [-1, 0], [1, NaN], [1, -5], [1, 2 ** 60]]) {
      i32[c32 + CHUNK.PHASE] = phase;
      new Float64Array(x.memory.buffer)[c64 + CHUNK.REMAINING_F64] = remaining;
      assert.is(x.decodeChunked(recv, 10), E.BAD_CHUNK_STATE, `phase ${phase}, remaining ${remaining}`);
    }
    x.resetChunked();
    // The same oracle as the fuzz target, on a program of hostile calls.
    const program = Uint8Array.from({ length: 4000 }, (_, i) => (i * 2654435761) >>> 24);
    assert.is(target.run(program), null);
    assert.ok(target.calls > 0);
  });

  test(`${build}: serializeHead writes exactly the head a reference builds from staged fields, or refuses the first bad one`, () => {
    const bytes = new Uint8Array(x.memory.buffer);
    const i32 = new Int32Array(x.memory.buffer);
    const stage = x.stageBuffer(), table = x.stageTable() >> 2, out = x.outBuffer(), result = x.resultTable() >> 2;
    const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
    const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
    let seed = 7;
    const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    // Mostly visible ASCII, some of any byte, now and then one of the bytes a field must not hold.
    const byte = () => (random(10) < 7 ? 0x21 + random(94) : random(10) < 8 ? random(256) : [9, 13, 10, 0, 0x7f, 0x80][random(6)]);
    const text = (a: number[]) => String.fromCharCode(...a);
    for (let round = 0; round < 20_000; round++) {
      const fields = Array.from({ length: random(4) }, () => [Array.from({ length: random(40) }, byte), Array.from({ length: random(60) }, byte)]);
      let w = 0;
      fields.forEach(([name, value], h) => {
        const t = table + h * SPAN.SLOTS;
        i32[t + SPAN.NAME_OFF] = w;
        i32[t + SPAN.NAME_LEN] = name.length;
        bytes.set(name, stage + w);
        w += name.length;
        i32[t + SPAN.VALUE_OFF] = w;
        i32[t + SPAN.VALUE_LEN] = value.length;
        bytes.set(value, stage + w);
        w += value.length;
      });
      const at = random(64);
      const length = random(100_000);
      bytes.fill(0xee, out + at, out + at + 1024);
      const n = x.serializeHead(200, 0, fields.length, 1, length, 0, 0, at);
      const refused = fields.findIndex(([name, value]) => !TOKEN.test(text(name)) || !VALUE.test(text(value)));
      if (refused >= 0) {
        const [name] = fields[refused];
        assert.is(n, TOKEN.test(text(name)) ? E.BAD_RESPONSE_HEADER_VALUE : E.BAD_RESPONSE_HEADER_NAME);
        assert.is(i32[result + RESULT.ERROR_OFFSET], refused);
        continue;
      }
      const expected = `HTTP/1.1 200 OK\r\n${fields.map(([name, value]) => `${text(name)}: ${text(value)}\r\n`).join("")}Content-Length: ${length}\r\n\r\n`;
      assert.is(text([...bytes.subarray(out + at, out + at + n)]), expected);
      assert.is(bytes[out + at + n], 0xee, "nothing written after the head");
    }
  });
}

test("no literal slot or error number outside parser/src/abi.ts", () => {
  const roots = ["src", "parser/src", "test", "fuzz", "bench", "scripts"];
  const files = roots.flatMap((dir) => readdirSync(new URL(`${dir}/`, root), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.includes("node_modules") && !f.startsWith("."))
    .map((f) => `${dir}/${f}`))
    .filter((f) => f !== "parser/src/abi.ts" && f !== "test/abi.test.ts");
  // Slot arithmetic on a table view (i32[table + 3]) and error codes compared or returned as numbers (-2 ... -69).
  const slot = /\b(i32|f64|u32)\[[^\]\n]*\+\s*\d+\s*\]/;
  const code = /(===|!==|==|!=|return)\s*-([2-9]|[1-6]\d)\b/;
  for (const file of files) {
    const lines = readFileSync(new URL(file, root), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return;
      assert.not.match(line, slot, `${file}:${i + 1}: a table slot by number`);
      assert.not.match(line, code, `${file}:${i + 1}: an error code by number`);
    });
  }
});

test("the ABI oracle catches a call that writes outside its regions", () => {
  const { x } = instances[0];
  const memory = new Uint8Array(x.memory.buffer);
  // The real exports, but parseRequest also writes into the padding after the output region.
  const exports = { ...x, parseRequest: () => { memory[x.outBuffer() + REGIONS.OUT_CAPACITY] ^= 1; return -1; } };
  const target = new AbiTarget({ exports } as unknown as WebAssembly.Instance, memory.length);
  const parseOnce = Uint8Array.of(4, 0, 0, 0); // op 4: parseRequest(0, 0, 0)
  assert.match(target.run(parseOnce) ?? "", /wrote byte \d+ \(padding after the output region \+0\)/);
});

test("a module built from another ABI is refused", () => {
  const { instance } = instances[0];
  const stale = { exports: { ...instance.exports, abiHash: () => abiHash() ^ 1 } } as unknown as WebAssembly.Instance;
  assert.throws(() => new ParserInstance(stale), /another ABI/);
});

test("limits out of range throw a RangeError naming the allowed ranges; the parser keeps its old ones", () => {
  const parser = createParser();
  assert.throws(() => parser.setLimits({ maxHeadBytes: REGIONS.RECV_CAPACITY }), (e: Error) => e instanceof RangeError && /maxHeadBytes 1-/.test(e.message));
  assert.throws(() => createParser({ maxHeaders: -1 }), RangeError);
  const ok = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  parser.bytes.set(ok, parser.recv);
  assert.is(parser.parseHead(parser.recv, ok.length, 0), ok.length);
});

test("a stream cannot be fed while another parse of the receive region is running", () => {
  const parser = createParser();
  const request = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  let nested: unknown = null;
  const other = new (class {
    head() {}
    data() {}
    end() {}
    error() {}
  })();
  const { RequestStream } = parserModule;
  const inner = new RequestStream(parser, other);
  const outer = new RequestStream(parser, {
    head() {
      try {
        inner.push(request);
      } catch (error) {
        nested = error;
      }
    },
    data() {},
    end() {},
    error() {},
  });
  outer.push(request);
  assert.match(String(nested), /receive region is being parsed/);
  inner.push(request); // and it may once the parse has returned
});

const parserModule = await import("../parser/src/parser.ts");

test.run();
