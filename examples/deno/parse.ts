// deno add npm:simplenet-parser (or npm install it beside a package.json), then:
// deno run --allow-read parse.ts
import { instantiate, parseRequestWith, wasmUrl } from "simplenet-parser";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array) => new TextDecoder().decode(body);

// The .wasm file ships in the package; wasmUrl() is its file: URL.
const parser = await instantiate(await Deno.readFile(wasmUrl()));

const request = parseRequestWith(parser, bytes(
  "POST /submit?x=1 HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
));
if (!("method" in request)) throw new Error(JSON.stringify(request));
console.log(request.method, request.target, JSON.stringify(request.headers), text(request.body));
// → POST /submit?x=1 [["Host","example.com"],["Transfer-Encoding","chunked"]] hello

const bad = parseRequestWith(parser, bytes("GET / HTTP/1.1\r\nHost : example.com\r\n\r\n"));
if ("error" in bad) console.log(bad.error.status, bad.error.code);
// → 400 SPACE_BEFORE_COLON
