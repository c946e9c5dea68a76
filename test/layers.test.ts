// The rules between the layers (DESIGN.md), checked on the import graphs of
// src/ (the server) and parser/src/ (the simplenet-parser package): what each
// file reaches, not which words it contains. Also the house's shape: each
// folder of src/ imports only the folders below it, no import circle anywhere
// (src, parser, assembly, bench, fuzz), and no file too long to read.
import { suite, assert } from "./support/uvu.ts";
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";
import { circles, importGraph, specifiers, tsFilesUnder } from "./support/import-graph.ts";

const test = suite("layers");
const root = new URL("../", import.meta.url).pathname;
const src = new URL("../src/", import.meta.url);
const parserSrc = new URL("../parser/src/", import.meta.url);
/** Paths relative to `dir`, such as "http/connection.ts". */
const tsFiles = (dir: URL): string[] => tsFilesUnder(dir.pathname).map((f) => relative(dir.pathname, f));
const files = tsFiles(src);
const parserFiles = tsFiles(parserSrc);
const read = (f: string, dir = src): string => readFileSync(new URL(f, dir), "utf8");
const readParser = (f: string): string => read(f, parserSrc);

/** The specifiers a file imports, statically or dynamically (type-only imports left out). */
const imports = (file: string, dir = src): string[] => specifiers(read(file, dir), false);

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

/** The node:http face's one import from outside src/: node:http's two classes (node-http/classes.js). */
const NODE_CLASSES = "../../node-http/classes.js";

test("src/ and parser/src/ import no networking module of Node", () => {
  const forbidden = /^(node:)?(net|http|https|http2|tls|dgram)$/;
  for (const file of files) for (const spec of imports(file)) assert.not.match(spec, forbidden, `${file} imports ${spec}`);
  // The node:http face takes node:http's classes through one file outside src/, and those two only: no module object, no table, nothing that opens a socket.
  const bridge = readFileSync(new URL("../node-http/classes.js", import.meta.url), "utf8");
  const taken = [...bridge.matchAll(/^(?:import|export)\s+(.+?)\s+from\s+"node:(\w+)"/gms)].map((m) => `${m[1].replace(/\s+/g, " ")} from ${m[2]}`);
  assert.equal(taken, ["{ IncomingMessage, ServerResponse } from http"], "what node-http/classes.js takes of Node");
  for (const file of parserFiles) {
    for (const spec of imports(file, parserSrc)) assert.not.match(spec, forbidden, `parser/src/${file} imports ${spec}`);
  }
});

test("the server reaches the parser only through the simplenet-parser package's public entries", () => {
  const entries = new Set(["simplenet-parser", "simplenet-parser/abi", "simplenet-parser/frames"]);
  for (const file of files) {
    for (const spec of imports(file)) {
      if (spec.startsWith(".") && spec !== NODE_CLASSES) assert.ok(existsSync(new URL(spec.replace(/\.js$/, ".ts"), new URL(file, src))), `${file} imports ${spec}, a file of src/`);
      if (spec.startsWith("simplenet-parser")) assert.ok(entries.has(spec), `${file} imports ${spec}`);
    }
  }
  const exported = Object.keys((JSON.parse(read("../parser/package.json")) as { exports: Record<string, unknown> }).exports);
  for (const entry of entries) assert.ok(exported.includes(entry.replace("simplenet-parser", ".")), `parser/package.json exports ${entry}`);
});

test("only src/socket/syscalls.ts loads the addon", () => {
  for (const file of files) {
    if (file !== "socket/syscalls.ts") assert.not.match(read(file), /simplenet\.node|createRequire|process\.dlopen/, file);
  }
  assert.match(read("socket/syscalls.ts"), /simplenet\.node|node-gyp-build/);
});

test("only the module's two faces touch the wasm exports: instance.ts (HTTP, with the names in http-exports.ts) and frames.ts (WebSocket); parser.ts and parser-node.ts only compile it", () => {
  const wasmWords = /wasmExports|WebAssembly\.|\.exports\b|["'`/]simplenet[\w-]*\.wasm/;
  for (const file of files) assert.not.match(read(file), wasmWords, file);
  const faces = ["instance.ts", "http-exports.ts", "parser.ts", "parser-node.ts", "frames.ts"];
  for (const file of parserFiles) {
    if (faces.includes(file)) continue;
    assert.not.match(readParser(file), wasmWords, `parser/src/${file}`);
  }
  assert.match(readParser("instance.ts"), /instance\.exports/);
  assert.match(readParser("frames.ts"), /wasmExports/);
  assert.not.match(readParser("frames.ts"), /WebAssembly\.|simplenet[\w-]*\.wasm/, "frames.ts borrows the parser's instance");
});

test("the embeddable parser and the WebSocket codec reach no Node module, no Node-only API and no server file", () => {
  const parser = reach("parser.ts"), frames = reach("frames.ts");
  assert.equal([...parser.external, ...frames.external], [], "outside modules");
  assert.equal([...parser.files].sort(), [
    "abi-docs.ts", "abi.ts", "fields.ts", "head-serializer.ts", "heads.ts", "instance.ts", "message-stream.ts", "parser.ts",
    "request-stream.ts", "response-stream.ts",
  ]);
  assert.equal([...frames.files].sort(), ["abi-docs.ts", "abi.ts", "frames.ts"]);
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

/** Each folder of src/: what it may import, from the "May import:" line of its README.md. */
function folderRules(): Map<string, string[]> {
  const rules = new Map<string, string[]>();
  for (const folder of new Set(files.filter((f) => f.includes("/")).map((f) => f.split("/")[0]))) {
    const readme = new URL(`${folder}/README.md`, src);
    if (folder === "node") {
      // The node:http face (its own engineer's folder) uses the public entry only.
      rules.set(folder, ["node", "index.ts"]);
      continue;
    }
    assert.ok(existsSync(readme), `src/${folder}/ has a README.md that says what it does and what it may import`);
    const line = /^May import: (.*)$/m.exec(readFileSync(readme, "utf8"));
    assert.ok(line, `src/${folder}/README.md has a "May import:" line`);
    const allowed = line![1].split(",").map((s) => s.trim().replace(/[/.]+$/, "")).filter((s) => s !== "" && s !== "nothing else");
    rules.set(folder, [folder, ...allowed]);
  }
  return rules;
}

test("each folder of src/ imports only what its README allows; the entries (index.ts, cli.ts) may import any", () => {
  const rules = folderRules();
  assert.ok(rules.size >= 6, "socket, http, web, websocket, app and server at least");
  for (const file of files) {
    const folder = file.includes("/") ? file.split("/")[0] : null;
    if (folder === null) continue;
    for (const spec of specifiers(read(file))) {
      if (!spec.startsWith(".") || (file.startsWith("node/") && spec === NODE_CLASSES)) continue;
      const target = relative(src.pathname, resolve(dirname(new URL(file, src).pathname), spec.replace(/\.js$/, ".ts")));
      const room = target.includes("/") ? target.split("/")[0] : target;
      assert.ok(rules.get(folder)!.includes(room), `src/${file} imports ${target}: ${folder}/ may import only ${rules.get(folder)!.join(", ")}`);
    }
  }
});

test("the circle finder finds a circle of three, a file that imports itself, and nothing in a graph that runs one way", () => {
  const circled = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]], ["e", ["e"]]]);
  assert.equal(circles(circled), [["a", "b", "c"], ["e"]]);
  assert.equal(circles(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), []);
});

test("no import circle in src, parser/src, assembly, bench or fuzz (type-only imports count too)", () => {
  const all = ["src", "parser/src", "assembly", "bench", "fuzz"].flatMap((dir) => tsFilesUnder(root + dir));
  assert.ok(all.length > 100, "the files were found");
  const found = circles(importGraph(all)).map((circle) => circle.map((f) => relative(root, f)).join(" <-> "));
  assert.equal(found, [], found.join("\n"));
});

/**
 * A response's bytes go down one path — response → response-queue.ts →
 * outbox.ts → cork.ts → send-queue.ts → the system call —, each piece
 * importing only the pieces below it (type-only imports count: a type is how
 * a callback up is named), and none offering an interface for a piece above
 * to implement (a Host or Owner it would call back). output-part.ts is the
 * bytes themselves, below them all.
 */
const DOWN_THE_PATH = ["http/response-queue.ts", "http/outbox.ts", "http/cork.ts", "http/send-queue.ts", "http/output-part.ts"];

/** What in `texts` (file → text) breaks the one-way path: an import up it, or a class that implements an interface of a piece on it. */
export function callsUpThePath(path: readonly string[], texts: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  const interfaces = new Map<string, string>();
  path.forEach((file, i) => {
    const text = texts.get(file)!;
    for (const m of text.matchAll(/^export interface (\w+)/gm)) interfaces.set(m[1], file);
    // The queue threads its list through the responses it keeps: their type, never their code.
    for (const spec of specifiers(text, file !== "http/response-queue.ts")) {
      if (!spec.startsWith(".")) continue;
      const target = relative(src.pathname, resolve(dirname(new URL(file, src).pathname), spec.replace(/\.js$/, ".ts")));
      const below = path.indexOf(target) > i;
      if (!below && (target.startsWith("http/") || path.includes(target))) found.push(`${file} imports ${target}, not below it on the path`);
    }
  });
  for (const [file, text] of texts) {
    for (const m of text.matchAll(/\bclass \w+[^{]*?\bimplements ([^{]+)\{/g)) {
      for (const name of m[1].split(",").map((s) => s.trim().replace(/<.*$/, ""))) {
        const owner = interfaces.get(name);
        if (owner !== undefined) found.push(`${file} implements ${name}, which ${owner} would call back`);
      }
    }
  }
  return found;
}

test("the path check finds a piece that imports one above it and a class that implements a lower piece's interface", () => {
  const path = ["http/a.ts", "http/b.ts"];
  const oneWay = new Map([["http/a.ts", 'import { B } from "./b.js";\nexport class A { b = new B(); }'], ["http/b.ts", "export class B {}"]]);
  assert.equal(callsUpThePath(path, oneWay), []);
  const upward = new Map([...oneWay, ["http/b.ts", 'import type { A } from "./a.js";\nexport class B { a: A | null = null; }']]);
  assert.equal(callsUpThePath(path, upward), ["http/b.ts imports http/a.ts, not below it on the path"]);
  const host = new Map([
    ["http/a.ts", 'import { B, type BHost } from "./b.js";\nexport class A implements BHost { done(): void {} }'],
    ["http/b.ts", "export interface BHost { done(): void }\nexport class B {}"],
  ]);
  assert.equal(callsUpThePath(path, host), ["http/a.ts implements BHost, which http/b.ts would call back"]);
});

test("a response's bytes go down one path (queue, outbox, cork, send queue) with no call back up", () => {
  const texts = new Map(files.filter((f) => f.startsWith("http/")).map((f) => [f, read(f)]));
  for (const file of DOWN_THE_PATH) assert.ok(texts.has(file), `src/${file} exists`);
  assert.equal(callsUpThePath(DOWN_THE_PATH, texts), []);
});

/** The parts of a TypeScript text longer than their limits: the file past `fileLines`, each class past `classLines`. */
export function tooLong(text: string, fileLines: number, classLines: number): string[] {
  const lines = text.split("\n");
  const found: string[] = [];
  if (lines.length > fileLines) found.push(`${lines.length} lines`);
  lines.forEach((line, i) => {
    const name = /^(?:export )?(?:abstract )?class (\w+)/.exec(line)?.[1];
    if (name === undefined) return;
    const end = lines.findIndex((l, j) => j > i && l === "}");
    if (end - i + 1 > classLines) found.push(`class ${name}: ${end - i + 1} lines`);
  });
  return found;
}

test("the length check finds a long file and a long class", () => {
  const classOf = (n: number): string => ["export class Big {", ...Array.from({ length: n - 2 }, () => "  x = 1;"), "}"].join("\n");
  assert.equal(tooLong(classOf(10), 20, 10), []);
  assert.equal(tooLong(classOf(11), 20, 10), ["class Big: 11 lines"]);
  assert.equal(tooLong(classOf(11) + "\n" + classOf(10), 20, 10), ["21 lines", "class Big: 11 lines"]);
});

test("no file of src/ or parser/src/ over 400 lines, no class over 250", () => {
  for (const file of files) assert.equal(tooLong(read(file), 400, 250), [], `src/${file}`);
  for (const file of parserFiles) assert.equal(tooLong(readParser(file), 400, 250), [], `parser/src/${file}`);
});

test("handover moves the server through the methods it offers: no field of it written, no method of it replaced", () => {
  const handover = read("server/handover.ts");
  assert.not.match(handover, /\bserver\.\w+\s*=[^=]/, "an assignment to the server's field or method");
  assert.not.match(handover, /\blistening\.\w+\s*=[^=]/, "an assignment to the listener the server holds (shareListener() says it lives on in a successor)");
  assert.not.match(handover, /from "\.\/server\.js"/, "handover.ts names what it needs (HandoverServer) instead of importing the server");
});

test("the shim's functions are named after the system call they make: send(2) is send; getsockname and getpeername share one helper", () => {
  const shim = readFileSync(new URL("shim/syscalls.cc", new URL("../", import.meta.url)), "utf8");
  assert.match(shim, /exports\.Set\("send", Napi::Function::New<Send>/);
  assert.not.match(shim, /exports\.Set\("write"/, "write(2) is not what it calls");
  assert.match(shim, /return SocketName\(info, getsockname\);/);
  assert.match(shim, /return SocketName\(info, getpeername\);/);
});

test.run();
