// One negative code per fault. src/parser.ts maps each to its HTTP status and reason.
// The byte offset of the fault goes to the result table's R_ERROR_OFFSET slot.
import { setResult, R_ERROR_OFFSET } from "./layout";

export const INCOMPLETE: i32 = -1;
export const E_BAD_METHOD: i32 = -2;
export const E_BAD_TARGET: i32 = -3;
export const E_BAD_VERSION: i32 = -4;
export const E_VERSION_NOT_SUPPORTED: i32 = -5; // 505
export const E_HTTP09: i32 = -6;
export const E_BAD_HEADER_NAME: i32 = -7;
export const E_SPACE_BEFORE_COLON: i32 = -8;
export const E_BAD_HEADER_VALUE: i32 = -9;
export const E_OBS_FOLD: i32 = -10;
export const E_BARE_CR: i32 = -11;
export const E_BARE_LF: i32 = -12;
export const E_BAD_CONTENT_LENGTH: i32 = -13;
export const E_DUPLICATE_CONTENT_LENGTH: i32 = -14;
export const E_LENGTH_AND_CHUNKED: i32 = -15;
export const E_BAD_TRANSFER_ENCODING: i32 = -16;
export const E_UNSUPPORTED_TRANSFER_CODING: i32 = -17; // 501
export const E_MISSING_HOST: i32 = -18;
export const E_DUPLICATE_HOST: i32 = -19;
export const E_BAD_HOST: i32 = -20;
export const E_TARGET_TOO_LONG: i32 = -21; // 414
export const E_HEAD_TOO_LARGE: i32 = -22; // 431
export const E_TOO_MANY_HEADERS: i32 = -23; // 431
export const E_HEADER_LINE_TOO_LONG: i32 = -24; // 431
export const E_BODY_TOO_LARGE: i32 = -25; // 413
export const E_BAD_CHUNK_SIZE: i32 = -26;
export const E_CHUNK_SIZE_OVERFLOW: i32 = -27;
export const E_BAD_CHUNK_TERMINATOR: i32 = -28;
export const E_BAD_CHUNK_EXTENSION: i32 = -29;
export const E_CHUNK_EXTENSION_TOO_LARGE: i32 = -30; // 413
export const E_BAD_TRAILER: i32 = -31;
export const E_TRAILERS_TOO_LARGE: i32 = -32; // 431
// serializeHead
export const E_BAD_STATUS: i32 = -40;
export const E_BAD_RESPONSE_HEADER_NAME: i32 = -41;
export const E_BAD_RESPONSE_HEADER_VALUE: i32 = -42;
export const E_HEAD_OVERFLOW: i32 = -43;

@inline export function fail(code: i32, offset: i32): i32 {
  setResult(R_ERROR_OFFSET, offset);
  return code;
}
