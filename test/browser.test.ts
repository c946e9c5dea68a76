// simplenet-parser in a real browser: headless Chromium (Debian's, installed
// by scripts/test-deps.sh; Playwright gives it a fresh profile) loads the parser module and the .wasm over HTTP
// from a simplenet server and parses a request there, with no Node at all.
import { suite, assert } from "./support/uvu.ts";
import { readFileSync } from "node:fs";
import { transform } from "esbuild";
import { serve } from "../src/index.ts";
import { requires } from "./support/requires.ts";
import { chromiumMissing as missing, resultOfPage } from "./support/chromium.ts";

const test = suite("parser in a browser");
const root = new URL("../", import.meta.url);

/** The parser's sources as the browser gets them: TypeScript stripped, nothing bundled. */
async function module(name: string): Promise<string> {
  const source = readFileSync(new URL(`parser/src/${name}.ts`, root), "utf8");
  return (await transform(source, { loader: "ts", format: "esm" })).code;
}

const page = `<!doctype html><script type="module">
import { instantiate, parseRequestWith } from "/parser.js";
const parser = await instantiate(await (await fetch("/simplenet.wasm")).arrayBuffer());
const input = "POST /submit?x=1 HTTP/1.1\\r\\nHost: example.com\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n";
const ok = parseRequestWith(parser, new TextEncoder().encode(input));
const bad = parseRequestWith(parser, new TextEncoder().encode("GET / HTTP/1.1\\r\\nHost : a\\r\\n\\r\\n"));
window.result = { ...ok, body: new TextDecoder().decode(ok.body), bad, simd: parser.simd, hasProcess: typeof process !== "undefined" };
</script>`;

requires(test, missing, "headless Chromium parses a request with the wasm parser", async () => {
  const files: Record<string, [string, string | Uint8Array]> = {
    "/": ["text/html", page],
    "/parser.js": ["text/javascript", await module("parser")],
    "/fields.js": ["text/javascript", await module("fields")],
    "/request-stream.js": ["text/javascript", await module("request-stream")],
    "/abi.js": ["text/javascript", await module("abi")],
    "/simplenet.wasm": ["application/wasm", readFileSync(new URL("parser/wasm/simplenet.wasm", root))],
  };
  const server = await serve({
    host: "127.0.0.1", port: 0,
    handler: (req, res) => {
      const file = files[req.path];
      if (file === undefined) {
        res.status = 404;
        return res.end();
      }
      res.setHeader("Content-Type", file[0]);
      res.end(file[1]);
    },
  });
  try {
    const result = await resultOfPage<Record<string, unknown>>(`http://127.0.0.1:${server.port}/`, 10_000);
    assert.is(result.method, "POST");
    assert.is(result.target, "/submit?x=1");
    assert.equal(result.headers, [["Host", "example.com"], ["Transfer-Encoding", "chunked"]]);
    assert.is(result.body, "hello");
    assert.is(result.keepAlive, true);
    assert.is((result.bad as { error: { code: string } }).error.code, "SPACE_BEFORE_COLON");
    assert.is(result.simd, true, "the SIMD build runs in Chromium");
    assert.is(result.hasProcess, false, "no Node in sight");
  } finally {
    await server.close();
  }
});

test.run();
