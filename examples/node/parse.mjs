// npm install simplenet-parser, then: node parse.mjs
import { readFile } from "node:fs/promises";
import { parseRequest, instantiate, parseRequestWith, wasmUrl } from "simplenet-parser";

const bytes = (text) => new TextEncoder().encode(text);
const text = (body) => new TextDecoder().decode(body);

// One-shot, on an instance the package loads synchronously and shares.
const request = parseRequest(bytes(
  "POST /submit?x=1 HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
));
if (!("method" in request)) throw new Error(JSON.stringify(request));
console.log(request.method, request.target, JSON.stringify(request.headers), text(request.body));
// → POST /submit?x=1 [["Host","example.com"],["Transfer-Encoding","chunked"]] hello

// An instance of your own, with limits: Node's fetch() cannot read a file: URL, so read the bytes.
const parser = await instantiate(await readFile(wasmUrl()), { maxHeaders: 50 });
const bad = parseRequestWith(parser, bytes("GET / HTTP/1.1\r\nHost : example.com\r\n\r\n"));
if ("error" in bad) console.log(bad.error.status, bad.error.code);
// → 400 SPACE_BEFORE_COLON
