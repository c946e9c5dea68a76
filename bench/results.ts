// bench/RESULTS.md: each benchmark rewrites only its own section, so the
// HTTP, idle and parser numbers can be refreshed one at a time. Only with
// --write: by default a run goes to bench/.results/ (git-ignored), so a short
// or noisy run never changes a committed file by accident.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";

const FILE = new URL("./RESULTS.md", import.meta.url);
/** Read when the benchmark starts: what else was running then. */
const loadAtStart = loadavg();
const TITLE = "# Benchmark results\n\nSee [README.md](README.md) for how these are made and how to read them.\n";

/** --write: this run's figures go into the committed RESULTS.md and ratios.svg. */
const WRITE = process.argv.includes("--write");
const RUNS = new URL("./.results/", import.meta.url);
const startedAt = new Date().toISOString().slice(0, 19).replace(/:/g, "-");

/** Writes one of this run's files into bench/.results/; its path from the project's root. */
function keep(name: string, text: string): string {
  mkdirSync(RUNS, { recursive: true });
  writeFileSync(new URL(name, RUNS), text);
  return `bench/.results/${name}`;
}

/** With --write, bench/<name> (the README's chart); else bench/.results/<name> with the run's time in its name. */
export function writeFigure(name: string, content: string): void {
  if (WRITE) writeFileSync(new URL(`./${name}`, import.meta.url), content);
  const file = WRITE ? `bench/${name}` : keep(name.replace(/(\.\w+)$/, `-${startedAt}$1`), content);
  console.log(`wrote ${file}`);
}

/** With --write, replaces (or appends) the section between this benchmark's markers in RESULTS.md; else a file of its own in bench/.results/. */
export function writeSection(name: string, markdown: string): void {
  if (!WRITE) {
    console.log(`wrote ${keep(`${name}-${startedAt}.md`, `${markdown.trim()}\n`)} (with --write: the ${name} section of bench/RESULTS.md)`);
    return;
  }
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const text = existsSync(FILE) ? readFileSync(FILE, "utf8") : TITLE;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  const next = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, next);
  console.log(`wrote the ${name} section of bench/RESULTS.md`);
}

function packageVersion(name: string): string {
  const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

function gitCommit(): string {
  try {
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "assembly", "shim"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() !== "";
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() + (dirty ? " + uncommitted changes" : "");
  } catch {
    return "unknown";
  }
}

/** How this run was started, as an npm script with its arguments. */
export function command(script: string): string {
  const args = process.argv.slice(2);
  return args.length === 0 ? `npm run ${script}` : `npm run ${script} -- ${args.join(" ")}`;
}

/** The machine, the software and the command, as Markdown lines. */
export function machine(command: string, extra: string[] = []): string {
  const load = loadAtStart.map((l) => l.toFixed(2)).join(" ");
  const versions = ["fastify", "hono", "@hono/node-server", "undici"].map((p) => `${p} ${packageVersion(p)}`).join(", ");
  return [
    `- Command: \`${command}\` (${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC)`,
    `- CPU: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores; Linux ${release()}; Node ${process.version}`,
    `- simplenet ${gitCommit()}; ${versions}`,
    ...extra,
    `- Load average when it started: ${load} (the machine is shared: numbers move with what else runs)`,
  ].join("\n");
}
