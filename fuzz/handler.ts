// The `handler` target: generated handler programs and request sequences
// (test/support/handler-programs.ts) on simplenet and on node:http, both
// wires read by the strict client and compared as the handler differential
// test compares them (test/support/handler-compare.ts); a difference no
// entry of the table (handler-differences.ts) explains is a finding. Not the
// parser and not coverage-guided: each execution is one program over real
// sockets, so it is async, and it has its own loop here. Conversations are
// drawn in batches before any runs, so a seed and --execs give the same
// programs on any machine.
import { random } from "../test/support/random.ts";
import { Gen } from "../test/support/generate.ts";
import { generateConversation, printConversation, type Conversation } from "../test/support/handler-programs.ts";
import { HandlerServers } from "../test/support/handler-wire.ts";
import { compareConversation, describeParting, partingKind } from "../test/support/handler-compare.ts";
import { explainHandler } from "../test/support/handler-differences.ts";

/** Conversations on the wire at once. */
const AT_ONCE = 8;
const REPORT_EVERY_MS = 5000;
/** Findings printed in full; past this many kinds, only counted. */
const MAX_FINDINGS_SHOWN = 20;

export interface HandlerFuzzOptions {
  seed: number;
  seconds: number;
  /** Programs to run (each request of a conversation runs one). */
  execs: number;
}

/** Runs the target; the exit code (1 when it found a difference no entry explains). */
export async function fuzzHandlers({ seed, seconds, execs }: HandlerFuzzOptions): Promise<number> {
  const budget = Number.isFinite(execs) ? `--execs ${execs}` : `--seconds ${seconds}`;
  console.log(`target handler, seed ${seed}, ${budget}: generated handler programs on simplenet and on node:http`);
  const servers = await HandlerServers.start();
  const g = new Gen(random(seed));
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const kinds = new Map<string, number>();
  let programs = 0, conversations = 0, explained = 0, nextId = 0;
  let nextReport = started + REPORT_EVERY_MS;
  const line = () => {
    const elapsed = (performance.now() - started) / 1000;
    return `${elapsed.toFixed(0)}s: ${programs} programs in ${conversations} conversations (${Math.round(programs / elapsed)}/s), ` +
      `${explained} listed differences, ${kinds.size} kinds of finding`;
  };
  const run = async (c: Conversation) => {
    const { ours, theirs } = await servers.converse(c);
    for (const p of compareConversation(c, ours, theirs, servers.seen.simplenet, servers.seen.node)) {
      if (explainHandler(p) !== null) {
        explained++;
        continue;
      }
      const kind = partingKind(p);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (kinds.get(kind) === 1 && kinds.size <= MAX_FINDINGS_SHOWN) {
        console.log(`FINDING ${describeParting(p)}\n${printConversation(c)}\n  simplenet sent ${JSON.stringify(ours.bytes.toString("latin1").slice(0, 400))}` +
          `\n  node:http sent ${JSON.stringify(theirs.bytes.toString("latin1").slice(0, 400))}`);
      }
    }
    servers.forget(c);
  };
  try {
    while (programs < execs && performance.now() < deadline) {
      const batch: Conversation[] = [];
      for (let n = 0; n < AT_ONCE && programs < execs; n++) {
        const c = generateConversation(g, nextId);
        nextId += c.requests.length;
        programs += c.requests.length;
        batch.push(c);
      }
      conversations += batch.length;
      await Promise.all(batch.map(run));
      if (performance.now() >= nextReport) {
        console.log(line());
        nextReport += REPORT_EVERY_MS;
      }
    }
  } finally {
    await servers.close();
  }
  console.log(`done: ${line()}`);
  for (const [kind, n] of kinds) console.log(`  ${String(n).padStart(5)} × ${kind}`);
  if (kinds.size === 0) {
    console.log(`no unexplained differences (seed ${seed})`);
    return 0;
  }
  console.log(`unexplained differences; the run again: npm run fuzz -- --target handler --seed ${seed} ${budget}`);
  return 1;
}
