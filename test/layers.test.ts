// The rules between the layers (DESIGN.md), checked on the sources.
import { suite, assert } from "./support/uvu.ts";
import { readdirSync, readFileSync } from "node:fs";

const test = suite("layers");
const src = new URL("../src/", import.meta.url);
const files = readdirSync(src).filter((f) => f.endsWith(".ts"));
const read = (f: string): string => readFileSync(new URL(f, src), "utf8");

test("src/ imports no networking module of Node", () => {
  const forbidden = /(from\s+|import\s*\(\s*|require\s*\(\s*)["'](node:)?(net|http|https|http2|tls|dgram)["']/;
  for (const file of files) assert.not.match(read(file), forbidden, file);
});

test("only src/syscalls.ts loads the addon", () => {
  for (const file of files) {
    if (file !== "syscalls.ts") assert.not.match(read(file), /simplenet\.node/, file);
  }
  assert.match(read("syscalls.ts"), /simplenet\.node/);
});

test("only src/parser.ts loads or instantiates the wasm module", () => {
  for (const file of files) {
    if (file !== "parser.ts") assert.not.match(read(file), /WebAssembly\.|["'`/]simplenet[\w-]*\.wasm/, file);
  }
  assert.match(read("parser.ts"), /simplenet\.wasm/);
});

test("the parser module uses no Node API", () => {
  assert.not.match(read("parser.ts"), /from\s+["']node:/);
  assert.not.match(read("fields.ts"), /from\s+["']node:/);
});

test.run();
