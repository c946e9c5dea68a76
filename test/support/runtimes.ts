// The JavaScript runtimes other than Node that the parser's tests run in:
// Deno and Bun, as scripts/test-deps.sh installs them (from their npm
// packages, into a git-ignored cache folder, never as the project's
// dependencies), else from PATH. Each child process the tests start here is
// bounded in time and stopped by its PID.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { command } from "./requires.ts";

/** Where scripts/test-deps.sh installs the runtimes (`npm install --prefix`). */
export const RUNTIMES_CACHE = fileURLToPath(new URL("../../node_modules/.cache/simplenet-runtimes/", import.meta.url));
export const DENO_VERSION = "2.9.6";
export const BUN_VERSION = "1.4.5";

const arch = process.arch === "arm64" ? "arm64" : "x64";
const cached = (path: string): string => {
  const full = `${RUNTIMES_CACHE}node_modules/${path}`;
  return existsSync(full) ? full : "";
};

/** The deno binary: from the cache's @deno/linux-<arch>-glibc package (deno@2.9.6's optional dependency), else PATH's; "" when neither. */
export const deno = cached(`@deno/linux-${arch}-glibc/deno`) || command("deno");
/** The bun binary: from the cache's @oven/bun-linux-x64-baseline (or -aarch64) package, else PATH's; "" when neither. */
export const bun = cached(arch === "x64" ? "@oven/bun-linux-x64-baseline/bin/bun" : "@oven/bun-linux-aarch64/bin/bun") || command("bun");

const howTo = "run scripts/test-deps.sh (it installs it from npm into node_modules/.cache/simplenet-runtimes/)";
/** null when deno is here, else what the test needs (for requires()). */
export const denoMissing = deno === "" ? `needs deno ${DENO_VERSION}: ${howTo}` : null;
/** null when bun is here, else what the test needs (for requires()). */
export const bunMissing = bun === "" ? `needs bun ${BUN_VERSION}: ${howTo}` : null;

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file args` in `cwd` (with childEnv() unless `env` is given) and collects its output. Past `timeoutMs` the
 * child is killed by its PID (SIGKILL) and the result says so in stderr.
 */
export function run(file: string, args: readonly string[], options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
      } catch {
        // exited meanwhile
      }
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n(killed after ${options.timeoutMs} ms)`;
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * The environment the children run with: this one's, less uvu's FORCE_COLOR
 * (runtimes would color the numbers they print) and NODE_OPTIONS, with no
 * update checks or prompts.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", npm_config_update_notifier: "false", ...extra };
  delete env.FORCE_COLOR;
  delete env.NODE_OPTIONS;
  return env;
}
