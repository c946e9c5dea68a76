// llhttp's own response corpus (../../shared/llhttp-tests/response/) run
// against our response parser, as test/conformance.test.ts runs its request
// corpus: every strict case (`response`, and `response-finish`, whose
// llhttp_finish is our endOfInput()), fed whole and at every split point, on
// both builds, compared on the projection of support/llhttp-corpus.ts
// (accepted or rejected; per completed message status, reason, version,
// headers, body and trailers; how the input ended). A case whose runner sets
// skipBody is run as the response to a HEAD request, which is what that
// switch stands for. Where we differ on purpose, the difference is an entry
// of test/support/differences.ts's response table, with its RFC reason: its
// predicate must explain the case, the cases it names must still differ, and
// a difference no entry explains fails.
import { suite, assert } from "./support/uvu.ts";
import { existsSync } from "node:fs";
import { createParser, type Build, type ParserInstance } from "../parser/src/parser-node.ts";
import {
  corpusDir, loadResponseCases, projectResponseLog, projectResponseStream, type CorpusCase, type ResponseProjection,
} from "./support/llhttp-corpus.ts";
import { RESPONSE_DIFFERENCES, explainResponse, responsePartingAt, responseProjectionReading } from "./support/differences.ts";
import { deferredResponseFault, driveResponses } from "./support/response-stream.ts";
import { requires } from "./support/requires.ts";

const DEFERRED = {
  id: "deferred-head-fault",
  reason: "fed in pieces, a fault in a head that never ends is reported when its end (or the size limit) arrives: a retry re-parses only then (prevLen), so retries stay linear",
};

const corpusPresent = existsSync(corpusDir);
const missing = corpusPresent ? null : `needs llhttp's test corpus at ${corpusDir.pathname}: nodejs/llhttp's test/ folder ` +
  "(its response/*.md) as ../shared/llhttp-tests/ beside the checkout, or SIMPLENET_LLHTTP_TESTS=<folder>";
const cases = corpusPresent ? loadResponseCases().filter((c) => c.type === "response" || c.type === "response-finish") : [];

const optionsOf = (c: CorpusCase) => ({ requestMethod: c.skipBody ? "HEAD" : undefined, endOfInput: c.type === "response-finish" });

const same = (a: ResponseProjection, b: ResponseProjection): boolean =>
  JSON.stringify([a.messages, a.outcome]) === JSON.stringify([b.messages, b.outcome]);

const show = (p: ResponseProjection): string => JSON.stringify(p);

function* splits(input: Uint8Array): Generator<[string, Uint8Array[]]> {
  for (let at = 1; at < input.length; at++) yield [`split at ${at}`, [input.subarray(0, at), input.subarray(at)]];
  yield ["byte at a time", Array.from(input, (b) => Uint8Array.of(b))];
}

function partingOf(c: CorpusCase, want: ResponseProjection, got: ResponseProjection, parser: ParserInstance) {
  let n = 0;
  while (n < got.messages.length && n < want.messages.length && JSON.stringify(got.messages[n]) === JSON.stringify(want.messages[n])) n++;
  return responsePartingAt(c.input, n, responseProjectionReading(got), got.ends ?? [], responseProjectionReading(want), parser, optionsOf(c).requestMethod);
}

for (const build of ["simd", "scalar"] as Build[]) {
  const test = suite(`llhttp response conformance (${build})`);
  const parser = createParser({}, build);

  requires(test, missing, "the corpus is there and holds the strict response cases", () => {
    assert.ok(cases.length >= 70, `only ${cases.length} cases`);
    const named = new Set(cases.map((c) => c.name));
    for (const d of RESPONSE_DIFFERENCES) for (const name of d.corpus ?? []) assert.ok(named.has(name), `no case named ${name}`);
  });

  requires(test, missing, "every case agrees, or differs for an accepted difference", () => {
    const byReason = new Map<string, number>();
    const failures: string[] = [];
    let agree = 0;
    let splitFeeds = 0;
    for (const c of cases) {
      const options = optionsOf(c);
      const want = projectResponseLog(c.log);
      const got = projectResponseStream(parser, [c.input], options);
      const reasons = new Set<string>();
      const listed = RESPONSE_DIFFERENCES.filter((d) => d.corpus?.includes(c.name));
      if (!same(want, got)) {
        const parting = partingOf(c, want, got, parser);
        const why = listed.length > 0 ? listed.find((d) => d.applies(parting)) : explainResponse(parting);
        if (why !== undefined && why !== null) reasons.add(why.id);
        else if (listed.length > 0) {
          failures.push(`${c.name}: listed under ${listed.map((d) => d.id).join(", ")}, whose predicate does not explain it (${explainResponse(parting)?.id ?? "nor does another entry's"})`);
        } else {
          failures.push(`${c.name}: a difference no entry explains\n  input  ${JSON.stringify(String.fromCharCode(...c.input))}\n  llhttp ${show(want)}\n  ours   ${show(got)}`);
        }
      } else {
        for (const d of listed) failures.push(`${c.name}: listed (${d.id}: ${d.reason}) but agrees now`);
        if (!c.noScan) {
          const whole = driveResponses(parser, [c.input], { ...options, stopAtClose: true });
          for (const [how, pieces] of splits(c.input)) {
            splitFeeds++;
            const result = projectResponseStream(parser, pieces, options);
            if (same(result, got)) continue;
            if (deferredResponseFault(parser, pieces, whole, driveResponses(parser, pieces, { ...options, stopAtClose: true }), options)) {
              reasons.add(DEFERRED.id);
              continue;
            }
            failures.push(`${c.name}: ${how} gives ${show(result)}, whole gives ${show(got)}`);
            break;
          }
        }
      }
      if (reasons.size === 0) agree++;
      for (const id of reasons) byReason.set(id, (byReason.get(id) ?? 0) + 1);
    }
    if (build === "simd") {
      console.log(`\n  llhttp response corpus: ${cases.length} strict response cases, ${splitFeeds} split feeds; ${agree} agree. Differences by reason:`);
      for (const d of [...RESPONSE_DIFFERENCES, DEFERRED]) console.log(`    ${String(byReason.get(d.id) ?? 0).padStart(3)}  ${d.id}: ${d.reason}`);
    }
    assert.is(failures.length, 0, failures.join("\n"));
    for (const d of RESPONSE_DIFFERENCES.filter((x) => x.corpus !== undefined)) assert.ok(byReason.has(d.id), `no case differs for: ${d.reason}`);
  });

  test.run();
}
