// Where simplenet answers a handler program (test/support/handler-programs.ts)
// otherwise than node:http does, and why: ONE table, each entry with its
// reason (an RFC, or a choice simplenet makes on purpose) and a predicate on
// the program, the request and the difference (handler-compare.ts finds the
// differences). The handler differential test and the `handler` fuzz target
// explain a difference with it and only with it; a difference no entry
// matches is a finding.
import type { HeaderValue } from "../../src/index.ts";
import type { StrictResponse } from "./strict-client.ts";
import { textOf, type Program, type RequestSpec, type Step } from "./handler-programs.ts";
import type { HandlerParting } from "./handler-compare.ts";

export interface HandlerDifference {
  id: string;
  /** Why simplenet differs from node:http here: the RFC, or the choice and what it is for. */
  reason: string;
  applies(p: HandlerParting): boolean;
}

// ---- what the predicates read -----------------------------------------------------

/** The fields a program leaves set when its head goes, by lower-case name, as node:http keeps them. */
export function fieldsSet(program: Program): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  const values = (v: HeaderValue): string[] => (typeof v === "object" ? v.map(String) : [String(v)]);
  const add = (name: string, v: HeaderValue) => fields.set(name.toLowerCase(), [...(fields.get(name.toLowerCase()) ?? []), ...values(v)]);
  for (const s of program.steps) {
    if (s.op === "setHeader") fields.set(s.name.toLowerCase(), values(s.value));
    else if (s.op === "appendHeader") add(s.name, s.value);
    else if (s.op === "removeHeader") fields.delete(s.name.toLowerCase());
    else if (s.op === "writeHead" && s.fields !== undefined) {
      // writeHead's names replace the fields set before; one its list repeats has each value.
      const listed = new Set<string>();
      for (const [n, v] of Array.isArray(s.fields) ? s.fields : Object.entries(s.fields)) {
        if (listed.has(n.toLowerCase())) add(n, v);
        else fields.set(n.toLowerCase(), values(v));
        listed.add(n.toLowerCase());
      }
    }
  }
  return fields;
}

/** The status the program answers with (its last status or writeHead), 200 by default. */
export function statusSet(program: Program): number {
  let status = 200;
  for (const s of program.steps) if (s.op === "status" || s.op === "writeHead") status = s.code;
  return status;
}

const indexOf = (p: Program, op: Step["op"]): number => p.steps.findIndex((s) => s.op === op);
const calls = (p: Program, op: Step["op"]): boolean => indexOf(p, op) >= 0;
/** The program throws before its body began (writeHead may have run). */
const throwsBeforeBody = (p: Program): boolean => calls(p, "throw") && !calls(p, "write") && !calls(p, "end");
/** The program throws after its end(), where a handler whose end() threw never gets. */
const throwsAfterEnd = (p: Program): boolean => calls(p, "throw") && calls(p, "end") && indexOf(p, "throw") > indexOf(p, "end");
/** What a handler saw before the program's own throw after end(), which node:http's never reached once its end() threw. */
const seenBeforeOwnThrow = (p: Program, seen: string | null): string | null =>
  throwsAfterEnd(p) ? seen?.replace(/(^|; )threw the program's throw$/, "") ?? null : seen;
/**
 * Whether node's handler saw what simplenet's saw before simplenet's stopped
 * at `stop` (the last thing simplenet's saw), whatever node's did after.
 */
function sameUntil(ours: string | null, stop: string, theirs: string | null): boolean {
  if (ours === null || theirs === null || !(ours === stop || ours.endsWith(`; ${stop}`))) return false;
  const before = ours.slice(0, ours.length - stop.length).replace(/; $/, "");
  return before === "" || theirs === before || theirs.startsWith(`${before}; `);
}
/** What one handler saw is the beginning of what the other saw. */
const beginsWith = (whole: string | null, start: string | null): boolean =>
  whole !== null && start !== null && (start === "" || whole === start || whole.startsWith(`${start}; `));
/**
 * What two handlers saw (getHeader results, then errors) agrees until either
 * met an error: the first entry they differ in is a throw on one side, or
 * one side's list ends there (its handler had stopped, or not got so far).
 */
function agreeUntilError(ours: string | null, theirs: string | null): boolean {
  if (ours === null || theirs === null) return false;
  // The entries as joined; a value with "; " in it splits alike on both sides.
  const x = ours === "" ? [] : ours.split("; "), y = theirs === "" ? [] : theirs.split("; ");
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return i === x.length || i === y.length || x[i].startsWith("threw ") || y[i].startsWith("threw ");
}
/** The body is all given to end(): no write() before it. */
const bodyWhole = (p: Program): boolean => calls(p, "end") && !calls(p, "write");
/** The body bytes the program gives, up to a throw. */
export function bodyBytes(p: Program): number {
  let n = 0;
  for (const s of p.steps) if ((s.op === "write" || s.op === "end") && s.data !== undefined) n += Buffer.byteLength(textOf(s.data));
  return n;
}
/** The Content-Length the program sets, or null. */
const declared = (p: Program): number | null => {
  const v = fieldsSet(p).get("content-length");
  return v === undefined ? null : Number(v[0]);
};
/** The program sets, appends or removes the field. */
const touches = (p: Program, name: string): boolean =>
  p.steps.some((s) => (s.op === "setHeader" || s.op === "appendHeader" || s.op === "removeHeader") && s.name.toLowerCase() === name);
/** The values writeHead's fields give the field, one per entry (an object's keys in two cases, or a list's repeats, are two). */
const namedByWriteHead = (p: Program, name: string): string[] =>
  p.steps.flatMap((s) => s.op !== "writeHead" || s.fields === undefined ? [] :
    (Array.isArray(s.fields) ? s.fields : Object.entries(s.fields)).filter(([n]) => n.toLowerCase() === name).map(([, v]) => String(v)));
const bodyless = (status: number): boolean => status === 204 || status === 304;
/** The request's HTTP version (the probe's is 1.1). */
const version = (p: HandlerParting): string => p.request?.version ?? "1.1";
const onField = (p: HandlerParting, ...names: string[]): boolean => p.aspect === "field" && names.includes(p.name);
const hasFraming = (r: StrictResponse | undefined): boolean => r !== undefined && ("content-length" in r.headers || "transfer-encoding" in r.headers);

// ---- the table --------------------------------------------------------------------------

export const HANDLER_DIFFERENCES: readonly HandlerDifference[] = [
  {
    id: "after-node-connection-gone",
    reason: "node:http's connection was gone at an earlier response — it said close, cut a body, or sent one a strict client refuses (and stops reading at) — so the requests after it have nothing of node:http's to compare with: node never answers them, and their handlers run on a connection already gone (writes that fail, a drain that never comes, a check of the length that simplenet no longer makes for a response that cannot go out) or not at all; what both handlers saw before either met an error must still agree, and everything at or before that response is compared as always",
    applies: (p) => p.nodeGoneAt !== null && p.index > p.nodeGoneAt &&
      (((p.aspect === "answered" || p.aspect === "cut") && p.theirs === null) || (p.aspect === "seen" && agreeUntilError(p.ours, p.theirs))),
  },
  {
    id: "connection-keep-alive",
    reason: "RFC 9112 §9.3: an HTTP/1.1 connection persists unless a side says close; node:http says Connection: keep-alive on every persistent response anyway (and sends a handler's own keep-alive fields as given, one line each), simplenet only to HTTP/1.0 clients, where it means something",
    applies: (p) => onField(p, "connection") && p.ours === null && version(p) === "1.1" &&
      p.theirs !== null && p.theirs.split("\n").every((value) => /^keep-alive$/i.test(value.trim())),
  },
  {
    id: "keep-alive-timeout",
    reason: "node:http announces its idle timeout in a Keep-Alive field (RFC 2068 §19.7.1's, not in RFC 9112: a hint no client needs); simplenet sends none",
    applies: (p) => onField(p, "keep-alive") && p.ours === null && /^timeout=\d+$/.test(p.theirs ?? ""),
  },
  {
    id: "field-value-bytes",
    reason: "RFC 9110 §5.5: a field value is bytes (obs-text above 0x7F); simplenet sends a character U+0080–U+00FF as its one byte, the byte node:http's parser reads back as that character; node:http encodes the head in the body's encoding when both go in one write (a string body: UTF-8, so one character becomes two bytes), else in latin1",
    applies: (p) => p.aspect === "field" && p.ours !== null && /[\x80-\xff]/.test(p.ours) &&
      Buffer.from(p.ours, "utf8").toString("latin1") === p.theirs,
  },
  {
    id: "unknown-status-reason",
    reason: "RFC 9112 §4: the reason phrase is for people, a client ignores it; for a status without a standard one simplenet says Unknown, node:http unknown",
    applies: (p) => p.aspect === "reason" && p.ours === "Unknown" && p.theirs === "unknown",
  },
  {
    id: "write-head-commits-in-node",
    reason: "node:http's writeHead commits the head at once (headersSent is true, its framing chosen before the body is known: chunked, or until the close for HTTP/1.0), so a throw after it can only cut the connection; simplenet's writeHead sets status and fields, and the head goes with the first write or end(): a throw after it is still a clean 500, and a body given whole to end() is framed by Content-Length",
    applies: (p) => {
      const program = p.request?.program;
      if (program === undefined || !calls(program, "writeHead")) return false;
      if (throwsBeforeBody(program)) return p.aspect !== "refused";
      if (!bodyWhole(program) || declared(program) !== null || fieldsSet(program).has("transfer-encoding")) return false;
      return (onField(p, "content-length") && p.ours === String(bodyBytes(program)) && p.theirs === null) ||
        (onField(p, "transfer-encoding") && p.ours === null && p.theirs === "chunked") ||
        (version(p) === "1.0" && ((onField(p, "connection") && p.theirs === "close") || (p.aspect === "keep-alive" && p.theirs === "false")));
    },
  },
  {
    id: "http10-length",
    reason: "RFC 9112 §6.3, §9.3, Appendix C.2.2: a response to HTTP/1.0 may be framed by Content-Length, and then persist when the client asked (Connection: keep-alive); simplenet frames a body given whole to end() (a 500 included) by its length — and keeps the connection if asked — so the client can tell a whole body from a cut one, node:http sends it until the close unless the handler set Content-Length itself",
    applies: (p) => {
      const program = p.request?.program;
      // The catch-all's 500 clears the handler's Content-Length.
      if (program === undefined || version(p) !== "1.0" || !(throwsBeforeBody(program) || (bodyWhole(program) && declared(program) === null))) return false;
      const length = p.responses.ours?.body.length;
      return (onField(p, "content-length") && p.ours === String(length) && p.theirs === null) ||
        (p.request?.connection === "keep-alive" && ((onField(p, "connection") && p.ours === "keep-alive" && p.theirs === "close") ||
          (p.aspect === "keep-alive" && p.ours === "true" && p.theirs === "false")));
    },
  },
  {
    id: "head-framing",
    reason: "RFC 9110 §9.3.2: a response to HEAD should carry the fields a GET would have, its framing fields included (§8.6: Content-Length may be sent); simplenet sends them, node:http leaves them out — and llhttp, deciding keep-alive before it knows the response to HEAD has no body, then reads node's as lasting until the close (the connection is kept all the same)",
    applies: (p) => p.request?.method === "HEAD" && (
      (onField(p, "content-length", "transfer-encoding") && p.ours !== null && p.theirs === null) ||
      (p.aspect === "keep-alive" && p.ours === "true" && p.theirs === "false" && !hasFraming(p.responses.theirs))),
  },
  {
    id: "node-sends-both-framings",
    reason: "RFC 9112 §6.3: a sender must not send Content-Length with Transfer-Encoding; node:http sends both when the handler sets both (a strict client refuses the response, and what node's handler does after that is not seen), simplenet frames it by Transfer-Encoding alone",
    applies: (p) => {
      const both = (program: Program): boolean => fieldsSet(program).has("content-length") && fieldsSet(program).has("transfer-encoding");
      // The client stops reading at the refused response, maybe before node's handler has got as far as simplenet's.
      if (p.aspect === "seen") return p.request !== null && both(p.request.program) && beginsWith(p.ours, p.theirs);
      return p.aspect === "refused" && p.ours === null && p.theirs !== null && p.conversation.requests.some((r) => both(r.program));
    },
  },
  {
    id: "node-framing-without-body",
    reason: "RFC 9110 §8.6, RFC 9112 §6.1, §6.3: a 204 must carry neither Content-Length nor Transfer-Encoding, and a 204 or 304 has no body whatever its fields say; node:http sends the handler's framing fields on them (a strict client refuses the 204) and, for Transfer-Encoding, closes the connection after; simplenet leaves them out and keeps the connection",
    applies: (p) => {
      const framed = (program: Program): boolean => bodyless(statusSet(program)) && (fieldsSet(program).has("transfer-encoding") || fieldsSet(program).has("content-length"));
      // node closed after it without a word: the next request (or the probe) answered on ours only.
      const before = p.conversation.requests[p.index - 1]?.program;
      if (p.aspect === "answered" && p.ours !== null && p.theirs === null) return before !== undefined && framed(before) && fieldsSet(before).has("transfer-encoding");
      const program = p.request?.program ?? p.conversation.requests.find((r) => framed(r.program))?.program;
      if (program === undefined || !framed(program)) return false;
      return (p.aspect === "refused" && p.ours === null) || (onField(p, "transfer-encoding", "content-length") && p.ours === null) ||
        (onField(p, "connection") && p.ours === null && p.theirs === "close") || (p.aspect === "keep-alive" && p.ours === "true");
    },
  },
  {
    id: "connection-value-spelled",
    reason: "RFC 9110 §7.6.1: connection options are case-insensitive; simplenet writes the Connection field itself, from what it decided (close, keep-alive), node:http sends the handler's value as given",
    applies: (p) => onField(p, "connection") && p.ours !== null && p.theirs !== null &&
      // node:http's may be the handler's field given twice, in two spellings.
      new Set(p.theirs.toLowerCase().split("\n")).size === 1 && p.ours.toLowerCase() === p.theirs.toLowerCase().split("\n")[0],
  },
  {
    id: "node-removed-content-length",
    reason: "once a handler has removed Content-Length (removeHeader, or the catch-all clearing the fields for its 500), node:http never adds its own and frames the body chunked (until the close for HTTP/1.0); simplenet still frames a body given whole to end() by its length (RFC 9112 §6.3: either frames it)",
    applies: (p) => {
      const program = p.request?.program;
      if (program === undefined) return false;
      const cleared = throwsBeforeBody(program) && touches(program, "content-length");
      const removed = bodyWhole(program) && !fieldsSet(program).has("content-length") &&
        program.steps.some((s) => s.op === "removeHeader" && s.name.toLowerCase() === "content-length");
      if (!cleared && !removed) return false;
      // Both framing fields cleared: node sends the 500 with neither, so only the close could end it, on a connection it keeps.
      if (cleared && touches(program, "transfer-encoding") && ((p.aspect === "keep-alive" && p.theirs === "false") || (p.aspect === "answered" && p.theirs === null))) return true;
      return (onField(p, "content-length") && p.ours === String(p.responses.ours?.body.length) && p.theirs === null) ||
        (onField(p, "transfer-encoding") && p.ours === null && p.theirs === "chunked");
    },
  },
  {
    id: "node-refuses-pipelined-after-close",
    reason: "RFC 9112 §9.6: a server that closes after a request answers it and ignores what follows (the client retries that); node:http's parser refuses bytes after a request that closes (HPE_CLOSED_CONNECTION) and answers 400 on the connection, in place of the response the handler is still making; simplenet answers the request",
    applies: (p) => {
      const c = p.conversation;
      const closes = c.requests.findIndex((r) => r.connection === "close" || (r.version === "1.0" && r.connection !== "keep-alive"));
      if (!c.pipelined || closes < 0 || closes === c.requests.length - 1 || p.index < 0 || p.index > closes) return false;
      // node's 400, or nothing at all where the handler had already begun its response (its handler then sees its writes fail).
      if (p.aspect === "seen") {
        // node's end() threw there, so its handler never reached a throw of its own after it.
        const ours = p.request === null ? p.ours : seenBeforeOwnThrow(p.request.program, p.ours);
        return p.theirs?.startsWith(ours === "" ? "threw ERR_" : `${ours}; threw ERR_`) === true || p.ours?.startsWith(p.theirs ?? "") === true;
      }
      return (p.responses.theirs?.status === 400 && p.responses.theirs.reason === "Bad Request") ||
        ((p.aspect === "answered" || p.aspect === "cut") && p.theirs === null);
    },
  },
  {
    id: "transfer-encoding-to-http10",
    reason: "RFC 9112 §6.1: a server must not send Transfer-Encoding in a response to an HTTP/1.0 request; node:http sends the handler's (and keeps the connection if the handler said keep-alive), simplenet leaves it out and frames the body by its length, or by the close",
    applies: (p) => {
      const teTo10 = (q: RequestSpec): boolean => q.version === "1.0" && fieldsSet(q.program).has("transfer-encoding");
      const r = p.request ?? p.conversation.requests.find(teTo10);
      if (r === undefined || r.version !== "1.0" || !fieldsSet(r.program).has("transfer-encoding")) return false;
      // Its Content-Length then frames the body, so a body past it throws at the handler, as node:http's would without the Transfer-Encoding.
      if (p.aspect === "seen") return p.ours === (p.theirs === "" ? "" : `${p.theirs}; `) + "threw ERR_HTTP_CONTENT_LENGTH_MISMATCH";
      return (onField(p, "transfer-encoding") && p.ours === null) || (onField(p, "content-length") && p.theirs === null) ||
        (onField(p, "connection") && p.ours !== p.theirs) || p.aspect === "keep-alive" || p.aspect === "answered" || p.aspect === "hung";
    },
  },
  {
    id: "http10-no-body-keep-alive",
    reason: "RFC 9112 §6.3: a 204 or 304, or a response to HEAD, has no body, so it needs no length to persist; to an HTTP/1.0 client that asked for keep-alive simplenet keeps the connection after one, node:http closes it when the handler began a body with write() (unless the handler set Connection itself)",
    applies: (p) => {
      const r = p.request;
      if (r == null || r.version !== "1.0" || r.connection !== "keep-alive") return false;
      if (!bodyless(statusSet(r.program)) && r.method !== "HEAD") return false;
      return (p.aspect === "keep-alive" && p.ours === "true") || (onField(p, "connection") && p.ours === "keep-alive" && p.theirs === "close");
    },
  },
  {
    id: "http10-keep-alive-said-then-closed",
    reason: "RFC 9112 §6.3, §9.6: a body to an HTTP/1.0 client without a length ends with the close, and a server that closes after a response should say Connection: close in it; simplenet does, node:http sends the handler's Connection: keep-alive and closes all the same",
    applies: (p) => {
      const program = p.request?.program;
      // The handler's keep-alive, maybe given twice (writeHead's list), as node:http sends it.
      const onlyKeepAlive = (values: string[] | undefined): boolean => values !== undefined && values.every((v) => v.toLowerCase() === "keep-alive");
      if (program === undefined || version(p) !== "1.0" || !onField(p, "connection") || p.ours !== "close" || !onlyKeepAlive(p.theirs?.split("\n"))) return false;
      const ours = p.responses.ours;
      return onlyKeepAlive(fieldsSet(program).get("connection")) && ours !== undefined && !hasFraming(ours) && !ours.keepAlive;
    },
  },
  {
    id: "node-removed-connection",
    reason: "RFC 9112 §9.6: a server that closes after a response should say Connection: close in it, and a client's close is final; simplenet writes the Connection field itself, from what it decided, node:http sends none once the handler removed it (or the catch-all cleared it) — and then keeps a connection the client asked to close",
    applies: (p) => {
      const program = p.request?.program;
      if (program === undefined) return false;
      const removed = (!fieldsSet(program).has("connection") && program.steps.some((s) => s.op === "removeHeader" && s.name.toLowerCase() === "connection")) ||
        (throwsBeforeBody(program) && touches(program, "connection"));
      return removed && ((onField(p, "connection") && p.theirs === null) || (p.aspect === "keep-alive" && p.ours === "false") || (p.aspect === "answered" && p.ours === null));
    },
  },
  {
    id: "handler-keep-alive-after-client-close",
    reason: "RFC 9112 §9.3, §9.6: a client that sent Connection: close, or an HTTP/1.0 client that did not ask for keep-alive, closes after this response; simplenet closes then, whatever the handler's Connection field says, node:http keeps the connection open because the handler said keep-alive (for HTTP/1.0 even with a body only the close could end)",
    applies: (p) => {
      // A response that never came: the request before it is the one whose answer closed the connection.
      const r = (p.aspect === "answered" && p.ours === null && p.index > 0 ? p.conversation.requests[p.index - 1] : p.request) ??
        p.conversation.requests.find((q) => q.connection === "close" || (q.version === "1.0" && q.connection === ""));
      if (r === undefined || !(r.connection === "close" || (r.version === "1.0" && r.connection === ""))) return false;
      const asked = fieldsSet(r.program).get("connection")?.join(", ").toLowerCase();
      if (asked === undefined || !asked.includes("keep-alive") || asked.includes("close")) return false;
      // node:http's Connection is the handler's keep-alive, maybe given twice (writeHead's list), one line each.
      const keptAlive = p.theirs !== null && p.theirs.split("\n").every((v) => v.toLowerCase() === "keep-alive");
      return (onField(p, "connection") && keptAlive) || (p.aspect === "keep-alive" && p.ours === "false") ||
        (p.aspect === "answered" && p.ours === null) || (p.aspect === "hung" && p.ours === null) || (p.aspect === "cut" && p.ours === null);
    },
  },
  {
    id: "node-removed-transfer-encoding",
    reason: "RFC 9112 §6.1, §6.3: a streamed body is framed by chunked coding or by the close; once a handler removed Transfer-Encoding node:http never chunks and ends the body with the close, simplenet chunks it and can keep the connection",
    applies: (p) => {
      const program = p.request?.program;
      if (program === undefined || fieldsSet(program).has("transfer-encoding") || !program.steps.some((s) => s.op === "removeHeader" && s.name.toLowerCase() === "transfer-encoding")) return false;
      // A throw after the writes cuts both; node's body ends with the close, so it reads as whole, simplenet's chunks as cut.
      const cutReadsWhole = p.aspect === "answered" && p.ours === null && calls(program, "throw") && !hasFraming(p.responses.theirs);
      return (onField(p, "transfer-encoding") && p.ours === "chunked" && p.theirs === null) || (p.aspect === "keep-alive" && p.ours === "true") ||
        (onField(p, "connection") && p.theirs === "close") || cutReadsWhole;
    },
  },
  {
    id: "node-write-head-list-once",
    reason: "writeHead's fields with one name twice (a list's, or an object's keys in two cases), after setHeader: node:http sets each in turn (the last wins, where without an earlier setHeader it sends both), simplenet sends both (RFC 9110 §5.3: a field may repeat)",
    applies: (p) => {
      const program = p.request?.program;
      const head = program?.steps.find((s) => s.op === "writeHead");
      if (program === undefined || head?.op !== "writeHead" || head.fields === undefined || p.aspect !== "field") return false;
      const values = (v: HeaderValue): string[] => (typeof v === "object" ? v.map(String) : [String(v)]);
      const entries = (Array.isArray(head.fields) ? head.fields : Object.entries(head.fields)).filter(([n]) => n.toLowerCase() === p.name);
      if (entries.length < 2) return false;
      const listed = entries.flatMap(([, v]) => values(v));
      const last = values(entries.at(-1)![1]).join("\n");
      // The last one as node:http sends it: a character above 0x7F maybe as its UTF-8 bytes (field-value-bytes).
      const sentLast = p.theirs === last || p.theirs === Buffer.from(last, "utf8").toString("latin1");
      return p.ours === listed.join("\n") && sentLast && indexOf(program, "writeHead") > 0;
    },
  },
  {
    id: "throw-after-write",
    reason: "a handler that throws after it began its body: both cut the connection; simplenet has sent what was written by then (the head at least, which is all of a response to HEAD), node:http sends nothing when the throw comes in the tick of the writes (its socket is corked until the tick ends); a body that ends with the close (HTTP/1.0 without a length, RFC 9112 §6.3) then reads as whole on both, simplenet's with those writes",
    applies: (p) => {
      const program = p.request?.program;
      if (program === undefined || !calls(program, "throw") || !calls(program, "write") || indexOf(program, "write") > indexOf(program, "throw")) return false;
      const untilClose = (r: StrictResponse | undefined): boolean => r !== undefined && !r.keepAlive && !hasFraming(r);
      if (p.aspect === "body") return untilClose(p.responses.ours) && untilClose(p.responses.theirs) && p.ours!.startsWith(p.theirs!);
      return (p.aspect === "answered" || p.aspect === "cut") && p.ours !== null && p.theirs === null;
    },
  },
  {
    id: "drained-after-close",
    reason: "a handler awaiting drained() on a connection that closed (or will close) before its response could go (an earlier response ended with the close): simplenet's drained() rejects, so a write loop learns the client is gone instead of writing into nothing; node:http's write returns true there and the handler carries on (to a throw of its own, or end()'s length check)",
    applies: (p) => {
      const program = p.request?.program;
      const awaitsDrained = program?.steps.some((s) => s.op === "await" && s.on === "drained");
      if (!awaitsDrained || p.aspect !== "seen" || !p.conversation.pipelined || p.index === 0) return false;
      return sameUntil(p.ours, "threw Error", p.theirs);
    },
  },
  {
    id: "short-body",
    reason: "a handler that sends fewer bytes than its Content-Length: simplenet sends them and closes the connection after (the client sees a cut response, RFC 9112 §8), the handler gets no error (so a throw after end() is its own); node:http (strictContentLength) throws ERR_HTTP_CONTENT_LENGTH_MISMATCH at end(), after its head is committed, so the handler can only destroy the connection",
    applies: (p) => {
      const program = p.request?.program;
      const length = program === undefined ? null : declared(program);
      if (program === undefined || length === null || !(length > bodyBytes(program)) || (calls(program, "throw") && !throwsAfterEnd(program))) return false;
      const ours = seenBeforeOwnThrow(program, p.ours);
      return (p.aspect === "seen" && p.theirs === `${ours}${ours === "" ? "" : "; "}threw ERR_HTTP_CONTENT_LENGTH_MISMATCH`) ||
        (p.aspect === "cut" && p.ours === "cut") || (p.aspect === "answered" && p.theirs === null);
    },
  },
  {
    id: "long-body",
    reason: "a handler that sends more bytes than its Content-Length gets ERR_HTTP_CONTENT_LENGTH_MISMATCH from both; simplenet checks before its head goes, so when nothing was sent the catch-all's 500 is clean, node:http has committed its head by then and the handler can only destroy the connection — or, for a first write() that leaves in one piece with the head, sends it past the length (a strict client refuses the response)",
    applies: (p) => {
      const pastLength = (program: Program): boolean => (declared(program) ?? Infinity) < bodyBytes(program);
      // A throw after end() is reached by neither: end() threw first.
      const long = (program: Program): boolean => pastLength(program) && (!calls(program, "throw") || throwsAfterEnd(program));
      // node's bytes past the length went out whatever the program does after that write (a throw of its own included).
      if (p.aspect === "refused") return p.ours === null && p.conversation.requests.some((r) => pastLength(r.program));
      const program = p.request?.program;
      // A write() past the length with a throw of the program's after it: simplenet's handler stops at the write, node's goes on.
      if (p.aspect === "seen" && program !== undefined && pastLength(program) &&
        sameUntil(p.ours, "threw ERR_HTTP_CONTENT_LENGTH_MISMATCH", p.theirs)) return true;
      if (program === undefined || !long(program)) return false;
      return p.aspect !== "seen" && p.aspect !== "hung" && (p.responses.theirs === undefined || p.aspect === "answered");
    },
  },
  {
    id: "write-head-framing-field-twice",
    reason: "writeHead's fields naming Content-Length or Transfer-Encoding twice (a list's repeats, or an object's keys in two cases): RFC 9110 §8.6 allows one length only, and a recipient refuses differing ones or a chunked coding applied twice (RFC 9112 §6.1, §6.3); simplenet sends equal lengths once, chunked once, and refuses differing lengths with a TypeError at the head (the catch-all's 500, the handler's fault), node:http sends both (a strict client refuses the response) or, after a field set before, the last one",
    applies: (p) => {
      const twice = (program: Program): boolean =>
        namedByWriteHead(program, "content-length").length >= 2 || namedByWriteHead(program, "transfer-encoding").length >= 2;
      const differ = (program: Program): boolean => new Set(namedByWriteHead(program, "content-length").map(Number)).size > 1;
      if (p.aspect === "refused") return p.ours === null && p.conversation.requests.some((r) => twice(r.program));
      const program = p.request?.program;
      if (program === undefined || !differ(program)) return false;
      if (p.aspect === "seen") {
        // simplenet's handler stops at writeHead; node's goes on (its end() may throw at the length it kept, or it reaches
        // the program's own throw): what both saw before writeHead is the same.
        return sameUntil(p.ours, "threw TypeError", p.theirs);
      }
      return p.responses.ours?.status === 500 || (p.aspect === "answered" && p.ours === null);
    },
  },
  {
    id: "handler-connection-close-and-keep-alive",
    reason: "RFC 9112 §9.6: a close option means the connection closes after the response; a handler that gives Connection both close and keep-alive (writeHead's object with the name in two cases) gets one Connection: close from simplenet, which closes, node:http sends both as given (or, after a field set before, the last one) and keeps the connection when that one says keep-alive",
    applies: (p) => {
      const both = (program: Program): boolean => {
        const values = (fieldsSet(program).get("connection") ?? []).map((v) => v.toLowerCase());
        return values.includes("close") && values.includes("keep-alive");
      };
      // What came after it (the probe, or requests pipelined behind it) is answered or cut on node's side only.
      if (p.ours === null && p.index !== 0 && p.conversation.requests.slice(0, p.index < 0 ? undefined : p.index).some((r) => both(r.program))) return true;
      if (p.request == null || !both(p.request.program)) return false;
      return (onField(p, "connection") && p.ours === "close") || (p.aspect === "keep-alive" && p.ours === "false" && p.theirs === "true");
    },
  },
];

/** The entry that explains the difference, or null. */
export const explainHandler = (p: HandlerParting): HandlerDifference | null => HANDLER_DIFFERENCES.find((d) => d.applies(p)) ?? null;
