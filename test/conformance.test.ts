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
// Where we differ on purpose, the case is in DIFFERENCES below, by name or by
// a rule. The test fails when an unlisted case differs, and when a listed one
// stops differing.
import { suite, assert } from "./support/uvu.ts";
import { existsSync } from "node:fs";
import { createParser, type Build, type ParserInstance } from "../src/parser.ts";
import {
  corpusDir, loadRequestCases, projectLog, projectStream, type CorpusCase, type Projection,
} from "./support/llhttp-corpus.ts";
import { requires } from "./support/requires.ts";

interface Run {
  c: CorpusCase;
  /** The input and llhttp's projection as compared (with Host supplied where we asked for it). */
  input: Uint8Array;
  want: Projection;
  got: Projection;
  parser: ParserInstance;
}

interface Difference {
  reason: string;
  /** Cases by name ("file.md: heading") ... */
  cases?: readonly string[];
  /** ... or a rule that holds only for the difference it explains ... */
  rule?: (run: Run) => boolean;
  /** ... or, for a difference between feeding the input whole and in these pieces, a rule about that. */
  piecewise?: (run: Run, pieces: Uint8Array[], result: Projection) => boolean;
}

const MISSING_HOST: Difference = {
  reason: "RFC 9112 §3.2: an HTTP/1.1 request without Host is rejected (llhttp does not check); compared again with `Host: h` added",
  rule: (r) => projectStream(r.parser, [r.c.input]).code === "MISSING_HOST",
};

const DIFFERENCES: readonly Difference[] = [
  MISSING_HOST,
  {
    reason: "a method is any token (RFC 9110 §9.1), unknown ones are the application's to refuse; llhttp knows a fixed list and ties some to RTSP",
    cases: ["invalid.md: HTTP protocol and ANNOUNCE method", "invalid.md: Invalid method"],
  },
  {
    reason: "HTTP only: RTSP/1.0 and ICE/1.0 request lines are bad versions",
    cases: ["method.md: SOURCE request with ICE", "method.md: OPTIONS request with RTSP", "method.md: ANNOUNCE request with RTSP"],
  },
  { reason: "RFC 9112 §3.2.4: asterisk-form only for OPTIONS", cases: ["method.md: M-SEARCH request"] },
  {
    reason: "the HTTP/2 preface (PRI * HTTP/2.0) is not an HTTP/1.1 request: 400, not a protocol switch",
    cases: ["method.md: PRI request HTTP2"],
  },
  { reason: "HTTP/0.9 (a request line without a version) is rejected", cases: ["sample.md: No HTTP version"] },
  {
    reason: "RFC 9112 §6.1: a transfer coding we do not implement (deflate) before chunked is 501; llhttp passes the coded body on",
    cases: ["transfer-encoding.md: POST with `chunked` as last transfer-encoding"],
  },
  {
    reason: "Transfer-Encoding in two field lines is refused (one field, ending in chunked); llhttp combines them",
    cases: ["transfer-encoding.md: POST with `chunked` as last transfer-encoding (multiple headers)"],
  },
  {
    reason: "CONNECT with Content-Length: framed by RFC 9112 §6.3, the body is read; llhttp switches to the tunnel right after the head",
    cases: ["method.md: CONNECT with body"],
  },
  {
    reason: "skipBody: llhttp's caller declares there is no body (as for a response to HEAD); requests have no such case",
    cases: ["content-length.md: Content-Length reset when no body is received"],
  },
  {
    reason: "what fields mean (duplicate or malformed Content-Length) is checked once the head is complete; llhttp checks each as it arrives",
    rule: (r) => r.want.outcome === "error" && r.got.outcome === "incomplete" && /CONTENT_LENGTH/.test(
      projectStream(r.parser, [r.input, Uint8Array.of(0x0d, 0x0a)]).code ?? ""),
  },
  {
    reason: "fed in pieces, a fault in a head that never ends is reported when its end (or the size limit) arrives: a retry re-parses only then (prevLen), so retries stay linear",
    piecewise: (r, pieces, result) => r.got.outcome === "error" && result.outcome === "incomplete" && !headEnds(r.input) &&
      projectStream(r.parser, [...pieces, Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a)]).outcome === "error",
  },
];

const corpusPresent = existsSync(corpusDir);
const missing = corpusPresent ? null : `needs llhttp's test corpus at ${corpusDir.pathname}: nodejs/llhttp's test/ folder ` +
  "(its request/*.md) as ../shared/llhttp-tests/ beside the checkout, or SIMPLENET_LLHTTP_TESTS=<folder>";
const cases = corpusPresent ? loadRequestCases().filter((c) => c.type === "request" || c.type === "request-finish") : [];

const same = (a: Projection, b: Projection): boolean =>
  JSON.stringify([a.messages, a.outcome]) === JSON.stringify([b.messages, b.outcome]);

const show = (p: Projection): string => JSON.stringify(p);

/** Whether the input holds the empty line that ends a head (LF, then CRLF or LF). */
function headEnds(input: Uint8Array): boolean {
  return input.some((b, i) => b === 0x0a && (input[i + 1] === 0x0a || (input[i + 1] === 0x0d && input[i + 2] === 0x0a)));
}

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

for (const build of ["simd", "scalar"] as Build[]) {
  const test = suite(`llhttp conformance (${build})`);
  const parser = createParser({}, build);

  requires(test, missing, "the corpus is there and holds the strict request cases", () => {
    assert.ok(cases.length >= 100, `only ${cases.length} cases`);
    const named = new Set(cases.map((c) => c.name));
    for (const d of DIFFERENCES) for (const name of d.cases ?? []) assert.ok(named.has(name), `no case named ${name}`);
  });

  requires(test, missing, "every case agrees, or differs for a listed reason", () => {
    const byReason = new Map<Difference, number>();
    const failures: string[] = [];
    let asTheyAre = 0;
    let withHost = 0;
    let splitFeeds = 0;
    for (const c of cases) {
      const reasons = new Set<Difference>();
      const original = projectLog(c.log);
      let run: Run = { c, input: c.input, want: original, got: projectStream(parser, [c.input]), parser };
      if (MISSING_HOST.rule!(run)) {
        reasons.add(MISSING_HOST);
        const { input, want } = supplyHost(parser, c, original);
        run = { ...run, input, want, got: projectStream(parser, [input]) };
      }
      const listed = DIFFERENCES.filter((d) => d.cases?.includes(c.name));
      if (!same(run.want, run.got)) {
        const why = listed[0] ?? DIFFERENCES.find((d) => d !== MISSING_HOST && d.rule?.(run));
        if (why) reasons.add(why);
        else failures.push(`${c.name}: unlisted difference\n  input  ${JSON.stringify(String.fromCharCode(...run.input))}\n  llhttp ${show(run.want)}\n  ours   ${show(run.got)}`);
      } else {
        for (const d of listed) failures.push(`${c.name}: listed (${d.reason}) but agrees now`);
        if (!c.noScan) {
          for (const [how, pieces] of splits(run.input)) {
            splitFeeds++;
            const result = projectStream(parser, pieces);
            if (same(result, run.got)) continue;
            const why = DIFFERENCES.find((d) => d.piecewise?.(run, pieces, result));
            if (why) {
              reasons.add(why);
              continue;
            }
            failures.push(`${c.name}: ${how} gives ${show(result)}, whole gives ${show(run.got)}`);
            break;
          }
        }
      }
      if (reasons.size === 0) asTheyAre++;
      else if (reasons.size === 1 && reasons.has(MISSING_HOST)) withHost++;
      for (const d of reasons) byReason.set(d, (byReason.get(d) ?? 0) + 1);
    }
    if (build === "simd") {
      console.log(`\n  llhttp corpus: ${cases.length} strict request cases, ${splitFeeds} split feeds; ` +
        `${asTheyAre + withHost} agree (${asTheyAre} as they are, ${withHost} once Host is supplied). Differences by reason:`);
      for (const d of DIFFERENCES) console.log(`    ${String(byReason.get(d) ?? 0).padStart(3)}  ${d.reason}`);
    }
    assert.is(failures.length, 0, failures.join("\n"));
    for (const d of DIFFERENCES) assert.ok(byReason.has(d), `no case differs for: ${d.reason}`);
  });

  test.run();
}
