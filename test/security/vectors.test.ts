// Every hostile vector over a real socket to a running server; one test per
// vector, then the outcome table. KNOWN_FAILING vectors are run and reported
// but do not fail the suite.
import { suite, assert } from "../support/uvu.ts";
import { judgeAll, table, type Outcome } from "./judge.ts";
import { startRecorder, type Recorder } from "./recorder.ts";
import { KNOWN_FAILING, LIMITS, VECTORS } from "./vectors.ts";

const test = suite("security vectors");

let recorder: Recorder;
let outcomes = new Map<string, Outcome>();
let known: Outcome[] = [];

test.before(async () => {
  // Short timeouts, so a vector the server waits on ends in seconds, not minutes.
  recorder = await startRecorder({ limits: LIMITS, timeouts: { headers: 2000, request: 2000, keepAlive: 2000 } });
  outcomes = new Map((await judgeAll(recorder, VECTORS)).map((o) => [o.vector.name, o]));
  known = await judgeAll(recorder, KNOWN_FAILING);
});

test.after(async () => {
  console.log(`\n${table("Security vectors", [...outcomes.values()])}`);
  if (known.length > 0) {
    console.log(`\n${table("KNOWN_FAILING (reported, not failed on)", known)}`);
    const fixed = known.filter((o) => o.problems.length === 0).map((o) => o.vector.name);
    if (fixed.length > 0) console.log(`\nNow passing, move to VECTORS: ${fixed.join("; ")}`);
  }
  await recorder.server.close();
});

test("at least 150 vectors, with unique names", () => {
  const names = [...VECTORS, ...KNOWN_FAILING].map((v) => v.name);
  assert.ok(names.length >= 150, `${names.length} vectors`);
  assert.is(new Set(names).size, names.length, "names are unique");
});

for (const vector of VECTORS) {
  test(vector.name, () => {
    const outcome = outcomes.get(vector.name)!;
    assert.ok(outcome.problems.length === 0, `expected ${outcome.expected}, got ${outcome.got}: ${outcome.problems.join("; ")}`);
  });
}

test("the server is still serving after all vectors", async () => {
  const response = await fetch(`http://127.0.0.1:${recorder.server.port}/after`);
  assert.is(response.status, 200);
  assert.is(await response.text(), "GET /after\n");
});

test.run();
