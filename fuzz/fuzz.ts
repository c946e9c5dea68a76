// npm run fuzz -- [--seconds N] [--target request|chunked|response] [--seed N]
// Coverage-guided fuzzing of the wasm parser. Exits 1 when an oracle broke:
// each such input is saved in fuzz/findings/ and printed JSON-escaped.
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { buildParser } from "./build.ts";
import { Fuzzer } from "./engine.ts";
import { HTTP_DICTIONARY, Random } from "./mutate.ts";
import { chunkedBodies, fileName, llhttpInputs, readCorpus, writeCorpus } from "./seeds.ts";
import { TARGETS, execute, loadBuilds, type TargetName } from "./targets.ts";

const MAX_LENGTH = 2048;
const REPORT_EVERY_MS = 5000;
/** Findings printed and saved; past this many, only counted. */
const MAX_FINDINGS_SHOWN = 20;

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    target: { type: "string", default: "request" },
    seed: { type: "string" },
  },
});
const target = values.target as TargetName;
if (!TARGETS.includes(target)) throw new Error(`--target must be one of ${TARGETS.join(", ")}`);
const seconds = Number(values.seconds);
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 0xffffffff;

const build = buildParser();
const builds = loadBuilds(build);
const random = new Random(seed);
const fuzzer = new Fuzzer({
  counters: builds.counters,
  execute: (input) => execute(target, builds, random, input),
  random,
  dictionary: HTTP_DICTIONARY,
  maxLength: MAX_LENGTH,
  guided: true,
});

// llhttp's inputs are seeds at fuzz time only: never saved into the corpus.
const shared = target === "request" ? llhttpInputs() : target === "chunked" ? chunkedBodies(llhttpInputs()) : [];
const saved = readCorpus(target);
console.log(`target ${target}, seed ${seed}, ${build.probes} probes; seeds: ${saved.length} saved, ${shared.length} from llhttp's tests`);

const started = performance.now();
fuzzer.seed([...saved, ...shared]);
const line = (): string => {
  const elapsed = (performance.now() - started) / 1000;
  return `${elapsed.toFixed(0)}s: ${fuzzer.execs} execs (${Math.round(fuzzer.execs / elapsed)}/s), ` +
    `${fuzzer.edges}/${build.probes} edges, corpus ${fuzzer.corpus.length}, findings ${fuzzer.findings.length}`;
};
console.log(`seeded: ${line()}`);

const deadline = started + seconds * 1000;
let nextReport = performance.now() + REPORT_EVERY_MS;
let reported = 0;
while (performance.now() < deadline) {
  for (let k = 0; k < 100; k++) fuzzer.step();
  for (; reported < Math.min(fuzzer.findings.length, MAX_FINDINGS_SHOWN); reported++) {
    const f = fuzzer.findings[reported];
    console.log(`FINDING ${JSON.stringify(String.fromCharCode(...f.input))}\n  ${f.violation}`);
  }
  if (performance.now() >= nextReport) {
    console.log(line());
    nextReport += REPORT_EVERY_MS;
  }
}

const sharedNames = new Set(shared.map(fileName));
const written = writeCorpus(target, fuzzer.corpus, sharedNames);
const distinct = new Map(fuzzer.findings.slice(0, MAX_FINDINGS_SHOWN).map((f) => [fileName(f.input), f]));
if (distinct.size > 0) {
  const dir = new URL("findings/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const [name, f] of distinct) {
    writeFileSync(new URL(`${target}-${name}.bin`, dir), f.input);
    writeFileSync(new URL(`${target}-${name}.txt`, dir), `${JSON.stringify(String.fromCharCode(...f.input))}\n${f.violation}\n`);
  }
}
console.log(`done: ${line()}`);
console.log(`corpus: ${written} entries saved in fuzz/corpus/${target}/ (llhttp's own inputs are not saved)`);
const found = fuzzer.findings.length;
console.log(found === 0 ? "no oracle violations" : `${found} oracle violations; the first ${distinct.size} saved in fuzz/findings/`);
process.exitCode = found === 0 ? 0 : 1;
