// npm run bench [-- --duration 10 --scenario plaintext-50,json-1k --servers simplenet,fastify]
// Starts each server alone, pinned to core 0, drives it with wrk pinned to
// core 1, and writes bench/RESULTS.md and bench/ratios.svg.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { ratioChart } from "./chart.js";
import { RssSampler, Unsupported, cpuSeconds, startServer } from "./process.js";
import { command, machine, writeSection } from "./results.js";
import { pick } from "./args.ts";

interface Scenario {
  name: string;
  what: string;
  path: string;
  connections: number;
  script?: string;
  headers?: string[];
}

const SCENARIOS: Scenario[] = [
  { name: "plaintext-50", what: "GET /hi, keep-alive, 50 connections", path: "/hi", connections: 50 },
  { name: "plaintext-256", what: "GET /hi, keep-alive, 256 connections", path: "/hi", connections: 256 },
  { name: "pipelined-16", what: "GET /hi, 16 requests pipelined per connection, 50 connections", path: "/hi", connections: 50, script: "pipeline.lua" },
  { name: "json-1k", what: "GET /json, a 1 KiB JSON response, 50 connections", path: "/json", connections: 50 },
  { name: "post-4k", what: "POST /upload with a 4 KiB body the handler reads, 50 connections", path: "/upload", connections: 50, script: "post.lua" },
  { name: "static-64k", what: "GET a 64 KiB file, 50 connections", path: "/static/64k.bin", connections: 50 },
  { name: "close", what: "GET /hi with Connection: close (a new connection per request), 50 connections", path: "/hi", connections: 50, headers: ["Connection: close"] },
];

const BASELINE = "node-http";
/** The fetch-path servers serve only the Hono app's routes. */
const FETCH_ROUTES = ["/hi", "/json"];
const STATIC_ROUTES = ["/static/64k.bin"];
/** `static`: how the server sends static-64k's file, shown beside its name in that scenario. */
const SERVERS: { name: string; label: string; routes?: string[]; static?: string }[] = [
  { name: "node-http", label: "node:http", static: "a Buffer read once" },
  { name: "node-http-stream", label: "node:http (stream)", routes: STATIC_ROUTES, static: "fs.createReadStream per request" },
  { name: "simplenet", label: "simplenet", static: "serveStatic: sendfile per request" },
  { name: "fastify", label: "fastify", static: "a Buffer read once" },
  { name: "hono-node", label: "hono on @hono/node-server", routes: FETCH_ROUTES },
  { name: "simplenet-fetch", label: "hono on simplenet (fetch)", routes: FETCH_ROUTES },
];

interface Row {
  server: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
  rssMiB: number;
  errors: number;
}

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string" },
    scenario: { type: "string" },
    servers: { type: "string" },
    /** A directory: servers run under node --cpu-prof and leave their profiles in <dir>/<server>/<scenario>/. */
    profile: { type: "string" },
  },
});
const duration = Number(args.duration);
const warmup = args.warmup !== undefined ? Number(args.warmup) : Math.max(1, Math.round(duration / 5));
const scenarios = pick(SCENARIOS, args.scenario, "scenario");
const servers = pick(SERVERS, args.servers, "server");
const notes: string[] = [];
if (!servers.some((s) => s.name === BASELINE)) {
  servers.unshift(SERVERS[0]);
  notes.push("node:http was added to the servers asked for: every ratio is against it, measured in the same run.");
}


function ensureWrk(): void {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (error) {
    // wrk --version exits 1 after printing its usage: it is there.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return;
    console.log("installing wrk (apt-get)...");
    execFileSync("bash", ["-c", "apt-get update && apt-get install -y wrk"], { stdio: "inherit" });
  }
}

/** Runs wrk on core 1 and returns its report. */
function wrk(scenario: Scenario, port: number, seconds: number): Promise<string> {
  const argv = ["-c", "1", "wrk", "-t1", `-c${scenario.connections}`, `-d${seconds}s`, "--latency", "--timeout", "5s"];
  if (scenario.script !== undefined) argv.push("-s", new URL(scenario.script, import.meta.url).pathname);
  for (const header of scenario.headers ?? []) argv.push("-H", header);
  argv.push(`http://127.0.0.1:${port}${scenario.path}`);
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", argv, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}:\n${out}`))));
  });
}

function milliseconds(value: string, unit: string): number {
  return Number(value) * (unit === "us" ? 0.001 : unit === "s" ? 1000 : 1);
}

function parseWrk(report: string): Pick<Row, "rps" | "p50" | "p99" | "errors"> {
  const percentile = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(report);
    const ms = m === null ? NaN : milliseconds(m[1], m[2]);
    // wrk now and then prints 0.00us for a percentile it failed to compute.
    return ms > 0 ? ms : NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(report);
  const errors = (socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0)) + (non2xx === null ? 0 : Number(non2xx[1]));
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(report)?.[1] ?? NaN), p50: percentile("50"), p99: percentile("99"), errors };
}

function staticRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "simplenet-bench-"));
  mkdirSync(join(root, "static"));
  writeFileSync(join(root, "static", "64k.bin"), randomBytes(65536));
  return root;
}

async function measure(serverName: string, scenario: Scenario, pid: number, port: number): Promise<Row> {
  if (warmup > 0) await wrk(scenario, port, warmup);
  const sampler = new RssSampler(pid);
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  const report = await wrk(scenario, port, duration);
  const wall = (performance.now() - started) / 1000;
  const cpu = (cpuSeconds(pid) - cpuBefore) / wall;
  const rssMiB = sampler.stop() / 1024;
  return { server: serverName, scenario: scenario.name, ...parseWrk(report), cpu, rssMiB };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–");

/** One scenario on one server, in a fresh process: a scenario's RSS is its own, and neighbours in time share the machine's load. */
async function runOne(server: (typeof SERVERS)[number], scenario: Scenario, root: string): Promise<Row | null> {
  const flags = args.profile === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${join(args.profile, server.name, scenario.name)}`];
  let proc;
  try {
    proc = await startServer(server.name, 0, { BENCH_STATIC_ROOT: root }, flags);
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    skipped.add(server.name);
    notes.push(`${server.label}: skipped, ${error.message}.`);
    console.log(`${server.label}: skipped (${error.message})`);
    return null;
  }
  try {
    return await measure(server.name, scenario, proc.pid, proc.port);
  } finally {
    for (const note of proc.notes) if (!notes.includes(note)) notes.push(note);
    await proc.stop();
  }
}

const skipped = new Set<string>();

async function main(): Promise<void> {
  ensureWrk();
  // simplenet runs from dist/, as users run it: compile the current sources first.
  execFileSync(process.execPath, [fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url)), "-p", fileURLToPath(new URL("../tsconfig.json", import.meta.url))], { stdio: "inherit" });
  const root = staticRoot();
  const rows: Row[] = [];
  try {
    // Scenario by scenario, so that each ratio compares runs close together in time.
    for (const scenario of scenarios) {
      for (const server of servers) {
        if (skipped.has(server.name) || (server.routes !== undefined && !server.routes.includes(scenario.path))) continue;
        const row = await runOne(server, scenario, root);
        if (row === null) continue;
        rows.push(row);
        const how = scenario.name === "static-64k" && server.static !== undefined ? ` (${server.static})` : "";
        console.log(
          `${scenario.name.padEnd(14)} ${(server.label + how).padEnd(28)} ${fmt(row.rps).padStart(9)} req/s  p50 ${fmt(row.p50, 2)} ms  p99 ${fmt(row.p99, 2)} ms  cpu ${fmt(row.cpu * 100)}%  rss ${fmt(row.rssMiB, 1)} MiB${row.errors > 0 ? `  errors ${row.errors}` : ""}`,
        );
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  report(rows);
}

function report(rows: Row[]): void {
  const baseline = (scenario: string) => rows.find((r) => r.server === BASELINE && r.scenario === scenario)?.rps ?? NaN;
  const label = (name: string) => SERVERS.find((s) => s.name === name)!.label;
  const measured = servers.filter((s) => rows.some((r) => r.server === s.name));
  const others = measured.filter((s) => s.name !== BASELINE);
  const lines: string[] = [
    "## HTTP servers (`npm run bench`)",
    "",
    machine(command("bench"), [
      `- wrk ${wrkVersion()}: \`wrk -t1 -cN -d${duration}s --latency\` pinned to core 1, after a ${warmup} s warm-up; each server alone, in a fresh process per scenario, pinned to core 0`,
    ]),
    "",
    "![throughput against node:http](ratios.svg)",
  ];
  const summary = (intro: string, value: (r: Row) => number) => {
    lines.push("", intro, "", `| scenario | ${measured.map((s) => s.label).join(" | ")} |`, `| --- |${measured.map(() => " ---: |").join("")}`);
    for (const scenario of scenarios) {
      const base = rows.find((r) => r.server === BASELINE && r.scenario === scenario.name);
      const cells = measured.map((s) => {
        const row = rows.find((r) => r.server === s.name && r.scenario === scenario.name);
        if (row === undefined) return "";
        return s.name === BASELINE ? fmt(value(row)) : `${fmt(value(row))} (${base === undefined ? "–" : fmt(value(row) / value(base), 2)}×)`;
      });
      lines.push(`| ${scenario.name} | ${cells.join(" | ")} |`);
    }
  };
  summary("Requests per second, and in brackets the ratio against node:http in the same run:", (r) => r.rps);
  summary("Requests per CPU-second of the server (req/s ÷ its CPU share), steadier than req/s when the machine is shared or a server is not saturated:", (r) => r.rps / r.cpu);
  for (const scenario of scenarios) {
    const mine = rows.filter((r) => r.scenario === scenario.name);
    if (mine.length === 0) continue;
    lines.push("", `### ${scenario.name}: ${scenario.what}`, "", "| server | req/s | vs node:http | p50 ms | p99 ms | server CPU | req per CPU-second | peak RSS MiB | errors |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of mine) {
      const how = scenario.name === "static-64k" ? SERVERS.find((s) => s.name === r.server)!.static : undefined;
      lines.push(`| ${label(r.server)}${how === undefined ? "" : ` (${how})`} | ${fmt(r.rps)} | ${fmt(r.rps / baseline(r.scenario), 2)}× | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.cpu * 100)}% | ${fmt(r.rps / r.cpu)} | ${fmt(r.rssMiB, 1)} | ${r.errors} |`);
    }
  }
  lines.push("", "Notes:", "", ...notes.map((n) => `- ${n}`));
  writeSection("http", lines.join("\n"));
  const bars = rows
    .filter((r) => r.server !== BASELINE && Number.isFinite(r.rps / baseline(r.scenario)))
    .map((r) => ({ group: r.scenario, series: label(r.server), value: r.rps / baseline(r.scenario) }));
  if (others.length > 0) writeFileSync(new URL("./ratios.svg", import.meta.url), ratioChart("Requests/s against node:http (1.0×), same run", bars));
  console.log("wrote bench/RESULTS.md and bench/ratios.svg");
}

function wrkVersion(): string {
  try {
    execFileSync("wrk", ["--version"], { encoding: "utf8", stdio: "pipe" });
    return "";
  } catch (error) {
    // wrk prints its version and usage, then exits 1.
    return /wrk (\S+)/.exec(String((error as { stdout?: string }).stdout ?? ""))?.[1] ?? "";
  }
}

await main();
