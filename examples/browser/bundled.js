// With a bundler: import the .wasm file as an asset URL. esbuild:
//   esbuild bundled.js --bundle --format=esm --loader:.wasm=file --outdir=out
// (Vite: import wasm from "simplenet-parser/wasm/simplenet.wasm?url").
import { instantiate, parseRequestWith, parseResponseWith } from "simplenet-parser";
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

const response = parseResponseWith(parser, bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"));
if (!("status" in response)) throw new Error(JSON.stringify(response));
console.log(response.status, response.reason, JSON.stringify(response.headers), text(response.body));
// → 200 OK [["Content-Type","text/plain"],["Content-Length","2"]] hi

// A response to HEAD has no body, whatever its Content-Length says: name the request's method.
const head = parseResponseWith(parser, bytes("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n"), { requestMethod: "HEAD" });
if ("status" in head) console.log(head.status, head.body.length, head.keepAlive);
// → 200 0 true

const bad = parseRequestWith(parser, bytes("GET / HTTP/1.1\r\nHost : example.com\r\n\r\n"));
if ("error" in bad) console.log(bad.error.status, bad.error.code);
// → 400 SPACE_BEFORE_COLON
