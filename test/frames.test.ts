// The WebSocket wire codec (assembly/websocket.ts, assembly/utf8.ts through
// parser/src/frames.ts) on raw bytes, as tables of input and expected outcome. Every
// case runs on both builds (SIMD and scalar), whole and split at every byte;
// unmasking is checked against a JS reference, UTF-8 against Node's isUtf8.
import { suite, assert } from "./support/uvu.ts";
import { isUtf8 } from "node:buffer";
import { createParser, type Build, type ParserInstance } from "../parser/src/parser-node.ts";
import { FrameCodec, OPCODE, RSV, UTF8_INVALID, closeCodeOf, isValidCloseCode } from "../parser/src/frames.ts";
import { CLOSE, E, FRAME, INCOMPLETE, REGIONS, type ErrorName } from "../parser/src/abi.ts";
import { random } from "./support/random.ts";

const test = suite("frames");

interface Codec {
  build: Build;
  parser: ParserInstance;
  codec: FrameCodec;
}
const builds: Codec[] = (["simd", "scalar"] as Build[]).map((build) => {
  const parser = createParser({}, build);
  return { build, parser, codec: new FrameCodec(parser) };
});

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (h) => parseInt(h, 16));
const show = (b: Uint8Array): string => Buffer.from(b).toString("hex");

// ---- frame headers --------------------------------------------------------

interface Fields {
  fin: boolean;
  rsv?: number;
  opcode: number;
  masked?: boolean;
  mask?: number;
  length: number;
  /** Header length. */
  n: number;
}
type Expected = Fields | { error: ErrorName; /** bytes that show it */ at: number };
/** [name, bytes, requireMask, allowedRsv, expected] */
const headers: [string, string, boolean, number, Expected][] = [
  ["masked text (RFC 6455 §5.7)", "8185 37fa213d", true, 0, { fin: true, opcode: OPCODE.TEXT, masked: true, mask: 0x3d21fa37, length: 5, n: 6 }],
  ["unmasked text, mask not required", "8105", false, 0, { fin: true, opcode: OPCODE.TEXT, masked: false, mask: 0, length: 5, n: 2 }],
  ["unmasked text, mask required", "8105", true, 0, { error: "WS_UNMASKED", at: 2 }],
  ["first fragment", "0183 01020304", true, 0, { fin: false, opcode: OPCODE.TEXT, mask: 0x04030201, length: 3, n: 6 }],
  ["continuation", "8083 01020304", true, 0, { fin: true, opcode: OPCODE.CONTINUATION, length: 3, n: 6 }],
  ["binary, 16-bit length", "82fe 0100 aabbccdd", true, 0, { fin: true, opcode: OPCODE.BINARY, mask: 0xddccbbaa, length: 256, n: 8 }],
  ["binary, 16-bit length 65535", "82fe ffff 00000000", true, 0, { fin: true, opcode: OPCODE.BINARY, length: 65535, n: 8 }],
  ["binary, 64-bit length", "82ff 0000000000010000 01020304", true, 0, { fin: true, opcode: OPCODE.BINARY, length: 65536, n: 14 }],
  ["binary, 64-bit length 2^32", "82ff 0000000100000000 01020304", true, 0, { fin: true, opcode: OPCODE.BINARY, length: 2 ** 32, n: 14 }],
  ["binary, 64-bit length 2^53 - 1", "82ff 001fffffffffffff 01020304", true, 0, { fin: true, opcode: OPCODE.BINARY, length: 2 ** 53 - 1, n: 14 }],
  ["unmasked, 64-bit length", "827f 0000000000000005", false, 0, { fin: true, opcode: OPCODE.BINARY, masked: false, length: 5, n: 10 }],
  ["16-bit length of a short payload (not minimal, accepted)", "81fe 0005 01020304", true, 0, { fin: true, opcode: OPCODE.TEXT, length: 5, n: 8 }],
  ["64-bit length with the top bit set", "82ff 8000000000000000 01020304", true, 0, { error: "WS_LENGTH_TOO_LARGE", at: 3 }],
  ["64-bit length 2^56", "82ff 0100000000000000 01020304", true, 0, { error: "WS_LENGTH_TOO_LARGE", at: 3 }],
  ["64-bit length 2^53", "82ff 0020000000000000 01020304", true, 0, { error: "WS_LENGTH_TOO_LARGE", at: 4 }],
  ["64-bit length 2^64 - 1", "82ff ffffffffffffffff 01020304", true, 0, { error: "WS_LENGTH_TOO_LARGE", at: 3 }],
  ["empty close", "8880 01020304", true, 0, { fin: true, opcode: OPCODE.CLOSE, length: 0, n: 6 }],
  ["ping of 125 bytes", "89fd 01020304", true, 0, { fin: true, opcode: OPCODE.PING, length: 125, n: 6 }],
  ["pong", "8a82 01020304", true, 0, { fin: true, opcode: OPCODE.PONG, length: 2, n: 6 }],
  ["ping of 126 bytes", "89fe 007e 01020304", true, 0, { error: "WS_CONTROL_TOO_LONG", at: 2 }],
  ["close with a 64-bit length", "88ff 0000000000000002 01020304", true, 0, { error: "WS_CONTROL_TOO_LONG", at: 2 }],
  ["fragmented ping", "0980 01020304", true, 0, { error: "WS_FRAGMENTED_CONTROL", at: 1 }],
  ["fragmented close", "0880 01020304", true, 0, { error: "WS_FRAGMENTED_CONTROL", at: 1 }],
  ["RSV1 not negotiated", "c185 01020304", true, 0, { error: "WS_RESERVED_BITS", at: 1 }],
  ["RSV1 negotiated", "c185 01020304", true, RSV.RSV1, { fin: true, rsv: RSV.RSV1, opcode: OPCODE.TEXT, length: 5, n: 6 }],
  ["RSV2 with only RSV1 negotiated", "a185 01020304", true, RSV.RSV1, { error: "WS_RESERVED_BITS", at: 1 }],
  ["RSV3 with only RSV1 negotiated", "9185 01020304", true, RSV.RSV1, { error: "WS_RESERVED_BITS", at: 1 }],
  ["RSV2 negotiated", "a285 01020304", true, RSV.RSV2, { fin: true, rsv: RSV.RSV2, opcode: OPCODE.BINARY, length: 5, n: 6 }],
  ["all RSV bits negotiated", "f285 01020304", true, 7, { fin: true, rsv: 7, opcode: OPCODE.BINARY, length: 5, n: 6 }],
  ["RSV1 on a ping, even when negotiated", "c980 01020304", true, RSV.RSV1, { error: "WS_RESERVED_BITS", at: 1 }],
  ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op): [string, string, boolean, number, Expected] =>
    [`reserved opcode ${op}`, `${(0x80 | op).toString(16)}80 01020304`, true, 0, { error: "WS_BAD_OPCODE", at: 1 }]),
  ["reserved opcode with RSV bits: the opcode is named", "f380 01020304", true, 0, { error: "WS_BAD_OPCODE", at: 1 }],
];

/** parseHeader on `bytes` copied to the receive region at `offset`. */
function parseAt(c: Codec, bytes: Uint8Array, offset: number, requireMask: boolean, allowedRsv: number): number {
  c.parser.bytes.set(bytes, c.parser.recv + offset);
  return c.codec.parseHeader(c.parser.recv + offset, bytes.length, requireMask, allowedRsv);
}

for (const c of builds) {
  test(`${c.build}: frame headers, whole and at every split point`, () => {
    for (const [name, input, requireMask, allowedRsv, expected] of headers) {
      const bytes = hex(input);
      const withPayload = Uint8Array.from([...bytes, 0x81, 0x80, 0xff, 0x00, 0x41]);
      for (const whole of [bytes, withPayload]) {
        const r = parseAt(c, whole, 3, requireMask, allowedRsv);
        if ("error" in expected) {
          assert.is(r, E[expected.error], `${name}: ${r}`);
          continue;
        }
        assert.is(r, expected.n, name);
        assert.is(c.codec.fin, expected.fin, `${name}: fin`);
        assert.is(c.codec.rsv, expected.rsv ?? 0, `${name}: rsv`);
        assert.is(c.codec.opcode, expected.opcode, `${name}: opcode`);
        assert.is(c.codec.masked, expected.masked ?? true, `${name}: masked`);
        if (expected.mask !== undefined) assert.is(c.codec.mask, expected.mask, `${name}: mask`);
        assert.is(c.codec.payloadLength, expected.length, `${name}: length`);
      }
      // Every prefix: INCOMPLETE until the bytes that decide it are there, then the outcome.
      const decided = "error" in expected ? expected.at : expected.n;
      const outcome = "error" in expected ? E[expected.error] : expected.n;
      for (let k = 0; k <= bytes.length; k++) {
        const r = parseAt(c, bytes.subarray(0, k), k & 7, requireMask, allowedRsv);
        assert.is(r, k < decided ? INCOMPLETE : outcome, `${name}: prefix of ${k} bytes`);
      }
    }
  });

  test(`${c.build}: a refused or incomplete header leaves the frame table as it was`, () => {
    assert.is(parseAt(c, hex("8185 37fa213d"), 0, true, 0), 6);
    const table = c.parser.bytes.slice(c.codec["table"], c.codec["table"] + FRAME.SIZE);
    for (const input of ["c185 01020304", "89fe", "82ff 8000", "82", "82fe 01"]) {
      parseAt(c, hex(input), 0, true, 0);
      assert.equal(c.parser.bytes.slice(c.codec["table"], c.codec["table"] + FRAME.SIZE), table, input);
    }
  });

  test(`${c.build}: written headers parse back to the same fields`, () => {
    const cases: [boolean, number, number, number][] = [
      [true, OPCODE.TEXT, 0, 0], [true, OPCODE.TEXT, 0, 125], [false, OPCODE.BINARY, RSV.RSV1, 126], [true, OPCODE.CONTINUATION, 0, 65535],
      [true, OPCODE.BINARY, 0, 65536], [true, OPCODE.BINARY, 0, 2 ** 32 - 1], [true, OPCODE.BINARY, 0, 2 ** 32], [true, OPCODE.BINARY, 7, 2 ** 53 - 1],
      [true, OPCODE.CLOSE, 0, 2], [true, OPCODE.PING, 0, 125], [true, OPCODE.PONG, 0, 0],
    ];
    const { parser, codec } = c;
    for (const [fin, opcode, rsv, length] of cases) {
      const at = parser.out + 5;
      const n = codec.writeHeader(at, fin, opcode, rsv, length);
      assert.is(n, length < 126 ? 2 : length < 65536 ? 4 : 10, `length ${length}`);
      const written = parser.bytes.slice(at, at + n);
      assert.is(parseAt(c, written, 1, false, 7), n, show(written));
      assert.equal([codec.fin, codec.rsv, codec.opcode, codec.masked, codec.payloadLength], [fin, rsv, opcode, false, length], show(written));
    }
    assert.equal([...parser.bytes.subarray(parser.out, parser.out + codec.writeHeader(parser.out, true, OPCODE.TEXT, 0, 5))], [0x81, 0x05]);
  });

  test(`${c.build}: writeHeader refuses what it may not write, writing nothing`, () => {
    const { parser, codec } = c;
    const end = parser.out + REGIONS.OUT_CAPACITY;
    const refused: [string, () => number][] = [
      ["reserved opcode", () => codec.writeHeader(parser.out, true, 3, 0, 1)],
      ["opcode 16", () => codec.writeHeader(parser.out, true, 16, 0, 1)],
      ["rsv 8", () => codec.writeHeader(parser.out, true, OPCODE.TEXT, 8, 1)],
      ["rsv on a ping", () => codec.writeHeader(parser.out, true, OPCODE.PING, RSV.RSV1, 1)],
      ["fragmented close", () => codec.writeHeader(parser.out, false, OPCODE.CLOSE, 0, 2)],
      ["ping of 126 bytes", () => codec.writeHeader(parser.out, true, OPCODE.PING, 0, 126)],
      ["NaN length", () => codec.writeHeader(parser.out, true, OPCODE.TEXT, 0, NaN)],
      ["negative length", () => codec.writeHeader(parser.out, true, OPCODE.TEXT, 0, -1)],
      ["fractional length", () => codec.writeHeader(parser.out, true, OPCODE.TEXT, 0, 1.5)],
      ["length 2^53", () => codec.writeHeader(parser.out, true, OPCODE.TEXT, 0, 2 ** 53)],
      ["in the receive region", () => codec.writeHeader(parser.recv, true, OPCODE.TEXT, 0, 1)],
      ["2 bytes at the output region's last byte", () => codec.writeHeader(end - 1, true, OPCODE.TEXT, 0, 1)],
      ["10 bytes with 9 left", () => codec.writeHeader(end - 9, true, OPCODE.BINARY, 0, 70000)],
    ];
    for (const [what, call] of refused) {
      const before = parser.bytes.slice();
      assert.throws(call, RangeError, what);
      assert.ok(Buffer.compare(before, parser.bytes) === 0, `${what} wrote something`);
    }
    assert.is(codec.writeHeader(end - 10, true, OPCODE.BINARY, 0, 70000), 10);
    assert.is(codec.writeHeader(end - 2, true, OPCODE.BINARY, 0, 1), 2);
  });

  test(`${c.build}: parseHeader refuses ranges outside the receive region and RSV masks outside 0-7`, () => {
    const { parser, codec } = c;
    for (const [ptr, len, rsv] of [[parser.recv - 1, 2, 0], [parser.recv, -1, 0], [parser.out, 2, 0], [parser.recv + REGIONS.RECV_CAPACITY - 1, 2, 0], [parser.recv, 2, 8], [parser.recv, 2, -1]]) {
      assert.throws(() => codec.parseHeader(ptr, len, true, rsv), RangeError, `${ptr}+${len} rsv ${rsv}`);
    }
    assert.is(codec.parseHeader(parser.recv + REGIONS.RECV_CAPACITY, 0, true, 0), INCOMPLETE);
  });
}

// ---- unmasking ------------------------------------------------------------

function unmaskReference(bytes: Uint8Array, mask: number, phase: number): Uint8Array {
  return bytes.map((b, j) => b ^ ((mask >>> (((phase + j) & 3) * 8)) & 0xff));
}

for (const c of builds) {
  test(`${c.build}: unmask equals the JS reference for random lengths, offsets, keys and phases, whole and in pieces`, () => {
    const { parser, codec } = c;
    const next = random(6455);
    const lengths = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4099, 65536 + 3];
    for (let k = 0; k < 200; k++) lengths.push(Math.floor(next() * 300));
    for (const len of lengths) {
      const offset = Math.floor(next() * 16);
      const mask = Math.floor(next() * 2 ** 32);
      const phase = Math.floor(next() * 4);
      const payload = Uint8Array.from({ length: len }, () => Math.floor(next() * 256));
      const at = parser.recv + offset;
      // Guard bytes on both sides must survive.
      parser.bytes.fill(0x5a, at - offset, at + len + 16);
      parser.bytes.set(payload, at);
      codec.unmask(at, len, mask, phase);
      const want = unmaskReference(payload, mask, phase);
      assert.ok(Buffer.compare(parser.bytes.subarray(at, at + len), want) === 0, `length ${len}, offset ${offset}, phase ${phase}`);
      assert.ok(parser.bytes.subarray(at - offset, at).every((b) => b === 0x5a) && parser.bytes.subarray(at + len, at + len + 16).every((b) => b === 0x5a), `length ${len}: guard bytes`);
      // In pieces as they arrive: each piece with phase = bytes before it.
      parser.bytes.set(payload, at);
      for (let from = 0; from < len;) {
        const piece = Math.min(len - from, 1 + Math.floor(next() * 40));
        codec.unmask(at + from, piece, mask, phase + from);
        from += piece;
      }
      assert.ok(Buffer.compare(parser.bytes.subarray(at, at + len), want) === 0, `length ${len} in pieces`);
    }
  });

  test(`${c.build}: unmask refuses ranges outside the receive region, writing nothing`, () => {
    const { parser, codec } = c;
    for (const [ptr, len] of [[parser.recv - 1, 4], [parser.recv, -4], [parser.out, 4], [parser.recv + REGIONS.RECV_CAPACITY - 3, 4], [0x7fffffff, 1]]) {
      const before = parser.bytes.slice();
      assert.throws(() => codec.unmask(ptr, len, 0x12345678, 0), RangeError, `${ptr}+${len}`);
      assert.ok(Buffer.compare(before, parser.bytes) === 0, `${ptr}+${len} wrote something`);
    }
    // The raw export refuses a phase outside 0-3 (the host passes phase & 3).
    const raw = parser.wasmExports as unknown as { unmaskPayload(p: number, n: number, m: number, ph: number): number };
    assert.is(raw.unmaskPayload(parser.recv, 4, 1, 4), E.BAD_ARGUMENT);
    assert.is(raw.unmaskPayload(parser.recv, 4, 1, -1), E.BAD_ARGUMENT);
  });
}

// ---- UTF-8 ----------------------------------------------------------------

/** [name, hex bytes, verdict]: "valid", "invalid", or "partial" (a truncated character: valid so far, invalid at a message's end). */
const utf8Cases: [string, string, "valid" | "invalid" | "partial"][] = [
  ["empty", "", "valid"],
  ["ASCII", Buffer.from("Hello-µ@ßöäüàá-UTF-8!!").toString("hex"), "valid"],
  ["κόσμε", "cebae1bdb9cf83cebcceb5", "valid"],
  ["U+0080", "c280", "valid"], ["U+07FF", "dfbf", "valid"], ["U+0800", "e0a080", "valid"], ["U+FFFF", "efbfbf", "valid"],
  ["U+10000", "f0908080", "valid"], ["U+10FFFF", "f48fbfbf", "valid"], ["U+D7FF", "ed9fbf", "valid"], ["U+E000", "ee8080", "valid"],
  ["U+FFFE and U+FFFF (noncharacters are valid)", "efbfbeefbfbf", "valid"],
  ["U+110000 (F4 90)", "f4908080", "invalid"], ["F4 90 alone", "f490", "invalid"],
  ["5-byte form", "f888808080", "invalid"], ["6-byte form", "fc8480808080", "invalid"],
  ["F5", "f5", "invalid"], ["F8", "f8", "invalid"], ["FE", "fe", "invalid"], ["FF", "ff", "invalid"],
  ["C0 80 (overlong NUL)", "c080", "invalid"], ["C1 BF", "c1bf", "invalid"], ["C0 alone", "c0", "invalid"],
  ["overlong 3-byte U+007F", "e081bf", "invalid"], ["overlong 3-byte U+07FF", "e09fbf", "invalid"], ["E0 80 alone", "e080", "invalid"],
  ["overlong 4-byte U+FFFF", "f08fbfbf", "invalid"], ["F0 80 alone", "f080", "invalid"],
  ["surrogate U+D800", "eda080", "invalid"], ["surrogate U+DBFF", "edafbf", "invalid"], ["surrogate U+DC00", "edb080", "invalid"],
  ["surrogate U+DFFF", "edbfbf", "invalid"], ["ED A0 alone", "eda0", "invalid"], ["surrogate pair U+D834 U+DD1E", "eda0b4edb49e", "invalid"],
  ["lone continuation", "80", "invalid"], ["BF", "bf", "invalid"], ["continuation after ASCII", "4180", "invalid"],
  ["two continuations after a 2-byte character", "c280bf", "invalid"],
  ["2-byte start then ASCII", "c241", "invalid"], ["3-byte start then ASCII", "e0a041", "invalid"], ["4-byte start, 2 more, then ASCII", "f0908041", "invalid"],
  ["κόσμε then 0xF4 0x90 0x80 0x80", "cebae1bdb9cf83cebcceb5f4908080656469746564", "invalid"],
  ["truncated 2-byte", "c2", "partial"], ["truncated 3-byte", "e0a0", "partial"], ["truncated 3-byte, one byte", "e1", "partial"],
  ["truncated 4-byte", "f09080", "partial"], ["truncated F4", "f48f", "partial"], ["ED 9F (not yet a surrogate)", "ed9f", "partial"],
  ["text then a truncated character", "48656c6c6ff0", "partial"],
];

/** The first byte index at which `bytes` stops being a prefix of any UTF-8 string, or -1. */
function firstImpossible(bytes: Uint8Array): number {
  const completable = (k: number): boolean => {
    if (isUtf8(bytes.subarray(0, k))) return true;
    const tails = [0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf];
    const buf = new Uint8Array(k + 3);
    buf.set(bytes.subarray(0, k));
    for (let a = 0; a < 6; a++) {
      buf[k] = tails[a];
      if (isUtf8(buf.subarray(0, k + 1))) return true;
      for (let b = 0; b < 6; b++) {
        buf[k + 1] = tails[b];
        if (isUtf8(buf.subarray(0, k + 2))) return true;
        for (let d = 0; d < 6; d++) {
          buf[k + 2] = tails[d];
          if (isUtf8(buf.subarray(0, k + 3))) return true;
        }
      }
    }
    return false;
  };
  if (completable(bytes.length)) return -1;
  let lo = 0, hi = bytes.length; // completable(lo), !completable(hi)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (completable(mid)) lo = mid;
    else hi = mid;
  }
  return hi - 1;
}

/** utf8 over `pieces` in turn, at `base` (+ an offset), carrying the state: the final state, or -1 with the index of the piece that failed. */
function utf8Pieces(c: Codec, pieces: Uint8Array[], base: number): { state: number; failedAt: number } {
  let state = 0;
  for (let k = 0; k < pieces.length; k++) {
    const at = base + (k % 5);
    c.parser.bytes.set(pieces[k], at);
    state = c.codec.utf8(at, pieces[k].length, state);
    if (state === UTF8_INVALID) return { state, failedAt: k };
  }
  return { state, failedAt: -1 };
}

/** Checks one input on one build: the verdict agrees with isUtf8, splits carry over, and the failure comes with the first impossible byte. */
function checkUtf8(c: Codec, bytes: Uint8Array, name: string, base: number, splitsToo: boolean): number {
  const whole = utf8Pieces(c, [bytes], base).state;
  const valid = isUtf8(bytes);
  assert.ok(valid === (whole === 0), `${name} (${show(bytes).slice(0, 80)}): state ${whole}, isUtf8 ${valid}`);
  const impossible = firstImpossible(bytes);
  assert.ok((impossible >= 0) === (whole === UTF8_INVALID), `${name}: state ${whole}, first impossible byte ${impossible}`);
  if (!splitsToo) return whole;
  for (let at = 0; at <= bytes.length; at++) {
    const split = utf8Pieces(c, [bytes.subarray(0, at), bytes.subarray(at)], base);
    assert.is(split.state, whole, `${name}: split at ${at}`);
    // Fail fast: the piece holding the first impossible byte is the one that fails.
    if (impossible >= 0) assert.is(split.failedAt, impossible < at ? 0 : 1, `${name}: split at ${at}, impossible byte at ${impossible}`);
  }
  if (bytes.length <= 64) {
    const single = utf8Pieces(c, [...bytes].map((b) => Uint8Array.of(b)), base);
    assert.is(single.state, whole, `${name}: byte by byte`);
    if (impossible >= 0) assert.is(single.failedAt, impossible, `${name}: byte by byte fails at the first impossible byte`);
  }
  return whole;
}

/** Random input near UTF-8: encoded code points of every length, edge bytes, and random bytes. */
function utf8Input(next: () => number, length: number): Uint8Array {
  const out: number[] = [];
  const edges = [0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x8f, 0x90, 0x9f, 0xa0];
  while (out.length < length) {
    const r = next();
    if (r < 0.4) out.push(...Buffer.from("abcdefghijklmnopqrstuvwxyz0123456789".slice(0, 1 + Math.floor(next() * 36))));
    else if (r < 0.8) {
      const ranges = [0x80, 0x800, 0x10000, 0x110000];
      let cp = Math.floor(next() * ranges[Math.floor(next() * 4)]);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
      out.push(...Buffer.from(String.fromCodePoint(cp)));
    } else if (r < 0.9) out.push(edges[Math.floor(next() * edges.length)]);
    else out.push(Math.floor(next() * 256));
  }
  return Uint8Array.from(out.slice(0, length));
}

for (const c of builds) {
  test(`${c.build}: UTF-8 edge cases (Autobahn 6.x style), whole, at every split point and byte by byte`, () => {
    for (const [name, input, verdict] of utf8Cases) {
      const bytes = hex(input);
      for (const base of [c.parser.recv + 1, c.parser.out + 7]) {
        const state = checkUtf8(c, bytes, name, base, true);
        if (verdict === "valid") assert.is(state, 0, name);
        else if (verdict === "invalid") assert.is(state, UTF8_INVALID, name);
        else assert.ok(state > 0, `${name}: ${state}`);
      }
    }
  });

  test(`${c.build}: UTF-8 edge cases inside long text, at every position of the 32-byte vector runs`, () => {
    const text = Buffer.from("aé€😀κόσμε-ascii-".repeat(8));
    for (const [name, input] of utf8Cases) {
      const bytes = hex(input);
      for (let at = 0; at < 70; at++) {
        // Cut the text at a character boundary at or before `at`.
        let cut = at;
        while (cut > 0 && (text[cut] & 0xc0) === 0x80) cut--;
        const whole = Buffer.concat([text.subarray(0, cut), bytes, text.subarray(0, 40)]);
        checkUtf8(c, whole, `${name} after ${cut} bytes of text`, c.parser.recv + (at & 15), at % 10 === 0);
      }
    }
  });

  test(`${c.build}: UTF-8 agrees with isUtf8 on random inputs, whole and split`, () => {
    const next = random(0x6455);
    for (let k = 0; k < 400; k++) {
      const length = k < 300 ? Math.floor(next() * 40) : Math.floor(next() * 600);
      const bytes = utf8Input(next, length);
      checkUtf8(c, bytes, `random input ${k}`, c.parser.recv + (k & 15), k < 300);
    }
  });

  test(`${c.build}: UTF-8 fails at a bad byte anywhere in long ASCII and multi-byte runs (the vector path)`, () => {
    const ascii = Buffer.from("x".repeat(300));
    const mixed = Buffer.from("aé€😀".repeat(40));
    for (const [runName, run] of [["ASCII", ascii], ["mixed", mixed]] as const) {
      for (let at = 0; at < 200; at++) {
        for (const bad of [0x80, 0xff, 0xc0]) {
          const bytes = Uint8Array.from(run);
          bytes[at] = bad;
          const state = utf8Pieces(c, [bytes], c.parser.recv + (at & 15)).state;
          assert.is(state === 0, isUtf8(bytes), `${runName}, ${bad.toString(16)} at ${at}: ${state}`);
          if (runName === "ASCII") assert.is(state, UTF8_INVALID, `${bad.toString(16)} at ${at}`);
        }
      }
      // A truncated character at the very end of a long run.
      const cut = Buffer.concat([run, Buffer.from([0xf0, 0x9f, 0x98])]);
      assert.ok(utf8Pieces(c, [cut], c.parser.out).state > 0, `${runName}: truncated at the end`);
    }
  });

  test(`${c.build}: utf8 refuses ranges outside the receive and output regions, and states it never returns`, () => {
    const { parser, codec } = c;
    for (const [ptr, len] of [[parser.recv - 1, 4], [parser.recv, -1], [parser.out + REGIONS.OUT_CAPACITY - 3, 4], [parser.recv + REGIONS.RECV_CAPACITY - 1, 2]]) {
      assert.throws(() => codec.utf8(ptr, len, 0), RangeError, `${ptr}+${len}`);
    }
    for (const state of [-1, 4, 0x808001, 0xbf8000, 0xbf8004, 0x9fa002, 0x7fffffff, 0x8f9003]) {
      assert.throws(() => codec.utf8(parser.recv, 1, state), RangeError, `state ${state.toString(16)}`);
    }
    // Every state utf8 returns is one it takes back.
    for (const prefix of ["c2", "e0", "e1", "ed", "ef", "f0", "f1", "f4", "e0a0", "f090", "f09080", "f48f", "f48fbf"]) {
      const bytes = hex(prefix);
      parser.bytes.set(bytes, parser.recv);
      const state = codec.utf8(parser.recv, bytes.length, 0);
      assert.ok(state > 0, prefix);
      assert.is(codec.utf8(parser.recv, 0, state), state, `${prefix}: state ${state.toString(16)} taken back`);
    }
  });
}

test("the builds agree on random inputs of every kind", () => {
  const [a, b] = builds;
  const next = random(42);
  for (let k = 0; k < 2000; k++) {
    const bytes = Uint8Array.from({ length: Math.floor(next() * 24) }, () => (next() < 0.3 ? [0x81, 0x82, 0x88, 0x89, 0xfe, 0xff, 0x7e, 0x7f, 0x00][Math.floor(next() * 9)] : Math.floor(next() * 256)));
    const results = [a, b].map((c) => {
      const r = parseAt(c, bytes, 0, (k & 1) === 1, k & 7);
      return r > 0 ? [r, c.codec.fin, c.codec.rsv, c.codec.opcode, c.codec.masked, c.codec.mask, c.codec.payloadLength] : [r];
    });
    assert.equal(results[0], results[1], show(bytes));
  }
});

// ---- close codes ----------------------------------------------------------

test("close codes a close frame may carry (RFC 6455 §7.4, IANA registry)", () => {
  const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535, -1];
  for (const code of valid) assert.ok(isValidCloseCode(code), `${code}`);
  for (const code of invalid) assert.not.ok(isValidCloseCode(code), `${code}`);
});

test("each frame error maps to its close code", () => {
  assert.is(closeCodeOf(E.WS_UNMASKED), CLOSE.PROTOCOL_ERROR);
  assert.is(closeCodeOf(E.WS_BAD_OPCODE), CLOSE.PROTOCOL_ERROR);
  assert.is(closeCodeOf(E.WS_LENGTH_TOO_LARGE), CLOSE.MESSAGE_TOO_BIG);
  assert.is(closeCodeOf(UTF8_INVALID), CLOSE.INVALID_PAYLOAD);
});

test.run();
