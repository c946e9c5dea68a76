// The ABI in words (EXPORTS and MEANING in parser/src/abi.ts, from which the
// README's ABI section is generated) against the module itself: every export
// documented with its real signature, read from the binary's type and export
// sections, and every result slot, framing value, flag and phase explained.
import { suite, assert } from "./support/uvu.ts";
import { readFileSync } from "node:fs";
import { CHUNK_PHASE, EXPORTS, FLAG, FRAMING, HEAD, MEANING, RESULT } from "../parser/src/abi.ts";
import { wasmUrl, type Build } from "../parser/src/parser-node.ts";

const test = suite("abi-exports");

const VALUE_TYPES: Record<number, string> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128" };

/** The function exports of a wasm binary with their signatures ("i32,f64 -> i32"), and the names of its other exports. */
function exportsOf(binary: Uint8Array): { functions: Map<string, string>; others: string[] } {
  let at = 8; // magic and version
  const u32 = (): number => {
    let value = 0, shift = 0, byte: number;
    do {
      byte = binary[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  const name = (): string => {
    const n = u32();
    at += n;
    return new TextDecoder().decode(binary.subarray(at - n, at));
  };
  const types: string[] = [];
  const functionTypes: number[] = []; // type index per function index (imported functions first)
  const functions = new Map<string, string>();
  const others: string[] = [];
  while (at < binary.length) {
    const id = binary[at++];
    const size = u32();
    const end = at + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        assert.is(binary[at++], 0x60, "a function type");
        const params = Array.from({ length: u32() }, () => VALUE_TYPES[binary[at++]]);
        const results = Array.from({ length: u32() }, () => VALUE_TYPES[binary[at++]]);
        types.push(`${params.join(",")} -> ${results.join(",")}`);
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        name();
        name();
        const kind = binary[at++];
        if (kind === 0) functionTypes.push(u32());
        else throw new Error(`the module imports something (kind ${kind}); the ABI says it imports nothing`);
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) functionTypes.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const exported = name();
        const kind = binary[at++];
        const index = u32();
        if (kind === 0) functions.set(exported, types[functionTypes[index]]);
        else others.push(exported);
      }
    }
    at = end;
  }
  return { functions, others };
}

/** An EXPORTS entry's signature in the same form. */
function documented(params: string, result: string): string {
  const types = params === "" ? [] : params.split(",").map((p) => p.split(":")[1].trim());
  return `${types.join(",")} -> ${result}`;
}

for (const build of ["simd", "scalar"] as Build[]) {
  test(`${build}: every export is in EXPORTS with its signature, and every EXPORTS entry is exported`, () => {
    const { functions, others } = exportsOf(readFileSync(wasmUrl(build)));
    assert.equal(others, ["memory"], "besides functions, only the memory");
    const names = EXPORTS.map((e) => e.name);
    assert.equal([...functions.keys()].filter((n) => !names.includes(n)), [], "exports missing from EXPORTS in parser/src/abi.ts");
    for (const e of EXPORTS) {
      assert.ok(functions.has(e.name), `EXPORTS documents ${e.name}, which the module does not export`);
      assert.is(documented(e.params, e.result), functions.get(e.name), `${e.name}'s signature`);
      assert.ok(e.does.length > 0 && e.writes.length > 0, `${e.name} says what it does and writes`);
    }
  });
}

test("every result slot, framing value, flag, head flag and chunk phase has its meaning in MEANING", () => {
  const groups = { RESULT, FRAMING, FLAG, HEAD, CHUNK_PHASE } as const;
  for (const [group, values] of Object.entries(groups)) {
    const meanings = MEANING[group as keyof typeof groups] as Record<string, string>;
    for (const name of Object.keys(values)) {
      assert.ok(typeof meanings[name] === "string" && meanings[name].length > 0, `MEANING.${group}.${name} (parser/src/abi.ts)`);
    }
    assert.equal(Object.keys(meanings).filter((name) => !(name in values)), [], `MEANING.${group} explains only values that exist`);
  }
});

test("the reader's own check: a module whose exports differ from EXPORTS is caught", () => {
  // A hand-made module exporting f(i32, f64) -> i32 and its memory.
  const binary = Uint8Array.of(
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    1, 7, 1, 0x60, 2, 0x7f, 0x7c, 1, 0x7f, // type 0: (i32, f64) -> i32
    3, 2, 1, 0, // function 0: type 0
    5, 3, 1, 0, 1, // memory: min 1
    7, 14, 2, 1, 0x66, 0, 0, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 2, 0, // exports "f" (func 0), "memory"
    10, 6, 1, 4, 0, 0x41, 0, 0x0b, // body: i32.const 0
  );
  assert.ok(WebAssembly.validate(binary), "the hand-made module is valid");
  const { functions, others } = exportsOf(binary);
  assert.equal(others, ["memory"]);
  assert.is(functions.get("f"), "i32,f64 -> i32");
  assert.is(documented("a: i32, b: f64", "i32"), functions.get("f"));
  assert.is.not(documented("a: i32, b: i32", "i32"), functions.get("f"));
});

test.run();
