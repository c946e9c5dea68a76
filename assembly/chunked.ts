// The chunked transfer coding (RFC 9112 §7.1), decoded incrementally and in
// place: data bytes are moved to the start of the input, so the host copies
// one contiguous run per call. A size line or trailer section that is not
// complete yet is left unconsumed; the host keeps those bytes and calls again
// with them in front of the next read. Between calls the state lives in
// CHUNK_STATE, which the host saves and restores per stream.
import { byteAt, isHex, hexValue, isOws, isToken, isValueChar, CR, LF } from "./chars";
import { CHUNK_STATE, RECV, setResult, inRegion, isByteCount } from "./layout";
import {
  C_PHASE, C_REMAINING_F64, C_TOTAL_F64, R_CONSUMED, R_DATA_LEN, R_HEADER_COUNT, RECV_CAPACITY,
  PHASE_SIZE, PHASE_DATA, PHASE_DATA_END, PHASE_TRAILERS, PHASE_DONE, LIMIT_MAX_CHUNK_EXTENSION,
  LIMIT_MAX_CHUNK_EXTENSION_CAP, INCOMPLETE, E_BAD_CHUNK_SIZE, E_CHUNK_SIZE_OVERFLOW, E_BAD_CHUNK_TERMINATOR,
  E_BAD_CHUNK_EXTENSION, E_CHUNK_EXTENSION_TOO_LARGE, E_BARE_CR, E_BARE_LF, E_TRAILERS_TOO_LARGE, E_BODY_TOO_LARGE,
  E_BAD_ARGUMENT, E_BAD_CHUNK_STATE,
} from "./abi";
import { parseFields } from "./fields";
import { maxBodyBytes, maxHeaderCount, maxHeaderLine, maxHeadBytes } from "./limits";
import { fail } from "./errors";

const MAX_CHUNK_SIZE: f64 = 9007199254740991;
export let maxChunkExtension: i32 = LIMIT_MAX_CHUNK_EXTENSION;

export function validChunkLimits(extension: i32): bool {
  return extension >= 1 && extension <= LIMIT_MAX_CHUNK_EXTENSION_CAP;
}
export function configureChunkLimits(extension: i32): void {
  maxChunkExtension = extension;
}

export function resetChunked(): void {
  store<i32>(CHUNK_STATE + (<usize>C_PHASE << 2), PHASE_SIZE);
  store<f64>(CHUNK_STATE + (<usize>C_REMAINING_F64 << 3), 0);
  store<f64>(CHUNK_STATE + (<usize>C_TOTAL_F64 << 3), 0);
  setResult(R_HEADER_COUNT, 0);
}

/**
 * Decodes from [ptr, ptr+len), which must lie in the receive region. Returns 1 when the body (trailers included) is
 * complete, 0 when more input is needed, or an error code. R_CONSUMED says
 * how many input bytes were used, R_DATA_LEN how many decoded bytes now sit
 * at p; trailer spans (relative to p) are in the header table once done.
 */
export function decodeChunked(ptr: i32, len: i32): i32 {
  if (!inRegion(ptr, len, RECV, RECV_CAPACITY)) return fail(E_BAD_ARGUMENT, 0);
  const p = <usize>ptr;
  let phase = load<i32>(CHUNK_STATE + (<usize>C_PHASE << 2));
  let remaining = load<f64>(CHUNK_STATE + (<usize>C_REMAINING_F64 << 3));
  let total = load<f64>(CHUNK_STATE + (<usize>C_TOTAL_F64 << 3));
  // The state is the host's to save and restore, so it is checked like an argument.
  if (phase < PHASE_SIZE || phase > PHASE_DONE || !isByteCount(remaining) || !isByteCount(total)) {
    return fail(E_BAD_CHUNK_STATE, 0);
  }
  let i = 0;
  let written = 0;
  let result = 0;
  while (true) {
    if (phase == PHASE_SIZE) {
      const r = parseSizeLine(p, i, len);
      if (r < 0) { if (r != INCOMPLETE) result = r; break; }
      remaining = load<f64>(CHUNK_STATE + (<usize>C_REMAINING_F64 << 3));
      total += remaining;
      if (total > maxBodyBytes) { result = fail(E_BODY_TOO_LARGE, i); break; }
      i = r;
      phase = remaining == 0 ? PHASE_TRAILERS : PHASE_DATA;
    } else if (phase == PHASE_DATA) {
      const available = <f64>(len - i);
      const n = <i32>(remaining < available ? remaining : available);
      memory.copy(p + <usize>written, p + <usize>i, <usize>n);
      written += n;
      i += n;
      remaining -= <f64>n;
      if (remaining > 0) break;
      phase = PHASE_DATA_END;
    } else if (phase == PHASE_DATA_END) {
      if (i >= len) break;
      if (byteAt(p, i) != CR) { result = fail(E_BAD_CHUNK_TERMINATOR, i); break; }
      if (i + 1 >= len) break;
      if (byteAt(p, i + 1) != LF) { result = fail(E_BAD_CHUNK_TERMINATOR, i + 1); break; }
      i += 2;
      phase = PHASE_SIZE;
    } else if (phase == PHASE_TRAILERS) {
      // The trailer section answers to the head's size limit, however it arrives.
      const r = parseFields(p, i, min(len, i + maxHeadBytes), maxHeaderCount, maxHeaderLine);
      if (r == INCOMPLETE) {
        if (len - i >= maxHeadBytes) result = fail(E_TRAILERS_TOO_LARGE, i + maxHeadBytes);
        break;
      }
      if (r < 0) { result = r; break; }
      i = r;
      phase = PHASE_DONE;
    } else {
      result = 1;
      break;
    }
  }
  store<i32>(CHUNK_STATE + (<usize>C_PHASE << 2), phase);
  store<f64>(CHUNK_STATE + (<usize>C_REMAINING_F64 << 3), remaining);
  store<f64>(CHUNK_STATE + (<usize>C_TOTAL_F64 << 3), total);
  setResult(R_CONSUMED, i);
  setResult(R_DATA_LEN, written);
  return result;
}

/**
 * chunk-size [ chunk-ext ] CRLF. On success stores the size in the state's
 * remaining slot and returns the index after the CRLF.
 */
function parseSizeLine(p: usize, start: i32, len: i32): i32 {
  let i = start;
  let size: f64 = 0;
  while (i < len && isHex(byteAt(p, i))) {
    size = size * 16 + <f64>hexValue(byteAt(p, i));
    if (size > MAX_CHUNK_SIZE) return fail(E_CHUNK_SIZE_OVERFLOW, i);
    i++;
  }
  if (i >= len) return INCOMPLETE;
  if (i == start) return fail(E_BAD_CHUNK_SIZE, i);
  const extStart = i;
  i = scanExtensions(p, i, min(len, extStart + maxChunkExtension + 1));
  if (i < 0) return i;
  if (i > extStart + maxChunkExtension) return fail(E_CHUNK_EXTENSION_TOO_LARGE, extStart + maxChunkExtension);
  if (i >= len) return INCOMPLETE;
  if (byteAt(p, i) == LF) return fail(E_BARE_LF, i);
  if (i + 1 >= len) return INCOMPLETE;
  if (byteAt(p, i + 1) != LF) return fail(E_BARE_CR, i);
  store<f64>(CHUNK_STATE + (<usize>C_REMAINING_F64 << 3), size);
  return i + 2;
}

/**
 * chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string
 * (RFC 9112 §7.1.1). Returns the index of the CR or LF that ends the line,
 * `limit` when the extensions run up to it, or an error code.
 */
function scanExtensions(p: usize, start: i32, limit: i32): i32 {
  let i = start;
  while (true) {
    const spaceAt = i;
    i = skipOws(p, i, limit);
    if (i >= limit) return limit;
    const c = byteAt(p, i);
    // Whitespace is allowed only before ";" or "=": "1 \r\n" has a chunk size that ends in a space.
    if (c == CR || c == LF) return i == spaceAt ? i : fail(spaceAt == start ? E_BAD_CHUNK_SIZE : E_BAD_CHUNK_EXTENSION, spaceAt);
    if (c != 0x3b) return fail(i == start ? E_BAD_CHUNK_SIZE : E_BAD_CHUNK_EXTENSION, i);
    i = skipOws(p, i + 1, limit);
    const nameStart = i;
    while (i < limit && isToken(byteAt(p, i))) i++;
    if (i >= limit) return limit;
    if (i == nameStart) return fail(E_BAD_CHUNK_EXTENSION, i);
    const nameEnd = i;
    i = skipOws(p, i, limit);
    if (i >= limit) return limit;
    if (byteAt(p, i) != 0x3d) {
      i = nameEnd;
      continue;
    }
    i = skipOws(p, i + 1, limit);
    if (i >= limit) return limit;
    i = byteAt(p, i) == 0x22 ? scanQuoted(p, i + 1, limit) : scanToken(p, i, limit);
    if (i < 0 || i >= limit) return i;
  }
}

/** The rest of a quoted-string after its opening quote: the index after the closing one, `limit`, or an error code. */
function scanQuoted(p: usize, i: i32, limit: i32): i32 {
  while (i < limit) {
    let c = byteAt(p, i);
    if (c == 0x22) return i + 1;
    if (c == 0x5c) { // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (++i >= limit) return limit;
      c = byteAt(p, i);
    }
    if (!isValueChar(c)) return fail(E_BAD_CHUNK_EXTENSION, i);
    i++;
  }
  return limit;
}

/** A token of one or more bytes: the index after it, `limit`, or an error code. */
function scanToken(p: usize, start: i32, limit: i32): i32 {
  let i = start;
  while (i < limit && isToken(byteAt(p, i))) i++;
  return i == start && i < limit ? fail(E_BAD_CHUNK_EXTENSION, i) : i;
}

@inline function skipOws(p: usize, i: i32, limit: i32): i32 {
  while (i < limit && isOws(byteAt(p, i))) i++;
  return i;
}
