// Benchmark servers as child processes pinned to a core, and what /proc says
// about them: CPU time and resident memory.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** Seconds per clock tick of /proc/<pid>/stat: USER_HZ is 100 on Linux. */
const TICK_S = 0.01;
/** How long a server may take to listen; a server under valgrind takes longer (see startServer's `startTimeoutMs`). */
const START_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Remarks the server printed, for RESULTS.md. */
  readonly notes: string[];
  stop(): Promise<void>;
}

export class Unsupported extends Error {}

/** Installs a Debian package the benchmarks need (wrk, valgrind, liburing's headers) with apt-get, saying so. */
export function aptInstall(pkg: string): void {
  console.log(`installing ${pkg} (apt-get)...`);
  execFileSync("bash", ["-c", `apt-get update && apt-get install -y ${pkg}`], { stdio: "inherit" });
}

/** simplenet runs from dist/, as users run it: compile the current sources first (the package's own build:ts script). */
export function buildSimplenet(): void {
  execFileSync("npm", ["run", "--silent", "build:ts"], { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: "inherit" });
}

const BUILD_TSCONFIG = fileURLToPath(new URL("../tsconfig.build.json", import.meta.url));

/**
 * Starts bench/servers/<name>.ts on `cpu` (a core, or a list such as "0,1")
 * with its descriptor limit raised to 65536, or to the hard limit where that
 * is lower (`ulimit` cannot be raised from inside Node), and waits until it
 * listens. The file runs under Node with tsx, unless `runtime` gives the
 * command to run it with instead (its path is appended, e.g. `bun`).
 * Throws Unsupported when the server says it cannot run here, and an error
 * when it does not listen within `startTimeoutMs`.
 */
export function startServer(
  name: string, cpu: number | string, env: Record<string, string> = {}, nodeFlags: string[] = [], runtime?: string[],
  startTimeoutMs = START_TIMEOUT_MS,
): Promise<ServerProcess> {
  const file = new URL(`./servers/${name}.ts`, import.meta.url).pathname;
  const argv = runtime !== undefined ? [...runtime, file] : [process.execPath, ...nodeFlags, "--import", "tsx", file];
  return startProcess(name, argv, cpu, env, startTimeoutMs);
}

/**
 * Runs `argv` on `cpu` as startServer() runs a server file: the same
 * descriptor limit, and the same lines read from its output ("listening
 * PORT", "note TEXT", "unsupported REASON").
 */
export function startProcess(
  name: string, argv: string[], cpu: number | string, env: Record<string, string> = {}, startTimeoutMs = START_TIMEOUT_MS,
): Promise<ServerProcess> {
  const raise = `(ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)")`;
  const child = spawn("bash", ["-c", `${raise} && exec taskset -c ${cpu} "$@"`, "bash", ...argv], {
    // tsconfig.build.json has no paths: dist/ imports the built simplenet-parser, not its sources through tsx.
    env: { ...process.env, TSX_TSCONFIG_PATH: BUILD_TSCONFIG, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  const notes: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const [word, ...rest] = line.split(" ");
      const text = rest.join(" ");
      if (word === "note") notes.push(text);
      else if (word === "unsupported") fail(new Unsupported(text));
      else if (word === "listening") {
        clearTimeout(timer);
        resolve({ name, pid: child.pid!, port: Number(text), notes, stop: () => stop(child) });
      }
    });
    child.once("exit", (code) => fail(new Error(`${name} exited (${code}) before listening:\n${stderr}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const force = setTimeout(() => child.kill("SIGKILL"), 5000);
  return exited.then(() => clearTimeout(force));
}

/** User plus system CPU seconds the process (all its threads) has used. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

/** User and system CPU seconds of a process (all its threads), from /proc/<pid>/stat (fields 14 and 15). */
export function cpuSplit(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) * TICK_S, system: Number(fields[12]) * TICK_S };
}

/** The process and its descendants (a server that starts others, as nginx's master starts its workers). */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${all[i]}/task`)) {
        const children = readFileSync(`/proc/${all[i]}/task/${task}/children`, "utf8").trim();
        if (children !== "") all.push(...children.split(" ").map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** User and system CPU seconds of a process and its descendants; one that has gone counts nothing. */
export function treeCpuSplit(pid: number): { user: number; system: number } {
  const sum = { user: 0, system: 0 };
  for (const p of processTree(pid)) {
    try {
      const { user, system } = cpuSplit(p);
      sum.user += user;
      sum.system += system;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** One core's time from /proc/stat, in clock ticks (1/100 s). */
export interface CoreTicks {
  user: number; nice: number; system: number; idle: number; iowait: number; irq: number; softirq: number; steal: number;
}

/** The time of each of `cpus` so far, from /proc/stat. */
export function coreTicks(cpus: number[]): CoreTicks[] {
  const lines = readFileSync("/proc/stat", "utf8").split("\n");
  return cpus.map((cpu) => {
    const line = lines.find((l) => l.startsWith(`cpu${cpu} `));
    if (line === undefined) throw new Error(`no cpu${cpu} in /proc/stat`);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return { user, nice, system, idle, iowait, irq, softirq, steal: steal ?? 0 };
  });
}

/** Busy ticks: everything but idle and iowait (softirq, where the kernel runs much of the loopback TCP path, included). */
export const busyTicks = (t: CoreTicks) => t.user + t.nice + t.system + t.irq + t.softirq + t.steal;
export const totalTicks = (t: CoreTicks) => busyTicks(t) + t.idle + t.iowait;
/** `after` − `before`, field by field. */
export function ticksBetween(before: CoreTicks, after: CoreTicks): CoreTicks {
  const out = { ...after };
  for (const key of Object.keys(out) as (keyof CoreTicks)[]) out[key] -= before[key];
  return out;
}
export const TICK_SECONDS = TICK_S;

/** A line of /proc/<pid>/status in KiB, e.g. "VmRSS" or "VmHWM". */
export function memoryKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match === null ? 0 : Number(match[1]);
}

/** Samples VmRSS every `everyMs` until stopped; keeps the peak. With `tree`, of the process and its descendants together. */
export class RssSampler {
  peakKiB = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  constructor(private readonly pid: number, everyMs = 100, private readonly tree = false) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  private sample(): void {
    let kib = 0;
    for (const p of this.tree ? processTree(this.pid) : [this.pid]) {
      try {
        kib += memoryKiB(p, "VmRSS");
      } catch {
        // the process is gone; its last sample stands
        if (p === this.pid) return;
      }
    }
    this.peakKiB = Math.max(this.peakKiB, kib);
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakKiB;
  }
}
