// The handler programs' two wires compared (test/support/handler-programs.ts,
// handler-wire.ts): both servers' bytes are read by the strict client
// (strict-client.ts: llhttp in response mode and simplenet-parser, framing
// fields, leftover bytes) and compared response by response: status, reason,
// version, each field but Date (names without case, values of one name in
// order, names in any order), body bytes, keep-alive; then whether each
// request was answered (the probe after the last one: the connection stayed
// usable), whether a response was cut, and what the handlers saw (getHeader,
// errors thrown at them). Each difference is a HandlerParting, for the table
// in handler-differences.ts to explain.
import { framingFault, readStrictly, StrictResponseError, type StrictResponse } from "./strict-client.ts";
import { LlhttpResponses } from "./llhttp.ts";
import type { Conversation, RequestSpec, Seen } from "./handler-programs.ts";
import type { Transcript } from "./handler-wire.ts";

export type Aspect = "status" | "reason" | "version" | "field" | "body" | "keep-alive" | "answered" | "cut" | "refused" | "hung" | "seen";

/** One difference between the two servers' answers to a conversation. */
export interface HandlerParting {
  conversation: Conversation;
  /** The response they differ in (its request's index; requests.length is the probe), -1 for the connection as a whole. */
  index: number;
  /** The request it answers; null for the probe or the connection. */
  request: RequestSpec | null;
  aspect: Aspect;
  /** The field's lower-case name, for "field". */
  name: string;
  /** simplenet's and node:http's: the value (a field's values one per line), null where it has none. */
  ours: string | null;
  theirs: string | null;
  /** The response each side sent there, if any. */
  responses: { ours?: StrictResponse; theirs?: StrictResponse };
  /**
   * The request at whose response node:http's connection was gone, as its
   * wire shows: the response said it closes, was cut or never came before
   * node closed, or a strict client refused it (and stops reading there);
   * null where node's connection lasted.
   */
  nodeGoneAt: number | null;
}

interface Reading {
  responses: StrictResponse[];
  partial: StrictResponse | null;
  /** Why the strict client refused the bytes, or null. */
  refused: string | null;
}

function read(t: Transcript): Reading {
  try {
    return { ...readStrictly(t.bytes, { requestMethods: t.methods, closed: t.closed, allowIncomplete: true }), refused: null };
  } catch (e) {
    if (!(e instanceof StrictResponseError)) throw e;
    return { responses: [], partial: null, refused: e.message.split("\n")[0] };
  }
}

const llhttp = new LlhttpResponses();

/** Where the connection was gone (HandlerParting.nodeGoneAt): the first response that closes it or was refused, or the first missing one after a close. */
function goneAt(t: Transcript, r: Reading): number | null {
  if (r.refused === null) {
    const closes = r.responses.findIndex((x) => !x.keepAlive);
    return closes >= 0 ? closes : t.closed ? r.responses.length : null;
  }
  // The responses llhttp read up to the refusal; the refused one is the first with a framing fault, else the one after them.
  const heads = llhttp.parse(t.bytes, t.methods, t.closed).messages;
  const refused = heads.findIndex((x, i) => !x.keepAlive || framingFault(x.status, x.headers, t.methods[i]) !== null);
  return refused >= 0 ? refused : heads.length;
}

/** A response's fields but Date, by lower-case name, values in order. */
function fieldMap(r: StrictResponse): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [name, value] of r.fields) {
    const key = name.toLowerCase();
    if (key !== "date") map.set(key, [...(map.get(key) ?? []), value]);
  }
  return map;
}

/** Every difference between simplenet's and node:http's answers to the conversation. */
export function compareConversation(
  c: Conversation, ours: Transcript, theirs: Transcript, seenOurs: Seen, seenTheirs: Seen,
): HandlerParting[] {
  const out: HandlerParting[] = [];
  const a = read(ours), b = read(theirs);
  const nodeGoneAt = goneAt(theirs, b);
  const differ = (index: number, aspect: Aspect, o: string | null, t: string | null, name = "") => {
    if (o !== t) {
      out.push({
        conversation: c, index, request: c.requests[index] ?? null, aspect, name, ours: o, theirs: t,
        responses: index < 0 ? {} : { ours: a.responses[index], theirs: b.responses[index] }, nodeGoneAt,
      });
    }
  };
  // What the handlers saw, where both ran (whether a pipelined request's handler runs at all is seen in its answer).
  c.requests.forEach((r, i) => {
    const o = seenOurs.get(r.program.id), t = seenTheirs.get(r.program.id);
    if (o !== undefined && t !== undefined) differ(i, "seen", o.join("; "), t.join("; "));
  });
  differ(-1, "hung", ours.hung ? "hung" : null, theirs.hung ? "hung" : null);
  if (a.refused !== null || b.refused !== null) {
    differ(-1, "refused", a.refused === null ? null : "refused", b.refused === null ? null : "refused");
    return out;
  }
  const n = Math.max(a.responses.length, b.responses.length);
  for (let i = 0; i < n; i++) {
    const x = a.responses[i], y = b.responses[i];
    if (x === undefined || y === undefined) {
      differ(i, "answered", x === undefined ? null : "answered", y === undefined ? null : "answered");
      return out;
    }
    differ(i, "status", String(x.status), String(y.status));
    differ(i, "reason", x.reason, y.reason);
    differ(i, "version", x.version, y.version);
    const fx = fieldMap(x), fy = fieldMap(y);
    for (const name of new Set([...fx.keys(), ...fy.keys()])) differ(i, "field", fx.get(name)?.join("\n") ?? null, fy.get(name)?.join("\n") ?? null, name);
    differ(i, "body", x.body, y.body);
    differ(i, "keep-alive", String(x.keepAlive), String(y.keepAlive));
    // Past a different body or persistence the two byte streams no longer line up.
    if (x.body !== y.body || x.keepAlive !== y.keepAlive) return out;
  }
  differ(n, "cut", a.partial === null ? null : "cut", b.partial === null ? null : "cut");
  return out;
}

const clip = (s: string | null): string => (s === null ? "(none)" : JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…(${s.length} chars)` : s));

/** One line for a report: where, what, and both values. */
export function describeParting(p: HandlerParting): string {
  const where = p.index < 0 ? "the connection" : p.request === null ? "the probe" : `response ${p.index + 1} (${p.request.method} HTTP/${p.request.version}${p.request.connection && `, Connection: ${p.request.connection}`})`;
  return `${where}: ${p.aspect}${p.name && ` ${p.name}`}: simplenet ${clip(p.ours)}, node:http ${clip(p.theirs)}`;
}

/** A key that groups findings of one kind: the aspect, the field, and which side has a value. */
export const partingKind = (p: HandlerParting): string =>
  `${p.aspect}${p.name && ` ${p.name}`} (${p.ours === null ? "-" : "simplenet"}/${p.theirs === null ? "-" : "node"})`;
