// npm run fuzz -- [--seconds N | --execs N] [--target NAME] [--seed N] [--corpus DIR]
// npm run fuzz -- --target request --input FILE...   (runs the oracles on saved inputs)
// npm run fuzz:minimize                               (rewrites the committed seeds, fuzz/corpus/)
//
// Coverage-guided fuzzing of the wasm parser. Exits 1 when an oracle broke:
// each such input is printed JSON-escaped and saved in fuzz/findings/. A run
// starts from the committed seeds plus the working corpus in the cache
// folder (--corpus, default node_modules/.cache/simplenet-fuzz/) and leaves
// its corpus there; it writes nothing that git tracks. A run bounded by
// --execs with a --seed and an empty --corpus is deterministic: every machine,
// fast or slow, runs the same inputs (CI's runs are so). --seconds is for
// campaigns: a faster machine goes further with the same seed.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { Fuzzer } from "./engine.ts";
import { HTTP_DICTIONARY, Random } from "./mutate.ts";
import { DEFAULT_WORK_DIR, FINDINGS_DIR, fileName, readCorpus, seedDir, writeCorpus } from "./seeds.ts";
import { TARGETS, findTarget, type Target } from "./targets.ts";
import { loadBuilds } from "./builds.ts";

const MAX_LENGTH = 2048;
const REPORT_EVERY_MS = 5000;
/** Findings printed and saved; past this many, only counted. */
const MAX_FINDINGS_SHOWN = 20;
const relative = (url: URL): string => url.pathname.replace(new URL("../", import.meta.url).pathname, "");

const TARGET_NAMES = [...TARGETS.map((t) => t.name), "handler"];
const USAGE = `Usage: npm run fuzz -- [options]

Coverage-guided fuzzing of the wasm parser; exits 1 when an oracle broke,
printing each such input and saving it in fuzz/findings/.

Options:
  --target NAME   what to fuzz (default request): ${TARGET_NAMES.join(", ")}
  --seconds N     stop after N seconds (default 60)
  --execs N       stop after N executions instead: with --seed and an empty
                  --corpus, every machine runs the same inputs
  --seed N        the random seed (default: a new one, printed)
  --corpus DIR    the working corpus (default ${relative(DEFAULT_WORK_DIR)})
  --input FILE... run the oracles on saved inputs instead of fuzzing
  --minimize      rewrite the committed seeds (fuzz/corpus/) from themselves
                  and the working corpus
  --help          show this help
`;

/** A mistake in the command line: one line on stderr, no stack, exit code 2. */
function usageError(message: string): never {
  console.error(`fuzz: ${message} (npm run fuzz -- --help)`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      seconds: { type: "string" },
      execs: { type: "string" },
      target: { type: "string" },
      seed: { type: "string" },
      corpus: { type: "string" },
      input: { type: "boolean", default: false },
      minimize: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
} catch (error) {
  // Node's first sentence ("Unknown option '--x'"); the rest is advice about positionals that does not apply here.
  usageError((error as Error).message.split(". ")[0]);
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (values.target !== undefined && !TARGET_NAMES.includes(values.target)) {
  usageError(`unknown target "${values.target}"; one of: ${TARGET_NAMES.join(", ")}`);
}
if (values.seconds !== undefined && values.execs !== undefined) usageError("--seconds and --execs exclude each other");
const seconds = Number(values.seconds ?? (values.execs === undefined ? "60" : "Infinity"));
if (!(seconds >= 0)) usageError(`--seconds must be a number, not "${values.seconds}"`);
const execs = values.execs === undefined ? Infinity : Number(values.execs);
if (!(execs >= 0)) usageError(`--execs must be a number, not "${values.execs}"`);
if (!values.input && positionals.length > 0) usageError(`unexpected argument "${positionals[0]}" (saved inputs go after --input)`);
const budget = values.execs !== undefined ? `--execs ${execs}` : `--seconds ${seconds}`;
const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : Math.floor(Math.random() * 0xffffffff);
const workDir = values.corpus !== undefined ? pathToFileURL(resolve(values.corpus) + "/") : DEFAULT_WORK_DIR;

// The handler target runs programs over sockets on two servers, not the parser: its own async loop (fuzz/handler.ts).
if (values.target === "handler") process.exit(await (await import("./handler.ts")).fuzzHandlers({ seed, seconds, execs }));

// Loaded only once the command line is known to be good: binaryen, under the build, takes seconds to load.
const build = (await import("./build.ts")).buildParser();
const builds = loadBuilds(build);
const random = new Random(seed);

function fuzzerFor(target: Target): Fuzzer {
  return new Fuzzer({
    counters: builds.counters,
    execute: (input) => target.execute(builds, random, input),
    random,
    dictionary: HTTP_DICTIONARY,
    maxLength: MAX_LENGTH,
    guided: true,
  });
}

/** Committed seeds, then the working corpus, then the target's own (llhttp's inputs, or built-in frames): each input once. */
function seedsOf(target: Target): { all: Uint8Array[]; own: Set<string>; counts: string } {
  const committed = readCorpus(seedDir(target.name));
  const working = readCorpus(new URL(`${target.name}/`, workDir));
  const own = target.seeds?.() ?? [];
  const seen = new Set<string>();
  const all = [...committed, ...working, ...own].filter((input) => {
    const name = fileName(input);
    return !seen.has(name) && (seen.add(name), true);
  });
  return {
    all, own: new Set(own.map(fileName)),
    counts: `${committed.length} committed, ${working.length} in ${relative(workDir)}${target.name}/` + (target.seedsFrom === undefined ? "" : `, ${own.length} ${target.seedsFrom}`),
  };
}

/** Prints the findings from `from` on (the first MAX_FINDINGS_SHOWN in all); where printing stopped. */
function print(fuzzer: Fuzzer, from: number): number {
  const to = Math.min(fuzzer.findings.length, MAX_FINDINGS_SHOWN);
  for (let k = from; k < to; k++) {
    const f = fuzzer.findings[k];
    console.log(`FINDING ${JSON.stringify(String.fromCharCode(...f.input))}\n  ${f.violation}`);
  }
  return Math.max(from, to);
}

/** Saves the findings shown in fuzz/findings/ (git-ignored); the inputs' files, relative to the project. */
function save(target: Target, fuzzer: Fuzzer): string[] {
  const distinct = new Map(fuzzer.findings.slice(0, MAX_FINDINGS_SHOWN).map((f) => [fileName(f.input), f]));
  if (distinct.size === 0) return [];
  mkdirSync(FINDINGS_DIR, { recursive: true });
  const files: string[] = [];
  for (const [name, f] of distinct) {
    const input = new URL(`${target.name}-${name}.bin`, FINDINGS_DIR);
    writeFileSync(input, f.input);
    writeFileSync(new URL(`${target.name}-${name}.txt`, FINDINGS_DIR), `${JSON.stringify(String.fromCharCode(...f.input))}\n${f.violation}\n`);
    files.push(relative(input));
  }
  return files;
}

if (values.input) {
  // The oracles on saved inputs (e.g. fuzz/findings/request-<hash>.bin).
  const target = findTarget(values.target ?? "request");
  let broken = 0;
  for (const file of positionals) {
    const violation = target.execute(builds, random, new Uint8Array(readFileSync(file)));
    if (violation !== null) broken++;
    console.log(`${file}: ${violation ?? "no oracle violations"}`);
  }
  process.exitCode = broken === 0 ? 0 : 1;
} else if (values.minimize) {
  // The committed seeds, made again from themselves and the working corpus: smallest first, only those that add coverage.
  let found = 0;
  for (const target of values.target !== undefined ? [findTarget(values.target)] : TARGETS) {
    const fuzzer = fuzzerFor(target);
    builds.counters.fill(0);
    const seeds = seedsOf(target);
    fuzzer.seed(seeds.all);
    const written = writeCorpus(seedDir(target.name), fuzzer.corpus, seeds.own);
    console.log(`${target.name}: ${seeds.counts}; ${written} kept in ${relative(seedDir(target.name))} (llhttp's own inputs are not saved)`);
    found += fuzzer.findings.length;
    print(fuzzer, 0);
    save(target, fuzzer);
  }
  console.log(found === 0 ? "no oracle violations" : `${found} oracle violations; saved in ${relative(FINDINGS_DIR)}`);
  process.exitCode = found === 0 ? 0 : 1;
} else {
  const target = findTarget(values.target ?? "request");
  const fuzzer = fuzzerFor(target);
  const seeds = seedsOf(target);
  console.log(`target ${target.name}, seed ${seed}, ${budget}, ${build.probes} probes; seeds: ${seeds.counts}`);

  const started = performance.now();
  fuzzer.seed(seeds.all);
  const line = (): string => {
    const elapsed = (performance.now() - started) / 1000;
    return `${elapsed.toFixed(0)}s: ${fuzzer.execs} execs (${Math.round(fuzzer.execs / elapsed)}/s), ` +
      `${fuzzer.edges}/${build.probes} edges, corpus ${fuzzer.corpus.length}, findings ${fuzzer.findings.length}`;
  };
  console.log(`seeded: ${line()}`);

  const deadline = started + seconds * 1000;
  let nextReport = performance.now() + REPORT_EVERY_MS;
  let shown = print(fuzzer, 0);
  while (performance.now() < deadline && fuzzer.execs < execs) {
    for (let k = 0; k < 100 && fuzzer.execs < execs; k++) fuzzer.step();
    shown = print(fuzzer, shown);
    if (performance.now() >= nextReport) {
      console.log(line());
      nextReport += REPORT_EVERY_MS;
    }
  }

  const saved = save(target, fuzzer);
  const workTarget = new URL(`${target.name}/`, workDir);
  const written = writeCorpus(workTarget, fuzzer.corpus, seeds.own);
  console.log(`done: ${line()}`);
  console.log(`corpus: ${written} entries in ${relative(workTarget)} (the committed seeds change only with npm run fuzz:minimize)`);
  const found = fuzzer.findings.length;
  if (found === 0) console.log(`no oracle violations (seed ${seed})`);
  else {
    console.log(`${found} oracle violations; the first ${saved.length} saved in ${relative(FINDINGS_DIR)}`);
    console.log(`replay: npm run fuzz -- --target ${target.name} --input ${saved.join(" ")}, ` +
      `or the run: npm run fuzz -- --target ${target.name} --seed ${seed} ${budget} (from the same corpus)`);
  }
  process.exitCode = found === 0 ? 0 : 1;
}
