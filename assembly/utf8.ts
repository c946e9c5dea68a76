// UTF-8 validation (RFC 3629, the WebSocket text and close-reason check),
// incremental and fail-fast. The state between calls says what the next
// bytes must be: 0 on a character boundary, else
//   need | lo << 8 | hi << 16
// with `need` (1-3) continuation bytes still expected, the next of which must
// lie in [lo, hi]. The narrowed first ranges (E0: A0-BF, ED: 80-9F, F0: 90-BF,
// F4: 80-8F) are what rules out overlong forms, surrogates and code points
// above U+10FFFF, so the first byte that can never become valid fails,
// whatever follows it. ASCII runs are skipped 16 bytes at a time with v128
// (8 at a time in the scalar build).
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
