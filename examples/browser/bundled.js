// With a bundler: import the .wasm file as an asset URL. esbuild:
//   esbuild bundled.js --bundle --format=esm --loader:.wasm=file --outdir=out
// (Vite: import wasm from "simplenet-parser/wasm/simplenet.wasm?url").
import { instantiate, parseRequestWith } from "simplenet-parser";
import wasm from "simplenet-parser/wasm/simplenet.wasm";

const bytes = (text) => new TextEncoder().encode(text);
const text = (body) => new TextDecoder().decode(body);

const parser = await instantiate(await (await fetch(new URL(wasm, import.meta.url))).arrayBuffer());

const request = parseRequestWith(parser, bytes(
  "POST /submit?x=1 HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
));
if (!("method" in request)) throw new Error(JSON.stringify(request));
console.log(request.method, request.target, JSON.stringify(request.headers), text(request.body));
// → POST /submit?x=1 [["Host","example.com"],["Transfer-Encoding","chunked"]] hello

const bad = parseRequestWith(parser, bytes("GET / HTTP/1.1\r\nHost : example.com\r\n\r\n"));
if ("error" in bad) console.log(bad.error.status, bad.error.code);
// → 400 SPACE_BEFORE_COLON
