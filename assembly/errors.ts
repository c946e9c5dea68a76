// Failing: the code comes from abi.ts; the byte offset of the fault (or the
// index of the refused field) goes to the result table's error slot.
import { setResult } from "./layout";
import { R_ERROR_OFFSET } from "./abi";

@inline export function fail(code: i32, offset: i32): i32 {
  setResult(R_ERROR_OFFSET, offset);
  return code;
}
