// Node's own HTTP parser, llhttp, in strict mode, as a second opinion on
// every input: the same projection (messages with method, target, version,
// headers, body and trailers, then accept or reject) from both parsers.
import { latin1 } from "../src/fields.ts";
import type { Message, Outcome } from "./stream.ts";

interface Binding {
  HTTPParser: {
    new (): NodeParser;
    REQUEST: number;
    kOnMessageBegin: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number;
    kOnMessageComplete: number; kOnExecute: number; kLenientNone: number;
  };
  allMethods: string[];
  methods: string[];
}
interface NodeParser {
  [callback: number]: (...args: never[]) => unknown;
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | (Error & { code: string; reason: string });
}

const binding = (process as unknown as { binding(name: string): Binding }).binding("http_parser");
const { HTTPParser, allMethods } = binding;

export interface LlhttpOutcome {
  messages: Message[];
  error: { code: string; reason: string } | null;
  /** Input ended inside a message. */
  pending: boolean;
}

const parser = new HTTPParser();
let current: { messages: Message[]; head: Message | null; url: string; headers: string[]; inHead: boolean; body: string[]; pending: boolean };

const pairs = (flat: string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let k = 0; k < flat.length; k += 2) out.push([flat[k], flat[k + 1]]);
  return out;
};

parser[HTTPParser.kOnMessageBegin] = () => {
  current.pending = true;
  current.head = null;
  current.url = "";
  current.headers = [];
  current.inHead = true;
  current.body = [];
};
// Called when llhttp flushes a long header list before the head ends, and for trailers.
parser[HTTPParser.kOnHeaders] = ((headers: string[], url: string) => {
  current.headers.push(...headers);
  if (current.inHead) current.url += url;
}) as never;
parser[HTTPParser.kOnHeadersComplete] = ((
  major: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined,
  _status: unknown, _message: unknown, upgrade: boolean, keepAlive: boolean,
) => {
  if (headers) current.headers.push(...headers);
  current.head = {
    method: allMethods[method], target: current.url + (url ?? ""), version: `${major}.${minor}`,
    headers: pairs(current.headers), body: "", trailers: [], keepAlive, upgrade, end: -1,
  };
  current.headers = [];
  current.inHead = false;
  return 0;
}) as never;
parser[HTTPParser.kOnBody] = ((chunk: Buffer) => {
  current.body.push(latin1(chunk, 0, chunk.length));
}) as never;
parser[HTTPParser.kOnMessageComplete] = () => {
  const head = current.head!;
  head.body = current.body.join("");
  head.trailers = pairs(current.headers);
  current.messages.push(head);
  current.pending = false;
};
parser[HTTPParser.kOnExecute] = () => {};

export function llhttpParse(input: Uint8Array): LlhttpOutcome {
  current = { messages: [], head: null, url: "", headers: [], inHead: false, body: [], pending: false };
  parser.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
  const r = parser.execute(Buffer.from(input.buffer, input.byteOffset, input.length));
  const error = r instanceof Error ? { code: r.code, reason: r.reason } : null;
  return { messages: current.messages, error, pending: error === null && current.pending };
}

/** The HTTP methods llhttp knows (its RTSP and ICE methods are not for HTTP/1.x). */
const LLHTTP_METHODS: ReadonlySet<string> = new Set(binding.methods);

/**
 * Where the two parsers may disagree, and why that is by design. A
 * disagreement outside these categories is a finding.
 */
export const CATEGORIES = {
  host: "we require exactly one valid Host in HTTP/1.1 (RFC 9112 §3.2); llhttp does not look at Host",
  "te-http10": "we reject Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1); llhttp accepts it",
  "te-strict": "we reject repeated Transfer-Encoding lines and codings other than chunked (501) (RFC 9112 §6.1, smuggling); llhttp combines them",
  "target-form": "asterisk-form only with OPTIONS, authority-form only with CONNECT, and absolute-form checked as a URI (RFC 9112 §3.2, RFC 3986); llhttp takes what its URL parser takes",
  url: "llhttp's URL parser refuses absolute-form URIs that RFC 3986 allows (digits, '+', '-', '.' in the scheme; scheme:path without \"//\"), and in them bytes we accept in any target path (every VCHAR, as in origin-form)",
  upgrade: "llhttp pauses at a request that asks for an upgrade and leaves what follows, its body too, to its caller; we read the body its framing announces (RFC 9112 §6.3) and judge it (no upgrade is performed)",
  connect: "after a CONNECT head llhttp hands the connection over; we read the body its framing announces (RFC 9112 §6.3), and judge it",
  version: "we answer 505 to versions other than 1.0 and 1.1 (RFC 9110 §15.6.6); llhttp accepts any digit.digit",
  spaces: "exactly one SP between the parts of the request line (RFC 9112 §3); llhttp allows several",
  method: "we accept any token as a method (RFC 9110 §9.1); llhttp only the methods it knows, and PRI only as HTTP/2's preface",
  ows: "a field value loses its leading and trailing whitespace (RFC 9110 §5.5), Content-Length's too; llhttp rejects whitespace after a Content-Length or Transfer-Encoding value",
  "empty-list-elements": "empty elements of a list (\"chunked,\") are skipped (RFC 9110 §5.6.1); llhttp rejects them in Transfer-Encoding",
  http09: "we reject HTTP/0.9 (no version; RFC 9112 §2.3 has none); llhttp accepts it",
  protocol: "llhttp accepts RTSP/ and ICE/ in place of HTTP/; we only HTTP/ (RFC 9112 §2.3)",
  "empty-lines": "before a request line we skip only CRLF pairs (RFC 9112 §2.2); llhttp also skips a lone CR or LF",
  "chunk-ext": "chunk extensions as RFC 9112 §7.1.1 has them: BWS around ';' and '=' is allowed (strict llhttp rejects it), an empty name is not (llhttp accepts it)",
  "trailer-framing": "llhttp applies Transfer-Encoding and Content-Length rules to trailer fields; to us they are trailers without effect (RFC 9110 §6.5.1)",
  limits: "our limits (header count, chunk size up to 2^53 - 1) are not llhttp's",
} as const;
export type Category = keyof typeof CATEGORIES;

export type Verdict = { agree: true } | { category: Category } | { unexplained: string };

/**
 * Compares our outcome (whole input) with llhttp's, message by message. A
 * parser still waiting for the rest of a message has not decided anything:
 * the two find faults at different points of an incomplete message. After
 * CONNECT, an upgrade or a message that closes the connection nothing more
 * is HTTP on that connection (llhttp stops there; our server closes).
 */
export function compare(input: Uint8Array, ours: Outcome, theirs: LlhttpOutcome): Verdict {
  for (let i = 0; ; i++) {
    const o = ours.messages[i];
    const t = theirs.messages[i];
    const start = i === 0 ? 0 : ours.messages[i - 1].end;
    if (o && t) {
      // After CONNECT or an upgrade, llhttp hands the bytes over instead of reading a body.
      const difference = differs(o, t, !(t.upgrade || o.method === "CONNECT"));
      if (difference) return { unexplained: `message ${i}: ${difference}` };
      if (t.upgrade || o.upgrade || o.method === "CONNECT" || !o.keepAlive || !t.keepAlive) return { agree: true };
    } else if (o) {
      if (theirs.error) return theirRejection(theirs.error.code, o, input, start);
      // llhttp stops at a PRI request line to wait for HTTP/2's preface, and at an upgrade to hand the bytes over.
      if (theirs.pending && o.method === "PRI") return { category: "method" };
      if (theirs.pending && o.upgrade) return { category: "upgrade" };
      return { unexplained: `message ${i} (at ${start}): we accepted it, llhttp ${theirs.pending ? "still waits" : "saw no message"}` };
    } else if (t) {
      if (ours.error) return ourRejection(ours.error.code, t, input, start);
      // We read the body that CONNECT's framing announces; llhttp hands the bytes over at the head.
      if ((t.upgrade || t.method === "CONNECT") && ours.pending) return { agree: true };
      return { unexplained: `message ${i} (at ${start}): llhttp accepted it, we ${ours.pending ? "still wait" : "saw no message"}` };
    } else {
      if (ours.error && !theirs.error && !theirs.pending) return ourRejection(ours.error.code, null, input, start);
      if (theirs.error && !ours.error && !ours.pending) return theirRejection(theirs.error.code, null, input, start);
      return { agree: true };
    }
  }
}

function differs(o: Message, t: Message, withBody: boolean): string | null {
  for (const key of withBody ? ["method", "target", "version", "body"] as const : ["method", "target", "version"] as const) {
    if (o[key] !== t[key]) return `${key} ${JSON.stringify(o[key])} vs llhttp ${JSON.stringify(t[key])}`;
  }
  for (const key of ["headers", "trailers"] as const) {
    const a = JSON.stringify(o[key]), b = JSON.stringify(t[key]);
    if (a !== b) return `${key} ${a} vs llhttp ${b}`;
  }
  return null;
}

/** We rejected the message at `start`, which llhttp accepted (t) or did not see as a message. */
function ourRejection(code: string, t: Message | null, input: Uint8Array, start: number): Verdict {
  if (code === "MISSING_HOST" || code === "DUPLICATE_HOST" || code === "BAD_HOST") return { category: "host" };
  if (code === "TOO_MANY_HEADERS" || code === "CHUNK_SIZE_OVERFLOW") return { category: "limits" };
  if (code === "HTTP09") return { category: "http09" };
  if (code === "VERSION_NOT_SUPPORTED") return { category: "version" };
  if ((code === "BAD_VERSION" || code === "BAD_TARGET") && /^[\r\n]*[^\r\n]*  /.test(latin1(input, start, input.length))) return { category: "spaces" };
  if (code === "BAD_VERSION" && /^(\r\n)*[^\r\n]* (RTSP|ICE)\//.test(latin1(input, start, input.length))) return { category: "protocol" };
  if (t?.method === "CONNECT") return { category: "connect" };
  if ((code === "BARE_CR" || code === "BARE_LF" || code === "BAD_METHOD") && strayLineEnd(input, start)) return { category: "empty-lines" };
  if (t) {
    if (code === "BAD_CHUNK_EXTENSION") return { category: "chunk-ext" };
    if (code === "BAD_TRANSFER_ENCODING" && t.version === "1.0") return { category: "te-http10" };
    if (code === "UNSUPPORTED_TRANSFER_CODING" || code === "BAD_TRANSFER_ENCODING") return { category: "te-strict" };
    if (code === "BAD_TARGET" && (t.method === "CONNECT" || !t.target.startsWith("/"))) return { category: "target-form" };
  }
  return { unexplained: `message at ${start}: we rejected it (${code}), llhttp ${t ? "accepted it" : "did not"}` };
}

/** llhttp rejected the message at `start`, which we accepted (o) or did not see as a message. */
function theirRejection(code: string, o: Message | null, input: Uint8Array, start: number): Verdict {
  const invalidMethod = code === "HPE_INVALID_METHOD" || code === "HPE_INVALID_CONSTANT";
  const method = methodAt(input, start);
  if ((invalidMethod && !LLHTTP_METHODS.has(method)) || (code === "HPE_INVALID_VERSION" && method === "PRI")) return { category: "method" };
  const head = latin1(input, start, Math.min(input.length, start + 16384));
  if (code === "HPE_INVALID_CONTENT_LENGTH" && /\ncontent-length:[ \t]*\d+[ \t]+\r\n/i.test(head)) return { category: "ows" };
  if (code === "HPE_INVALID_TRANSFER_ENCODING" && /\ntransfer-encoding:[^\r\n]*[ \t]\r\n/i.test(head)) return { category: "ows" };
  if (code === "HPE_INVALID_TRANSFER_ENCODING" && /\ntransfer-encoding:[^\r\n]*,[ \t]*(,|\r\n)/i.test(head)) return { category: "empty-list-elements" };
  const target = targetAt(input, start);
  if (code === "HPE_INVALID_URL" && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(target) && method !== "CONNECT") {
    return { category: "url" };
  }
  if (o) {
    const body = latin1(input, start, o.end);
    if ((code === "HPE_STRICT" || code === "HPE_INVALID_CHUNK_SIZE") && /\n[0-9A-Fa-f]+[^\r\n]*[ \t][^\r\n]*\r\n/.test(body)) return { category: "chunk-ext" };
    const framing = o.trailers.some(([name]) => /^(transfer-encoding|content-length)$/i.test(name));
    if (framing && /TRANSFER_ENCODING|CONTENT_LENGTH/.test(code)) return { category: "trailer-framing" };
  }
  return { unexplained: `message at ${start}: llhttp rejected it (${code}), we did not` };
}

/** Whether, after CRLF pairs, the message at `start` begins with a lone CR or LF. */
function strayLineEnd(input: Uint8Array, start: number): boolean {
  let i = start;
  while (input[i] === 0x0d && input[i + 1] === 0x0a) i += 2;
  return input[i] === 0x0d || input[i] === 0x0a;
}

/** The method token of the message at `start`. */
function methodAt(input: Uint8Array, start: number): string {
  let i = start;
  while (input[i] === 0x0d || input[i] === 0x0a) i++;
  let end = i;
  while (end < input.length && input[end] !== 0x20) end++;
  return latin1(input, i, end);
}

/** The request-target of the message at `start`. */
function targetAt(input: Uint8Array, start: number): string {
  const line = /^[\r\n]*\S+ (\S*)/.exec(latin1(input, start, Math.min(input.length, start + 8192)));
  return line ? line[1] : "";
}
