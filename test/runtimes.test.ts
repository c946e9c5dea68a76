// simplenet-parser in every runtime, through its public entry as a consumer
// resolves it: the packed package installed into an empty folder
// (test/support/parser-package.ts), and the README's examples (examples/)
// copied there and run in a child process of each runtime — Node with no
// addon anywhere, a Node worker thread, Deno and Bun. The browser's turn is
// test/browser.test.ts. Each example says what it prints (its `// → `
// comments); the test holds it to that, and the README to showing each
// example exactly as examples/ has it.
import { suite, assert } from "./support/uvu.ts";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requires } from "./support/requires.ts";
import { copyExample, expectedOutput, installedParser, npmMissing } from "./support/parser-package.ts";
import { BUN_VERSION, DENO_VERSION, bun, bunMissing, childEnv, deno, denoMissing, run, type Ran } from "./support/runtimes.ts";

const test = suite("parser in every runtime");
const root = new URL("../", import.meta.url);
const RUN_TIMEOUT_MS = 60_000;

/** The lines every example prints: the same messages, the same results, whatever the runtime. */
const PRINTED = expectedOutput("node/parse.mjs");

function lines(r: Ran): string[] {
  assert.is(r.code, 0, `exit ${r.code ?? r.signal}: ${r.stderr.slice(-2000)}`);
  return r.stdout.trimEnd().split("\n");
}

/** Every file below `dir`. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

test("every example promises the same output (its `// → ` lines)", () => {
  assert.ok(PRINTED.length >= 2, "the Node example says what it prints");
  for (const example of ["deno/parse.ts", "bun/parse.ts", "browser/index.html", "browser/bundled.js"]) {
    assert.equal(expectedOutput(example), PRINTED, example);
  }
});

requires(test, npmMissing, "Node without the addon: the packed package installs with no compiler and parses through its public entry, loading no .node file", async () => {
  const { app, packageDir } = await installedParser();
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as Record<string, unknown>;
  assert.is((manifest.scripts as Record<string, string> | undefined)?.install, undefined, "no install script");
  assert.is(manifest.os, undefined, "no os restriction");
  assert.is(manifest.cpu, undefined, "no cpu restriction");
  assert.equal(walk(app).filter((f) => f.endsWith(".node") || f.includes("/build/")), [], "nothing native in the app folder");

  copyExample(app, "node/parse.mjs");
  // The example, then what this process resolved the package to and every native module it has mapped.
  writeFileSync(join(app, "check-native.mjs"), `
    import { readFileSync } from "node:fs";
    await import("./parse.mjs");
    const native = [
      ...process.report.getReport().sharedObjects.filter((p) => p.endsWith(".node")),
      ...readFileSync("/proc/self/maps", "utf8").split("\\n").filter((l) => l.endsWith(".node")),
    ];
    console.log("#resolved " + import.meta.resolve("simplenet-parser"));
    console.log("#native " + JSON.stringify(native));
  `);
  const out = lines(await run(process.execPath, ["check-native.mjs"], { cwd: app, timeoutMs: RUN_TIMEOUT_MS }));
  assert.equal(out.slice(0, -2), PRINTED);
  assert.match(out.at(-2)!, /^#resolved file:.*\/node_modules\/simplenet-parser\/dist\/parser-node\.js$/, "Node resolves the package's node entry");
  assert.is(out.at(-1), "#native []", "no .node file is loaded");
});

requires(test, npmMissing, "a Worker thread (node:worker_threads) loads the package and parses with its own instance", async () => {
  const { app } = await installedParser();
  const worker = copyExample(app, "node/worker.mjs");
  const out = lines(await run(process.execPath, [worker], { cwd: app, timeoutMs: RUN_TIMEOUT_MS }));
  assert.equal(out, expectedOutput("node/worker.mjs"));
  assert.ok(out.length >= 1, "the worker answered");
});

requires(test, npmMissing ?? denoMissing, `Deno ${DENO_VERSION} runs the example from node_modules, with no network and reading only the app folder, and type-checks it`, async () => {
  const { app } = await installedParser();
  const script = copyExample(app, "deno/parse.ts");
  const env = childEnv({ DENO_DIR: join(app, ".deno") });
  const offline = ["--no-remote", "--cached-only", "--node-modules-dir=manual"];
  const version = lines(await run(deno, ["--version"], { cwd: app, timeoutMs: RUN_TIMEOUT_MS, env }));
  assert.match(version[0], /^deno \d+\.\d+\.\d+/);
  const out = lines(await run(deno, ["run", ...offline, `--allow-read=${app}`, script], { cwd: app, timeoutMs: RUN_TIMEOUT_MS, env }));
  assert.equal(out, PRINTED);
  const checked = await run(deno, ["check", ...offline, script], { cwd: app, timeoutMs: RUN_TIMEOUT_MS, env });
  assert.is(checked.code, 0, `deno check: ${checked.stdout}${checked.stderr}`);
  // Without read permission, the module's file is refused, not fetched some other way.
  const denied = await run(deno, ["run", ...offline, "--no-prompt", script], { cwd: app, timeoutMs: RUN_TIMEOUT_MS, env });
  assert.is.not(denied.code, 0, "no --allow-read, no wasm");
  assert.match(denied.stderr, /NotCapable|PermissionDenied|Requires read access/);
});

requires(test, npmMissing ?? bunMissing, `Bun ${BUN_VERSION} runs the example from node_modules`, async () => {
  const { app } = await installedParser();
  const script = copyExample(app, "bun/parse.ts");
  const env = childEnv();
  const version = lines(await run(bun, ["--version"], { cwd: app, timeoutMs: RUN_TIMEOUT_MS, env }));
  assert.match(version[0], /^\d+\.\d+\.\d+/);
  const out = lines(await run(bun, ["run", "--no-install", script], { cwd: app, timeoutMs: RUN_TIMEOUT_MS, env }));
  assert.equal(out, PRINTED);
});

test("the README shows each example exactly as examples/ has it, and every example of a runtime", () => {
  const readme = readFileSync(new URL("README.md", root), "utf8");
  const shown = new Map<string, string>();
  for (const m of readme.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```\n/g)) shown.set(m[1], m[2]);
  for (const [path, code] of shown) {
    assert.is(code, readFileSync(new URL(path, root), "utf8"), `README's copy of ${path}`);
  }
  for (const dir of ["node", "deno", "bun", "browser"]) {
    for (const file of readdirSync(new URL(`examples/${dir}/`, root))) {
      assert.ok(shown.has(`examples/${dir}/${file}`), `README shows examples/${dir}/${file}`);
    }
  }
});

test.run();
