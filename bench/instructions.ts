// npm run bench:instructions [-- --servers simplenet,uws --scenario plaintext,plaintext-256,pipelined,ws-echo-512 --repeat 3 --duration 8]
// User-space instructions per request, counted by valgrind's callgrind: the
// number that tells a change to the JavaScript, the wasm or the shim apart
// on a shared machine, where time per request moves by ±10% between runs of
// the same build and instruction counts by about ±2%. Each server runs
// under callgrind (instrumentation off while it starts and warms up), wrk
// loads it, and only the measured window is counted; the main thread (where
// every server here does its work) is reported apart from the process's
// other threads (JIT compilers, GC helpers). Kernel work is not counted:
// that is what `npm run bench:floor` shows. The ws- rows count per
// WebSocket message echoed or delivered, with bench:ws's servers and load
// (bench/ws-client.c, whose "start" and "end" lines bound the counted
// window); only servers with a bench/servers/ws-NAME.ts have them. Writes the "instructions"
// section of bench/RESULTS.md with --write (else a file in bench/.results/).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pick } from "./args.js";
import { PEER_DIR, ensurePeers } from "./peers.js";
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
  // Express under callgrind answers a few dozen requests a second while V8 still compiles it: after the usual 8 s
  // warm-up every request of the window timed out (0 counted); after 40 s its JIT threads were still busy (~190k
  // instructions per request beside the main thread's, against ~25k once warm). Its rows warm up for 120 s at least.
  { name: "express-node", label: "Express on node:http", warmup: 120 },
  { name: "express-simplenet", label: "Express on simplenet/node", warmup: 120 },
];
const WS_CLIENT_SOURCE = fileURLToPath(new URL("./ws-client.c", import.meta.url));
const WS_CLIENT = join(PEER_DIR, "ws-client");
/** bench:ws's load for a WebSocket row: ws-client's arguments, given the port (100 connections, one message in flight each; 1,000 subscribers, 16 publishes in flight). */
type WsLoad = (port: number) => string[];
const wsEcho = (size: number): WsLoad => (port) => ["echo", String(port), "100", String(size), "1", args.warmup!, args.duration!];

const SCENARIOS: { name: string; load?: Load; ws?: WsLoad }[] = [
  { name: "plaintext", load: { path: "/hi", connections: 50, threads: 1, cpus: LOAD_CPU } },
  // The issue's second per-connection row: more sockets ready per wake-up, fewer requests per read.
  { name: "plaintext-256", load: { path: "/hi", connections: 256, threads: 1, cpus: LOAD_CPU } },
  { name: "pipelined", load: { path: "/hi", connections: 50, threads: 1, cpus: LOAD_CPU, script: "pipeline.lua" } },
  { name: "ws-echo-32", ws: wsEcho(32) },
  { name: "ws-echo-512", ws: wsEcho(512) },
  { name: "ws-echo-16k", ws: wsEcho(16384) },
  { name: "ws-publish-1k", ws: (port) => ["pubsub", String(port), "1000", "32", "16", args.warmup!, args.duration!] },
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

async function measure(name: string, load: Load, dir: string, file = name, env: Record<string, string> = {}, minWarmup = 0): Promise<Run> {
  const warmup = Math.max(Number(args.warmup), minWarmup);
  const valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes", `--callgrind-out-file=${dir}/cg.%p`];
  // Every server here is a Node one: valgrind runs Node, which runs the server's file under tsx.
  const proc: ServerProcess = await startServer(file, SERVER_CPU, env, [], [...valgrind, process.execPath, "--import", "tsx"], VALGRIND_START_MS);
  try {
    // Two warm-up runs: the second begins as the measured one does, with the last run's connections closed and
    // new ones opened, so the code those paths deoptimize is compiled again before anything is counted.
    await runWrk(load, proc.port, warmup / 2);
    await runWrk(load, proc.port, warmup / 2);
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

function ensureWsClient(): void {
  if (existsSync(WS_CLIENT) && statSync(WS_CLIENT).mtimeMs >= statSync(WS_CLIENT_SOURCE).mtimeMs) return;
  execFileSync("cc", ["-O2", "-Wall", "-o", WS_CLIENT, WS_CLIENT_SOURCE], { stdio: "inherit" });
}

/** As measure(), with ws-client as the load: per message echoed (or delivered to a subscriber) in its measured window. */
async function measureWs(name: string, load: WsLoad, dir: string): Promise<Run> {
  const valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes", `--callgrind-out-file=${dir}/cg.%p`];
  const proc: ServerProcess = await startServer(`ws-${name}`, SERVER_CPU, {}, [], [...valgrind, process.execPath, "--import", "tsx"], VALGRIND_START_MS);
  try {
    let result = "";
    // (The same descriptor limit as bench:ws's client: 1,001 sockets for publish-1k.)
    const script = `(ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)") && exec taskset -c ${LOAD_CPU} "$@"`;
    const client = spawn("bash", ["-c", script, "bash", WS_CLIENT, ...load(proc.port)], { stdio: ["ignore", "pipe", "inherit"] });
    createInterface({ input: client.stdout }).on("line", (line) => {
      if (line === "start") control(proc.pid, "-i", "on");
      if (line === "end") {
        control(proc.pid, "-d");
        control(proc.pid, "-i", "off");
      }
      if (line.startsWith("result ")) result = line;
    });
    const code = await new Promise<number | null>((resolve) => client.once("exit", resolve));
    const count = (key: string): number => Number(new RegExp(`\\b${key}=(\\d+)`).exec(result)?.[1] ?? NaN);
    if (code !== 0 || !(count("messages") > 0)) throw new Error(`ws-client ${load(proc.port).join(" ")} failed (exit ${code}): ${result}`);
    const [main = 0, ...rest] = threadCounts(dir, proc.pid);
    const messages = count("messages");
    return { main: main / messages, others: rest.reduce((a, b) => a + b, 0) / messages, requests: messages, errors: count("errors") };
  } finally {
    await proc.stop();
  }
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");

async function main(): Promise<void> {
  ensureWrk();
  ensureValgrind();
  ensurePeers();
  ensureWsClient();
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
          if (scenario.ws !== undefined && !existsSync(new URL(`./servers/ws-${server.name}.ts`, import.meta.url))) continue;
          try {
            const run = scenario.ws !== undefined
              ? await measureWs(server.name, scenario.ws, dir)
              : await measure(server.name, scenario.load!, dir, server.file, server.env, server.warmup);
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
      `- Each server under \`valgrind --tool=callgrind\` on core ${SERVER_CPU}, instrumentation off while it starts and through a ${args.warmup} s warm-up (Express's rows: at least 120 s), on for ${args.duration} s of \`taskset -c ${LOAD_CPU} wrk -t1\` (plaintext: GET /hi on 50 connections; plaintext-256: on 256; pipelined: 16 per connection on 50, pipeline.lua; the ws- rows: bench:ws's servers under \`taskset -c ${LOAD_CPU} ws-client\`, echo of binary messages of 32 B, 512 B, 16 KiB on 100 connections, one in flight each, and 32 B published to 1,000 subscribers, 16 publishes in flight, per message echoed or delivered); ${repeat} runs each, a fresh process per run`,
    ]),
    "",
    "Instructions executed in user space per response (ws- rows: per message), medians (the range over the runs in brackets). The main thread is where each server parses, runs the handler and makes its system calls; the other threads are the JIT compilers and GC helpers. The kernel's work is not in these counts.",
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
