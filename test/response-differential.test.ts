// Differential test of the response parser against Node's own llhttp in
// response mode (test/support/llhttp.ts, LlhttpResponses, driven as
// node:http's client drives it): seeded generated responses — interim ones,
// every framing, answers to HEAD and CONNECT, pipelined ones — most of them
// mutated, parsed by both, half of them with the connection closing after
// the input (our endOfInput(), llhttp's finish()). Where both accept, every
// response must agree (status, reason, version, headers, body, trailers,
// keep-alive, boundaries); where they part, the difference must be one of the
// accepted response differences of test/support/differences.ts. Anything
// else fails and prints the input.
import { suite, assert } from "./support/uvu.ts";
import { createParser } from "../parser/src/parser-node.ts";
import { compareResponsesWithLlhttp, llhttpResponsesParse } from "./support/differences.ts";
import { deferredResponseFault, driveResponses, responseRunKey } from "./support/response-stream.ts";
import { random } from "./support/random.ts";
import { Gen, bytes, cutInTwo, mutate, pushFieldLines } from "./support/generate.ts";

const SEED = 0x5eed + 17;
const INPUTS = 10000;

const STATUSES: [number, string][] = [
  [200, "OK"], [200, "OK"], [201, "Created"], [204, "No Content"], [206, "Partial Content"], [301, "Moved Permanently"],
  [304, "Not Modified"], [400, "Bad Request"], [404, "Not Found"], [500, "Internal Server Error"], [502, ""], [999, "Weird"],
  [101, "Switching Protocols"], [100, "Continue"], [103, "Early Hints"],
];
const FIELDS: [string, string][] = [
  ["Server", "gen/1.0"], ["Content-Type", "text/html; charset=utf-8"], ["Date", "Sun, 06 Nov 1994 08:49:37 GMT"],
  ["X-Empty", ""], ["Set-Cookie", "a=b; Path=/"], ["X-Spaced", "a  b\tc"], ["X-Obs", "caf\xe9"], ["Cache-Control", "no-cache"],
  ["Connection", "keep-alive"], ["Connection", "close"], ["Upgrade", "websocket"], ["Connection", "Upgrade"], ["Vary", "Accept"],
];
const METHODS = [undefined, undefined, "GET", "POST", "HEAD", "CONNECT"];

function response(g: Gen, interim = false): string {
  const [status, reason] = interim ? g.pick(STATUSES.filter(([s]) => s === 100 || s === 103)) : g.pick(STATUSES.filter(([s]) => s !== 100 && s !== 103));
  const version = g.chance(0.85) ? "1.1" : "1.0";
  const lines = [`HTTP/${version} ${status} ${g.chance(0.1) ? "" : reason}`];
  pushFieldLines(g, FIELDS, lines);
  let body = "";
  const framing = g.int(5);
  if (framing === 1 || framing === 2) {
    const data = g.text(g.int(20));
    lines.push(`Content-Length: ${g.chance(0.1) ? "0" : ""}${data.length}`);
    body = data;
  } else if (framing === 3 && version === "1.1") {
    lines.push(g.chance(0.8) ? "Transfer-Encoding: chunked" : g.pick(["Transfer-Encoding: gzip, chunked", "Transfer-Encoding: gzip"]));
    for (let n = g.int(3); n > 0; n--) {
      const data = g.text(1 + g.int(17));
      const size = data.length.toString(16);
      body += `${g.chance(0.2) ? size.toUpperCase().padStart(3, "0") : size}${g.pick(["", "", ";a", ";a=b", ';a="q d"'])}\r\n${data}\r\n`;
    }
    body += g.chance(0.2) ? "0\r\nX-Trailer: t\r\n\r\n" : "0\r\n\r\n";
  } else if (framing === 4) {
    body = g.text(g.int(12)); // until the close
  }
  return lines.join("\r\n") + "\r\n\r\n" + body;
}

function* inputs(seed: number, count: number): Generator<[string, string | undefined, boolean]> {
  const g = new Gen(random(seed));
  for (let i = 0; i < count; i++) {
    let s = g.chance(0.15) ? response(g, true) : "";
    s += response(g);
    if (g.chance(0.2)) s += (g.chance(0.3) ? "\r\n" : "") + response(g);
    const mutations = g.chance(0.15) ? 0 : 1 + g.int(2);
    for (let m = 0; m < mutations; m++) s = mutate(g, s);
    yield [s, g.pick(METHODS), g.chance(0.5)];
  }
}

const test = suite("differential: our response parser and Node's llhttp in response mode");

test("generated and mutated responses: both-accept agree, disagreements are accepted differences", () => {
  const parser = createParser();
  const counts = new Map<string, number>();
  const unexplained: string[] = [];
  let total = 0, bothAccept = 0, agreeing = 0, unfinishedHeads = 0, messages = 0;
  const pick = random(SEED + 1);
  for (const [input, requestMethod, endOfInput] of inputs(SEED, INPUTS)) {
    total++;
    const data = bytes(input);
    const options = { requestMethod, endOfInput };
    const whole = driveResponses(parser, [data], options);
    const [cut, pieces] = cutInTwo(data, pick);
    const split = driveResponses(parser, pieces, options);
    if (responseRunKey(split) !== responseRunKey(whole)) {
      if (deferredResponseFault(parser, pieces, whole, split, options)) unfinishedHeads++;
      else unexplained.push(`split at ${cut}: ${JSON.stringify(input)} (${requestMethod}, endOfInput ${endOfInput})\n  whole  ${responseRunKey(whole)}\n  pieces ${responseRunKey(split)}`);
    }
    const verdict = compareResponsesWithLlhttp(data, whole, parser, requestMethod, endOfInput);
    if ("agree" in verdict) {
      agreeing++;
      if (whole.error === null) {
        bothAccept++;
        messages += whole.messages.length;
      }
    } else if ("difference" in verdict) {
      counts.set(verdict.difference.id, (counts.get(verdict.difference.id) ?? 0) + 1);
    } else if (unexplained.length < 10) {
      unexplained.push(`${verdict.unexplained}\n  input  ${JSON.stringify(input)} (${requestMethod}, endOfInput ${endOfInput})\n  ours   ${JSON.stringify(whole)}\n  llhttp ${JSON.stringify(llhttpResponsesParse(data, requestMethod, endOfInput))}`);
    }
  }
  console.log(`\n  response differential: ${total} inputs (seed ${SEED}), ${bothAccept} accepted by both and equal (${messages} responses), ` +
    `${agreeing} agree in all; ours fed in two pieces: same as whole but for ${unfinishedHeads} heads that never end`);
  for (const [why, n] of counts) console.log(`    ${String(n).padStart(5)}  ${why}`);
  assert.ok(bothAccept >= total / 10, `too few inputs both accept (${bothAccept}): the generator is off`);
  assert.is(unexplained.length, 0, `unexplained disagreements:\n  ${unexplained.join("\n  ")}`);
});

test.run();
