// npm run bench:instructions [-- --servers simplenet,uws --scenario plaintext,plaintext-256,pipelined --repeat 3 --duration 8]
// User-space instructions per request, counted by valgrind's callgrind: the
// number that tells a change to the JavaScript, the wasm or the shim apart
// on a shared machine, where time per request moves by ±10% between runs of
// the same build and instruction counts by about ±2%. Each server runs
// under callgrind (instrumentation off while it starts and warms up), wrk
// loads it, and only the measured window is counted; the main thread (where
// every server here does its work) is reported apart from the process's
// other threads (JIT compilers, GC helpers). Kernel work is not counted:
// that is what `npm run bench:floor` shows. Writes the "instructions"
// section of bench/RESULTS.md with --write (else a file in bench/.results/).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pick } from "./args.js";
import { ensurePeers } from "./peers.js";
import { Unsupported, aptInstall, buildSimplenet, startServer, type ServerProcess } from "./process.js";
import { command, machine, writeSection } from "./results.js";
import { median } from "./stats.js";
import { ensureWrk, parseWrk, runWrk, type Load } from "./wrk.js";

const { values: args } = parseArgs({
  options: {
    write: { type: "boolean", default: false },
    servers: { type: "string" },
    scenario: { type: "string" },
    repeat: { type: "string", default: "3" },
    duration: { type: "string", default: "8" },
    warmup: { type: "string", default: "8" },
  },
});
const SERVER_CPU = 0;
/** Under callgrind Node runs tens of times slower: loading Express (its modules through tsx) took longer than the 30 s other starts are given. */
const VALGRIND_START_MS = 300_000;
const LOAD_CPU = String(1);

const SERVERS = [
  { name: "simplenet", label: "simplenet" },
  { name: "simplenet-fetch", label: "Hono on simplenet (fetch)" },
  { name: "uws", label: "uWebSockets.js" },
  { name: "command", label: "the simplenet command (Router, GET /hi)", file: "simplenet-command" },
  { name: "command-no-router", label: "the command's /hi handler, no Router", file: "simplenet-command", env: { BENCH_ROUTER: "0" } },
  { name: "node-http", label: "node:http, its handler alone" },
  { name: "node-http-simplenet", label: "the same handler on simplenet/node" },
  { name: "express-node", label: "Express on node:http" },
  { name: "express-simplenet", label: "Express on simplenet/node" },
];
const SCENARIOS: { name: string; load: Load }[] = [
  { name: "plaintext", load: { path: "/hi", connections: 50, threads: 1, cpus: LOAD_CPU } },
  // The issue's second per-connection row: more sockets ready per wake-up, fewer requests per read.
  { name: "plaintext-256", load: { path: "/hi", connections: 256, threads: 1, cpus: LOAD_CPU } },
  { name: "pipelined", load: { path: "/hi", connections: 50, threads: 1, cpus: LOAD_CPU, script: "pipeline.lua" } },
];

function ensureValgrind(): void {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
  } catch {
    aptInstall("valgrind");
  }
}

/** callgrind_control's word to the running server (instrumentation on or off, dump). */
function control(pid: number, ...argv: string[]): void {
  execFileSync("callgrind_control", [...argv, String(pid)], { stdio: "ignore" });
}

/** Instructions of each thread in the dump files of `pid` in `dir`: the first is the main thread. */
function threadCounts(dir: string, pid: number): number[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(`cg.${pid}.1-`))
    .sort()
    .map((f) => Number(/^summary: (\d+)$/m.exec(readFileSync(join(dir, f), "utf8"))?.[1] ?? 0));
}

/** Per response: instructions of the main thread and of the others; wrk's count of responses and of errors (timeouts under valgrind's slowness among them). */
interface Run { main: number; others: number; requests: number; errors: number }

async function measure(name: string, load: Load, dir: string, file = name, env: Record<string, string> = {}): Promise<Run> {
  const valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes", `--callgrind-out-file=${dir}/cg.%p`];
  // Every server here is a Node one: valgrind runs Node, which runs the server's file under tsx.
  const proc: ServerProcess = await startServer(file, SERVER_CPU, env, [], [...valgrind, process.execPath, "--import", "tsx"], VALGRIND_START_MS);
  try {
    // Two warm-up runs: the second begins as the measured one does, with the last run's connections closed and
    // new ones opened, so the code those paths deoptimize is compiled again before anything is counted.
    await runWrk(load, proc.port, Number(args.warmup) / 2);
    await runWrk(load, proc.port, Number(args.warmup) / 2);
    control(proc.pid, "-i", "on");
    const w = parseWrk(await runWrk(load, proc.port, Number(args.duration)));
    control(proc.pid, "-d");
    control(proc.pid, "-i", "off");
    const [main = 0, ...rest] = threadCounts(dir, proc.pid);
    return { main: main / w.requests, others: rest.reduce((a, b) => a + b, 0) / w.requests, requests: w.requests, errors: w.errors };
  } finally {
    await proc.stop();
  }
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");

async function main(): Promise<void> {
  ensureWrk();
  ensureValgrind();
  ensurePeers();
  buildSimplenet();
  const servers = pick(SERVERS, args.servers, "server");
  const scenarios = pick(SCENARIOS, args.scenario, "scenario");
  const repeat = Number(args.repeat);
  const dir = mkdtempSync(join(tmpdir(), "simplenet-callgrind-"));
  const runs = new Map<string, Run[]>();
  const notes: string[] = [];
  const skipped = new Set<string>();
  try {
    for (let rep = 0; rep < repeat; rep++) {
      for (const scenario of scenarios) {
        for (const server of servers) {
          if (skipped.has(server.name)) continue;
          try {
            const run = await measure(server.name, scenario.load, dir, server.file, server.env);
            const key = `${server.name}/${scenario.name}`;
            runs.set(key, [...(runs.get(key) ?? []), run]);
            console.log(`${server.label}, ${scenario.name} (run ${rep + 1}): ${fmt(run.main)} instructions per request on the main thread, ${fmt(run.others)} on the others (${run.requests} requests)`);
            if (run.errors > 0) notes.push(`${server.label}, ${scenario.name}, run ${rep + 1}: wrk counted ${run.errors} errors (under callgrind a slow server's connections can time out); the counts are per response completed.`);
          } catch (error) {
            if (!(error instanceof Unsupported)) throw error;
            skipped.add(server.name);
            notes.push(`${server.label}: skipped, ${error.message}.`);
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const lines = [
    "## User-space instructions per request (`npm run bench:instructions`)",
    "",
    machine(command("bench:instructions"), [
      `- Each server under \`valgrind --tool=callgrind\` on core ${SERVER_CPU}, instrumentation off while it starts and through a ${args.warmup} s warm-up, on for ${args.duration} s of \`taskset -c ${LOAD_CPU} wrk -t1\` (plaintext: GET /hi on 50 connections; plaintext-256: on 256; pipelined: 16 per connection on 50, pipeline.lua); ${repeat} runs each, a fresh process per run`,
    ]),
    "",
    "Instructions executed in user space per response, medians (the range over the runs in brackets). The main thread is where each server parses, runs the handler and makes its system calls; the other threads are the JIT compilers and GC helpers. The kernel's work is not in these counts.",
    "",
    `| server | ${scenarios.map((s) => `${s.name}: main thread | ${s.name}: other threads`).join(" | ")} |`,
    `| --- | ${scenarios.map(() => "---: | ---:").join(" | ")} |`,
  ];
  for (const server of servers) {
    const cells = scenarios.map((s) => {
      const rs = runs.get(`${server.name}/${s.name}`) ?? [];
      if (rs.length === 0) return "– | –";
      const main = rs.map((r) => r.main);
      return `${fmt(median(main))} (${fmt(Math.min(...main))}–${fmt(Math.max(...main))}) | ${fmt(median(rs.map((r) => r.others)))}`;
    });
    lines.push(`| ${server.label} | ${cells.join(" | ")} |`);
  }
  if (notes.length > 0) lines.push("", ...notes.map((n) => `- ${n}`));
  writeSection("instructions", lines.join("\n"));
}

await main();
