// llhttp's own test corpus (../../shared/llhttp-tests/) run against our
// parser: every strict request case, fed whole and at every split point, on
// both builds. What is compared is a projection of llhttp's trace (see
// support/llhttp-corpus.ts): accepted or rejected, and per completed message
// method, target, version, headers, body and trailers.
//
// `request-finish` cases are included: llhttp's finish=0 ("safe to close")
// and finish=2 ("unsafe") are our "end" and "incomplete" outcomes.
// Lenient types are out of scope: each turns on a leniency a strict parser
// does not have.
//
// Where we differ on purpose, the difference is an entry of the one table of
// accepted differences from llhttp (test/support/differences.ts, which the
// differential test and the fuzzer use too): its predicate must explain the
// case, and the cases each entry names must still differ. The test fails
// when a case differs that no entry explains, when a named case is explained
// by another entry or none, and when a named case stops differing.
import { suite, assert } from "./support/uvu.ts";
import { existsSync } from "node:fs";
import { createParser, type Build, type ParserInstance } from "../parser/src/parser-node.ts";
import {
  corpusDir, loadRequestCases, projectLog, projectStream, type CorpusCase, type Projection,
} from "./support/llhttp-corpus.ts";
import { DIFFERENCES, byId, explain, partingAt, projectionReading, type Parting } from "./support/differences.ts";
import { deferredHeadFault, driveStream } from "./support/stream.ts";
import { requires } from "./support/requires.ts";

interface Run {
  c: CorpusCase;
  /** The input and llhttp's projection as compared (with Host supplied where we asked for it). */
  input: Uint8Array;
  want: Projection;
  got: Projection;
}

/** Why a case may differ that is not a difference between the parsers but a switch of llhttp's test runner. */
const RUNNER_ONLY: readonly { id: string; reason: string; corpus: readonly string[] }[] = [
  {
    id: "skip-body",
    reason: "skipBody: llhttp's test runner declares there is no body (as for a response to HEAD); requests have no such case",
    corpus: ["content-length.md: Content-Length reset when no body is received"],
  },
];

const MISSING_HOST = byId("missing-host");
/** Fed in pieces, the same case may wait where fed whole it failed (test/support/stream.ts, deferredHeadFault). */
const DEFERRED = {
  id: "deferred-head-fault",
  reason: "fed in pieces, a fault in a head that never ends is reported when its end (or the size limit) arrives: a retry re-parses only then (prevLen), so retries stay linear",
};
type Reason = { id: string; reason: string };

const corpusPresent = existsSync(corpusDir);
const missing = corpusPresent ? null : `needs llhttp's test corpus at ${corpusDir.pathname}: nodejs/llhttp's test/ folder ` +
  "(its request/*.md) as ../shared/llhttp-tests/ beside the checkout, or SIMPLENET_LLHTTP_TESTS=<folder>";
const cases = corpusPresent ? loadRequestCases().filter((c) => c.type === "request" || c.type === "request-finish") : [];

const same = (a: Projection, b: Projection): boolean =>
  JSON.stringify([a.messages, a.outcome]) === JSON.stringify([b.messages, b.outcome]);

const show = (p: Projection): string => JSON.stringify(p);

/**
 * Adds "Host: h" to every HTTP/1.1 message we rejected for lacking one, in the
 * input and in llhttp's projection, until no message is rejected for that.
 */
function supplyHost(parser: ParserInstance, c: CorpusCase, want: Projection): { input: Uint8Array; want: Projection } {
  let input = c.input;
  const expected: Projection = structuredClone(want);
  for (let round = 0; round < 16; round++) {
    const got = projectStream(parser, [input]);
    if (got.code !== "MISSING_HOST") return { input, want: expected };
    let at = got.ends!.at(-1) ?? 0;
    while (input[at] === 0x0d || input[at] === 0x0a) at++;
    while (at < input.length && input[at] !== 0x0a) at++;
    const host = new TextEncoder().encode("Host: h\r\n");
    input = Uint8Array.from([...input.subarray(0, at + 1), ...host, ...input.subarray(at + 1)]);
    expected.messages[got.messages.length]?.headers.unshift(["Host", "h"]);
  }
  throw new Error(`${c.name}: Host could not be supplied`);
}

/** The two-piece splits and the byte-at-a-time feed of an input. */
function* splits(input: Uint8Array): Generator<[string, Uint8Array[]]> {
  for (let at = 1; at < input.length; at++) yield [`split at ${at}`, [input.subarray(0, at), input.subarray(at)]];
  yield ["byte at a time", Array.from(input, (b) => Uint8Array.of(b))];
}

/** Where the two projections part: after the messages both read alike. */
function partingOf(r: Run, parser: ParserInstance): Parting {
  let n = 0;
  while (n < r.got.messages.length && n < r.want.messages.length &&
    JSON.stringify(r.got.messages[n]) === JSON.stringify(r.want.messages[n])) n++;
  return partingAt(r.input, n, projectionReading(r.got), r.got.ends ?? [], projectionReading(r.want), parser);
}

for (const build of ["simd", "scalar"] as Build[]) {
  const test = suite(`llhttp conformance (${build})`);
  const parser = createParser({}, build);

  requires(test, missing, "the corpus is there and holds the strict request cases", () => {
    assert.ok(cases.length >= 100, `only ${cases.length} cases`);
    const named = new Set(cases.map((c) => c.name));
    for (const d of [...DIFFERENCES, ...RUNNER_ONLY]) for (const name of d.corpus ?? []) assert.ok(named.has(name), `no case named ${name}`);
  });

  requires(test, missing, "every case agrees, or differs for an accepted difference", () => {
    const byReason = new Map<string, number>();
    const failures: string[] = [];
    let asTheyAre = 0;
    let withHost = 0;
    let splitFeeds = 0;
    for (const c of cases) {
      const reasons = new Set<string>();
      const original = projectLog(c.log);
      let run: Run = { c, input: c.input, want: original, got: projectStream(parser, [c.input]) };
      if (run.got.code === "MISSING_HOST" && MISSING_HOST.applies(partingOf(run, parser))) {
        // Compared again with Host supplied, so that the rest of the case is compared too.
        reasons.add(MISSING_HOST.id);
        const { input, want } = supplyHost(parser, c, original);
        run = { ...run, input, want, got: projectStream(parser, [input]) };
      }
      const listed = [...DIFFERENCES, ...RUNNER_ONLY].filter((d) => d.corpus?.includes(c.name));
      if (!same(run.want, run.got)) {
        // A case an entry names must be explained by that entry's predicate; any other by some entry's.
        const parting = partingOf(run, parser);
        const runner = RUNNER_ONLY.find((d) => listed.includes(d));
        const named = DIFFERENCES.filter((d) => listed.includes(d));
        const why = runner ?? (named.length > 0 ? named.find((d) => d.applies(parting)) : explain(parting)) ?? null;
        if (why !== null) reasons.add(why.id);
        else if (named.length > 0) {
          failures.push(`${c.name}: listed under ${named.map((d) => d.id).join(", ")}, whose predicate does not explain it (${explain(parting)?.id ?? "nor does another entry's"})`);
        } else {
          failures.push(`${c.name}: a difference no entry explains\n  input  ${JSON.stringify(String.fromCharCode(...run.input))}\n  llhttp ${show(run.want)}\n  ours   ${show(run.got)}`);
        }
      } else {
        for (const d of listed) failures.push(`${c.name}: listed (${d.id}: ${d.reason}) but agrees now`);
        if (!c.noScan) {
          const whole = driveStream(parser, [run.input], { stopAtClose: true });
          for (const [how, pieces] of splits(run.input)) {
            splitFeeds++;
            const result = projectStream(parser, pieces);
            if (same(result, run.got)) continue;
            if (deferredHeadFault(parser, pieces, whole, driveStream(parser, pieces, { stopAtClose: true }))) {
              reasons.add(DEFERRED.id);
              continue;
            }
            failures.push(`${c.name}: ${how} gives ${show(result)}, whole gives ${show(run.got)}`);
            break;
          }
        }
      }
      if (reasons.size === 0) asTheyAre++;
      else if (reasons.size === 1 && reasons.has(MISSING_HOST.id)) withHost++;
      for (const id of reasons) byReason.set(id, (byReason.get(id) ?? 0) + 1);
    }
    const all: Reason[] = [...DIFFERENCES, ...RUNNER_ONLY, DEFERRED];
    if (build === "simd") {
      console.log(`\n  llhttp corpus: ${cases.length} strict request cases, ${splitFeeds} split feeds; ` +
        `${asTheyAre + withHost} agree (${asTheyAre} as they are, ${withHost} once Host is supplied). Differences by reason:`);
      for (const d of all) console.log(`    ${String(byReason.get(d.id) ?? 0).padStart(3)}  ${d.id}: ${d.reason}`);
    }
    assert.is(failures.length, 0, failures.join("\n"));
    // The entries the corpus shows: each still differs somewhere in it.
    for (const d of [...DIFFERENCES.filter((x) => x.corpus !== undefined), MISSING_HOST, ...RUNNER_ONLY, DEFERRED]) {
      assert.ok(byReason.has(d.id), `no case differs for: ${d.reason}`);
    }
  });

  test.run();
}
