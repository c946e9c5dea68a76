// npm run bench -- --profile [--scenario ...] [--servers simplenet,simplenet-fetch] [--profile-dir DIR]
// Where simplenet's time goes, scenario by scenario: one run per scenario
// under the same load as the comparison, with
//   - core 0's time from /proc/stat (user, system, softirq) and the server
//     process's own user/system split from /proc/<pid>/stat;
//   - perf (when `perf record -e cpu-clock` works here): every sample of
//     core 0, by thread and binary: the kernel, the shim (simplenet.node),
//     V8/Node's C++ and builtins, JIT-compiled JS, the wasm parser, other
//     processes. Node runs with --perf-basic-prof so JIT frames have names;
//   - node --cpu-prof: JS by function (self time in the measured window).
// Writes the "http-profile" section of bench/RESULTS.md with --write (else a file in bench/.results/).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { busyTicks, coreTicks, cpuSplit, ticksBetween, totalTicks, TICK_SECONDS, type CoreTicks, type ServerProcess } from "./process.js";
import { command, machine, writeSection } from "./results.js";
import { parseWrk, runWrk, wrkLine, type Load } from "./wrk.js";
import type { Scenario, ServerDef } from "./http-defs.js";

const SERVER_CPU = 0;
const LOAD_CPU = 1;
const TOP = 15;

export interface ProfileOptions {
  scenarios: Scenario[];
  servers: ServerDef[];
  root: string;
  duration: number;
  warmup: number;
  /** Keep the raw profiles here; a temporary folder otherwise. */
  dir?: string;
  runsIn(server: ServerDef, scenario: Scenario): boolean;
  launch(server: ServerDef, scenario: Scenario, root: string, nodeFlags: string[]): Promise<ServerProcess>;
  loadOf(scenario: Scenario): Load;
}

const fmt = (n: number | undefined, digits = 0) => (n !== undefined && Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–");
const pct = (part: number, whole: number) => `${fmt((100 * part) / whole, 1)}%`;

// ---- perf --------------------------------------------------------------------

/** Whether `perf record -e cpu-clock` works here (it needs perf installed and, for a whole core, root or perf_event_paranoid ≤ 0). */
function perfWorks(): boolean {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-perf-check-"));
  try {
    execFileSync("perf", ["record", "-q", "-e", "cpu-clock", "-C", String(SERVER_CPU), "-o", join(dir, "perf.data"), "--", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface PerfLine { share: number; tid: number; comm: string; dso: string; sym: string }

function perfLines(file: string): PerfLine[] {
  const out = execFileSync("perf", ["report", "-i", file, "--stdio", "--no-children", "--sort", "pid,dso,sym", "-t", ";"], { encoding: "utf8", maxBuffer: 256 << 20, stdio: ["ignore", "pipe", "ignore"] });
  const lines: PerfLine[] = [];
  for (const line of out.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const [share, thread, dso, sym] = line.split(";").map((f) => f.trim());
    const m = /^(\d+):(.*)$/.exec(thread ?? "");
    if (m === null || sym === undefined) continue;
    lines.push({ share: Number(share.replace("%", "")) / 100, tid: Number(m[1]), comm: m[2], dso, sym: sym.replace(/^\[[k.]\]\s+/, "") });
  }
  return lines;
}

/** The layer a sample of the server's main thread belongs to. */
function perfKind(l: PerfLine): string {
  if (l.dso === "[kernel.kallsyms]") return "kernel (system calls, TCP/IP, scheduler)";
  if (l.dso.endsWith("simplenet.node")) return "shim (simplenet.node, C++)";
  if (l.dso.startsWith("[JIT]") || l.dso.startsWith("perf-")) return /wasm/i.test(l.sym) ? "wasm (the parser, JIT-compiled)" : "JS (JIT-compiled)";
  if (l.dso === "node") return l.sym.startsWith("Builtins_") ? "V8 builtins (interpreter, ICs, typed arrays, ...)" : "V8 and Node C++ (runtime, GC, bindings)";
  return "libc, vdso and other libraries";
}

// ---- node --cpu-prof ----------------------------------------------------------

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Function index → export name of the parser's wasm (V8 names frames wasm-function[N] when the module has no name section). */
function wasmExportNames(): Map<number, string> {
  const names = new Map<number, string>();
  const file = ["../parser/wasm/simplenet.wasm", "../wasm/simplenet.wasm"].map((p) => fileURLToPath(new URL(p, import.meta.url))).find(existsSync);
  if (file === undefined) return names;
  const bytes = readFileSync(file);
  let at = 8;
  const leb = () => {
    let result = 0, shift = 0, byte;
    do {
      byte = bytes[at++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return result >>> 0;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const length = leb();
        const name = bytes.subarray(at, at + length).toString("utf8");
        at += length;
        const kind = bytes[at++];
        const index = leb();
        if (kind === 0) names.set(index, name);
      }
    }
    at = end;
  }
  return names;
}

function cpuKind(functionName: string, url: string, shim: Set<string>): string {
  if (url.startsWith("wasm://")) return "wasm";
  if (url === "") {
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(program)") return "(program): V8 and Node outside JS";
    if (shim.has(functionName)) return "shim (native)";
    return "native (Node bindings, V8 builtins, RegExp)";
  }
  if (url.startsWith("node:")) return "Node's JS (node:*)";
  if (url.includes("/node_modules/hono/")) return "hono";
  if (url.includes("/node_modules/")) return "other dependencies";
  if (url.includes("/bench/")) return "the benchmark's handler";
  return "simplenet JS";
}

const PROJECT = fileURLToPath(new URL("..", import.meta.url));

/** Paths inside the project, relative to it (no machine's absolute paths in RESULTS.md). */
function shortUrl(text: string): string {
  return text.replaceAll(`file://${PROJECT}`, "").replaceAll(PROJECT, "");
}

/** Self time by function and by kind, in [from, to] (µs of the monotonic clock both V8's profiler and process.hrtime use). */
function summarizeCpuProfile(file: string, from: number, to: number, shim: Set<string>): { busy: number; idle: number; kinds: [string, number][]; top: [string, string, number][] } {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const wasmNames = wasmExportNames();
  const self = new Map<string, { kind: string; us: number }>();
  const kinds = new Map<string, number>();
  let busy = 0, idle = 0;
  let t = profile.startTime;
  let inWindow = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t >= from && t <= to) inWindow++;
  }
  // Outside the window nothing counts, unless the clocks did not line up: then the whole profile does.
  const whole = inWindow === 0;
  t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (!whole && (t < from || t > to)) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const frame = byId.get(profile.samples[i])!.callFrame;
    if (frame.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    busy += dt;
    const kind = cpuKind(frame.functionName, frame.url, shim);
    const name = wasmLabel(frame.functionName || "(anonymous)", wasmNames);
    const key = frame.url === "" || frame.url.startsWith("wasm://") ? name : `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const entry = self.get(key) ?? { kind, us: 0 };
    entry.us += dt;
    self.set(key, entry);
    kinds.set(kind, (kinds.get(kind) ?? 0) + dt);
  }
  return {
    busy, idle,
    kinds: [...kinds.entries()].sort((a, b) => b[1] - a[1]),
    top: [...self.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, TOP).map(([key, e]) => [key, e.kind, e.us]),
  };
}

/** The addon's export names, so that a native frame of the shim can be told from Node's own (it appears only when V8 gives the call a frame of its own). */
function shimNames(): Set<string> {
  try {
    const addon = fileURLToPath(new URL("../build/Release/simplenet.node", import.meta.url));
    const out = execFileSync(process.execPath, ["-e", "console.log(JSON.stringify(Object.keys(require(process.argv[1]))))", addon], { encoding: "utf8" });
    return new Set(JSON.parse(out) as string[]);
  } catch {
    return new Set();
  }
}

/** "wasm-function[2]" → "parseRequest (wasm-function[2])", from the module's exports. */
function wasmLabel(text: string, names: Map<number, string>): string {
  return text.replace(/wasm-function\[(\d+)\](?:-\d+-\w+)?/g, (all, n: string) => (names.has(Number(n)) ? `${names.get(Number(n))} (wasm-function[${n}])` : all));
}

// ---- one profiled run --------------------------------------------------------

function perfMapFiles(pids: number[]): string[] {
  return pids.map((p) => join(tmpdir(), `perf-${p}.map`)).filter(existsSync);
}

async function profileOne(server: ServerDef, scenario: Scenario, o: ProfileOptions, withPerf: boolean, shim: Set<string>): Promise<string[]> {
  const wasmNames = wasmExportNames();
  const dir = o.dir !== undefined ? join(o.dir, server.name, scenario.name) : mkdtempSync(join(tmpdir(), "simplenet-http-prof-"));
  mkdirSync(dir, { recursive: true });
  const flags = ["--cpu-prof", `--cpu-prof-dir=${dir}`, ...(withPerf ? ["--perf-basic-prof"] : [])];
  const proc = await o.launch(server, scenario, o.root, flags);
  let perfData = "", tids: number[] = [];
  let before: CoreTicks, after: CoreTicks, cpu0, cpu1, from: number, to: number, report: string;
  try {
    const load = o.loadOf(scenario);
    if (o.warmup > 0) await runWrk(load, proc.port, o.warmup);
    tids = readdirSync(`/proc/${proc.pid}/task`).map(Number);
    perfData = join(dir, "perf.data");
    const perf = withPerf
      ? spawn("taskset", ["-c", String(LOAD_CPU), "perf", "record", "-q", "-e", "cpu-clock", "-C", String(SERVER_CPU), "-o", perfData, "--", "sleep", String(o.duration)], { stdio: "ignore" })
      : null;
    const perfDone = perf === null ? Promise.resolve() : new Promise<void>((resolve) => perf.once("exit", () => resolve()));
    [before] = coreTicks([SERVER_CPU]);
    cpu0 = cpuSplit(proc.pid);
    from = Number(process.hrtime.bigint() / 1000n);
    report = await runWrk(load, proc.port, o.duration);
    to = Number(process.hrtime.bigint() / 1000n);
    [after] = coreTicks([SERVER_CPU]);
    cpu1 = cpuSplit(proc.pid);
    await perfDone;
  } finally {
    await proc.stop();
  }
  const w = parseWrk(report);
  const d = ticksBetween(before, after);
  const us = (ticks: number) => (ticks * TICK_SECONDS * 1e6) / w.requests;
  const lines = [
    `### ${scenario.name}: ${server.label}`,
    "",
    `${fmt(w.rps)} req/s under the profilers (${fmt(w.requests)} requests). Core ${SERVER_CPU}: ${fmt(us(busyTicks(d)), 2)} µs busy per request — user ${fmt(us(d.user + d.nice), 2)}, system ${fmt(us(d.system), 2)}, irq and softirq ${fmt(us(d.irq + d.softirq), 2)}; idle ${pct(d.idle + d.iowait, totalTicks(d))} of the time. The server process alone (\`/proc/<pid>/stat\`): user ${fmt(((cpu1.user - cpu0.user) * 1e6) / w.requests, 2)} µs, kernel ${fmt(((cpu1.system - cpu0.system) * 1e6) / w.requests, 2)} µs per request.`,
  ];
  if (withPerf && existsSync(perfData)) {
    const all = perfLines(perfData);
    const total = all.reduce((s, l) => s + l.share, 0);
    const mine = new Set(tids);
    const main = all.filter((l) => l.tid === proc.pid);
    const groups = new Map<string, number>();
    const add = (k: string, v: number) => groups.set(k, (groups.get(k) ?? 0) + v);
    for (const l of all) {
      if (l.tid === 0) add("idle", l.share);
      else if (l.tid === proc.pid) add(`main thread: ${perfKind(l)}`, l.share);
      else if (mine.has(l.tid)) add("the server's other threads (GC helpers, profiler, libuv)", l.share);
      else add(`other processes (${[...new Set(all.filter((x) => x.tid !== 0 && !mine.has(x.tid)).map((x) => x.comm))].slice(0, 4).join(", ")})`, l.share);
    }
    const busy = total - (groups.get("idle") ?? 0);
    const server = all.filter((l) => mine.has(l.tid)).reduce((sum, l) => sum + l.share, 0);
    const busyUs = us(busyTicks(d));
    lines.push(
      "",
      `Core ${SERVER_CPU} by perf (\`perf record -e cpu-clock -C ${SERVER_CPU}\`): each row's share of the core's busy samples, and that share of the busy µs per request above:`,
      "",
      "| where | share of core's busy time | µs per request |",
      "| --- | ---: | ---: |",
      ...[...groups.entries()].filter(([k]) => k !== "idle").sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${pct(v, busy)} | ${fmt((busyUs * v) / busy, 2)} |`),
      "",
      `Top ${TOP} symbols of the server's main thread, as a share of the server's samples (all its threads):`,
      "",
      "| share of the server's samples | layer | symbol |",
      "| ---: | --- | --- |",
      ...main.sort((a, b) => b.share - a.share).slice(0, TOP).map((l) => `| ${pct(l.share, server)} | ${perfKind(l).split(" (")[0]} | \`${wasmLabel(shortUrl(l.sym.replace(/^JS:[*~^+]?/, "").replace(/^ /, "(anonymous) ")), wasmNames)}\` |`),
    );
    for (const f of perfMapFiles([proc.pid])) rmSync(f, { force: true });
  }
  const profiles = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  // The main thread's profile has thread id 0 in its name; tsx's loader thread leaves one too.
  const mainProfile = profiles.find((f) => /\.0\.\d+\.cpuprofile$/.test(f));
  if (mainProfile !== undefined) {
    const s = summarizeCpuProfile(join(dir, mainProfile), from!, to!, shim);
    lines.push(
      "",
      `JS by function (\`node --cpu-prof\`, main thread, the measured window: busy ${fmt(s.busy / 1000)} ms, idle ${fmt(s.idle / 1000)} ms). A call into the addon or a Node binding that V8 gives no frame of its own counts as self time of the JS function that makes it (\`sendNow\` is mostly \`writev(2)\`, \`onReadable\` mostly \`read(2)\`): the perf table splits those out.`,
      "",
      "| kind | share of busy |",
      "| --- | ---: |",
      ...s.kinds.map(([k, v]) => `| ${k} | ${pct(v, s.busy)} |`),
      "",
      "| self ms | share | kind | function |",
      "| ---: | ---: | --- | --- |",
      ...s.top.map(([key, kind, v]) => `| ${fmt(v / 1000, 1)} | ${pct(v, s.busy)} | ${kind} | \`${key}\` |`),
    );
  }
  if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
  return lines;
}

export async function profileScenarios(o: ProfileOptions): Promise<void> {
  const withPerf = perfWorks();
  const shim = shimNames();
  const sections: string[] = [];
  for (const scenario of o.scenarios) {
    for (const server of o.servers) {
      if (server.runtime !== "node" || !o.runsIn(server, scenario)) continue;
      console.log(`profiling ${server.label} in ${scenario.name} ...`);
      try {
        const lines = await profileOne(server, scenario, o, withPerf, shim);
        console.log(lines.join("\n") + "\n");
        sections.push("", ...lines);
      } catch (error) {
        console.log(`${server.label} in ${scenario.name}: ${(error as Error).message}`);
        sections.push("", `### ${scenario.name}: ${server.label}`, "", `(the profiled run failed: ${(error as Error).message.split("\n")[0]})`);
      }
    }
  }
  const load = o.scenarios.length > 0 ? o.loadOf(o.scenarios[0]) : { cpus: String(LOAD_CPU), threads: 1, connections: 50 };
  writeSection("http-profile", [
    "## Where simplenet's time goes (`npm run bench -- --profile`)",
    "",
    machine(command("bench"), [
      `- One run per scenario, the load of \`npm run bench\` (\`${wrkLine(load, o.duration)}\`, ${o.warmup} s warm-up), the server on core ${SERVER_CPU} under \`node --cpu-prof${withPerf ? " --perf-basic-prof" : ""}\`${withPerf ? `, \`perf record -e cpu-clock -C ${SERVER_CPU}\` (pinned to core ${LOAD_CPU}) over the measured window` : "; perf record did not work here, so no per-layer split"}. The profilers cost time of their own: these runs are slower than the comparison's.`,
    ]),
    ...sections,
  ].join("\n"));
}
