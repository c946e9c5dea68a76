// Benchmark servers as child processes pinned to a core, and what /proc says
// about them: CPU time and resident memory.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

/** Seconds per clock tick of /proc/<pid>/stat: USER_HZ is 100 on Linux. */
const TICK_S = 0.01;
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

/**
 * Starts bench/servers/<name>.ts on `cpu` with its descriptor limit raised to
 * 65536, or to the hard limit where that is lower (`ulimit` cannot be raised
 * from inside Node), and waits until it listens.
 * Throws Unsupported when the server says it cannot run here.
 */
export function startServer(
  name: string, cpu: number, env: Record<string, string> = {}, nodeFlags: string[] = [],
): Promise<ServerProcess> {
  const file = new URL(`./servers/${name}.ts`, import.meta.url).pathname;
  const raise = `(ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)")`;
  const argv = [process.execPath, ...nodeFlags, "--import", "tsx", file];
  const child = spawn("bash", ["-c", `${raise} && exec taskset -c ${cpu} "$@"`, "bash", ...argv], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  const notes: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
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
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_S;
}

/** A line of /proc/<pid>/status in KiB, e.g. "VmRSS" or "VmHWM". */
export function memoryKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match === null ? 0 : Number(match[1]);
}

/** Samples VmRSS every `everyMs` until stopped; keeps the peak. */
export class RssSampler {
  peakKiB: number;
  private readonly timer: ReturnType<typeof setInterval>;
  constructor(private readonly pid: number, everyMs = 100) {
    this.peakKiB = memoryKiB(pid, "VmRSS");
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  private sample(): void {
    try {
      this.peakKiB = Math.max(this.peakKiB, memoryKiB(this.pid, "VmRSS"));
    } catch {
      // the process is gone; its last sample stands
    }
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakKiB;
  }
}
