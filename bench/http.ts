// npm run bench [-- --duration 5 --repeat 3 --scenario plaintext-50,json-1k --servers simplenet,uws]
// HTTP servers under load: simplenet against node:http, fastify, uWebSockets.js,
// Bun.serve, Deno.serve, nginx (multi-core), and the same Hono app on
// @hono/node-server, Bun, Deno and simplenet's serve({ fetch }). Each server
// runs alone in a fresh process pinned to core 0, wrk pinned to core 1; the
// multi-core scenario puts both on both cores. Writes the "http" section of
// bench/RESULTS.md and bench/ratios.svg with --write (else files in
// bench/.results/); with --profile, only the "http-profile" section
// (bench/http-profile.ts).
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { ratioChart } from "./chart.js";
import {
  RssSampler, Unsupported, buildSimplenet, busyTicks, coreTicks, startServer, ticksBetween, totalTicks, treeCpuSplit, TICK_SECONDS,
  type ServerProcess,
} from "./process.js";
import { PEER_DIR, binaryVersion, bunBinary, denoBinary, ensurePeers, installedVersion } from "./peers.js";
import { command, machine, writeFigure, writeSection } from "./results.js";
import { median } from "./stats.js";
import { ensureWrk, parseWrk, runWrk, wrkLine, wrkVersion, type Load } from "./wrk.js";
import { profileScenarios } from "./http-profile.js";
import { boundMark, boundNote, loadBound } from "./load-bound.js";
import type { Group, Runtime, Scenario, ServerDef } from "./http-defs.js";

export type { Scenario, ServerDef };
import { pick } from "./args.ts";

const SERVER_CPU = 0;
const LOAD_CPU = 1;

// `--profile DIR` (the older form) is `--profile --profile-dir DIR`.
const argv = process.argv.slice(2);
const profileAt = argv.indexOf("--profile");
if (profileAt >= 0 && argv[profileAt + 1] !== undefined && !argv[profileAt + 1].startsWith("--")) argv.splice(profileAt + 1, 0, "--profile-dir");

const { values: args } = parseArgs({
  args: argv,
  options: {
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    repeat: { type: "string", default: "3" },
    scenario: { type: "string" },
    servers: { type: "string" },
    /** Workers (threads or processes) of each server in the multi-core scenario. */
    workers: { type: "string", default: "2" },
    /** Profile simplenet in each scenario instead of comparing servers: writes RESULTS.md's http-profile section. */
    profile: { type: "boolean", default: false },
    /** Into the committed bench/RESULTS.md and bench/ratios.svg (default: bench/.results/). */
    write: { type: "boolean", default: false },
    /** With --profile: keep the raw profiles (perf.data, .cpuprofile) under this folder. */
    "profile-dir": { type: "string" },
  },
});
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const repeat = Math.max(1, Number(args.repeat));
const workers = Number(args.workers);

export const SCENARIOS: Scenario[] = [
  { name: "plaintext-50", what: "GET /hi, keep-alive, 50 connections", path: "/hi", connections: 50 },
  { name: "plaintext-256", what: "GET /hi, keep-alive, 256 connections", path: "/hi", connections: 256 },
  { name: "pipelined-16", what: "GET /hi, 16 requests pipelined per connection, 50 connections", path: "/hi", connections: 50, script: "pipeline.lua" },
  { name: "json-1k", what: "GET /json, a 1 KiB JSON response, 50 connections", path: "/json", connections: 50 },
  { name: "post-4k", what: "POST /upload with a 4 KiB body the handler reads, 50 connections", path: "/upload", connections: 50, script: "post.lua" },
  { name: "static-64k", what: "GET a 64 KiB file, 50 connections", path: "/static/64k.bin", connections: 50 },
  { name: "close", what: "GET /hi with Connection: close (a new connection per request), 50 connections", path: "/hi", connections: 50, headers: ["Connection: close"] },
  {
    name: "workers-256",
    what: `GET /hi, keep-alive, 256 connections; each server with ${workers} workers on cores 0 and 1, and wrk (2 threads) on the same two cores`,
    path: "/hi", connections: 256, multi: true,
  },
];

const BASELINE = "node-http";
/** The fetch-path servers serve only the Hono app's routes; nginx only /hi. */
const FETCH_ROUTES = ["/hi", "/json"];
const STATIC_ROUTES = ["/static/64k.bin"];
const HI_ROUTE = ["/hi"];

export const SERVERS: ServerDef[] = [
  { name: "node-http", label: "node:http", file: "node-http", runtime: "node", group: "own", static: "a Buffer read once" },
  { name: "node-http-stream", label: "node:http (stream)", short: "node:http (stream)", file: "node-http-stream", runtime: "node", group: "own", routes: STATIC_ROUTES, static: "fs.createReadStream per request" },
  { name: "simplenet", label: "simplenet", file: "simplenet", runtime: "node", group: "own", static: "serveStatic: held in memory, checked against the disk once a second" },
  { name: "fastify", label: "fastify", short: "fastify", file: "fastify", runtime: "node", group: "own", static: "a Buffer read once" },
  { name: "uws", label: "uWS.js", short: "uWS.js", file: "uws", runtime: "node", group: "own", static: "a Buffer read once" },
  { name: "bun", label: "Bun.serve", short: "Bun", file: "bun", runtime: "bun", group: "own", static: "Bun.file: sendfile per request" },
  { name: "deno", label: "Deno.serve", short: "Deno", file: "deno", runtime: "deno", group: "own", static: "bytes read once" },
  { name: "hono-node", label: "hono on @hono/node-server", short: "@hono/node-server", file: "hono-node", runtime: "node", group: "fetch", routes: FETCH_ROUTES },
  { name: "hono-bun", label: "hono on Bun.serve", short: "Bun", file: "hono-bun", runtime: "bun", group: "fetch", routes: FETCH_ROUTES },
  { name: "hono-deno", label: "hono on Deno.serve", short: "Deno", file: "hono-deno", runtime: "deno", group: "fetch", routes: FETCH_ROUTES },
  { name: "simplenet-fetch", label: "hono on simplenet (fetch)", file: "simplenet-fetch", runtime: "node", group: "fetch", routes: FETCH_ROUTES },
  { name: "simplenet-workers", label: `simplenet, ${workers} workers`, file: "simplenet", runtime: "node", group: "multi", routes: HI_ROUTE, env: { BENCH_WORKERS: String(workers) } },
  { name: "uws-workers", label: `uWS.js, ${workers} workers`, short: "uWS.js", file: "uws", runtime: "node", group: "multi", routes: HI_ROUTE, env: { BENCH_WORKERS: String(workers) } },
  { name: "nginx", label: "nginx (worker_processes auto)", short: "nginx", file: "nginx", runtime: "node", group: "multi", routes: HI_ROUTE },
  { name: "express-simplenet", label: "Express on simplenet/node", file: "express-simplenet", runtime: "node", group: "express", routes: FETCH_ROUTES },
  { name: "express-node", label: "Express on node:http", short: "node:http", file: "express-node", runtime: "node", group: "express", routes: FETCH_ROUTES },
  { name: "express-bun", label: "Express on Bun", short: "Bun", file: "express-bun", runtime: "bun", group: "express", routes: FETCH_ROUTES },
  { name: "fastify-simplenet", label: "Fastify on simplenet/node", file: "fastify-simplenet", runtime: "node", group: "fastify-app", routes: FETCH_ROUTES },
  { name: "fastify-node", label: "Fastify on node:http", short: "node:http", file: "fastify-node", runtime: "node", group: "fastify-app", routes: FETCH_ROUTES },
  { name: "fastify-bun", label: "Fastify on Bun", short: "Bun", file: "fastify-bun", runtime: "bun", group: "fastify-app", routes: FETCH_ROUTES },
];

/** The server each group's ratios are for. */
const MINE: Record<Group, string> = {
  own: "simplenet", fetch: "simplenet-fetch", multi: "simplenet-workers", express: "express-simplenet", "fastify-app": "fastify-simplenet",
};
const GROUP_TITLE: Record<Group, string> = {
  own: "Each server's own API, one core",
  fetch: "The same Hono app (fetch handlers), one core",
  multi: `${workers} workers on both cores, wrk sharing them`,
  express: "The same Express app on node:http, on simplenet's node:http face and on Bun, one core",
  "fastify-app": "The same Fastify app on node:http, on simplenet's node:http face (serverFactory) and on Bun, one core",
};

const scenarios = pick(SCENARIOS, args.scenario, "scenario");
const servers = pick(SERVERS, args.servers, "server");
const notes: string[] = [];
if (!args.profile && scenarios.some((s) => !s.multi) && !servers.some((s) => s.name === BASELINE)) {
  servers.unshift(SERVERS[0]);
  notes.push("node:http was added to the servers asked for: the chart's ratios are against it, measured in the same run.");
}

const runsIn = (server: ServerDef, scenario: Scenario) =>
  server.group === "multi" ? scenario.multi === true : scenario.multi !== true && (server.routes === undefined || server.routes.includes(scenario.path));

export function loadOf(scenario: Scenario): Load {
  return scenario.multi
    ? { path: scenario.path, connections: scenario.connections, script: scenario.script, headers: scenario.headers, threads: 2, cpus: `${SERVER_CPU},${LOAD_CPU}` }
    : { path: scenario.path, connections: scenario.connections, script: scenario.script, headers: scenario.headers, threads: 1, cpus: String(LOAD_CPU) };
}

// ---- starting servers ------------------------------------------------------

/** Deno reads hono from the project's node_modules through this import map: nothing is fetched (--no-remote, --no-npm). */
function denoImportMap(): string {
  let hono: string;
  try {
    hono = import.meta.resolve("hono");
  } catch {
    hono = pathToFileURL(fileURLToPath(new URL("../node_modules/hono/dist/index.js", import.meta.url))).href;
  }
  const file = join(PEER_DIR, "deno-import-map.json");
  writeFileSync(file, JSON.stringify({ imports: { hono } }, null, 2) + "\n");
  return file;
}

/** The command a server file runs with, and the environment it needs; null when the runtime is not installed. */
function runtimeCommand(runtime: Runtime): { argv?: string[]; env: Record<string, string> } | null {
  if (runtime === "node") return { env: {} };
  if (runtime === "bun") {
    const bun = bunBinary();
    // --no-install: never fetch a package (hono resolves from node_modules); DO_NOT_TRACK: no crash reports or telemetry.
    return bun === null ? null : { argv: [bun, "--no-install"], env: { DO_NOT_TRACK: "1" } };
  }
  const deno = denoBinary();
  if (deno === null) return null;
  return {
    argv: [
      deno, "run", "--no-remote", "--no-npm", "--no-config", "--no-lock", "--no-prompt", "--sloppy-imports",
      `--import-map=${denoImportMap()}`, "--allow-net=127.0.0.1", "--allow-read", "--allow-env",
    ],
    env: { DENO_DIR: join(PEER_DIR, "deno-dir"), DENO_NO_UPDATE_CHECK: "1", DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1" },
  };
}

/** Starts a server for a scenario: pinned to core 0, or to cores 0 and 1 in the multi-core scenario. */
export function launch(server: ServerDef, scenario: Scenario, root: string, nodeFlags: string[] = []): Promise<ServerProcess> {
  const run = runtimeCommand(server.runtime);
  if (run === null) return Promise.reject(new Unsupported(`${server.runtime} is not installed in bench/.peers`));
  const cpus = scenario.multi ? `${SERVER_CPU},${LOAD_CPU}` : SERVER_CPU;
  return startServer(server.file, cpus, { BENCH_STATIC_ROOT: root, ...run.env, ...server.env }, nodeFlags, run.argv);
}

export function staticRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "simplenet-bench-"));
  mkdirSync(join(root, "static"));
  writeFileSync(join(root, "static", "64k.bin"), randomBytes(65536));
  return root;
}

// ---- measuring -------------------------------------------------------------

export interface Run {
  server: string;
  scenario: string;
  rep: number;
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  errors: number;
  /** Busy µs of the server's core per request (multi-core: of both cores, wrk's share included). */
  coreUs: number;
  /** Busy share of core 0 (the server's) and core 1 (wrk's), 1 = all the time. */
  core0: number;
  core1: number;
  /** The server process's (and its children's) user+system time over the run, 1 = one core. */
  cpu: number;
  /** The same time per request, µs: the server's own share of coreUs (without softirq and without other processes on its core). */
  procUs: number;
  rssMiB: number;
}

async function measure(server: ServerDef, scenario: Scenario, proc: ServerProcess, rep: number): Promise<Run> {
  const load = loadOf(scenario);
  if (warmup > 0) await runWrk(load, proc.port, warmup);
  const sampler = new RssSampler(proc.pid, 100, true);
  const cpuBefore = treeCpuSplit(proc.pid);
  const [c0, c1] = coreTicks([SERVER_CPU, LOAD_CPU]);
  const started = performance.now();
  const report = await runWrk(load, proc.port, duration);
  const wall = (performance.now() - started) / 1000;
  const [d0, d1] = coreTicks([SERVER_CPU, LOAD_CPU]).map((t, i) => ticksBetween([c0, c1][i], t));
  const cpuAfter = treeCpuSplit(proc.pid);
  const rssMiB = sampler.stop() / 1024;
  const w = parseWrk(report);
  const busy = scenario.multi ? busyTicks(d0) + busyTicks(d1) : busyTicks(d0);
  return {
    server: server.name, scenario: scenario.name, rep, ...w,
    coreUs: (busy * TICK_SECONDS * 1e6) / w.requests,
    core0: busyTicks(d0) / Math.max(1, totalTicks(d0)),
    core1: busyTicks(d1) / Math.max(1, totalTicks(d1)),
    cpu: (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / wall,
    procUs: ((cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) * 1e6) / w.requests,
    rssMiB,
  };
}

const skipped = new Set<string>();
const label = (name: string) => SERVERS.find((s) => s.name === name)?.label ?? name;
const fmt = (n: number | undefined, digits = 0) => (n !== undefined && Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–");
const addNote = (text: string) => {
  if (!notes.includes(text)) notes.push(text);
};

/** One scenario on one server, in a fresh process: a scenario's RSS is its own, and neighbours in time share the machine's load. */
async function runOne(server: ServerDef, scenario: Scenario, root: string, rep: number): Promise<Run | null> {
  let proc: ServerProcess;
  try {
    proc = await launch(server, scenario, root);
  } catch (error) {
    if (error instanceof Unsupported) {
      skipped.add(server.name);
      addNote(`${server.label}: skipped, ${error.message}.`);
      console.log(`${server.label}: skipped (${error.message})`);
    } else {
      addNote(`${server.label} failed to start in ${scenario.name} (run ${rep}): ${(error as Error).message.split("\n")[0]}`);
      console.log(`${server.label}: failed to start in ${scenario.name}: ${(error as Error).message}`);
    }
    return null;
  }
  try {
    return await measure(server, scenario, proc, rep);
  } catch (error) {
    addNote(`${server.label} in ${scenario.name} (run ${rep}): ${(error as Error).message.split("\n")[0]}`);
    console.log(`${server.label} in ${scenario.name}: ${(error as Error).message}`);
    return null;
  } finally {
    for (const note of proc.notes) addNote(note);
    await proc.stop();
  }
}

// ---- statistics ------------------------------------------------------------

interface Stat { median: number; min: number; max: number; n: number }
function stat(runs: Run[], key: keyof Run): Stat {
  const values = runs.map((r) => r[key] as number).filter(Number.isFinite);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}
const of = (runs: Run[], server: string, scenario: string) => runs.filter((r) => r.server === server && r.scenario === scenario);

/** "78,812 ±6%": the median, and half the range (max − min) as a share of it. */
function withSpread(s: Stat, digits: number): string {
  if (s.n === 0) return "";
  if (s.n === 1) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} ±${fmt((50 * (s.max - s.min)) / s.median)}%`;
}

interface Measure { key: keyof Run; what: string; higher: boolean; digits: number; ratio: boolean }
function measures(scenario: Scenario): Measure[] {
  return [
    { key: "rps", what: "req/s", higher: true, digits: 0, ratio: true },
    { key: "coreUs", what: scenario.multi ? "busy µs per request, both cores (wrk's included)" : "server-core µs per request", higher: false, digits: 1, ratio: true },
    { key: "procUs", what: "server process CPU µs per request", higher: false, digits: 1, ratio: true },
    { key: "p99", what: "p99 ms", higher: false, digits: 2, ratio: true },
    scenario.multi
      ? { key: "core0", what: "core 0 busy (server and wrk)", higher: false, digits: 0, ratio: false }
      : { key: "core1", what: "wrk's core busy", higher: false, digits: 0, ratio: false },
  ];
}

/** "How many times better" mine is than theirs (> 1: mine wins), from medians. */
function ratio(runs: Run[], scenario: string, mine: string, theirs: string, m: Measure): number {
  const a = stat(of(runs, mine, scenario), m.key).median;
  const b = stat(of(runs, theirs, scenario), m.key).median;
  return m.higher ? a / b : b / a;
}

// ---- reporting -------------------------------------------------------------

function groupTable(runs: Run[], group: Group): string[] {
  const members = servers.filter((s) => s.group === group && runs.some((r) => r.server === s.name));
  if (members.length === 0) return [];
  const mine = MINE[group];
  const hasMine = members.some((s) => s.name === mine);
  const peers = hasMine ? members.filter((s) => s.name !== mine) : [];
  const lines = [
    `### ${GROUP_TITLE[group]}`,
    "",
    ...(peers.length > 0 ? [`Ratios: ${label(mine)} against each.`, ""] : []),
    `| scenario | measure | ${members.map((s) => s.label).join(" | ")} |${peers.map((p) => ` vs ${p.short ?? p.label} |`).join("")}`,
    `| --- | --- |${members.map(() => " ---: |").join("")}${peers.map(() => " ---: |").join("")}`,
  ];
  for (const scenario of scenarios) {
    if (!members.some((s) => of(runs, s.name, scenario.name).length > 0)) continue;
    // wrk's core past the bound: req/s is wrk's, and the req/s ratio compares server-core µs per request instead.
    const wrkBusy = (server: string) => (scenario.multi ? undefined : stat(of(runs, server, scenario.name), "core1").median);
    const coreUs = measures(scenario).find((m) => m.key === "coreUs")!;
    for (const m of measures(scenario)) {
      const cells = members.map((s) => {
        const st = stat(of(runs, s.name, scenario.name), m.key);
        if (m.key === "core0" || m.key === "core1") return st.n === 0 ? "" : `${fmt(st.median * 100)}%`;
        return withSpread(st, m.digits) + (m.key === "rps" && st.n > 0 ? boundMark("wrk", wrkBusy(s.name)) : "");
      });
      const ratios = peers.map((p) => {
        if (!m.ratio) return "";
        const bound = m.key === "rps" && (loadBound(wrkBusy(mine)) || loadBound(wrkBusy(p.name)));
        const r = ratio(runs, scenario.name, mine, p.name, bound ? coreUs : m);
        return Number.isFinite(r) ? `${fmt(r, 2)}×${bound ? " µs" : ""}` : "";
      });
      lines.push(`| ${scenario.name} | ${m.what} | ${cells.join(" | ")} |${ratios.map((r) => ` ${r} |`).join("")}`);
    }
  }
  return lines;
}

function detailTables(runs: Run[]): string[] {
  const lines: string[] = [];
  for (const scenario of scenarios) {
    const mine = runs.filter((r) => r.scenario === scenario.name);
    if (mine.length === 0) continue;
    const coreCols = scenario.multi ? "µs per request, both cores | core 0 busy | core 1 busy" : "server-core µs per request | core 0 busy (server) | core 1 busy (wrk)";
    lines.push(
      "", `### ${scenario.name}: ${scenario.what}`, "",
      `| server | run | req/s | p50 ms | p99 ms | ${coreCols} | server CPU | server CPU µs per request | peak RSS MiB | errors |`,
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    const order = servers.map((s) => s.name);
    mine.sort((a, b) => order.indexOf(a.server) - order.indexOf(b.server) || a.rep - b.rep);
    for (const r of mine) {
      const how = scenario.name === "static-64k" ? SERVERS.find((s) => s.name === r.server)!.static : undefined;
      lines.push(`| ${label(r.server)}${how === undefined ? "" : ` (${how})`} | ${r.rep} | ${fmt(r.rps)}${scenario.multi ? "" : boundMark("wrk", r.core1)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.coreUs, 2)} | ${fmt(r.core0 * 100)}% | ${fmt(r.core1 * 100)}% | ${fmt(r.cpu * 100)}% | ${fmt(r.procUs, 2)} | ${fmt(r.rssMiB, 1)} | ${r.errors} |`);
    }
  }
  return lines;
}

function peerVersions(): string {
  const uws = installedVersion("@trufflesuite/uws-js-unofficial");
  return `uWS.js from @trufflesuite/uws-js-unofficial ${uws ?? "?"}, bun ${binaryVersion(bunBinary())} (@oven/bun-linux-x64-baseline), deno ${binaryVersion(denoBinary())} (deno on npm), installed by the benchmark into bench/.peers; nginx from the system`;
}

function report(runs: Run[]): void {
  const single = scenarios.filter((s) => !s.multi).map((s) => s.name);
  const baseline = (scenario: string) => stat(of(runs, BASELINE, scenario), "rps").median;
  for (const r of runs) {
    if (r.scenario === "close" && r.errors > 0 && r.errors <= r.requests * 1.01) {
      addNote(`close: ${label(r.server)}'s errors (about one per request) are wrk counting the server's close of each connection, after a complete response, as a read error: not failed requests. (uWS.js, for one, closes without a \`Connection: close\` header in its response.)`);
    }
  }
  if (runs.some((r) => !scenarios.find((s) => s.name === r.scenario)?.multi && loadBound(r.core1))) addNote(boundNote("wrk", "server-core µs per request"));
  // Servers that serve only some routes: say which scenarios they sat out.
  for (const server of servers) {
    const out = scenarios.filter((s) => !runsIn(server, s) && (server.group === "multi") === (s.multi === true)).map((s) => s.name);
    if (out.length > 0 && out.length < scenarios.filter((s) => (server.group === "multi") === (s.multi === true)).length) {
      addNote(`${server.label} serves only ${server.routes!.join(" and ")}: not run in ${out.join(", ")}.`);
    }
  }
  const tables = (["own", "fetch", "multi", "express", "fastify-app"] as Group[]).flatMap((g) => {
    const t = groupTable(runs, g);
    return t.length === 0 ? [] : ["", ...t];
  });
  const lines: string[] = [
    "## HTTP servers (`npm run bench`)",
    "",
    machine(command("bench"), [
      `- Peers: ${peerVersions()}`,
      `- wrk ${wrkVersion()}: \`${wrkLine({ cpus: String(LOAD_CPU), threads: 1, connections: 50 }, duration)}\` (N connections per scenario), after a ${warmup} s warm-up; each server alone, in a fresh process per run, pinned to core ${SERVER_CPU}; the multi-core scenario: server and \`wrk -t2\` both on cores ${SERVER_CPU},${LOAD_CPU}`,
      `- ${repeat} run${repeat === 1 ? "" : "s"} per server and scenario, the servers taking turns within each repetition (the order rotates from one repetition to the next)`,
    ]),
    "",
    "![throughput against node:http](ratios.svg)",
    "",
    `Median of the runs; ± is half the range (max − min) as a share of the median. The ratios compare medians and read "how many times better simplenet is" (> 1× means simplenet wins): for req/s simplenet ÷ peer, for µs per request and p99 peer ÷ simplenet. **server-core µs per request** is the busy time of core ${SERVER_CPU} (everything in /proc/stat but idle and iowait: the server's user and system time and the softirq time of the loopback TCP path) divided by the requests completed; **wrk's core busy** near 100% means the load generator, not the server, set req/s, and µs per request is then the number that tells servers apart.`,
    ...tables,
    ...detailTables(runs),
    "",
    "Notes:",
    "",
    ...notes.map((n) => `- ${n}`),
  ];
  writeSection("http", lines.join("\n"));
  const bars = servers
    .filter((s) => s.name !== BASELINE && s.group !== "multi")
    .flatMap((s) => single.map((scenario) => ({ group: scenario, series: s.label, value: stat(of(runs, s.name, scenario), "rps").median / baseline(scenario) })))
    .filter((b) => Number.isFinite(b.value));
  if (bars.length > 0) writeFigure("ratios.svg", ratioChart("Requests/s against node:http (1.0×), medians of the same run", bars));
  console.log("");
  console.log(tables.join("\n"));
}

async function main(): Promise<void> {
  ensureWrk();
  ensurePeers();
  buildSimplenet();
  const root = staticRoot();
  try {
    if (args.profile) {
      await profileScenarios({ scenarios: scenarios.filter((s) => !s.multi), servers: args.servers === undefined ? SERVERS.filter((s) => s.name === "simplenet" || s.name === "simplenet-fetch") : servers, root, duration, warmup, dir: args["profile-dir"], runsIn, launch, loadOf });
      return;
    }
    const runs: Run[] = [];
    const started = Date.now();
    const total = scenarios.reduce((n, scenario) => n + servers.filter((s) => runsIn(s, scenario)).length, 0) * repeat;
    console.log(`${total} runs of ${warmup} + ${duration} s (about ${Math.ceil((total * (warmup + duration + 1.5)) / 60)} minutes)`);
    // Scenario by scenario, each repetition running every server once, in an order that rotates: the runs a ratio compares lie close together in time.
    for (const scenario of scenarios) {
      const here = servers.filter((s) => runsIn(s, scenario));
      for (let rep = 1; rep <= repeat; rep++) {
        const shift = (rep - 1) % Math.max(1, here.length);
        for (const server of [...here.slice(shift), ...here.slice(0, shift)]) {
          if (skipped.has(server.name)) continue;
          const run = await runOne(server, scenario, root, rep);
          if (run === null) continue;
          runs.push(run);
          const how = scenario.name === "static-64k" && server.static !== undefined ? ` (${server.static})` : "";
          const coreText = scenario.multi
            ? `${fmt(run.coreUs, 1)} µs/req on both cores (busy ${fmt(run.core0 * 100)}% ${fmt(run.core1 * 100)}%)`
            : `core0 ${fmt(run.coreUs, 1)} µs/req (busy ${fmt(run.core0 * 100)}%)  wrk core ${fmt(run.core1 * 100)}%`;
          console.log(
            `${scenario.name.padEnd(13)} #${rep} ${(server.label + how).padEnd(30)} ${fmt(run.rps).padStart(9)} req/s${scenario.multi ? "" : boundMark("wrk", run.core1)}  p99 ${fmt(run.p99, 2)} ms  ${coreText}  server cpu ${fmt(run.cpu * 100)}% ${fmt(run.procUs, 1)} µs/req  rss ${fmt(run.rssMiB, 1)} MiB${run.errors > 0 ? `  errors ${run.errors}` : ""}`,
          );
        }
      }
    }
    report(runs);
    console.log(`${runs.length} runs in ${((Date.now() - started) / 60_000).toFixed(1)} minutes`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
