// Differential test against Node's own llhttp (test/support/llhttp.ts):
// seeded generated requests, most of them mutated, parsed by both. Where
// both accept, every message must agree (method, target, version, headers,
// body, trailers, keep-alive, boundaries); where they part, the difference
// must be one of the accepted differences of test/support/differences.ts
// (the table the llhttp corpus test and the fuzzer use too). Anything else
// fails and prints the input.
import { suite, assert } from "./support/uvu.ts";
import { createParser, type ParserInstance } from "../parser/src/parser-node.ts";
import { compareWithLlhttp } from "./support/differences.ts";
import { llhttpParse } from "./support/llhttp.ts";
import { deferredHeadFault, driveStream, runKey } from "./support/stream.ts";
import { random } from "./support/random.ts";
import { Gen, bytes, cutInTwo, mutate, pushFieldLines } from "./support/generate.ts";

const SEED = 0x5eed;
// Every input, every run: no time budget, which would test fewer of them on a slower machine.
const INPUTS = 10000;

// ---- inputs ---------------------------------------------------------------

const METHODS = ["GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "M-SEARCH", "PROPFIND", "BREW"];
const TARGETS = ["/", "/a/b?c=d&e=f", "/%20x", "/p;q=1", "/~u/x.y", "http://h.example/x?y", "/a#frag", "/\"q\"", "/a|b"];
const FIELDS: [string, string][] = [
  ["User-Agent", "gen/1.0 (test)"], ["Accept", "*/*"], ["Accept-Encoding", "gzip, br"], ["Cookie", "a=b; c=d"],
  ["X-Empty", ""], ["X-Token", "abc123"], ["X-Spaced", "a  b\tc"], ["X-Obs", "caf\xe9"], ["Cache-Control", "no-cache"],
  ["Content-Type", "text/plain"], ["Expect", "100-continue"], ["Connection", "keep-alive"], ["Connection", "close"],
];

function message(g: Gen): string {
  const method = g.pick(METHODS);
  const version = g.chance(0.85) ? "1.1" : "1.0";
  const target = method === "OPTIONS" && g.chance(0.3) ? "*" : g.pick(TARGETS);
  const lines = [`${method} ${target} HTTP/${version}`];
  if (version === "1.1" || g.chance(0.5)) lines.push(`Host: ${g.pick(["h.example", "h.example:8080", "[::1]:80", "127.0.0.1"])}`);
  pushFieldLines(g, FIELDS, lines);
  let body = "";
  const framing = method === "GET" || method === "HEAD" ? g.int(4) === 0 ? 1 : 0 : g.int(3);
  if (framing === 1) {
    const data = g.text(g.int(20));
    lines.push(`Content-Length: ${g.chance(0.1) ? "0" : ""}${data.length}`);
    body = data;
  } else if (framing === 2 && version === "1.1") {
    lines.push("Transfer-Encoding: chunked");
    for (let n = g.int(3); n > 0; n--) {
      const data = g.text(1 + g.int(17));
      const size = data.length.toString(16);
      const ext = g.pick(["", "", ";a", ";a=b", ';a="q d"']);
      body += `${g.chance(0.2) ? size.toUpperCase().padStart(3, "0") : size}${ext}\r\n${data}\r\n`;
    }
    body += g.chance(0.2) ? "0\r\nX-Trailer: t\r\n\r\n" : "0\r\n\r\n";
  }
  return lines.join("\r\n") + "\r\n\r\n" + body;
}

function* inputs(seed: number, count: number): Generator<string> {
  const g = new Gen(random(seed));
  for (let i = 0; i < count; i++) {
    let s = message(g);
    if (g.chance(0.2)) s += (g.chance(0.3) ? "\r\n" : "") + message(g);
    const mutations = g.chance(0.15) ? 0 : 1 + g.int(2);
    for (let m = 0; m < mutations; m++) s = mutate(g, s);
    yield s;
  }
}

// ---- comparison -----------------------------------------------------------

const test = suite("differential: our parser and Node's llhttp");

test("generated and mutated requests: both-accept agree, disagreements are accepted differences", () => {
  const parser: ParserInstance = createParser();
  const counts = new Map<string, number>();
  const unexplained: string[] = [];
  let inputs_ = 0;
  let bothAccept = 0;
  let agreeing = 0;
  let unfinishedHeads = 0;
  const pick = random(SEED + 1);
  for (const input of inputs(SEED, INPUTS)) {
    inputs_++;
    const data = bytes(input);
    const whole = driveStream(parser, [data]);
    const [cut, pieces] = cutInTwo(data, pick);
    const split = driveStream(parser, pieces);
    if (runKey(split) !== runKey(whole)) {
      // A fault in a head that has not ended is found once it ends (test/support/stream.ts).
      if (deferredHeadFault(parser, pieces, whole, split)) unfinishedHeads++;
      else unexplained.push(`split at ${cut}: ${JSON.stringify(input)}\n  whole  ${runKey(whole)}\n  pieces ${runKey(split)}`);
    }
    const verdict = compareWithLlhttp(data, whole, parser);
    if ("agree" in verdict) {
      agreeing++;
      if (whole.error === null) bothAccept++;
    } else if ("difference" in verdict) {
      counts.set(verdict.difference.reason, (counts.get(verdict.difference.reason) ?? 0) + 1);
    } else if (unexplained.length < 10) {
      unexplained.push(`${verdict.unexplained}\n  input  ${JSON.stringify(input)}\n  ours   ${JSON.stringify(whole)}\n  llhttp ${JSON.stringify(llhttpParse(data))}`);
    }
  }
  console.log(`\n  differential: ${inputs_} inputs (seed ${SEED}), ${bothAccept} accepted by both and equal, ${agreeing} agree in all; ` +
    `ours fed in two pieces: same as whole but for ${unfinishedHeads} heads that never end`);
  for (const [why, n] of counts) console.log(`    ${String(n).padStart(5)}  ${why}`);
  assert.ok(bothAccept >= inputs_ / 10, `too few inputs both accept (${bothAccept}): the generator is off`);
  assert.is(unexplained.length, 0, `unexplained disagreements:\n  ${unexplained.join("\n  ")}`);
});

test.run();
