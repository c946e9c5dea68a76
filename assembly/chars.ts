// Byte classes and the hot scans. Each scan has a SIMD path and a scalar
// twin; ASC_FEATURE_SIMD picks one at compile time, so the scalar build
// (--target scalar) is the same code without v128.

export const SP: u32 = 0x20;
export const HTAB: u32 = 0x09;
export const CR: u32 = 0x0d;
export const LF: u32 = 0x0a;
export const COLON: u32 = 0x3a;

const TOKEN: u8 = 1; // tchar, RFC 9110 §5.6.2
const TARGET: u8 = 2; // VCHAR: what a request-target may hold
const VALUE: u8 = 4; // field-vchar / obs-text / SP / HTAB, RFC 9110 §5.5
const HEX: u8 = 8;
const REG_NAME: u8 = 16; // unreserved / pct-encoded / sub-delims, RFC 3986 §3.2.2

const CLASS = memory.data(256);
/**
 * tchar as two 16-byte tables for the vector scan: bit h of TOKEN_LOW[l] is
 * set when byte (h << 4 | l) is a tchar; TOKEN_HIGH[h] is 1 << h for the
 * ASCII rows (h < 8) and 0 above, so a byte is a tchar when
 * TOKEN_LOW[c & 15] & TOKEN_HIGH[c >> 4] is not 0.
 */
const TOKEN_LOW = memory.data(16, 16);
const TOKEN_HIGH = memory.data(16, 16);
/** The same for reg-name characters (REG_NAME); the row table is shared. */
const REG_NAME_LOW = memory.data(16, 16);

function initClasses(): void {
  for (let c: u32 = 0; c < 256; c++) {
    let bits: u8 = 0;
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (alnum || c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
        c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e) bits |= TOKEN;
    if (c >= 0x21 && c <= 0x7e) bits |= TARGET;
    if (c == HTAB || (c >= 0x20 && c != 0x7f)) bits |= VALUE;
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)) bits |= HEX;
    if (alnum || c == 0x2d || c == 0x2e || c == 0x5f || c == 0x7e || c == 0x25 || c == 0x21 || c == 0x24 ||
        (c >= 0x26 && c <= 0x2c) || c == 0x3b || c == 0x3d) bits |= REG_NAME;
    store<u8>(CLASS + c, bits);
    if ((bits & TOKEN) != 0) {
      const at = TOKEN_LOW + <usize>(c & 15);
      store<u8>(at, <u8>(<u32>load<u8>(at) | (<u32>1 << (c >> 4))));
    }
    if ((bits & REG_NAME) != 0) {
      const at = REG_NAME_LOW + <usize>(c & 15);
      store<u8>(at, <u8>(<u32>load<u8>(at) | (<u32>1 << (c >> 4))));
    }
  }
  for (let h: u32 = 0; h < 8; h++) store<u8>(TOKEN_HIGH + <usize>h, <u8>(<u32>1 << h));
}
initClasses();

@inline export function byteAt(p: usize, i: i32): u32 {
  return <u32>load<u8>(p + <usize>i);
}
@inline export function isToken(c: u32): bool {
  return (load<u8>(CLASS + c) & TOKEN) != 0;
}
@inline export function isValueChar(c: u32): bool {
  return (load<u8>(CLASS + c) & VALUE) != 0;
}
/** unreserved / pct-encoded / sub-delims (RFC 3986 §3.2.2): what a reg-name may hold. */
@inline export function isRegNameChar(c: u32): bool {
  return (load<u8>(CLASS + c) & REG_NAME) != 0;
}
@inline export function isHex(c: u32): bool {
  return (load<u8>(CLASS + c) & HEX) != 0;
}
@inline export function hexValue(c: u32): u32 {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}
@inline export function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}
@inline export function isOws(c: u32): bool {
  return c == SP || c == HTAB;
}

/**
 * The last index from p where a 16-byte load stays inside linear memory. The
 * vector loops may read past `end` (the bytes there are ignored), so the
 * short tail of a field is scanned in one vector step too, not byte by byte.
 */
@inline function lastVectorAt(p: usize): i32 {
  return <i32>((<usize>memory.size() << 16) - p) - 16;
}

/**
 * Index of the first byte in [i, end) outside the class whose column table
 * is `columns` (TOKEN_LOW or REG_NAME_LOW), or end: 16 bytes a step.
 */
@inline function scanClass(p: usize, i: i32, end: i32, columns: usize): i32 {
  const low = v128.load(columns);
  const high = v128.load(TOKEN_HIGH);
  const nibble = i8x16.splat(0x0f);
  const zero = i8x16.splat(0);
  const last = lastVectorAt(p);
  while (i < end && i <= last) {
    const v = v128.load(p + <usize>i);
    const rows = i8x16.swizzle(high, i8x16.shr_u(v, 4));
    const cols = i8x16.swizzle(low, v128.and(v, nibble));
    const bad = i8x16.bitmask(i8x16.eq(v128.and(rows, cols), zero));
    if (bad != 0) return min(i + ctz(bad), end);
    i += 16;
  }
  return i;
}

/** Index of the first byte in [i, end) that is not a tchar (RFC 9110 §5.6.2), or end. */
export function scanToken(p: usize, i: i32, end: i32): i32 {
  if (ASC_FEATURE_SIMD) {
    i = scanClass(p, i, end, TOKEN_LOW);
    if (i >= end) return end;
  }
  while (i < end && isToken(byteAt(p, i))) i++;
  return i;
}

/** Index of the first byte in [i, end) that may not appear in a reg-name (RFC 3986 §3.2.2), or end. */
export function scanRegName(p: usize, i: i32, end: i32): i32 {
  if (ASC_FEATURE_SIMD) {
    i = scanClass(p, i, end, REG_NAME_LOW);
    if (i >= end) return end;
  }
  while (i < end && isRegNameChar(byteAt(p, i))) i++;
  return i;
}

/** Index of the first byte in [i, end) that may not appear in a request-target. */
export function scanTarget(p: usize, i: i32, end: i32): i32 {
  if (ASC_FEATURE_SIMD) {
    const low = i8x16.splat(0x21);
    const high = i8x16.splat(0x7e);
    const last = lastVectorAt(p);
    while (i < end && i <= last) {
      const v = v128.load(p + <usize>i);
      const bad = i8x16.bitmask(v128.or(i8x16.lt_u(v, low), i8x16.gt_u(v, high)));
      if (bad != 0) return min(i + ctz(bad), end);
      i += 16;
    }
    if (i >= end) return end;
  }
  while (i < end && (load<u8>(CLASS + byteAt(p, i)) & TARGET) != 0) i++;
  return i;
}

/** Index of the first byte in [i, end) that may not appear in a field value (CR and LF included). */
export function scanValue(p: usize, i: i32, end: i32): i32 {
  if (ASC_FEATURE_SIMD) {
    const space = i8x16.splat(0x20);
    const tab = i8x16.splat(0x09);
    const del = i8x16.splat(0x7f);
    const last = lastVectorAt(p);
    while (i < end && i <= last) {
      const v = v128.load(p + <usize>i);
      let bad = i8x16.bitmask(v128.or(i8x16.lt_u(v, space), i8x16.eq(v, del)));
      // HTAB is the one control byte a value may hold: looked for only in a step with a control byte in it.
      if (bad != 0) bad &= ~i8x16.bitmask(i8x16.eq(v, tab));
      if (bad != 0) return min(i + ctz(bad), end);
      i += 16;
    }
    if (i >= end) return end;
  }
  while (i < end && isValueChar(byteAt(p, i))) i++;
  return i;
}

/** Index of the first LF in [i, end), or end. */
export function scanLf(p: usize, i: i32, end: i32): i32 {
  if (ASC_FEATURE_SIMD) {
    const lf = i8x16.splat(0x0a);
    const last = lastVectorAt(p);
    while (i < end && i <= last) {
      const hit = i8x16.bitmask(i8x16.eq(v128.load(p + <usize>i), lf));
      if (hit != 0) return min(i + ctz(hit), end);
      i += 16;
    }
    if (i >= end) return end;
  }
  while (i < end && byteAt(p, i) != LF) i++;
  return i;
}

/** Whether the `n` bytes at p equal the lowercase ASCII `s`, ignoring ASCII case. */
export function equalsLower(p: usize, n: i32, s: string): bool {
  if (n != s.length) return false;
  for (let k = 0; k < n; k++) {
    if ((byteAt(p, k) | 0x20) != <u32>s.charCodeAt(k)) return false;
  }
  return true;
}
