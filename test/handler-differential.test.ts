// Handler programs on simplenet and on node:http (test/support/handler-programs.ts):
// seeded conversations of GET and HEAD requests, HTTP/1.0 and 1.1, answered
// in turn or pipelined, each request running its own generated program on
// both servers; both wires are read by the strict client and compared
// (test/support/handler-compare.ts). Every difference must be an entry
// of the handler differences table; anything else fails and prints the
// conversation, its programs and what differed.
import { suite, assert } from "./support/uvu.ts";
import { random } from "./support/random.ts";
import { Gen } from "./support/generate.ts";
import { generateConversation, printConversation } from "./support/handler-programs.ts";
import { HandlerServers } from "./support/handler-wire.ts";
import { compareConversation, describeParting, partingKind } from "./support/handler-compare.ts";
import { explainHandler } from "./support/handler-differences.ts";

const SEED = 0x5eed + 25;
const CONVERSATIONS = Number(process.env.HANDLER_CONVERSATIONS ?? 1500);
/** Conversations on the wire at once. */
const AT_ONCE = 8;

const clip = (bytes: Buffer): string => JSON.stringify(bytes.toString("latin1").slice(0, 400)) + (bytes.length > 400 ? `…(${bytes.length} bytes)` : "");

const test = suite("differential: handler programs on simplenet and on node:http");

test("generated handler programs answer as node:http's do, but for the listed differences", async () => {
  const servers = await HandlerServers.start();
  const g = new Gen(random(SEED));
  // All drawn first: the order the conversations finish in must not change what is drawn.
  const conversations = Array.from({ length: CONVERSATIONS }, (_, i) => generateConversation(g, i * 3));
  const explained = new Map<string, number>();
  /** Unexplained differences by kind: how many, and the first conversation that showed it. */
  const findings = new Map<string, { count: number; size: number; example: string }>();
  let programs = 0;
  try {
    let next = 0;
    const worker = async () => {
      while (next < conversations.length) {
        const c = conversations[next++];
        programs += c.requests.length;
        const { ours, theirs } = await servers.converse(c);
        for (const p of compareConversation(c, ours, theirs, servers.seen.simplenet, servers.seen.node)) {
          const d = explainHandler(p);
          if (d !== null) {
            explained.set(d.id, (explained.get(d.id) ?? 0) + 1);
            continue;
          }
          const kind = partingKind(p);
          const example = () =>
            `${describeParting(p)}\n${printConversation(c)}\n  simplenet sent ${clip(ours.bytes)}\n  node:http sent ${clip(theirs.bytes)}`;
          const f = findings.get(kind);
          // The shortest conversation that shows it is the one to read.
          if (f === undefined) findings.set(kind, { count: 1, size: printConversation(c).length, example: example() });
          else if (++f.count && printConversation(c).length < f.size) Object.assign(f, { size: printConversation(c).length, example: example() });
        }
        servers.forget(c);
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, worker));
  } finally {
    await servers.close();
  }
  console.log(`\n  handler differential: ${CONVERSATIONS} conversations (seed ${SEED}), ${programs} programs, both servers`);
  for (const [id, n] of explained) console.log(`    ${String(n).padStart(5)}  ${id}`);
  const report = [...findings].map(([kind, f]) => `${f.count} × ${kind}; the first:\n${f.example}`);
  assert.is(findings.size, 0, `differences no entry explains:\n\n${report.join("\n\n")}`);
});

test.run();
