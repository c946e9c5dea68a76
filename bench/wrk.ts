// wrk, the load generator of `npm run bench`: installing it, running it
// pinned to a core (or cores) and reading its report.
import { execFileSync, spawn } from "node:child_process";
import { aptInstall } from "./process.js";

export interface Load {
  /** The request's path, e.g. "/hi". */
  path: string;
  connections: number;
  /** wrk threads: 1 on its own core, 2 when it shares both cores with a multi-core server. */
  threads: number;
  /** The cores wrk is pinned to (taskset -c). */
  cpus: string;
  /** A Lua script beside this file (pipeline.lua, post.lua). */
  script?: string;
  headers?: string[];
}

export interface WrkResult {
  rps: number;
  /** Responses completed in the run (wrk counts every response, pipelined ones too). */
  requests: number;
  p50: number;
  p99: number;
  /** Socket errors plus non-2xx/3xx responses. */
  errors: number;
}

export function ensureWrk(): void {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (error) {
    // wrk --version exits 1 after printing its usage: it is there.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return;
    aptInstall("wrk");
  }
}

export function wrkVersion(): string {
  try {
    execFileSync("wrk", ["--version"], { encoding: "utf8", stdio: "pipe" });
    return "";
  } catch (error) {
    // wrk prints its version and usage, then exits 1.
    return /wrk (\S+)/.exec(String((error as { stdout?: string }).stdout ?? ""))?.[1] ?? "";
  }
}

/** The wrk command line for a load, as shown in RESULTS.md. */
export function wrkLine(load: Pick<Load, "threads" | "connections" | "cpus">, seconds: number): string {
  return `taskset -c ${load.cpus} wrk -t${load.threads} -c${load.connections} -d${seconds}s --latency`;
}

/** Runs wrk against 127.0.0.1:port for `seconds` and returns its report. */
export function runWrk(load: Load, port: number, seconds: number): Promise<string> {
  const argv = ["-c", load.cpus, "wrk", `-t${load.threads}`, `-c${load.connections}`, `-d${seconds}s`, "--latency", "--timeout", "5s"];
  if (load.script !== undefined) argv.push("-s", new URL(load.script, import.meta.url).pathname);
  for (const header of load.headers ?? []) argv.push("-H", header);
  argv.push(`http://127.0.0.1:${port}${load.path}`);
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

export function parseWrk(report: string): WrkResult {
  const percentile = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(report);
    const ms = m === null ? NaN : milliseconds(m[1], m[2]);
    // wrk now and then prints 0.00us for a percentile it failed to compute.
    return ms > 0 ? ms : NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(report);
  const errors = (socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0)) + (non2xx === null ? 0 : Number(non2xx[1]));
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(report)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in /.exec(report)?.[1] ?? NaN),
    p50: percentile("50"),
    p99: percentile("99"),
    errors,
  };
}
