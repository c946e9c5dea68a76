// AssemblyScript. A request-line scanner with a planted bug several byte
// conditions deep: method "FUZ" and a target that begins with "/!" trap.
// test/fuzz.test.ts shows that the coverage-guided fuzzer finds it and a
// blind one with the same budget does not.
const INPUT = memory.data(4096);

export function input(): usize {
  return INPUT;
}

export function scan(len: i32): i32 {
  let i = 0;
  while (i < len && load<u8>(INPUT + <usize>i) != 0x20) i++;
  if (i != 3) return 1;
  if (load<u8>(INPUT) != 0x46) return 2; // F
  if (load<u8>(INPUT, 1) != 0x55) return 3; // U
  if (load<u8>(INPUT, 2) != 0x5a) return 4; // Z
  if (len < 6) return 5;
  if (load<u8>(INPUT, 4) != 0x2f) return 6; // /
  if (load<u8>(INPUT, 5) != 0x21) return 7; // !
  unreachable();
  return 0;
}
