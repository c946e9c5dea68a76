// The rules between the layers (DESIGN.md), checked on the import graphs of
// src/ (the server) and parser/src/ (the simplenet-parser package): what each
// file reaches, not which words it contains.
import { suite, assert } from "./support/uvu.ts";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";

const test = suite("layers");
const src = new URL("../src/", import.meta.url);
const parserSrc = new URL("../parser/src/", import.meta.url);
const tsFiles = (dir: URL): string[] => readdirSync(dir).filter((f) => f.endsWith(".ts"));
const files = tsFiles(src);
const parserFiles = tsFiles(parserSrc);
const read = (f: string, dir = src): string => readFileSync(new URL(f, dir), "utf8");
const readParser = (f: string): string => read(f, parserSrc);

/** The specifiers a file imports, statically or dynamically (type-only imports left out). */
function imports(file: string, dir = src): string[] {
  const text = read(file, dir).replace(/^\s*(\/\/.*|\*.*|\/\*.*)$/gm, "");
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/gm)) found.push(m[1]);
  for (const m of text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]);
  return found;
}

/** Every file of parser/src/ that `file` reaches, and the outside modules they import. */
function reach(file: string): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (f: string): void => {
    if (files.has(f)) return;
    files.add(f);
    for (const spec of imports(f, parserSrc)) {
      if (spec.startsWith("./")) visit(spec.slice(2).replace(/\.js$/, ".ts"));
      else external.add(spec);
    }
  };
  visit(file);
  return { files, external };
}

test("src/ and parser/src/ import no networking module of Node", () => {
  const forbidden = /^(node:)?(net|http|https|http2|tls|dgram)$/;
  for (const file of files) {
    for (const spec of imports(file)) assert.not.match(spec, forbidden, `${file} imports ${spec}`);
  }
  for (const file of parserFiles) {
    for (const spec of imports(file, parserSrc)) assert.not.match(spec, forbidden, `parser/src/${file} imports ${spec}`);
  }
});

test("the server reaches the parser only through the simplenet-parser package's public entries", () => {
  const entries = new Set(["simplenet-parser", "simplenet-parser/abi", "simplenet-parser/frames"]);
  for (const file of files) {
    for (const spec of imports(file)) {
      if (spec.startsWith(".")) assert.ok(existsSync(new URL(spec.replace(/\.js$/, ".ts"), src)), `${file} imports ${spec}, a file of src/`);
      if (spec.startsWith("simplenet-parser")) assert.ok(entries.has(spec), `${file} imports ${spec}`);
    }
  }
  const exported = Object.keys((JSON.parse(read("../parser/package.json")) as { exports: Record<string, unknown> }).exports);
  for (const entry of entries) assert.ok(exported.includes(entry.replace("simplenet-parser", ".")), `parser/package.json exports ${entry}`);
});

test("only src/syscalls.ts loads the addon", () => {
  for (const file of files) {
    if (file !== "syscalls.ts") assert.not.match(read(file), /simplenet\.node|createRequire|process\.dlopen/, file);
  }
  assert.match(read("syscalls.ts"), /simplenet\.node/);
});

test("only the module's two faces touch the wasm exports: parser.ts (HTTP) and frames.ts (WebSocket); parser-node.ts only compiles it", () => {
  const wasmWords = /wasmExports|WebAssembly\.|\.exports\b|["'`/]simplenet[\w-]*\.wasm/;
  for (const file of files) assert.not.match(read(file), wasmWords, file);
  for (const file of parserFiles) {
    if (file === "parser.ts" || file === "parser-node.ts" || file === "frames.ts") continue;
    assert.not.match(readParser(file), wasmWords, `parser/src/${file}`);
  }
  assert.match(readParser("frames.ts"), /wasmExports/);
  assert.not.match(readParser("frames.ts"), /WebAssembly\.|simplenet[\w-]*\.wasm/, "frames.ts borrows the parser's instance");
});

test("the embeddable parser and the WebSocket codec reach no Node module, no Node-only API and no server file", () => {
  const parser = reach("parser.ts"), frames = reach("frames.ts");
  assert.equal([...parser.external, ...frames.external], [], "outside modules");
  assert.equal([...parser.files].sort(), ["abi.ts", "fields.ts", "message-stream.ts", "parser.ts", "request-stream.ts", "response-stream.ts"]);
  assert.equal([...frames.files].sort(), ["abi.ts", "frames.ts"]);
  for (const file of [...parser.files, ...frames.files]) {
    assert.not.match(readParser(file), /getBuiltinModule|latin1Slice|\bBuffer\b|\bprocess\b|\brequire\(/, file);
  }
});

test("the embeddable parser runs where there is no Node at all", async () => {
  // Bundled for a browser (a Node module would fail the build) and run in a
  // context with only the language's globals and WebAssembly.
  const bundle = await build({
    entryPoints: [new URL("parser.ts", parserSrc).pathname], bundle: true, format: "iife", globalName: "simplenet",
    platform: "browser", write: false, logLevel: "silent",
  });
  const wasm = readFileSync(new URL("../parser/wasm/simplenet-scalar.wasm", import.meta.url));
  const context: Record<string, unknown> = { WebAssembly, URL, bytes: new Uint8Array(wasm), result: null };
  runInNewContext(bundle.outputFiles[0].text, context);
  await runInNewContext(`(async () => {
    const parser = await simplenet.instantiate(bytes);
    const input = Uint8Array.from("GET /hi HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n", (c) => c.charCodeAt(0));
    result = simplenet.parseRequestWith(parser, input);
  })()`, context);
  const parsed = context.result as { method: string; target: string; headers: [string, string][] };
  assert.is(parsed.method, "GET");
  assert.is(parsed.target, "/hi");
  assert.is(JSON.stringify(parsed.headers), JSON.stringify([["Host", "a"]])); // arrays of another realm
  assert.is(typeof context.Buffer, "undefined");
});

test.run();
