// The websocket target: the WebSocket wire codec (parser/src/frames.ts over
// assembly/websocket.ts and assembly/utf8.ts). The input's first byte picks
// what the rest is:
//   mode 0, 1: a stream of frames (bit 2: require masking, bits 3-5: the RSV
//              bits allowed): each header is parsed whole and at every prefix,
//              its payload unmasked in random pieces and, for text, validated
//   mode 2:    bytes to validate as UTF-8, whole and split
//   mode 3:    a key (4 bytes), a phase, and bytes to unmask
// Oracles: the instrumented, SIMD and scalar builds agree on every result; a
// JS reference header parser; headers written back parse to the same fields;
// unmasking equals a JS reference, whole and in pieces; UTF-8 agrees with
// Node's isUtf8, whole and split, and fails at the first impossible byte.
import { isUtf8 } from "node:buffer";
import { FrameCodec, OPCODE } from "../parser/src/frames.ts";
import { E, INCOMPLETE, UTF8_INVALID, WEBSOCKET } from "../parser/src/abi.ts";
import type { ParserInstance } from "../parser/src/parser.ts";
import type { Random } from "./mutate.ts";
import type { Builds } from "./builds.ts";

const codecs = new WeakMap<ParserInstance, FrameCodec>();
function codecOf(parser: ParserInstance): FrameCodec {
  let codec = codecs.get(parser);
  if (codec === undefined) codecs.set(parser, (codec = new FrameCodec(parser)));
  return codec;
}

interface Side {
  parser: ParserInstance;
  codec: FrameCodec;
}

export function checkWebSocket(builds: Builds, random: Random, input: Uint8Array): string | null {
  const sides = [builds.instrumented, builds.simd, builds.scalar].map((parser) => ({ parser, codec: codecOf(parser) }));
  const mode = input.length > 0 ? input[0] : 0;
  const rest = input.subarray(1);
  const problems: string[] = [];
  if ((mode & 3) < 2) checkFrames(sides, random, rest, (mode & 4) !== 0, (mode >> 3) & 7, problems);
  else if ((mode & 3) === 2) checkUtf8(sides, random, rest, problems);
  else checkUnmask(sides, random, rest.subarray(5), rest.length >= 4 ? new DataView(rest.buffer, rest.byteOffset).getUint32(0, true) : 0, (rest[4] ?? 0) & 3, problems);
  return problems.length > 0 ? problems.slice(0, 4).join("; ") : null;
}

/** The JS reference: [header length or error code, fin, rsv, opcode, masked, mask, length]. */
function referenceHeader(b: Uint8Array, requireMask: boolean, allowedRsv: number): number[] {
  if (b.length < 1) return [INCOMPLETE];
  const fin = b[0] >> 7, rsv = (b[0] >> 4) & 7, opcode = b[0] & 15, control = opcode >= 8;
  if (!(Object.values(OPCODE) as number[]).includes(opcode)) return [E.WS_BAD_OPCODE];
  if (rsv & ~(control ? 0 : allowedRsv)) return [E.WS_RESERVED_BITS];
  if (control && !fin) return [E.WS_FRAGMENTED_CONTROL];
  if (b.length < 2) return [INCOMPLETE];
  const masked = b[1] >> 7, len7 = b[1] & 127;
  if (control && len7 > WEBSOCKET.MAX_CONTROL_PAYLOAD) return [E.WS_CONTROL_TOO_LONG];
  if (requireMask && !masked) return [E.WS_UNMASKED];
  let n = 2, length = len7;
  if (len7 === 126) {
    n = 4;
    if (b.length < n) return [INCOMPLETE];
    length = (b[2] << 8) | b[3];
  } else if (len7 === 127) {
    if (b.length >= 3 && b[2] !== 0) return [E.WS_LENGTH_TOO_LARGE];
    if (b.length >= 4 && b[3] >= 0x20) return [E.WS_LENGTH_TOO_LARGE];
    n = 10;
    if (b.length < n) return [INCOMPLETE];
    const view = new DataView(b.buffer, b.byteOffset);
    length = view.getUint32(2) * 2 ** 32 + view.getUint32(6);
  }
  let mask = 0;
  if (masked) {
    n += 4;
    if (b.length < n) return [INCOMPLETE];
    mask = new DataView(b.buffer, b.byteOffset).getUint32(n - 4, true);
  }
  return [n, fin, rsv, opcode, masked, mask, length];
}

function parseOn(side: Side, bytes: Uint8Array, offset: number, requireMask: boolean, allowedRsv: number): number[] {
  const { parser, codec } = side;
  parser.bytes.set(bytes, parser.recv + offset);
  const r = codec.parseHeader(parser.recv + offset, bytes.length, requireMask, allowedRsv);
  return r > 0 ? [r, +codec.fin, codec.rsv, codec.opcode, +codec.masked, codec.mask, codec.payloadLength] : [r];
}

function checkFrames(sides: Side[], random: Random, input: Uint8Array, requireMask: boolean, allowedRsv: number, problems: string[]): void {
  let at = 0;
  let utf8 = 0; // state across a text message's frames
  for (let frames = 0; at < input.length && frames < 32; frames++) {
    const rest = input.subarray(at, at + WEBSOCKET.MAX_HEADER + 2);
    const want = referenceHeader(rest, requireMask, allowedRsv);
    for (const side of sides) {
      const got = parseOn(side, rest, frames & 7, requireMask, allowedRsv);
      if (got.join() !== want.join()) problems.push(`${side.parser.simd ? "simd" : "scalar"} header ${hex(rest)}: ${got} vs reference ${want}`);
    }
    // Every prefix: INCOMPLETE, or what the whole gave.
    for (let k = 0; k < rest.length; k++) {
      const r = parseOn(sides[0], rest.subarray(0, k), 0, requireMask, allowedRsv)[0];
      if (r !== INCOMPLETE && r !== want[0]) problems.push(`header ${hex(rest)}: prefix of ${k} bytes gave ${r}, whole ${want[0]}`);
    }
    if (want[0] < 0) return;
    const [n, fin, rsv, opcode, masked, mask, length] = want;
    // Written back (unmasked), it parses to the same fields.
    for (const side of sides) {
      const { parser, codec } = side;
      const w = codec.writeHeader(parser.out, fin === 1, opcode, rsv, length);
      const again = parseOn(side, parser.bytes.slice(parser.out, parser.out + w), 0, false, 7);
      if (again.slice(1).join() !== [fin, rsv, opcode, 0, 0, length].join()) problems.push(`written header of ${want} parses as ${again}`);
    }
    at += n;
    const payload = input.subarray(at, at + Math.min(length, input.length - at));
    at += payload.length;
    const plain = masked ? unmaskReference(payload, mask, 0) : payload;
    if (masked) checkUnmask(sides, random, payload, mask, 0, problems);
    // Text: the message's UTF-8 state carries across its frames, as a reader's does.
    if (opcode === OPCODE.TEXT || (opcode === OPCODE.CONTINUATION && utf8 > 0)) {
      if (opcode === OPCODE.TEXT) utf8 = 0;
      const states = sides.map((side) => validate(side, [plain], utf8));
      if (new Set(states).size !== 1) problems.push(`builds differ on UTF-8 ${hex(plain)} from state ${utf8}: ${states}`);
      utf8 = states[0] === UTF8_INVALID ? 0 : fin ? 0 : states[0];
    }
  }
}

function unmaskReference(bytes: Uint8Array, mask: number, phase: number): Uint8Array {
  return bytes.map((b, j) => b ^ ((mask >>> (((phase + j) & 3) * 8)) & 0xff));
}

function checkUnmask(sides: Side[], random: Random, payload: Uint8Array, mask: number, phase: number, problems: string[]): void {
  const want = unmaskReference(payload, mask, phase);
  for (const { parser, codec } of sides) {
    const offset = random.below(16);
    const at = parser.recv + offset;
    parser.bytes.set(payload, at);
    codec.unmask(at, payload.length, mask, phase);
    if (Buffer.compare(parser.bytes.subarray(at, at + payload.length), want) !== 0) {
      problems.push(`${parser.simd ? "simd" : "scalar"} unmask of ${payload.length} bytes (key ${mask.toString(16)}, phase ${phase}) differs`);
    }
    // In random pieces, each with the phase of the bytes before it.
    parser.bytes.set(payload, at);
    for (let from = 0; from < payload.length;) {
      const piece = Math.min(payload.length - from, 1 + random.below(48));
      codec.unmask(at + from, piece, mask, phase + from);
      from += piece;
    }
    if (Buffer.compare(parser.bytes.subarray(at, at + payload.length), want) !== 0) problems.push(`unmask of ${payload.length} bytes in pieces differs`);
  }
}

/** utf8 over the pieces in turn, from `state`; stops at the first failure. */
function validate(side: Side, pieces: Uint8Array[], state: number, failedAt?: { piece: number }): number {
  const { parser, codec } = side;
  for (let k = 0; k < pieces.length; k++) {
    const at = (k & 1 ? parser.out : parser.recv) + (k % 7);
    parser.bytes.set(pieces[k], at);
    state = codec.utf8(at, pieces[k].length, state);
    if (state === UTF8_INVALID) {
      if (failedAt) failedAt.piece = k;
      return state;
    }
  }
  return state;
}

function checkUtf8(sides: Side[], random: Random, bytes: Uint8Array, problems: string[]): void {
  const valid = isUtf8(bytes);
  const wholes = sides.map((side) => validate(side, [bytes], 0));
  if (new Set(wholes).size !== 1) problems.push(`builds differ on UTF-8 ${hex(bytes)}: ${wholes}`);
  const whole = wholes[0];
  if (valid !== (whole === 0)) problems.push(`UTF-8 ${hex(bytes)}: state ${whole}, isUtf8 ${valid}`);
  // A state > 0 means a truncated character: the input must be a prefix of valid UTF-8.
  if (whole > 0 && !completable(bytes)) problems.push(`UTF-8 ${hex(bytes)}: state ${whole}, but no continuation is valid`);
  // Split at random points: the same verdict.
  for (const side of sides) {
    const cuts = [random.below(bytes.length + 1), random.below(bytes.length + 1), random.below(bytes.length + 1)].sort((a, b) => a - b);
    const pieces = [bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1], cuts[2]), bytes.subarray(cuts[2])];
    const split = validate(side, pieces, 0);
    if (split !== whole) problems.push(`UTF-8 ${hex(bytes)} split at ${cuts}: ${split} vs whole ${whole}`);
  }
  // Fail fast: fed byte by byte, it fails at the first byte no continuation can make valid.
  if (whole === UTF8_INVALID && bytes.length <= 512) {
    const failed = { piece: -1 };
    validate(sides[1], Array.from(bytes, (b) => Uint8Array.of(b)), 0, failed);
    const f = failed.piece;
    if (f < 0 || !completable(bytes.subarray(0, f)) || completable(bytes.subarray(0, f + 1))) {
      problems.push(`UTF-8 ${hex(bytes)} failed at byte ${f}, not at the first impossible byte`);
    }
  }
}

/** Whether some bytes appended to `bytes` make valid UTF-8 (a truncated character needs at most 3). */
function completable(bytes: Uint8Array): boolean {
  if (isUtf8(bytes)) return true;
  // Only the last character can be unfinished: check from the last lead byte at most 3 back.
  let start = bytes.length;
  while (start > 0 && bytes.length - start < 4 && (bytes[start - 1] & 0xc0) === 0x80) start--;
  if (start > 0) start--;
  if (!isUtf8(bytes.subarray(0, start))) return false;
  const tail = bytes.subarray(start);
  const buf = new Uint8Array(tail.length + 3);
  buf.set(tail);
  const conts = [0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf];
  const search = (k: number): boolean => {
    if (isUtf8(buf.subarray(0, tail.length + k))) return true;
    if (k === 3) return false;
    for (const c of conts) {
      buf[tail.length + k] = c;
      if (search(k + 1)) return true;
    }
    return false;
  };
  return search(0);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.subarray(0, 64)).toString("hex") + (b.length > 64 ? `...(${b.length} bytes)` : "");
}

/** Seeds: RFC 6455's example frames in each mode, and UTF-8 edge cases. */
export function webSocketSeeds(): Uint8Array[] {
  const h = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (x) => parseInt(x, 16));
  const utf8 = ["cebae1bdb9cf83cebcceb5", "f4908080", "eda080", "c080", "f09080", "48656c6c6f", "e0a0", "f48fbfbf", "fc8480808080"];
  return [
    h("04 8185 37fa213d 7f9f4d5158"), // masked "Hello", masking required
    h("00 8105 48656c6c6f"), // unmasked "Hello"
    h("04 0183 37fa213d 7f9f4d 8082 37fa213d 5158"), // fragmented masked text
    h("04 8985 37fa213d 7f9f4d5158 8a85 37fa213d 7f9f4d5158"), // ping and pong
    h("04 82fe 0100 01020304" + "ab".repeat(256)),
    h("04 82ff 0000000000010000 01020304" + "cd".repeat(64)),
    h("24 c185 01020304 aabbccddee"), // RSV1 allowed
    h("04 8882 01020304 02e8"), // close 1000 (masked)
    ...utf8.map((s) => h("02" + s)),
    h("02" + Buffer.from("ascii ".repeat(20) + "ü€😀").toString("hex")),
    h("03 37fa213d 01" + "00".repeat(100)),
  ];
}
