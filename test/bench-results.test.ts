// A benchmark run changes no committed file unless asked: without --write,
// bench/results.ts puts a run's section in bench/.results/ (git-ignored)
// instead of rewriting bench/RESULTS.md.
import { suite, assert } from "./support/uvu.ts";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const test = suite("bench-results");
const root = fileURLToPath(new URL("..", import.meta.url));
const results = new URL("../bench/RESULTS.md", import.meta.url);

test("without --write a section goes to bench/.results/, and RESULTS.md stays as it was", () => {
  const before = readFileSync(results, "utf8");
  const name = `probe-${process.pid}`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", `(await import("./bench/results.ts")).writeSection("${name}", "## probe\\n")`],
    { cwd: root, encoding: "utf8", timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const written = /wrote (bench\/\.results\/\S+\.md)/.exec(r.stdout)?.[1];
  assert.ok(written !== undefined, r.stdout);
  try {
    assert.is(readFileSync(new URL(`../${written}`, import.meta.url), "utf8"), "## probe\n");
    assert.is(readFileSync(results, "utf8"), before, "RESULTS.md unchanged");
    const ignored = spawnSync("git", ["check-ignore", "-q", written!], { cwd: root });
    assert.is(ignored.status, 0, `${written} is git-ignored`);
  } finally {
    if (existsSync(new URL(`../${written}`, import.meta.url))) rmSync(new URL(`../${written}`, import.meta.url));
  }
});

test.run();
