// WebSocket frames (RFC 6455 §5): the header parser, the payload unmasker and
// the header writer. Like the HTTP exports, each is stateless and checks every
// argument against the region it names: parseFrameHeader and unmaskPayload
// work in the receive region, writeFrameHeader in the output region.
import { byteAt } from "./chars";
import { RECV, OUT, FRAME_TABLE, inRegion, isByteCount } from "./layout";
import {
  RECV_CAPACITY, OUT_CAPACITY, INCOMPLETE, E_BAD_ARGUMENT, E_WS_RESERVED_BITS, E_WS_BAD_OPCODE, E_WS_FRAGMENTED_CONTROL,
  E_WS_CONTROL_TOO_LONG, E_WS_UNMASKED, E_WS_LENGTH_TOO_LARGE, F_FIN, F_RSV, F_OPCODE, F_MASKED, F_MASK, F_LENGTH_F64,
  OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, WS_MAX_CONTROL_PAYLOAD,
} from "./abi";

@inline function knownOpcode(op: u32): bool {
  return op == OP_CONTINUATION || op == OP_TEXT || op == OP_BINARY || op == OP_CLOSE || op == OP_PING || op == OP_PONG;
}

@inline function setFrame(slot: i32, value: i32): void {
  store<i32>(FRAME_TABLE + (<usize>slot << 2), value);
}

/**
 * Parses a frame header at [ptr, ptr+len) of the receive region: its length
 * (2 to 14), INCOMPLETE, or a WS_ error code as soon as the bytes that show it
 * are there. `allowedRsv`: the RSV bits (RSV1 = 4, RSV2 = 2, RSV3 = 1) the
 * negotiated extensions allow on data frames; control frames may carry none.
 * `requireMask` (nonzero): refuse unmasked frames, as a server must. The
 * fields go to the frame table on success only. A length in more bytes than it
 * needs is accepted (the RFC asks senders for the minimal form; receivers such
 * as ws accept it too).
 */
export function parseFrameHeader(ptr: i32, len: i32, requireMask: i32, allowedRsv: i32): i32 {
  if (!inRegion(ptr, len, RECV, RECV_CAPACITY) || (allowedRsv & ~7) != 0) return E_BAD_ARGUMENT;
  if (len < 1) return INCOMPLETE;
  const p = <usize>ptr;
  const b0 = byteAt(p, 0);
  const fin = b0 >> 7;
  const rsv = (b0 >> 4) & 7;
  const opcode = b0 & 15;
  const control = opcode >= 8;
  if (!knownOpcode(opcode)) return E_WS_BAD_OPCODE;
  if ((rsv & ~(control ? 0 : <u32>allowedRsv)) != 0) return E_WS_RESERVED_BITS;
  if (control && fin == 0) return E_WS_FRAGMENTED_CONTROL;
  if (len < 2) return INCOMPLETE;
  const b1 = byteAt(p, 1);
  const masked = b1 >> 7;
  const len7 = b1 & 127;
  if (control && len7 > <u32>WS_MAX_CONTROL_PAYLOAD) return E_WS_CONTROL_TOO_LONG;
  if (requireMask != 0 && masked == 0) return E_WS_UNMASKED;
  let n = 2;
  let length: f64 = <f64>len7;
  if (len7 == 126) {
    n = 4;
    if (len < n) return INCOMPLETE;
    length = <f64>((byteAt(p, 2) << 8) | byteAt(p, 3));
  } else if (len7 == 127) {
    // At most 2^53 - 1 (the top bit must be clear, RFC 6455 §5.2): the first
    // byte zero and the second below 0x20, refused as soon as either is seen.
    if (len >= 3 && byteAt(p, 2) != 0) return E_WS_LENGTH_TOO_LARGE;
    if (len >= 4 && byteAt(p, 3) >= 0x20) return E_WS_LENGTH_TOO_LARGE;
    n = 10;
    if (len < n) return INCOMPLETE;
    const high = bswap<u32>(load<u32>(p + 2));
    const low = bswap<u32>(load<u32>(p + 6));
    length = <f64>high * 4294967296.0 + <f64>low;
  }
  let mask: u32 = 0;
  if (masked != 0) {
    n += 4;
    if (len < n) return INCOMPLETE;
    mask = load<u32>(p + <usize>(n - 4));
  }
  setFrame(F_FIN, <i32>fin);
  setFrame(F_RSV, <i32>rsv);
  setFrame(F_OPCODE, <i32>opcode);
  setFrame(F_MASKED, <i32>masked);
  setFrame(F_MASK, <i32>mask);
  store<f64>(FRAME_TABLE + (<usize>F_LENGTH_F64 << 3), length);
  return n;
}

/**
 * XORs [ptr, ptr+len) of the receive region with the masking key `mask` (its
 * 4 bytes as a little-endian u32, as they appear in the header), rotated by
 * `phase` (0-3: bytes of this frame's payload unmasked before ptr, mod 4).
 * Returns 0, or BAD_ARGUMENT and changes nothing.
 */
export function unmaskPayload(ptr: i32, len: i32, mask: i32, phase: i32): i32 {
  if (!inRegion(ptr, len, RECV, RECV_CAPACITY) || phase < 0 || phase > 3) return E_BAD_ARGUMENT;
  const p = <usize>ptr;
  // Byte j of the input takes key byte (phase + j) % 4: the key rotated so that byte `phase` comes first.
  const m = rotr<u32>(<u32>mask, <u32>phase << 3);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v = i32x4.splat(<i32>m);
    // 128 bytes a turn: the loop's own instructions (a pointer's add, compare and branch) come once per 8 vectors.
    let q = p;
    const last = p + <usize>len;
    while (q + 128 <= last) {
      v128.store(q, v128.xor(v128.load(q), v));
      v128.store(q, v128.xor(v128.load(q, 16), v), 16);
      v128.store(q, v128.xor(v128.load(q, 32), v), 32);
      v128.store(q, v128.xor(v128.load(q, 48), v), 48);
      v128.store(q, v128.xor(v128.load(q, 64), v), 64);
      v128.store(q, v128.xor(v128.load(q, 80), v), 80);
      v128.store(q, v128.xor(v128.load(q, 96), v), 96);
      v128.store(q, v128.xor(v128.load(q, 112), v), 112);
      q += 128;
    }
    i = <i32>(q - p);
    while (i + 16 <= len) {
      const q = p + <usize>i;
      v128.store(q, v128.xor(v128.load(q), v));
      i += 16;
    }
  }
  const m64 = (<u64>m << 32) | <u64>m;
  while (i + 8 <= len) {
    const q = p + <usize>i;
    store<u64>(q, load<u64>(q) ^ m64);
    i += 8;
  }
  let k: u32 = 0;
  while (i < len) {
    const q = p + <usize>i;
    store<u8>(q, load<u8>(q) ^ <u8>(m >> (k & 31)));
    k += 8;
    i++;
  }
  return 0;
}

/**
 * Writes a server frame header (never masked) at ptr in the output region:
 * returns its length (2, 4 or 10), or BAD_ARGUMENT (and writes nothing) for
 * a range outside the region, an unknown opcode, RSV bits outside 0-7 or on a
 * control frame, a length that is not a whole number up to 2^53 - 1, or a
 * control frame that is fragmented or longer than 125 bytes.
 */
export function writeFrameHeader(ptr: i32, fin: i32, opcode: i32, rsv: i32, length: f64): i32 {
  if (!knownOpcode(<u32>opcode) || (rsv & ~7) != 0 || !isByteCount(length)) return E_BAD_ARGUMENT;
  if (opcode >= 8 && (fin == 0 || rsv != 0 || length > <f64>WS_MAX_CONTROL_PAYLOAD)) return E_BAD_ARGUMENT;
  const n = length < 126 ? 2 : length < 65536 ? 4 : 10;
  if (!inRegion(ptr, n, OUT, OUT_CAPACITY)) return E_BAD_ARGUMENT;
  const p = <usize>ptr;
  store<u8>(p, <u8>((fin != 0 ? 0x80 : 0) | (rsv << 4) | opcode));
  if (n == 2) {
    store<u8>(p + 1, <u8>length);
  } else if (n == 4) {
    store<u8>(p + 1, 126);
    store<u16>(p + 2, bswap<u16>(<u16>length));
  } else {
    store<u8>(p + 1, 127);
    store<u32>(p + 2, bswap<u32>(<u32>(length / 4294967296.0)));
    store<u32>(p + 6, bswap<u32>(<u32>(length % 4294967296.0)));
  }
  return n;
}
