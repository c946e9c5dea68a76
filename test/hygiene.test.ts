// The rules the test suite holds itself to, each tried on a failing example:
// no dot-only call under test/ (scripts/check-tests.mjs), every test asserts
// something (support/uvu.ts), and a skip is counted as one, or fails under CI
// (support/requires.ts).
import { suite, assert } from "./support/uvu.ts";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const test = suite("test hygiene");
const root = new URL("../", import.meta.url).pathname;
const support = new URL("./support/", import.meta.url).href;

function node(args: string[], env: Record<string, string> = {}): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", env: { ...process.env, CI: "", FORCE_COLOR: "0", ...env } });
  return { status: run.status, out: (run.stdout + run.stderr).replace(/\x1b\[[0-9;]*m/g, "") };
}

/** Runs uvu on one test file written to a fresh folder. */
function uvu(source: string, env: Record<string, string> = {}): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-hygiene-"));
  try {
    writeFileSync(join(dir, "fixture.test.ts"), source);
    return node(["--import", "tsx", "node_modules/uvu/bin.js", dir, "fixture"], env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const summary = (out: string): number[] =>
  ["Total", "Passed", "Skipped"].map((k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(out)?.[1] ?? NaN));

test("no test under test/ is marked .only", () => {
  const check = node(["scripts/check-tests.mjs"]);
  assert.is(check.status, 0, check.out);
});

test("the .only check finds one, and says where", () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-only-"));
  try {
    writeFileSync(join(dir, "a.test.ts"), `const test = suite("x");\n\ntest${"."}only("alone", () => {});\n`);
    const check = node(["scripts/check-tests.mjs", dir]);
    assert.is(check.status, 1);
    assert.match(check.out, /a\.test\.ts:3: test\.only\("alone"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a test without an assertion fails; the others in its suite still run and report", () => {
  const { status, out } = uvu(`
import { suite, assert } from ${JSON.stringify(support + "uvu.ts")};
const test = suite("fixture");
let hooks = 0;
test.after.each(() => { hooks++; });
test.after(() => { console.log("user after.each ran " + hooks + " times"); });
test("asserts nothing", () => {});
test("throws before asserting", () => { throw new Error("thrown on purpose"); });
test("fails an assertion", () => { assert.is(1, 2, "one is not two"); });
test("asserts", async () => { await new Promise((r) => setTimeout(r, 1)); assert.ok(true); });
test.run();
`);
  assert.is(status, 1, out);
  assert.match(out, /"asserts nothing" made no assertion/);
  assert.match(out, /thrown on purpose/);
  assert.match(out, /one is not two/);
  assert.equal(summary(out), [4, 1, 0], out);
  // Once per test, and once more for the test the check failed (uvu runs the hooks again after a failure).
  assert.match(out, /user after\.each ran 5 times/, "after.each hooks ran once per test, the check's failure reported once");
});

test("an assertion in an after.each hook counts for the test it follows", () => {
  const { status, out } = uvu(`
import { suite, assert } from ${JSON.stringify(support + "uvu.ts")};
const test = suite("fixture");
test.after.each(() => { assert.ok(true, "a check every test shares"); });
test("its check is in the hook", () => {});
test.run();
`);
  assert.is(status, 0, out);
  assert.equal(summary(out), [1, 1, 0], out);
});

const needy = `
import { suite, assert } from ${JSON.stringify(support + "uvu.ts")};
import { requires } from ${JSON.stringify(support + "requires.ts")};
const test = suite("fixture");
requires(test, "needs a unicorn: apt-get install unicorn", "rides the unicorn", () => { assert.ok(false, "ran"); });
requires(test, null, "walks", () => { assert.ok(true); });
test.run();
`;

test("a test whose needs are missing is counted as skipped, with the line that says what it needs", () => {
  const { status, out } = uvu(needy);
  assert.is(status, 0, out);
  assert.equal(summary(out), [1, 1, 1], out);
  assert.match(out, /skipped "rides the unicorn": needs a unicorn: apt-get install unicorn/);
});

test("under CI a missing need is a failure that says what is missing", () => {
  const { status, out } = uvu(needy, { CI: "true" });
  assert.is(status, 1, out);
  assert.equal(summary(out), [2, 1, 0], out);
  assert.match(out, /cannot run here: needs a unicorn/);
});

test.run();
