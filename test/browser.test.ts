// simplenet-parser in a real browser: headless Chromium (Debian's, installed
// by scripts/test-deps.sh; Playwright gives it a fresh profile) runs the
// README's browser examples with no Node at all, against the package as it
// is published — packed and installed (test/support/parser-package.ts), its
// files served by a simplenet server:
// - examples/browser/index.html, a plain page whose import map points at the
//   package's files under a CDN-style path (/npm/simplenet-parser@0/...); the
//   module finds its .wasm with wasmUrl();
// - examples/browser/bundled.js, bundled by esbuild for the browser (the
//   package's default entry, the .wasm as an asset file).
// Each prints with console.log what its `// → ` comments say.
import { suite, assert } from "./support/uvu.ts";
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, normalize } from "node:path";
import { build } from "esbuild";
import { serve } from "../src/index.ts";
import { requires } from "./support/requires.ts";
import { chromiumMissing, resultOfPage } from "./support/chromium.ts";
import { copyExample, expectedOutput, installedParser, npmMissing } from "./support/parser-package.ts";

const test = suite("parser in a browser");
const root = new URL("../", import.meta.url);
const missing = chromiumMissing ?? npmMissing;
const CDN_PREFIX = "/npm/simplenet-parser@0/";

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const typeOf = (path: string): string => TYPES[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream";

interface PageResult {
  lines: string[];
  error?: string;
  hasProcess: boolean;
}

/**
 * Serves `files` (path → bytes) and the installed package's files under the
 * CDN-style prefix, opens `page` in Chromium and collects what it logs:
 * resolves once it has printed `expected` lines, or on its first error.
 * Returns the page's result and the paths it asked for.
 */
async function runPage(files: Map<string, string | Uint8Array>, page: string, expected: number): Promise<{ result: PageResult; requested: string[] }> {
  const { packageDir } = await installedParser();
  const requested: string[] = [];
  const server = await serve({
    host: "127.0.0.1", port: 0,
    handler: (req, res) => {
      requested.push(req.path);
      let body = files.get(req.path);
      if (body === undefined && req.path.startsWith(CDN_PREFIX)) {
        const file = join(packageDir, normalize(req.path.slice(CDN_PREFIX.length)));
        if (file.startsWith(packageDir + "/") && existsSync(file) && statSync(file).isFile()) body = readFileSync(file);
      }
      if (body === undefined) {
        res.status = 404;
        return res.end();
      }
      res.setHeader("Content-Type", typeOf(req.path === "/" || req.path.endsWith("/") ? ".html" : req.path));
      res.end(body);
    },
  });
  try {
    const result = await resultOfPage<PageResult>(`http://127.0.0.1:${server.port}${page}`, 15_000, async (tab) => {
      await tab.addInitScript((count: number) => {
        const w = window as unknown as { result?: PageResult };
        const lines: string[] = [];
        const hasProcess = typeof (globalThis as { process?: unknown }).process !== "undefined";
        const log = console.log.bind(console);
        console.log = (...args: unknown[]) => {
          log(...args);
          lines.push(args.map(String).join(" "));
          if (lines.length === count) w.result = { lines, hasProcess };
        };
        addEventListener("error", (e) => (w.result = { lines, hasProcess, error: String(e.message) }));
        addEventListener("unhandledrejection", (e) => (w.result = { lines, hasProcess, error: String(e.reason) }));
      }, expected);
    });
    return { result, requested };
  } finally {
    await server.close();
  }
}

requires(test, missing, "a plain <script type=\"module\"> with an import map loads the package from a CDN-style URL and parses", async () => {
  const expected = expectedOutput("browser/index.html");
  const html = readFileSync(new URL("examples/browser/index.html", root));
  const { result, requested } = await runPage(new Map([["/", html]]), "/", expected.length);
  assert.is(result.error, undefined, `the page threw: ${result.error}`);
  assert.equal(result.lines, expected);
  assert.is(result.hasProcess, false, "no Node in sight");
  assert.ok(requested.includes(`${CDN_PREFIX}dist/parser.js`), "the import map's URL");
  assert.ok(requested.includes(`${CDN_PREFIX}wasm/simplenet.wasm`), "wasmUrl(): the SIMD build, beside the module");
  assert.not.ok(requested.some((p) => p.includes("parser-node")), "not the Node entry");
});

requires(test, missing, "a bundle (esbuild, for the browser) of the package and its .wasm parses", async () => {
  const expected = expectedOutput("browser/bundled.js");
  const { app } = await installedParser();
  const entry = copyExample(app, "browser/bundled.js");
  const built = await build({
    absWorkingDir: app, entryPoints: [entry], bundle: true, format: "esm", platform: "browser",
    loader: { ".wasm": "file" }, outdir: join(app, "out"), write: false, logLevel: "silent",
  });
  const files = new Map<string, string | Uint8Array>([["/bundled/", '<!doctype html><script type="module" src="bundled.js"></script>']]);
  for (const out of built.outputFiles) files.set(`/bundled/${basename(out.path)}`, out.contents);
  const bundle = files.get("/bundled/bundled.js");
  assert.ok(bundle !== undefined, "esbuild wrote bundled.js");
  assert.not.match(Buffer.from(bundle as Uint8Array).toString(), /parser-node|node:fs/, "the browser build of the package, not its Node entry");

  const { result, requested } = await runPage(files, "/bundled/", expected.length);
  assert.is(result.error, undefined, `the page threw: ${result.error}`);
  assert.equal(result.lines, expected);
  assert.is(result.hasProcess, false, "no Node in sight");
  assert.ok(requested.some((p) => /^\/bundled\/simplenet-\w+\.wasm$/.test(p)), "the bundler's copy of the .wasm");
});

test.run();
