// UTF-8 validation (RFC 3629, the WebSocket text and close-reason check),
// incremental and fail-fast. The state between calls says what the next
// bytes must be: 0 on a character boundary, else
//   need | lo << 8 | hi << 16
// with `need` (1-3) continuation bytes still expected, the next of which must
// lie in [lo, hi]. The narrowed first ranges (E0: A0-BF, ED: 80-9F, F0: 90-BF,
// F4: 80-8F) are what rules out overlong forms, surrogates and code points
// above U+10FFFF, so the first byte that can never become valid fails,
// whatever follows it. ASCII runs are skipped 16 bytes at a time with v128
// (8 at a time in the scalar build), and the SIMD build checks 32-byte runs
// of any text with the lookup algorithm of Keiser and Lemire
// ("Validating UTF-8 in less than one instruction per byte", 2021, as in
// simdjson): it only skips ahead over blocks it found valid, and the scalar
// code decides everything else, so both builds return the same.
import { RECV, OUT, inRegion } from "./layout";
import { RECV_CAPACITY, OUT_CAPACITY, E_BAD_ARGUMENT, UTF8_INVALID } from "./abi";

@inline function pack(need: u32, lo: u32, hi: u32): i32 {
  return <i32>(need | (lo << 8) | (hi << 16));
}

/** Whether `state` is one validateUtf8 can return (a state the host kept is checked like any argument). */
function validState(state: i32): bool {
  if (state == 0) return true;
  const any = pack(0, 0x80, 0xbf);
  if (state == any + 1 || state == any + 2 || state == any + 3) return true;
  return state == pack(2, 0xa0, 0xbf) || state == pack(2, 0x80, 0x9f) || state == pack(3, 0x90, 0xbf) || state == pack(3, 0x80, 0x8f);
}

/**
 * Validates [ptr, ptr+len), which must lie in the receive or the output
 * region, continuing from `state` (0 at a message's start). Returns the new
 * state (0: ends on a character boundary; > 0: inside a character, which is
 * invalid at a message's end), UTF8_INVALID, or BAD_ARGUMENT.
 */
export function validateUtf8(ptr: i32, len: i32, state: i32): i32 {
  if (!(inRegion(ptr, len, RECV, RECV_CAPACITY) || inRegion(ptr, len, OUT, OUT_CAPACITY)) || !validState(state)) {
    return E_BAD_ARGUMENT;
  }
  const p = <usize>ptr;
  let need = <u32>state & 0xff;
  let lo = (<u32>state >> 8) & 0xff;
  let hi = (<u32>state >> 16) & 0xff;
  let i = 0;
  while (true) {
    if (need == 0) {
      i = skipAscii(p, i, len);
      if (ASC_FEATURE_SIMD) {
        if (i + 32 <= len) i = skipAscii(p, validBlocks(p, i, len), len);
      }
      if (i >= len) return 0;
      const c = <u32>load<u8>(p + <usize>i);
      i++;
      if (c < 0xc2) return UTF8_INVALID; // a continuation byte, or C0/C1 (overlong)
      if (c < 0xe0) {
        need = 1; lo = 0x80; hi = 0xbf;
      } else if (c < 0xf0) {
        need = 2; lo = c == 0xe0 ? 0xa0 : 0x80; hi = c == 0xed ? 0x9f : 0xbf;
      } else if (c < 0xf5) {
        need = 3; lo = c == 0xf0 ? 0x90 : 0x80; hi = c == 0xf4 ? 0x8f : 0xbf;
      } else {
        return UTF8_INVALID; // F5-FF: above U+10FFFF, or the old 5- and 6-byte forms
      }
    } else {
      if (i >= len) return pack(need, lo, hi);
      const c = <u32>load<u8>(p + <usize>i);
      i++;
      if (c < lo || c > hi) return UTF8_INVALID;
      need--;
      lo = 0x80;
      hi = 0xbf;
    }
  }
}

/** The index of the first byte in [i, len) at or above 0x80, or len. Reads nothing outside [p, p+len). */
@inline function skipAscii(p: usize, i: i32, len: i32): i32 {
  if (ASC_FEATURE_SIMD) {
    while (i + 64 <= len) {
      const q = p + <usize>i;
      const any = v128.or(v128.or(v128.load(q), v128.load(q, 16)), v128.or(v128.load(q, 32), v128.load(q, 48)));
      if (i8x16.bitmask(any) != 0) break;
      i += 64;
    }
    while (i + 16 <= len) {
      const bits = i8x16.bitmask(v128.load(p + <usize>i));
      if (bits != 0) return i + ctz(bits);
      i += 16;
    }
  }
  while (i + 8 <= len) {
    const high = load<u64>(p + <usize>i) & 0x8080808080808080;
    if (high != 0) return i + <i32>(ctz(high) >> 3);
    i += 8;
  }
  while (i < len && load<u8>(p + <usize>i) < 0x80) i++;
  return i;
}

// The lookup tables of Keiser and Lemire: each error class is a bit; a pair
// of bytes is bad when the classes of (first byte's high nibble, its low
// nibble, second byte's high nibble) share a bit.
const TOO_SHORT: u8 = 1 << 0; // 11______ followed by 0_______ or 11______
const TOO_LONG: u8 = 1 << 1; // 0_______ 10______
const OVERLONG_3: u8 = 1 << 2; // 11100000 100_____
const TOO_LARGE: u8 = 1 << 3; // 11110100 1001____, 11110100 101_____, 11110101+
const SURROGATE: u8 = 1 << 4; // 11101101 101_____
const OVERLONG_2: u8 = 1 << 5; // 1100000_ 10______
const TOO_LARGE_1000: u8 = 1 << 6; // 11110101+ 1000____
const OVERLONG_4: u8 = 1 << 6; // 11110000 1000____
const TWO_CONTS: u8 = 1 << 7; // 10______ 10______ (unless a 3rd or 4th byte)
const CARRY: u8 = TOO_SHORT | TOO_LONG | TWO_CONTS;

/** The error bits of one 16-byte block, given the block before it (zeros at a character boundary): all zero when valid so far. */
@inline function blockErrors(input: v128, prevInput: v128, byte1High: v128, byte1Low: v128, byte2High: v128): v128 {
  const low = i8x16.splat(0x0f);
  const prev1 = i8x16.shuffle(prevInput, input, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
  const special = v128.and(
    v128.and(i8x16.swizzle(byte1High, v128.and(i16x8.shr_u(prev1, 4), low)), i8x16.swizzle(byte1Low, v128.and(prev1, low))),
    i8x16.swizzle(byte2High, v128.and(i16x8.shr_u(input, 4), low)),
  );
  const prev2 = i8x16.shuffle(prevInput, input, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
  const prev3 = i8x16.shuffle(prevInput, input, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28);
  // The 3rd byte after E0-FF and the 4th after F0-FF (0x60 = 0xe0 - 0x80, 0x70 = 0xf0 - 0x80) must be
  // continuations: the 0x80 bit says so, and cancels TWO_CONTS there.
  const must23 = v128.or(i8x16.sub_sat_u(prev2, i8x16.splat(0x60)), i8x16.sub_sat_u(prev3, i8x16.splat(0x70)));
  return v128.xor(v128.and(must23, i8x16.splat(<i8>0x80)), special);
}

/**
 * Checks [start, len) 32 bytes at a time from `start`, a character boundary,
 * and stops before the first pair of blocks with an error (or too few bytes):
 * returns the character boundary at or before that point, where the scalar
 * code takes over. A character cut by the stop is left to the scalar code.
 */
function validBlocks(p: usize, start: i32, len: i32): i32 {
  const byte1High = i8x16(
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
    TOO_SHORT | OVERLONG_2, TOO_SHORT, TOO_SHORT | OVERLONG_3 | SURROGATE, TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
  );
  const byte1Low = i8x16(
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
    CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
  );
  const byte2High = i8x16(
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
  );
  let prevInput = i8x16.splat(0);
  let s = start;
  while (s + 32 <= len) {
    const a = v128.load(p + <usize>s);
    const b = v128.load(p + <usize>s, 16);
    if (v128.any_true(v128.or(blockErrors(a, prevInput, byte1High, byte1Low, byte2High), blockErrors(b, a, byte1High, byte1Low, byte2High)))) break;
    prevInput = b;
    s += 32;
  }
  // Back from s to the start of the character it may be inside (at most 3 continuation bytes and a lead byte).
  let b = s;
  while (b > start && s - b < 3 && (load<u8>(p + <usize>(b - 1)) & 0xc0) == 0x80) b--;
  if (b > start && load<u8>(p + <usize>(b - 1)) >= 0xc0) b--;
  return b;
}
