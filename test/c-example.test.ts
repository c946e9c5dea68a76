// The C example (examples/c/): built from its own folder's files, copied to a
// temp folder, against the scalar wasm build translated by wasm2c; its output
// for each request and response must be what the JS parser makes of the same
// bytes, and the head it serializes the JS serializer's. It knows
// the module only through README.md's ABI section (and simplenet_abi.h, which
// is generated from the same source), so this checks that section too.
import { suite, assert } from "./support/uvu.ts";
import { requires, command } from "./support/requires.ts";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { E, FRAMING, HEAD } from "../parser/src/abi.ts";
import {
  createParser, parseRequest, parseResponse, wasmUrl, type ParseResult, type ResponseParseResult,
} from "../parser/src/parser-node.ts";

const test = suite("c-example");
const example = fileURLToPath(new URL("../examples/c/", import.meta.url));
const BUILD_TIMEOUT_MS = 180_000;

const missingTools = ["make", "cc", "wasm2c"].filter((tool) => command(tool) === "");
const missing = missingTools.length === 0 ? null
  : `${missingTools.join(", ")} on PATH (Debian: apt-get install make gcc wabt; scripts/test-deps.sh installs them)`;

/** Bytes as the example prints them: printable ASCII as is, anything else and "\" as \xNN. */
function printable(text: string | Uint8Array): string {
  const codes = typeof text === "string" ? Array.from(text, (c) => c.charCodeAt(0)) : Array.from(text);
  return codes.map((c) => (c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`)).join("");
}

/** What parse.c prints for a request, made from the JS parser's result. */
function expected(r: ParseResult): string {
  if ("incomplete" in r) return "incomplete\n";
  if ("error" in r) {
    const { code, status, reason, offset } = r.error;
    return `error ${E[code as keyof typeof E]} ${code} ${status} ${reason} at ${offset}\n`;
  }
  return [
    `method ${printable(r.method)}`,
    `target ${printable(r.target)}`,
    `version ${r.version}`,
    ...r.headers.map(([n, v]) => `header ${printable(n)}: ${printable(v)}`),
    `body ${r.body.length} ${printable(r.body)}`,
    ...r.trailers.map(([n, v]) => `trailer ${printable(n)}: ${printable(v)}`),
    `consumed ${r.consumed}`,
    `keep-alive ${r.keepAlive ? 1 : 0}`,
    "",
  ].join("\n");
}

/** What parse.c prints for a response, made from the JS parser's result. */
function expectedResponse(r: ResponseParseResult): string {
  if ("incomplete" in r) return "incomplete\n";
  if ("error" in r) {
    const { code, status, reason, offset } = r.error;
    return `error ${E[code as keyof typeof E]} ${code} ${status} ${reason} at ${offset}\n`;
  }
  return [
    ...r.interim.flatMap((i) => [`interim ${i.status} ${printable(i.reason)}`, ...i.headers.map(([n, v]) => `interim-header ${printable(n)}: ${printable(v)}`)]),
    `status ${r.status}`,
    `reason ${printable(r.reason)}`,
    `version ${r.version}`,
    ...r.headers.map(([n, v]) => `header ${printable(n)}: ${printable(v)}`),
    `framing ${r.framing.toUpperCase().replace("-", "_")}`,
    `body ${r.body.length} ${printable(r.body)}`,
    ...r.trailers.map(([n, v]) => `trailer ${printable(n)}: ${printable(v)}`),
    `consumed ${r.consumed}`,
    `keep-alive ${r.keepAlive ? 1 : 0}`,
    `upgrade ${r.upgrade ? 1 : 0}`,
    "",
  ].join("\n");
}

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

const REQUESTS: [what: string, input: Uint8Array][] = [
  ["a GET", bytes("GET /hi?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")],
  ["a Content-Length body of any bytes, and the next request after it", bytes("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n\x00\xff\\\r\nok GET / HTTP/1.1\r\n")],
  ["a chunked body with an extension and trailers", bytes("PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nChecksum: abc\r\nX-T: 1\r\n\r\n")],
  ["an HTTP/1.0 request with keep-alive, a method with no id, obs-text in a value", bytes("PROPFIND /d HTTP/1.0\r\nConnection: keep-alive\r\nX-Name: caf\xe9\t \r\n\r\n")],
  ["a head error: whitespace before the colon", bytes("GET / HTTP/1.1\r\nHost : a\r\n\r\n")],
  ["a body error: a chunk size that is not hex", bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")],
  ["a head that has not ended", bytes("GET / HTTP/1.1\r\nHost: a\r\n")],
  ["a body that has not all arrived", bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")],
];

const RESPONSES: [what: string, method: string, input: Uint8Array][] = [
  ["a 200 with Content-Length", "GET", bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi")],
  ["interim 100 and 103, then a chunked 200 with trailers", "POST", bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\nExpires: never\r\n\r\n")],
  ["a response to HEAD: no body, whatever Content-Length says", "HEAD", bytes("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n")],
  ["a 204 and a 304 have no body", "GET", bytes("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n")],
  ["an HTTP/1.0 body until the close, of any bytes, and an empty reason", "GET", bytes("HTTP/1.0 200 \r\nServer: x\r\n\r\n\x00\xff\\ all of it")],
  ["Transfer-Encoding without chunked last: until the close", "GET", bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b")],
  ["a 101: a tunnel, its bytes after the head", "GET", bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello")],
  ["a 2xx to CONNECT: a tunnel", "CONNECT", bytes("HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x01")],
  ["a method with no id, and obs-text in the reason", "PROPFIND", bytes("HTTP/1.1 207 Multi-Status \xe9\r\nContent-Length: 0\r\n\r\n")],
  ["a status code of two digits", "GET", bytes("HTTP/1.1 20 OK\r\n\r\n")],
  ["a bad field in a response: 502, not the request's 400", "GET", bytes("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n")],
  ["a bad chunk after an interim response: the offset counts from the final response", "GET", bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n")],
  ["a body that has not all arrived", "GET", bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")],
];

/** Runs the built example; returns its stdout as latin1 text. */
function run(binary: string, args: string[], input?: Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(binary, args, { input, timeout: 10_000 });
  return { status: r.status, stdout: r.stdout.toString("latin1"), stderr: `${r.stderr}${r.error ?? ""}` };
}

requires(test, missing, "examples/c: wasm2c'd scalar module, built in a temp folder, parses requests and responses and serializes a head as the JS parser does", () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-c-"));
  try {
    for (const file of ["parse.c", "Makefile", "simplenet_abi.h"]) copyFileSync(join(example, file), join(dir, file));
    const built = spawnSync("make", [`WASM=${fileURLToPath(wasmUrl("scalar"))}`], { cwd: dir, timeout: BUILD_TIMEOUT_MS, encoding: "utf8" });
    assert.is(built.status, 0, `make: ${built.stdout}${built.stderr}${built.error ?? ""}`);
    const binary = join(dir, "build", "parse");

    for (const [what, input] of REQUESTS) {
      const js = parseRequest(input);
      const c = run(binary, ["request"], input);
      assert.is(c.stdout, expected(js), what);
      assert.is(c.status, "method" in js ? 0 : 1, `${what}: exit status (${c.stderr})`);
    }

    for (const [what, method, input] of RESPONSES) {
      const js = parseResponse(input, { requestMethod: method });
      const c = run(binary, ["response", method], input);
      assert.is(c.stdout, expectedResponse(js), what);
      assert.is(c.status, "status" in js ? 0 : 1, `${what}: exit status (${c.stderr})`);
    }

    // A response head through the staging region and table: the bytes the JS serializer writes.
    const parser = createParser();
    const fields: [string, string][] = [["Content-Type", "text/plain"], ["X-Long", "v".repeat(300)]];
    const now = 784111777;
    const n = parser.serializeHead(0, 404, "Not Here", fields, FRAMING.LENGTH, 5, HEAD.DATE | HEAD.CLOSE, now);
    const head = parser.bytes.slice(parser.out, parser.out + n);
    const c = run(binary, ["head", "404", "Not Here", "5", String(now), ...fields.flat()]);
    assert.is(c.status, 0, c.stderr);
    assert.is(c.stdout, Buffer.from(head).toString("latin1"));
    // A field the serializer refuses: the error table's line, with the field's index.
    const refused = run(binary, ["head", "200", "", "0", "0", "Good", "1", "Bad Name", "2"]);
    assert.is(refused.stdout, `error ${E.BAD_RESPONSE_HEADER_NAME} BAD_RESPONSE_HEADER_NAME 500 Invalid response header name at 1\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
