// The fuzzer itself: its instrumentation sees paths inside the wasm module,
// and coverage guidance finds a bug planted behind several byte conditions
// that a blind fuzzer with the same budget does not.
import { suite, assert } from "./support/uvu.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../fuzz/build.ts";
import { instrument } from "../fuzz/instrument.ts";
import { Fuzzer } from "../fuzz/engine.ts";
import { HTTP_DICTIONARY, Random } from "../fuzz/mutate.ts";

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

test.run();
