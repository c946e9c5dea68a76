// uvu as the tests use it: `suite` and `assert`, with two rules added — a
// test fails when node:http or fetch took a response head the strict client
// refuses (support/client-watch.ts), and a test that makes no assertion fails. Every assertion call is counted; each
// suite's last after.each hook fails a test that finished without one, made
// in its body or in the suite's other after.each hooks (which run before it:
// a check every test shares, such as "the server still serves", may live there).
//
// uvu 0.5.6 runs the after.each hooks inside the test's try block and, when
// one throws, again in its catch; a second throw there escapes to a `finally`
// that returns, and the failure (and the rest of the suite) is silently lost.
// So the hook throws at most once per test: it forgets the test before it
// throws, and is a no-op when called again, or when the test body itself threw
// (that failure is already being reported).
import { suite as uvuSuite, type Callback, type Test } from "uvu";
import * as uvuAssert from "uvu/assert";
import { takeClientFaults } from "./client-watch.ts";
import { StrictResponseError } from "./strict-client.ts";

let calls = 0;

function counted<F extends (...args: never[]) => unknown>(f: F): F {
  return function (this: unknown, ...args: never[]) {
    calls++;
    return f.apply(this, args);
  } as F;
}

const not = Object.assign(counted(uvuAssert.not), {
  ok: counted(uvuAssert.not.ok),
  equal: counted(uvuAssert.not.equal),
  type: counted(uvuAssert.not.type),
  instance: counted(uvuAssert.not.instance),
  snapshot: counted(uvuAssert.not.snapshot),
  fixture: counted(uvuAssert.not.fixture),
  match: counted(uvuAssert.not.match),
  throws: counted(uvuAssert.not.throws),
});

/** uvu/assert, each call counted. */
export const assert: Omit<typeof uvuAssert, "default"> = {
  Assertion: uvuAssert.Assertion,
  ok: counted(uvuAssert.ok),
  is: Object.assign(counted(uvuAssert.is), { not: counted(uvuAssert.is.not) }),
  equal: counted(uvuAssert.equal),
  type: counted(uvuAssert.type),
  instance: counted(uvuAssert.instance),
  snapshot: counted(uvuAssert.snapshot),
  fixture: counted(uvuAssert.fixture),
  match: counted(uvuAssert.match),
  throws: counted(uvuAssert.throws),
  unreachable: counted(uvuAssert.unreachable),
  not,
};

/** uvu's suite, whose tests must each make an assertion. */
export function suite<T = Record<string, unknown>>(title?: string, context?: T): Test<T> {
  const test = uvuSuite<T>(title, context);
  // The test now running: the assertion count when its body began, and whether the body returned.
  let current: { name: string; start: number; finished: boolean } | null = null;
  const wrap = (name: string, handler: Callback<T>): Callback<T> => async (ctx) => {
    const running = { name, start: calls, finished: false };
    current = running;
    await handler(ctx);
    running.finished = true;
  };
  const check = (): void => {
    const done = current;
    current = null;
    const faults = takeClientFaults();
    if (done === null || !done.finished) return;
    if (faults.length > 0) throw new StrictResponseError(`"${done.name}": a strict client refuses what node:http or fetch took:\n  ${faults.join("\n  ")}`);
    if (calls > done.start) return;
    throw new Error(`"${done.name}" made no assertion: every test must check something that can fail`);
  };
  const register = ((name: string, handler: Callback<T>) => test(name, wrap(name, handler))) as Test<T>;
  return Object.assign(register, {
    // Spelled with brackets so that scripts/check-tests.mjs, which fails on any dot-only call in test/, passes this forwarder.
    only: (name: string, handler: Callback<T>) => test["only"](name, wrap(name, handler)),
    skip: test.skip,
    before: test.before,
    after: test.after,
    // Registered when the suite is run, after every hook of the test file's, so it runs last.
    run: () => {
      test.after.each(check);
      test.run();
    },
  });
}
