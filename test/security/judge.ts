// Runs one vector over a real socket and says whether the server did what it
// must: the expected responses and nothing else, Connection: close on the
// last, the connection closed, and only the expected requests dispatched.
import type { Recorder } from "./recorder.ts";
import type { Vector } from "./vectors.ts";
import { converse, header, readResponses, type WireResponse } from "./wire.ts";

export interface Outcome {
  vector: Vector;
  expected: string;
  got: string;
  /** Empty when the server behaved. */
  problems: string[];
}

const describe = (statuses: readonly number[], closed: boolean): string =>
  `${statuses.join(",") || "none"} ${closed ? "close" : "open"}`;

const same = <T>(a: readonly T[], b: readonly T[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Sends the vector as `pieces` on a fresh connection and lists what went wrong. */
async function attempt(
  recorder: Recorder, vector: Vector, pieces: readonly string[], gapMs: number,
): Promise<{ got: string; problems: string[] }> {
  const { received, closed, localPort } = await converse(recorder.server.port, pieces, { gapMs, onOpen: recorder.forget });
  const problems: string[] = [];
  let responses: WireResponse[] = [];
  try {
    responses = readResponses(received).responses;
  } catch (e) {
    problems.push((e as Error).message);
  }
  const statuses = responses.map((r) => r.status);
  if (!same(statuses, vector.expect)) problems.push(`statuses ${statuses.join(",") || "none"}`);
  for (const res of responses) {
    if (res.status >= 400 && header(res, "connection") !== "close") problems.push(`${res.status} without Connection: close`);
  }
  const last = responses.at(-1);
  if (last !== undefined && last.status >= 200 && header(last, "connection") !== "close") {
    problems.push("last response without Connection: close");
  }
  if (!closed) problems.push("connection left open");
  const seen = recorder.seen(localPort);
  const dispatched = vector.dispatched ?? [];
  const allowed = [dispatched, ...(vector.mayDispatch ?? []).map((_, i, more) => [...dispatched, ...more.slice(0, i + 1)])];
  if (!allowed.some((list) => same(seen, list))) problems.push(`dispatched ${JSON.stringify(seen)}`);
  if (vector.bodies !== undefined && !same(recorder.bodies(localPort), vector.bodies)) {
    problems.push(`bodies read ${JSON.stringify(recorder.bodies(localPort).map((b) => b.slice(0, 40)))}`);
  }
  const extra = seen.length > dispatched.length ? ` +${seen.length - dispatched.length} dispatched` : "";
  return { got: describe(statuses, closed) + extra, problems };
}

/** Most pieces for the split run: more would trickle past the headers deadline. */
const MAX_SPLIT = 100;

/**
 * Runs a vector as written, then (when it is one piece) again with a separate
 * write after every CR, so each CR and the byte after it arrive in different
 * reads: a fault at a line ending must be caught across a read boundary too.
 */
export async function judge(recorder: Recorder, vector: Vector): Promise<Outcome> {
  const expected = describe(vector.expect, true);
  const whole = await attempt(recorder, vector, typeof vector.send === "string" ? [vector.send] : vector.send, 10);
  const pieces = typeof vector.send === "string" ? vector.send.split(/(?<=\r)/) : [];
  if (whole.problems.length > 0 || pieces.length < 2 || pieces.length > MAX_SPLIT) return { vector, expected, ...whole };
  const split = await attempt(recorder, vector, pieces, 2);
  return { vector, expected, got: split.problems.length > 0 ? `${split.got} (split at CR)` : split.got, problems: split.problems };
}

/** Runs the vectors, `concurrency` connections at a time, in order of the list. */
export async function judgeAll(recorder: Recorder, vectors: readonly Vector[], concurrency = 8): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(vectors.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < vectors.length) {
      const i = next++;
      outcomes[i] = await judge(recorder, vectors[i]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

/** The outcome table: one line per vector, then the totals. */
export function table(title: string, outcomes: readonly Outcome[]): string {
  const width = Math.min(70, Math.max(...outcomes.map((o) => o.vector.name.length)));
  const lines = [title, `${"vector".padEnd(width)}  ${"expected".padEnd(16)}  got`];
  for (const o of outcomes) {
    const mark = o.problems.length === 0 ? "ok  " : "FAIL";
    lines.push(`${o.vector.name.slice(0, width).padEnd(width)}  ${o.expected.padEnd(16)}  ${o.got.padEnd(16)}  ${mark} ${o.problems.join("; ")}`);
  }
  const failed = outcomes.filter((o) => o.problems.length > 0).length;
  lines.push(`${outcomes.length} vectors: ${outcomes.length - failed} as expected, ${failed} not`);
  return lines.join("\n");
}
