// Field lines (RFC 9112 §5): the header section of a request and the trailer
// section of a chunked body share this parser. It records spans and checks
// syntax; what a field means is decided by the caller.
import { byteAt, isOws, scanToken, scanValue, CR, LF, SP, HTAB, COLON } from "./chars";
import { RESULT, setResult } from "./layout";
import {
  R_FIELDS, R_HEADER_COUNT, SPAN_SLOTS, SPAN_NAME_OFF, SPAN_NAME_LEN, SPAN_VALUE_OFF, SPAN_VALUE_LEN, INCOMPLETE, E_BARE_CR, E_BARE_LF, E_OBS_FOLD, E_BAD_HEADER_NAME, E_SPACE_BEFORE_COLON,
  E_BAD_HEADER_VALUE, E_TOO_MANY_HEADERS, E_HEADER_LINE_TOO_LONG,
} from "./abi";
import { fail } from "./errors";

/**
 * Parses field lines from i up to and including the empty line that ends them.
 * Spans are relative to p. Returns the index after the empty line, INCOMPLETE,
 * or an error code.
 */
export function parseFields(p: usize, i: i32, end: i32, maxCount: i32, maxLine: i32): i32 {
  let count = 0;
  while (true) {
    if (i >= end) return INCOMPLETE;
    let c = byteAt(p, i);
    if (c == CR) {
      if (i + 1 >= end) return INCOMPLETE;
      if (byteAt(p, i + 1) != LF) return fail(E_BARE_CR, i);
      setResult(R_HEADER_COUNT, count);
      return i + 2;
    }
    if (c == LF) return fail(E_BARE_LF, i);
    if (c == SP || c == HTAB) return fail(E_OBS_FOLD, i);

    const lineStart = i;
    const lineLimit = min(end, lineStart + maxLine + 1); // +1: room for the CR of a line exactly maxLine long
    i = scanToken(p, i, lineLimit);
    if (i >= lineLimit) return lineLimit < end ? fail(E_HEADER_LINE_TOO_LONG, lineStart + maxLine) : INCOMPLETE;
    c = byteAt(p, i);
    if (c != COLON) return fail(isOws(c) && i > lineStart ? E_SPACE_BEFORE_COLON : E_BAD_HEADER_NAME, i);
    if (i == lineStart) return fail(E_BAD_HEADER_NAME, i);
    const nameLen = i - lineStart;
    i++;
    while (i < lineLimit && isOws(byteAt(p, i))) i++;
    const valueStart = i;
    i = scanValue(p, i, lineLimit);
    if (i >= lineLimit) return lineLimit < end ? fail(E_HEADER_LINE_TOO_LONG, lineStart + maxLine) : INCOMPLETE;
    c = byteAt(p, i);
    if (c == CR) {
      if (i + 1 >= end) return INCOMPLETE;
      if (byteAt(p, i + 1) != LF) return fail(E_BARE_CR, i);
    } else if (c == LF) {
      return fail(E_BARE_LF, i);
    } else {
      return fail(E_BAD_HEADER_VALUE, i);
    }
    let valueEnd = i;
    while (valueEnd > valueStart && isOws(byteAt(p, valueEnd - 1))) valueEnd--;
    if (count >= maxCount) return fail(E_TOO_MANY_HEADERS, lineStart);
    const span = RESULT + ((<usize>(R_FIELDS + count * SPAN_SLOTS)) << 2);
    store<i32>(span + (<usize>SPAN_NAME_OFF << 2), lineStart);
    store<i32>(span + (<usize>SPAN_NAME_LEN << 2), nameLen);
    store<i32>(span + (<usize>SPAN_VALUE_OFF << 2), valueStart);
    store<i32>(span + (<usize>SPAN_VALUE_LEN << 2), valueEnd - valueStart);
    count++;
    i += 2;
  }
}

@inline export function fieldSlot(index: i32, part: i32): i32 {
  return load<i32>(RESULT + ((<usize>(R_FIELDS + index * SPAN_SLOTS + part)) << 2));
}
