// The fuzzer itself: its instrumentation sees paths inside the wasm module,
// and coverage guidance finds a bug planted behind several byte conditions
// that a blind fuzzer with the same budget does not. Its llhttp oracle
// accepts exactly the differences of test/support/differences.ts.
import { suite, assert } from "./support/uvu.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../fuzz/build.ts";
import { instrument } from "../fuzz/instrument.ts";
import { Fuzzer } from "../fuzz/engine.ts";
import { HTTP_DICTIONARY, Random } from "../fuzz/mutate.ts";
import { createParser } from "../parser/src/parser-node.ts";
import { compareReadings, compareResponsesWithLlhttp, compareWithLlhttp, llhttpReading, ourReading, type Reading } from "./support/differences.ts";
import { driveResponses } from "./support/response-stream.ts";
import { llhttpParse } from "./support/llhttp.ts";
import { driveStream } from "./support/stream.ts";

const test = suite("fuzz");
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The planted module, compiled unoptimised (each byte test its own branch) and instrumented. */
function plantedTarget() {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-fuzz-"));
  try {
    const out = pathToFileURL(join(dir, "bug.wasm"));
    compile(new URL("../fuzz/planted/bug.ts", import.meta.url), out, ["--runtime", "stub", "--initialMemory", "2", "--maximumMemory", "2"]);
    const built = instrument(readFileSync(out));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(built.wasm as Uint8Array<ArrayBuffer>), {});
    const x = instance.exports as { memory: WebAssembly.Memory; input(): number; scan(len: number): number };
    const bytes = new Uint8Array(x.memory.buffer);
    return {
      probes: built.probes,
      counters: new Uint8Array(x.memory.buffer, built.counterBase, built.probes),
      scan(input: Uint8Array): number {
        bytes.set(input, x.input());
        return x.scan(input.length);
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const planted = plantedTarget();
const BUDGET = 2_000_000; // executions; the guided run needs far fewer (printed)

function fuzz(guided: boolean): Fuzzer {
  const fuzzer = new Fuzzer({
    counters: planted.counters,
    execute: (input) => (planted.scan(input), null),
    random: new Random(20240601),
    dictionary: HTTP_DICTIONARY,
    maxLength: 64,
    guided,
  });
  fuzzer.seed([ascii("GET /a")]);
  while (fuzzer.execs < BUDGET && fuzzer.findings.length === 0) fuzzer.step();
  return fuzzer;
}

test("the probes count the paths an input takes", () => {
  assert.ok(planted.probes > 8, `${planted.probes} probes`);
  const hits = (input: string): string => {
    planted.counters.fill(0);
    planted.scan(ascii(input));
    return Array.from(planted.counters).join(",");
  };
  assert.is.not(hits("GET /"), hits("FUX /"));
  assert.is(hits("GET /"), hits("PUT /"));
  assert.throws(() => planted.scan(ascii("FUZ /!")), /unreachable/);
});

test("coverage guidance finds the planted bug; blind fuzzing with the same budget does not", () => {
  const guided = fuzz(true);
  assert.is(guided.findings.length, 1, `guided: nothing in ${guided.execs} execs`);
  const [finding] = guided.findings;
  assert.match(finding.violation, /unreachable/);
  assert.equal(Array.from(finding.input.subarray(0, 6)), Array.from(ascii("FUZ /!")));
  const blind = fuzz(false);
  assert.is(blind.findings.length, 0, `blind found ${JSON.stringify(String.fromCharCode(...(blind.findings[0]?.input ?? [])))}`);
  assert.is(blind.execs, BUDGET);
  console.log(`  guided: found after ${guided.execs} execs (corpus ${guided.corpus.length}); blind: nothing in ${blind.execs}`);
});

test("the llhttp oracle explains a difference only by an entry whose bytes fit it", () => {
  const parser = createParser();
  const verdict = (input: string) => compareWithLlhttp(ascii(input), driveStream(parser, [ascii(input)]), parser);
  const id = (input: string) => {
    const v = verdict(input);
    return "difference" in v ? v.difference.id : "agree" in v ? "agree" : v.unexplained;
  };
  const chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  // llhttp takes Connection: close from trailers and refuses the next request; trailers are not for connection control.
  assert.is(id(`${chunked}0\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n`), "trailer-connection");
  assert.is(id(`${chunked}0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n`), "agree");
  assert.is(id(`${chunked}1;a=\r\nx\r\n0\r\n\r\n`), "chunk-ext-grammar");
  assert.is(id("CONNECT a: HTTP/1.1\r\nHost: a\r\n\r\n"), "target-form");

  // Were we to reject what the RFCs allow, no entry would explain it: the same bytes, our verdict changed.
  const rejecting = (input: string, error: string, at = input.length - 4): string => {
    const bytes = ascii(input);
    const ours: Reading = { ...ourReading(driveStream(parser, [bytes])), messages: [], partial: null, error, errorAt: at, pending: false };
    const v = compareReadings(bytes, ours, [], llhttpReading(llhttpParse(bytes)), parser);
    return "unexplained" in v ? "unexplained" : "difference" in v ? v.difference.id : "agree";
  };
  assert.is(rejecting("CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n", "BAD_TARGET"), "unexplained");
  assert.is(rejecting("GET http://h.example/x HTTP/1.1\r\nHost: h.example\r\n\r\n", "BAD_TARGET"), "unexplained");
  assert.is(rejecting(`${chunked}1;a=b\r\nx\r\n0\r\n\r\n`, "BAD_CHUNK_EXTENSION", chunked.length + 4), "unexplained");
  assert.is(rejecting(`${chunked}0\r\n\r\n`, "BAD_TRANSFER_ENCODING"), "unexplained");
  assert.is(rejecting("GET / HTTP/1.1\r\nHost: h.example:8080\r\n\r\n", "BAD_HOST"), "unexplained");
});

test("what the fuzzers found at other seeds and on faster machines is explained by one entry each, and only those bytes", () => {
  const parser = createParser();
  const request = (input: string) => {
    const v = compareWithLlhttp(ascii(input), driveStream(parser, [ascii(input)]), parser);
    return "difference" in v ? v.difference.id : "agree" in v ? "agree" : "unexplained";
  };
  const response = (input: string, method?: string) => {
    const bytes = ascii(input);
    const v = compareResponsesWithLlhttp(bytes, driveResponses(parser, [bytes], { requestMethod: method }), parser, method, false);
    return "difference" in v ? v.difference.id : "agree" in v ? "agree" : "unexplained";
  };
  // request target: HTTP/1.0 asking for keep-alive only in Proxy-Connection.
  assert.is(request("GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n"), "request-proxy-connection");
  assert.is(request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n"), "agree");
  // response-head target, seed 1 on a machine three times as fast as CI's.
  assert.is(response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\t\r\n\r\n"), "connection-token-ows");
  assert.is(response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), "agree");
  const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n";
  assert.is(response(`${chunked}Transfer-Encoding: gzip\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb`), "response-trailer-te");
  assert.is(response(`${chunked}X: gzip\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb`), "agree");
  // A trailer Content-Length is judged a trailer even when empty lines come before the status line.
  assert.is(response(`\r\n\r\n${chunked}Content-Length: 0003\r\n\r\n`), "response-trailer-framing");
});

test.run();
