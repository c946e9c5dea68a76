// simplenet-parser as npm ships it: the wasm size budget, the manifest, the
// packed tarball's files and size, and the tarball installed offline into an
// empty folder where no compiler works (CXX=false, CC=false), then used
// through its three kinds of public entry: the package ("simplenet-parser"),
// its ABI as data ("simplenet-parser/abi") and its .wasm files by their
// export paths, from JavaScript and from TypeScript (type-checked).
import { suite, assert } from "./support/uvu.ts";
import { requires, command } from "./support/requires.ts";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { ERRORS, EXPORTS } from "../parser/src/abi.ts";
import { parseRequest, parseResponse, wasmUrl, type Build } from "../parser/src/parser-node.ts";
import { installedParser, npmMissing } from "./support/parser-package.ts";
import { childEnv, run } from "./support/runtimes.ts";

const test = suite("parser package");
const root = fileURLToPath(new URL("../", import.meta.url));
const KiB = 1024;

/** Each build's most bytes, raw and gzipped (level 9): the SIMD build is 21.2 KB raw, 8.9 KB gzip with responses. */
const WASM_BUDGET = { raw: 24 * KiB, gzip: 10 * KiB };
/** The whole package: the tarball npm pack makes, and the files it installs. */
const PACKAGE_BUDGET = { packed: 64 * KiB, unpacked: 192 * KiB };
const RUN_TIMEOUT_MS = 60_000;

for (const build of ["simd", "scalar"] as Build[]) {
  test(`${build}: the wasm module is within its size budget (${WASM_BUDGET.raw / KiB} KiB raw, ${WASM_BUDGET.gzip / KiB} KiB gzip)`, () => {
    const file = fileURLToPath(wasmUrl(build));
    const bytes = readFileSync(file);
    const gzip = gzipSync(bytes, { level: 9 }).length;
    console.log(`  ${file.slice(root.length)}: ${bytes.length} bytes raw, ${gzip} bytes gzip -9`);
    assert.ok(bytes.length <= WASM_BUDGET.raw, `${bytes.length} bytes raw, over the budget of ${WASM_BUDGET.raw}`);
    assert.ok(gzip <= WASM_BUDGET.gzip, `${gzip} bytes gzipped, over the budget of ${WASM_BUDGET.gzip}`);
  });
}

type Exports = Record<string, string | Record<string, unknown>>;
interface Manifest {
  name: string; type?: string; scripts?: Record<string, string>; os?: unknown; cpu?: unknown; files?: string[];
  dependencies?: Record<string, string>; exports: Exports; types?: string; sideEffects?: boolean;
}
const manifest = JSON.parse(readFileSync(join(root, "parser/package.json"), "utf8")) as Manifest;

/** Every {types, default} pair under an export entry, however deep its conditions go. */
function conditions(entry: string | Record<string, unknown>): { types?: string; default?: string }[] {
  if (typeof entry === "string") return [{ default: entry }];
  if ("default" in entry && typeof entry.default === "string") return [entry as { types?: string; default: string }];
  return Object.values(entry).flatMap((e) => conditions(e as Record<string, unknown>));
}

test("parser/package.json: an ES module package for any OS and CPU, with no install step, no dependency, and types for every entry", () => {
  assert.is(manifest.type, "module");
  assert.is(manifest.scripts, undefined, "no scripts at all, so none runs on install");
  assert.is(manifest.os, undefined, "no os restriction");
  assert.is(manifest.cpu, undefined, "no cpu restriction");
  assert.is(manifest.dependencies, undefined, "no dependency");
  assert.is(manifest.sideEffects, false);
  assert.equal(manifest.files, ["dist", "wasm/simplenet.wasm", "wasm/simplenet-scalar.wasm"]);
  assert.ok(manifest.types?.endsWith(".d.ts"));
  for (const [path, entry] of Object.entries(manifest.exports)) {
    for (const c of conditions(entry)) {
      if (c.default!.endsWith(".js")) assert.ok(c.types?.endsWith(".d.ts"), `${path}: types beside ${c.default}`);
    }
  }
  assert.equal(Object.keys(manifest.exports).sort(), [".", "./abi", "./frames", "./package.json", "./wasm/simplenet-scalar.wasm", "./wasm/simplenet.wasm"]);
});

/** Bytes in all under a folder. */
function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const REQUEST = "POST /submit HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
const RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";

/** The app's script: the package's entries by name, as any consumer imports them. */
const SCRIPT = `
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { parseRequest, parseResponse, instantiate, parseRequestWith, parseResponseWith } from "simplenet-parser";
import { ERRORS, EXPORTS, E, RESULT } from "simplenet-parser/abi";

const bytes = (text) => new TextEncoder().encode(text);
const plain = (r) => JSON.parse(JSON.stringify(r, (k, v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v)));
const request = ${JSON.stringify(REQUEST)}, response = ${JSON.stringify(RESPONSE)};

// The .wasm files by their export paths: as an ES module resolves them, and as CommonJS does.
const simdUrl = import.meta.resolve("simplenet-parser/wasm/simplenet.wasm");
const scalarPath = createRequire(import.meta.url).resolve("simplenet-parser/wasm/simplenet-scalar.wasm");
const simd = await instantiate(await readFile(new URL(simdUrl)));
const scalar = await instantiate(await readFile(scalarPath));

console.log(JSON.stringify({
  request: plain(parseRequest(bytes(request))),
  response: plain(parseResponse(bytes(response), { requestMethod: "GET" })),
  simdRequest: plain(parseRequestWith(simd, bytes(request))),
  scalarResponse: plain(parseResponseWith(scalar, bytes(response), { requestMethod: "GET" })),
  builds: [simd.simd, scalar.simd],
  simdUrl, scalarPath,
  errors: ERRORS, exports: EXPORTS.map((e) => e.name),
  byName: E.BAD_METHOD === ERRORS.find((e) => e[1] === "BAD_METHOD")[0],
  slots: typeof RESULT.STATUS,
}));
`;

/** The same through TypeScript's eyes: tsc must find each entry's types in the installed package. */
const TYPED = `
import { parseRequest, parseResponse, type ParseResult, type ResponseParseResult } from "simplenet-parser";
import { ERRORS, E, EXPORTS, type ErrorName } from "simplenet-parser/abi";

const request: ParseResult = parseRequest(new TextEncoder().encode("GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"));
const response: ResponseParseResult = parseResponse(new Uint8Array(0), { requestMethod: "HEAD" });
const name: ErrorName = ERRORS[0][1];
const code: number = E[name];
const first: string = EXPORTS[0].name;
export { request, response, code, first };
`;

/** Plain JSON of the in-repo parser's result, bodies as text: what the installed package must give. */
const plain = (r: unknown): unknown => JSON.parse(JSON.stringify(r, (_, v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v)));

requires(test, npmMissing, "npm pack: the tarball holds only the build, within its size budget; installed offline with no compiler, it parses a request and a response through its public entries, and its types check", async () => {
  const { tarball } = await installedParser();
  const dir = mkdtempSync(join(tmpdir(), "simplenet-parser-offline-"));
  try {
    // What the tarball holds: its LICENSE, README and package.json, dist's modules and their types, the two release builds.
    const listed = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8" });
    assert.is(listed.status, 0, listed.stderr);
    const files = listed.stdout.trim().split("\n").map((f) => f.replace(/^package\//, "")).sort();
    assert.equal(files.filter((f) => !/^dist\/[\w-]+\.(js|d\.ts)$/.test(f)), ["LICENSE", "README.md", "package.json", "wasm/simplenet-scalar.wasm", "wasm/simplenet.wasm"]);
    for (const entry of ["parser", "parser-node", "abi", "frames"]) {
      assert.ok(files.includes(`dist/${entry}.js`) && files.includes(`dist/${entry}.d.ts`), `dist/${entry}.js and its types`);
    }

    // A second empty folder, installed with no network at all: the package needs nothing from the registry.
    const app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    const env = childEnv({ CXX: "false", CC: "false", npm_config_fund: "false", npm_config_audit: "false" });
    const installed = await run(command("npm"), ["install", tarball, "--offline"], { cwd: app, timeoutMs: 120_000, env });
    assert.is(installed.code, 0, `npm install --offline: ${installed.stdout}${installed.stderr}`);
    const packageDir = join(app, "node_modules/simplenet-parser");
    assert.equal(readdirSync(join(app, "node_modules")).filter((n) => !n.startsWith(".")), ["simplenet-parser"], "nothing else installed");

    const packed = statSync(tarball).size, unpacked = folderBytes(packageDir);
    console.log(`  simplenet-parser: ${packed} bytes packed, ${unpacked} bytes unpacked, ${files.length} files`);
    assert.ok(packed <= PACKAGE_BUDGET.packed, `${packed} bytes packed, over the budget of ${PACKAGE_BUDGET.packed}`);
    assert.ok(unpacked <= PACKAGE_BUDGET.unpacked, `${unpacked} bytes unpacked, over the budget of ${PACKAGE_BUDGET.unpacked}`);

    writeFileSync(join(app, "check.mjs"), SCRIPT);
    const ran = await run(process.execPath, ["check.mjs"], { cwd: app, timeoutMs: RUN_TIMEOUT_MS, env });
    assert.is(ran.code, 0, ran.stderr);
    const out = JSON.parse(ran.stdout) as Record<string, unknown>;
    assert.equal(out.request, plain(parseRequest(bytes(REQUEST))), "the request, as the repository's parser reads it");
    assert.equal(out.simdRequest, out.request);
    assert.equal(out.response, plain(parseResponse(bytes(RESPONSE), { requestMethod: "GET" })), "the response, likewise");
    assert.equal(out.scalarResponse, out.response);
    assert.equal((out.request as { body: string }).body, "hello");
    assert.equal(out.builds, [true, false], "the SIMD build, then the scalar one");
    assert.is(out.simdUrl, `file://${packageDir}/wasm/simplenet.wasm`);
    assert.is(out.scalarPath, join(packageDir, "wasm/simplenet-scalar.wasm"));
    assert.equal(out.errors, JSON.parse(JSON.stringify(ERRORS)), "simplenet-parser/abi's ERRORS: code, name, status, reason");
    assert.equal(out.exports, EXPORTS.map((e) => e.name));
    assert.is(out.byName, true);
    assert.is(out.slots, "number");

    writeFileSync(join(app, "check.ts"), TYPED);
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const flags = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2022,dom", "check.ts"];
    const checked = await run(process.execPath, [tsc, ...flags], { cwd: app, timeoutMs: RUN_TIMEOUT_MS, env });
    assert.is(checked.code, 0, `tsc on a consumer of the installed package: ${checked.stdout}${checked.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
