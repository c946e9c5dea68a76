// simplenet-parser as a consumer gets it, for the tests that run it in each
// runtime: the package folder (parser/, less its sources and build) with
// parser/src compiled afresh into its dist/, packed with `npm pack`, and the
// tarball installed with `npm install` into an empty app folder — with no
// C compiler (CXX=false, CC=false), which the parser never needs. So every
// runtime resolves `simplenet-parser` through the package's own `exports`
// from node_modules, as an app would, never from parser/src. Done once per
// test process (uvu runs all files in one); the folder is removed at exit.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { command } from "./requires.ts";
import { childEnv, run } from "./runtimes.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const parserDir = join(root, "parser");

export interface InstalledParser {
  /** The app folder: package.json and node_modules/simplenet-parser, nothing else. */
  app: string;
  /** node_modules/simplenet-parser in it. */
  packageDir: string;
  /** The packed tarball. */
  tarball: string;
  version: string;
}

let installing: Promise<InstalledParser> | null = null;

/** The packed and installed package (built once per process). */
export function installedParser(): Promise<InstalledParser> {
  installing ??= install();
  return installing;
}

/** null when npm is on PATH, else what the test needs (for requires()). */
export const npmMissing = command("npm") === "" ? "needs npm on PATH (it comes with Node)" : null;

async function install(): Promise<InstalledParser> {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-parser-package-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const env = childEnv({ CXX: "false", CC: "false", npm_config_fund: "false", npm_config_audit: "false" });
  const must = async (what: string, file: string, args: string[], cwd: string, timeoutMs: number): Promise<string> => {
    const r = await run(file, args, { cwd, timeoutMs, env });
    if (r.code !== 0) throw new Error(`${what} failed (${r.code ?? r.signal}): ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
    return r.stdout;
  };

  // The package folder as the build leaves it, with dist/ built now from parser/src.
  const pkg = join(dir, "package");
  mkdirSync(pkg);
  for (const entry of readdirSync(parserDir)) {
    if (entry !== "src" && entry !== "dist" && entry !== "node_modules") cpSync(join(parserDir, entry), join(pkg, entry), { recursive: true });
  }
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  await must("tsc (parser/src to the package's dist/)", process.execPath, [tsc, "-p", join(parserDir, "tsconfig.json"), "--outDir", join(pkg, "dist")], root, 120_000);

  const npm = command("npm");
  const packed = await must("npm pack", npm, ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], pkg, 60_000);
  const [{ filename }] = JSON.parse(packed) as { filename: string }[];
  const tarball = join(dir, filename);

  const app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }, null, 2));
  await must("npm install <tarball>", npm, ["install", tarball, "--prefer-offline"], app, 120_000);
  const packageDir = join(app, "node_modules/simplenet-parser");
  const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string };
  return { app, packageDir, tarball, version };
}

/** Copies examples/<path> into the app folder (as <as>, default its base name); returns the name to run it by. */
export function copyExample(app: string, path: string, as = path.split("/").pop()!): string {
  cpSync(join(root, "examples", path), join(app, as));
  return as;
}

/** The lines an example says it prints: its `// → ` comments, in order. */
export function expectedOutput(path: string): string[] {
  const source = readFileSync(join(root, "examples", path), "utf8");
  return [...source.matchAll(/^\s*\/\/ → (.*)$/gm)].map((m) => m[1]);
}
