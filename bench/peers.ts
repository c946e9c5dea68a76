// The peers the benchmarks compare simplenet with, installed by the
// benchmarks themselves into bench/.peers with npm (pinned versions, saved
// nowhere): never dependencies of the package. bench/http.ts and bench/ws.ts
// both call ensurePeers(); the servers load them from there.
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Every peer, by npm name and pinned version. They are installed together: npm prunes what a later install does not name. */
export const PEERS: Record<string, string> = {
  ws: "8.23.0",
  // uWebSockets.js v20.30.0 with its binaries (the project publishes to GitHub only).
  "@trufflesuite/uws-js-unofficial": "20.30.0-unofficial.0",
  // Bun's binary for x64 Linux, baseline build (no AVX2 needed); `bun` on npm only fetches it through this package.
  "@oven/bun-linux-x64-baseline": "1.4.5",
  // Deno's npm package; its binary comes in @deno/linux-x64-glibc, one of its optional dependencies.
  deno: "2.9.6",
};

export const PEER_DIR = fileURLToPath(new URL("./.peers/", import.meta.url));
const MODULES = join(PEER_DIR, "node_modules");

export function installedVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(MODULES, name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return null;
  }
}

/** Installs the peers into bench/.peers with npm (not saved anywhere), and keeps that folder out of git. Does nothing when they are there. */
export function ensurePeers(): void {
  mkdirSync(PEER_DIR, { recursive: true });
  writeFileSync(join(PEER_DIR, ".gitignore"), "# installed and built by npm run bench and npm run bench:ws (bench/peers.ts)\n*\n");
  const missing = Object.entries(PEERS).filter(([name, version]) => installedVersion(name) !== version);
  if (missing.length === 0 && bunBinary() !== null && denoBinary() !== null) return;
  console.log(`installing ${missing.map(([n, v]) => `${n}@${v}`).join(", ") || "the peers' binaries"} into bench/.peers ...`);
  const specs = Object.entries(PEERS).map(([n, v]) => `${n}@${v}`);
  execFileSync("npm", ["install", "--prefix", PEER_DIR, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", ...specs], { stdio: "inherit" });
}

function executable(path: string): string | null {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

/** bench/.peers' bun binary, run directly (no npm wrapper in between), or null. */
export function bunBinary(): string | null {
  return executable(join(MODULES, "@oven", `bun-linux-${process.arch}-baseline`, "bin", "bun"));
}

/** bench/.peers' deno binary (from the platform package; the `deno` package links it in its postinstall, which npm may skip), or null. */
export function denoBinary(): string | null {
  return executable(join(MODULES, "@deno", `linux-${process.arch}-glibc`, "deno")) ?? executable(join(MODULES, "deno", "deno"));
}

/** The version a binary reports (`bun --version`, `deno --version`), or "?". */
export function binaryVersion(path: string | null): string {
  if (path === null) return "?";
  try {
    const out = execFileSync(path, ["--version"], { encoding: "utf8", env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DO_NOT_TRACK: "1" }, stdio: ["ignore", "pipe", "ignore"] });
    return /(\d+\.\d+\.\d+\S*)/.exec(out)?.[1] ?? "?";
  } catch {
    return "?";
  }
}
