// The fuzz command's own face (npm run fuzz): help, and mistakes on its
// command line answered in one line with exit code 2, never a stack trace.
import { suite, assert } from "./support/uvu.ts";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const test = suite("fuzz-cli");
const fuzz = fileURLToPath(new URL("../fuzz/fuzz.ts", import.meta.url));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", fuzz, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("--help lists the options and every target, exit 0", () => {
  const r = run(["--help"]);
  assert.is(r.status, 0, r.stderr);
  for (const word of ["--target", "--seconds", "--execs", "--seed", "--corpus", "--input", "--minimize", "request", "websocket", "handler"]) {
    assert.ok(r.stdout.includes(word), word);
  }
});

test("an unknown flag, an unknown target, a bad number, a stray argument: one line, no stack, exit 2", () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /^fuzz: Unknown option '--bogus' \(npm run fuzz -- --help\)\n$/],
    [["--target", "nope"], /^fuzz: unknown target "nope"; one of: request, .*websocket, handler \(npm run fuzz -- --help\)\n$/],
    [["--execs", "lots"], /^fuzz: --execs must be a number, not "lots" \(npm run fuzz -- --help\)\n$/],
    [["--seconds", "1", "--execs", "1"], /^fuzz: --seconds and --execs exclude each other/],
    [["stray"], /^fuzz: unexpected argument "stray"/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.is(r.status, 2, args.join(" "));
    assert.match(r.stderr, message);
    assert.is(r.stderr.split("\n").length, 2, `one line: ${r.stderr}`);
  }
});

test("--target websocket says its seeds are built-in frames, not llhttp's tests", () => {
  const corpus = mkdtempSync(join(tmpdir(), "simplenet-fuzz-cli-"));
  try {
    const r = run(["--target", "websocket", "--execs", "0", "--seed", "1", "--corpus", corpus]);
    assert.is(r.status, 0, r.stderr);
    const first = r.stdout.split("\n")[0];
    assert.match(first, /^target websocket, .* \d+ built-in frames$/);
    assert.not.match(first, /llhttp/);
  } finally {
    rmSync(corpus, { recursive: true, force: true });
  }
});

test.run();
