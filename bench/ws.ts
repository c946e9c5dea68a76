// npm run bench:ws [-- --duration 5 --repeat 3 --scenario echo-512,idle-10k --servers simplenet,uws]
// WebSocket servers under load: simplenet against `ws` (on node:http) and
// uWebSockets.js. Each server runs alone in a fresh process pinned to core 0;
// the load comes from bench/ws-client.c pinned to core 1, which reports its
// own CPU use. Writes the "ws" section of bench/RESULTS.md with --write (else a file in bench/.results/).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RssSampler, Unsupported, buildSimplenet, cpuSeconds, memoryKiB, startServer, type ServerProcess } from "./process.js";
import { PEER_DIR, ensurePeers, installedVersion } from "./peers.js";
import { command, machine, writeSection } from "./results.js";
import { median } from "./stats.js";
import { pick } from "./args.ts";
import { boundMark, boundNote, loadBound } from "./load-bound.js";

const CLIENT_SOURCE = fileURLToPath(new URL("./ws-client.c", import.meta.url));
const CLIENT = join(PEER_DIR, "ws-client");
const SERVER_CPU = 0;
const CLIENT_CPU = 1;

const SERVERS = [
  { name: "simplenet", label: "simplenet" },
  { name: "ws", label: "ws" },
  { name: "uws", label: "uWS.js" },
];

interface Scenario {
  name: string;
  kind: "echo" | "idle" | "publish";
  what: string;
  size?: number;
  /** echo: messages in flight per connection */
  depth?: number;
}

const { values: args } = parseArgs({
  options: {
    write: { type: "boolean", default: false },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    repeat: { type: "string", default: "3" },
    scenario: { type: "string" },
    servers: { type: "string" },
    connections: { type: "string", default: "100" },
    depth: { type: "string", default: "1" },
    idle: { type: "string", default: "10000" },
    subscribers: { type: "string", default: "1000" },
    window: { type: "string", default: "16" },
    /** Where to leave the CPU profile of simplenet's 512 B echo run; a temporary folder otherwise. */
    "profile-dir": { type: "string" },
    /** Whether to profile simplenet (during --profile-scenario) when it misses a target: "auto" (default), "always", "never". */
    profile: { type: "string", default: "auto" },
    /** The scenarios to profile simplenet in, comma-separated. */
    "profile-scenario": { type: "string", default: "echo-512,publish-1k" },
  },
});
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const repeat = Number(args.repeat);
const connections = Number(args.connections);
const depth = Number(args.depth);
const idleN = Number(args.idle);
const subscribers = Number(args.subscribers);
const windowN = Number(args.window);
const PUBLISH_SIZE = 32;

const SCENARIOS: Scenario[] = [
  { name: "echo-32", kind: "echo", size: 32, what: `echo of 32 B binary messages, ${connections} connections, ${depth} in flight each` },
  { name: "echo-512", kind: "echo", size: 512, what: `echo of 512 B binary messages, ${connections} connections, ${depth} in flight each` },
  { name: "echo-16k", kind: "echo", size: 16384, what: `echo of 16 KiB binary messages, ${connections} connections, ${depth} in flight each` },
  { name: "echo-512-p16", kind: "echo", size: 512, depth: 16, what: `echo of 512 B binary messages, ${connections} connections, 16 in flight each (pipelined: the system calls are shared by many messages)` },
  { name: `idle-${idleN >= 1000 && idleN % 1000 === 0 ? `${idleN / 1000}k` : idleN}`, kind: "idle", what: `${idleN} idle WebSocket connections: server RSS per connection` },
  { name: `publish-${subscribers >= 1000 && subscribers % 1000 === 0 ? `${subscribers / 1000}k` : subscribers}`, kind: "publish", size: PUBLISH_SIZE, what: `one publisher, ${subscribers} subscribers of one topic, ${PUBLISH_SIZE} B messages, at most ${windowN} publishes undelivered` },
];

const scenarios = pick(SCENARIOS, args.scenario, "scenario");
const servers = pick(SERVERS, args.servers, "server");


// ---- setup ----------------------------------------------------------------

/** Compiles the load generator when it is missing or older than its source. */
function ensureClient(): void {
  if (existsSync(CLIENT) && statSync(CLIENT).mtimeMs >= statSync(CLIENT_SOURCE).mtimeMs) return;
  execFileSync("cc", ["-O2", "-Wall", "-o", CLIENT, CLIENT_SOURCE], { stdio: "inherit" });
}

// ---- measuring -------------------------------------------------------------

/** Busy and total clock ticks of one core, from /proc/stat. */
function coreTicks(cpu: number): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith(`cpu${cpu} `))!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy, total: busy + idle + iowait + steal };
}

/** User and system CPU seconds of a process (all threads), from /proc/<pid>/stat (fields 14 and 15, in 1/100 s). */
function cpuSplit(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

interface Run {
  server: string;
  scenario: string;
  rep: number;
  /** echo and publish */
  rate?: number;
  p50?: number;
  p99?: number;
  clientCpu?: number;
  /** The client's core busy (/proc/stat: the client and anything else on it), 1 = all the time. */
  clientCoreBusy?: number;
  serverCpu?: number;
  coreBusy?: number;
  usPerMessage?: number;
  /** the user-space part of usPerMessage (JS, the addon, wasm); the rest is the kernel's */
  userUsPerMessage?: number;
  peakRssMiB?: number;
  errors?: number;
  /** idle */
  beforeMiB?: number;
  afterMiB?: number;
  afterGcMiB?: number;
  kibPerConnection?: number;
  kibPerConnectionGc?: number;
  openMs?: number;
}

/** Starts the client on core 1 (descriptor limit raised), and hands each line it prints to `onLine`. */
function client(argv: string[], onLine: (line: string) => void): { child: ChildProcess; done: Promise<number> } {
  const script = `(ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)") && exec taskset -c ${CLIENT_CPU} "$@"`;
  const child = spawn("bash", ["-c", script, "bash", CLIENT, ...argv], { stdio: ["ignore", "pipe", "inherit"] });
  createInterface({ input: child.stdout! }).on("line", onLine);
  const done = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal === "SIGTERM" ? 0 : 1)));
  });
  return { child, done };
}

function parseResult(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of line.slice("result ".length).split(" ")) {
    const [key, value] = pair.split("=");
    out[key] = Number(value);
  }
  return out;
}

/** Echo or publish: the client runs warm-up then the measured window; server CPU and core time are read at its "start" and "end". */
async function loadRun(server: ServerProcess, scenario: Scenario, rep: number): Promise<Run> {
  const argv = scenario.kind === "echo"
    ? ["echo", String(server.port), String(connections), String(scenario.size), String(scenario.depth ?? depth), String(warmup), String(duration)]
    : ["pubsub", String(server.port), String(subscribers), String(scenario.size), String(windowN), String(warmup), String(duration)];
  let cpu0 = 0, cpu1 = 0, core0 = coreTicks(SERVER_CPU), core1 = core0, t0 = 0, t1 = 0, user0 = 0, user1 = 0;
  let client0 = coreTicks(CLIENT_CPU), client1 = client0;
  let sampler: RssSampler | null = null;
  let result: Record<string, number> | null = null;
  const { done } = client(argv, (line) => {
    if (line === "start") {
      cpu0 = cpuSeconds(server.pid);
      user0 = cpuSplit(server.pid).user;
      core0 = coreTicks(SERVER_CPU);
      client0 = coreTicks(CLIENT_CPU);
      t0 = performance.now();
      sampler = new RssSampler(server.pid);
    } else if (line === "end") {
      cpu1 = cpuSeconds(server.pid);
      user1 = cpuSplit(server.pid).user;
      core1 = coreTicks(SERVER_CPU);
      client1 = coreTicks(CLIENT_CPU);
      t1 = performance.now();
    } else if (line.startsWith("result ")) {
      result = parseResult(line);
    }
  });
  const code = await done;
  const peak = (sampler as RssSampler | null)?.stop() ?? 0;
  const r = result as Record<string, number> | null;
  if (code !== 0 || r === null || t1 === 0) throw new Error(`ws-client ${argv.join(" ")} failed (exit ${code})`);
  const wall = (t1 - t0) / 1000;
  const serverCpu = (cpu1 - cpu0) / wall;
  return {
    server: server.name, scenario: scenario.name, rep,
    rate: r.rate, p50: r.p50_us / 1000, p99: r.p99_us / 1000, clientCpu: r.client_cpu,
    clientCoreBusy: (client1.busy - client0.busy) / Math.max(1, client1.total - client0.total),
    serverCpu, coreBusy: (core1.busy - core0.busy) / Math.max(1, core1.total - core0.total),
    usPerMessage: ((cpu1 - cpu0) * 1e6) / r.messages, userUsPerMessage: ((user1 - user0) * 1e6) / r.messages, peakRssMiB: peak / 1024, errors: r.errors + r.mismatches,
  };
}

const SETTLE_MS = 1000;
const GC_SETTLE_MS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A full garbage collection in the server (it runs with --expose-gc and collects on SIGUSR2), then time to settle. */
async function collect(server: ServerProcess): Promise<void> {
  process.kill(server.pid, "SIGUSR2");
  await sleep(GC_SETTLE_MS);
}

async function idleRun(server: ServerProcess, scenario: Scenario, rep: number): Promise<Run> {
  await sleep(SETTLE_MS);
  await collect(server);
  const before = memoryKiB(server.pid, "VmRSS");
  let openMs = NaN;
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const { child, done } = client(["idle", String(server.port), String(idleN), "200"], (line) => {
    if (line.startsWith("open ")) {
      openMs = Number(line.slice(5));
      opened();
    }
  });
  const finished = await Promise.race([open.then(() => false), done.then(() => true)]);
  if (finished) throw new Error(`ws-client idle could not open ${idleN} connections to ${server.name}`);
  await sleep(SETTLE_MS);
  const after = memoryKiB(server.pid, "VmRSS");
  await collect(server);
  const afterGc = memoryKiB(server.pid, "VmRSS");
  child.kill("SIGTERM");
  await done;
  return {
    server: server.name, scenario: scenario.name, rep, beforeMiB: before / 1024, afterMiB: after / 1024, afterGcMiB: afterGc / 1024,
    kibPerConnection: (after - before) / idleN, kibPerConnectionGc: (afterGc - before) / idleN, openMs,
  };
}

async function runOne(name: string, scenario: Scenario, rep: number, nodeFlags: string[] = []): Promise<Run | null> {
  let server: ServerProcess;
  try {
    const flags = scenario.kind === "idle" ? ["--expose-gc", ...nodeFlags] : nodeFlags;
    server = await startServer(`ws-${name}`, SERVER_CPU, {}, flags);
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    if (!skipped.has(name)) notes.push(`${label(name)}: skipped, ${error.message}.`);
    skipped.add(name);
    console.log(`${label(name)}: skipped (${error.message})`);
    return null;
  }
  try {
    const run = scenario.kind === "idle" ? await idleRun(server, scenario, rep) : await loadRun(server, scenario, rep);
    return { ...run, server: name };
  } finally {
    for (const note of server.notes) if (!notes.includes(note)) notes.push(note);
    await server.stop();
  }
}

// ---- reporting -------------------------------------------------------------

const notes: string[] = [];
const skipped = new Set<string>();
const label = (name: string) => SERVERS.find((s) => s.name === name)?.label ?? name;
const fmt = (n: number | undefined, digits = 0) => (n !== undefined && Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–");

interface Stat { median: number; min: number; max: number; n: number }
function stat(runs: Run[], key: keyof Run): Stat {
  const values = runs.map((r) => r[key] as number).filter((v) => v !== undefined && Number.isFinite(v));
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/** The headline number of a scenario, and whether higher is better. */
function headline(scenario: Scenario): { key: keyof Run; unit: string; higher: boolean; digits: number } {
  if (scenario.kind === "idle") return { key: "kibPerConnection", unit: "KiB RSS per connection", higher: false, digits: 2 };
  if (scenario.kind === "publish") return { key: "rate", unit: "messages delivered/s", higher: true, digits: 0 };
  return { key: "rate", unit: "messages/s", higher: true, digits: 0 };
}

const spread = (s: Stat, digits: number) => (s.n > 1 ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : fmt(s.median, digits));

/** simplenet's median against a peer's, as "how many times better": higher is better for every row. */
function ratio(runs: Run[], scenario: Scenario, peer: string, key: keyof Run, higher: boolean): number {
  const mine = stat(runs.filter((r) => r.server === "simplenet" && r.scenario === scenario.name), key).median;
  const theirs = stat(runs.filter((r) => r.server === peer && r.scenario === scenario.name), key).median;
  return higher ? mine / theirs : theirs / mine;
}

function summaryTable(runs: Run[]): string[] {
  const peers = servers.filter((s) => s.name !== "simplenet");
  const lines = [
    `| scenario | measure | ${servers.map((s) => s.label).join(" | ")} |${peers.map((p) => ` simplenet vs ${p.label} |`).join("")}`,
    `| --- | --- |${servers.map(() => " ---: |").join("")}${peers.map(() => " ---: |").join("")}`,
  ];
  const row = (scenario: Scenario, what: string, key: keyof Run, higher: boolean, digits: number) => {
    // The client's core past the bound: the rate is the client's, and its ratio compares server µs per message instead.
    const clientBusy = (server: string) => stat(runs.filter((r) => r.server === server && r.scenario === scenario.name), "clientCoreBusy").median;
    const marked = key === "rate";
    const cells = servers.map((s) => {
      const st = stat(runs.filter((r) => r.server === s.name && r.scenario === scenario.name), key);
      return spread(st, digits) + (marked && st.n > 0 ? boundMark("ws-client", clientBusy(s.name)) : "");
    });
    const ratios = peers.map((p) => {
      const bound = marked && (loadBound(clientBusy("simplenet")) || loadBound(clientBusy(p.name)));
      return bound ? `${fmt(ratio(runs, scenario, p.name, "usPerMessage", false), 2)}× µs` : `${fmt(ratio(runs, scenario, p.name, key, higher), 2)}×`;
    });
    lines.push(`| ${scenario.name} | ${what} | ${cells.join(" | ")} |${ratios.map((r) => ` ${r} |`).join("")}`);
  };
  for (const scenario of scenarios) {
    const h = headline(scenario);
    row(scenario, h.unit, h.key, h.higher, h.digits);
    if (scenario.kind === "idle") row(scenario, "KiB RSS per connection after a full GC", "kibPerConnectionGc", false, 2);
    else {
      row(scenario, "server CPU µs per message", "usPerMessage", false, 2);
      row(scenario, "… of which user space (JS, addon, wasm)", "userUsPerMessage", false, 2);
      row(scenario, "p99 latency ms", "p99", false, 2);
    }
  }
  return lines;
}

function detailTables(runs: Run[]): string[] {
  const lines: string[] = [];
  for (const scenario of scenarios) {
    const mine = runs.filter((r) => r.scenario === scenario.name);
    if (mine.length === 0) continue;
    lines.push("", `### ${scenario.name}: ${scenario.what}`, "");
    if (scenario.kind === "idle") {
      lines.push("| server | run | RSS before MiB | RSS after MiB | RSS per connection | RSS after a full GC MiB | per connection after GC | time to open all |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
      for (const r of mine) lines.push(`| ${label(r.server)} | ${r.rep} | ${fmt(r.beforeMiB, 1)} | ${fmt(r.afterMiB, 1)} | ${fmt(r.kibPerConnection, 2)} KiB | ${fmt(r.afterGcMiB, 1)} | ${fmt(r.kibPerConnectionGc, 2)} KiB | ${fmt(r.openMs)} ms |`);
      continue;
    }
    lines.push(
      "| server | run | messages/s | p50 ms | p99 ms | server CPU | core 0 busy | server µs per message | … user space | client CPU (its core) | client's core busy | peak RSS MiB | errors |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const r of mine) {
      lines.push(`| ${label(r.server)} | ${r.rep} | ${fmt(r.rate)}${boundMark("ws-client", r.clientCoreBusy)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.serverCpu! * 100)}% | ${fmt(r.coreBusy! * 100)}% | ${fmt(r.usPerMessage, 2)} | ${fmt(r.userUsPerMessage, 2)} | ${fmt(r.clientCpu! * 100)}% | ${fmt(r.clientCoreBusy! * 100)}% | ${fmt(r.peakRssMiB, 1)} | ${r.errors} |`);
    }
  }
  return lines;
}

/** Top self-time entries of a .cpuprofile, by function and place. */
function summarizeProfile(file: string, top = 20): string[] {
  interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; }
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0, idle = 0;
  // The profile spans the whole process: skip its start-up (module loading, the handshakes) up to the
  // first sample in the read of a WebSocket's bytes, which comes once the messages flow.
  const first = Math.max(0, profile.samples.findIndex((id) => byId.get(id)!.callFrame.functionName === "onTunnelReadable"));
  for (let i = first; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const frame = byId.get(profile.samples[i])!.callFrame;
    if (frame.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    total += dt;
    const where = frame.url === "" ? "" : ` ${frame.url.replace(/^.*\/(node_modules|dist|bench)\//, "$1/").replace(/^node:/, "node:")}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName || "(anonymous)"}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `From the first sample in the read of a WebSocket's bytes on (start-up and handshakes left out): busy ${fmt(total / 1000)} ms, idle ${fmt(idle / 1000)} ms. Top ${top} functions by self time, as a share of the busy time. A native call (a system call through the addon) counts as self time of the JS function that makes it: \`sendNow\` is mostly \`write(2)\`/\`writev(2)\`, \`onTunnelReadable\` mostly \`read(2)\`.`,
    "",
    "| self ms | share | function |",
    "| ---: | ---: | --- |",
    ...rows.map(([key, us]) => `| ${fmt(us / 1000, 1)} | ${fmt((100 * us) / total, 1)}% | \`${key}\` |`),
  ];
}

/** One extra simplenet run of `scenario` under node --cpu-prof; the summary of its main thread's profile. */
async function profileRun(scenario: Scenario): Promise<string[]> {
  const dir = args["profile-dir"] !== undefined ? join(args["profile-dir"], scenario.name) : mkdtempSync(join(tmpdir(), "simplenet-ws-prof-"));
  mkdirSync(dir, { recursive: true });
  console.log(`profiling simplenet during ${scenario.name} (node --cpu-prof, into ${dir}) ...`);
  const run = await runOne("simplenet", scenario, 0, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(dir, f));
  // The main thread has thread id 0 in the name; tsx's loader thread leaves a profile too.
  const main = files.find((f) => /\.0\.\d+\.cpuprofile$/.test(f)) ?? files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (main === undefined) return ["(the profiled run left no profile)"];
  const lines = [
    `Profile of simplenet during one more ${scenario.name} run (\`node --cpu-prof\`, ${fmt(run?.rate)} messages/s under the profiler, ${fmt(run?.usPerMessage, 2)} µs of server CPU per message):`,
    "",
    ...summarizeProfile(main),
  ];
  if (args["profile-dir"] === undefined) rmSync(dir, { recursive: true, force: true });
  return lines;
}

async function main(): Promise<void> {
  ensurePeers();
  ensureClient();
  buildSimplenet();
  const runs: Run[] = [];
  // Scenario by scenario, and each repetition runs every server once: the runs a ratio compares are close together in time.
  for (const scenario of scenarios) {
    for (let rep = 1; rep <= repeat; rep++) {
      for (const server of servers) {
        if (skipped.has(server.name)) continue;
        const run = await runOne(server.name, scenario, rep);
        if (run === null) continue;
        runs.push(run);
        const text = scenario.kind === "idle"
          ? `${fmt(run.kibPerConnection, 2)} KiB per connection (RSS ${fmt(run.beforeMiB, 1)} -> ${fmt(run.afterMiB, 1)} MiB; after a full GC ${fmt(run.afterGcMiB, 1)} MiB, ${fmt(run.kibPerConnectionGc, 2)} KiB), opened in ${fmt(run.openMs)} ms`
          : `${fmt(run.rate).padStart(9)} msg/s${boundMark("ws-client", run.clientCoreBusy)}  p99 ${fmt(run.p99, 2)} ms  server ${fmt(run.serverCpu! * 100)}% (core ${fmt(run.coreBusy! * 100)}%)  ${fmt(run.usPerMessage, 2)} µs/msg (user ${fmt(run.userUsPerMessage, 2)})  client ${fmt(run.clientCpu! * 100)}% (its core ${fmt(run.clientCoreBusy! * 100)}%)${run.errors! > 0 ? `  errors ${run.errors}` : ""}`;
        console.log(`${scenario.name.padEnd(11)} #${rep} ${label(server.name).padEnd(10)} ${text}`);
      }
    }
  }

  if (runs.some((r) => loadBound(r.clientCoreBusy))) notes.push(boundNote("ws-client", "server µs per message"));
  const loaded = runs.filter((r) => r.serverCpu !== undefined);
  const share = median(loaded.map((r) => r.serverCpu!));
  if (share < 0.8) {
    notes.push(`In the load runs the server used a median ${fmt(share * 100)}% of core ${SERVER_CPU}, while the core was busy a median ${fmt(median(loaded.map((r) => r.coreBusy!)) * 100)}% of the time and the client stayed far below its own: no one was saturated. With one message in flight per connection, messages/s is bound by the round trip (wake-ups across cores) and by the other processes that share core ${SERVER_CPU}, as much as by the server; server µs per message is the comparison to trust.`);
  }
  const summary = summaryTable(runs);
  console.log("");
  console.log("Median of the runs (min–max); ratios are simplenet against each peer, > 1× means simplenet is better:");
  console.log(summary.join("\n"));

  const targets: string[] = [];
  const has = (s: string) => scenarios.some((x) => x.name === s) && servers.some((x) => x.name === "simplenet");
  const echo512 = SCENARIOS.find((s) => s.name === "echo-512")!;
  const idle = SCENARIOS.find((s) => s.kind === "idle")!;
  let missed = false;
  const target = (text: string, value: number, goal: number) => {
    const met = value >= goal;
    if (!met && Number.isFinite(value)) missed = true;
    targets.push(`- ${text}: ${fmt(value, 2)}× (${Number.isFinite(value) ? (met ? "met" : "not met") : "not measured"})`);
  };
  /** A messages/s target, with server µs per message beside it where the client's core bounded a rate. */
  const rateTarget = (text: string, scenario: Scenario, peer: string, goal: number) => {
    target(text, ratio(runs, scenario, peer, "rate", true), goal);
    const bound = runs.some((r) => r.scenario === scenario.name && (r.server === "simplenet" || r.server === peer) && loadBound(r.clientCoreBusy));
    if (bound) targets[targets.length - 1] += `; the client's core was busy past the bound, so the rate is the client's: server µs per message gives ${fmt(ratio(runs, scenario, peer, "usPerMessage", false), 2)}×`;
  };
  for (const s of scenarios.filter((x) => x.kind === "echo")) {
    if (has(s.name) && servers.some((x) => x.name === "ws")) rateTarget(`${s.name} messages/s ≥ 3× ws`, s, "ws", 3);
  }
  if (has(echo512.name) && servers.some((x) => x.name === "uws")) rateTarget("echo-512 messages/s ≥ uWS.js", echo512, "uws", 1);
  if (has(idle.name) && servers.some((x) => x.name === "uws")) target("idle memory per connection ≤ uWS.js's (uWS.js's ÷ simplenet's)", ratio(runs, idle, "uws", "kibPerConnection", false), 1);
  console.log("\nTargets:\n" + targets.join("\n"));

  let profile: string[] = [];
  const wantProfile = args.profile === "always" || (args.profile === "auto" && missed);
  if (wantProfile && servers.some((s) => s.name === "simplenet") && !skipped.has("simplenet")) {
    for (const scenario of pick(SCENARIOS, args["profile-scenario"], "scenario")) {
      if (scenario.kind === "idle") continue;
      const lines = await profileRun(scenario);
      console.log("\n" + lines.join("\n"));
      profile.push(...(profile.length > 0 ? [""] : []), ...lines);
    }
  }

  const lines = [
    "## WebSocket servers (`npm run bench:ws`)",
    "",
    machine(command("bench:ws"), [
      `- Peers installed by the benchmark into bench/.peers: ws ${installedVersion("ws") ?? "?"} (on node:http), uWS.js from @trufflesuite/uws-js-unofficial ${installedVersion("@trufflesuite/uws-js-unofficial") ?? "?"}`,
      `- Load: bench/ws-client.c (\`cc -O2\`; one thread, epoll, masked binary frames) pinned to core ${CLIENT_CPU}; each server alone in a fresh process pinned to core ${SERVER_CPU}; ${warmup} s warm-up then ${duration} s measured, ${repeat} runs per server and scenario`,
    ]),
    "",
    "Median of the runs, and in brackets the lowest and highest. The ratios compare medians and read \"how many times better simplenet is\" (> 1× means simplenet wins): for messages/s simplenet ÷ peer, for CPU per message, latency and memory peer ÷ simplenet.",
    "",
    ...summary,
    "",
    "Targets of the issue:",
    "",
    ...targets,
    ...(profile.length > 0 ? ["", ...profile] : []),
    ...detailTables(runs),
    "",
    "Reading the tables:",
    "",
    "- **messages/s**: echoes completed (or, for publish, messages delivered to subscribers) per second in the measured window, counted by the client, which checks every echoed payload byte for byte.",
    "- **p50/p99**: from the client's write of a message to the end of its echo (publish: to its delivery at a subscriber), 1 µs buckets.",
    `- **server CPU**: the server process's user+system time (\`/proc/<pid>/stat\`) over the window, 100% = one core; **core ${SERVER_CPU} busy**: the whole core from \`/proc/stat\` (softirq and other processes included). **server µs per message**: server CPU seconds ÷ messages: steadier than messages/s on a shared machine; **… user space** is its user time (the rest is the kernel's: the system calls and the loopback TCP path they run).`,
    `- **client CPU**: the load generator's own user+system time (getrusage) over the window, 100% = its core. Well under 100% means the client was not the limit.`,
    "- **idle**: VmRSS after the connections opened (and 1 s settled) minus before (taken after a full GC), divided by their number; then again after a full GC (servers run with `--expose-gc` in this scenario and collect on SIGUSR2), which leaves out the handshakes' garbage. User-space memory only: kernel socket buffers are not in it.",
    "",
    "Notes:",
    "",
    ...notes.map((n) => `- ${n}`),
  ];
  writeSection("ws", lines.join("\n"));
}

await main();
