// Where our parser and llhttp (Node's, strict) may read the same bytes
// differently, and why: ONE table, each entry with its RFC reason and a
// predicate. The differential test (test/differential.test.ts), the llhttp
// corpus test (test/conformance.test.ts) and the fuzzer's oracle
// (fuzz/targets.ts) all explain a disagreement with it, and only with it: a
// disagreement no entry's predicate matches is a failure (a finding).
//
// A predicate sees the point where the two part (`Parting`): the message
// each made of the bytes there (or its rejection, or that it still waits),
// the input, and our parser to ask how it judges other bytes. Predicates are
// narrow on purpose: each matches the difference its reason describes, and
// checks the bytes that make it so.
import { LIMITS } from "../../parser/src/abi.ts";
import type { ParserInstance } from "../../parser/src/parser.ts";
import { LLHTTP_METHODS, LlhttpResponses, llhttpParse, type LlhttpResponseRun, type LlhttpRun } from "./llhttp.ts";
import { driveStream, endsConnection, type Message, type StreamRun } from "./stream.ts";
import type { Projection, ResponseProjection } from "./llhttp-corpus.ts";
import { driveResponses, type ResponseMessage, type ResponseRun } from "./response-stream.ts";

/** A message as both parsers are compared on: the stream driver's, keepAlive and upgrade where the reading knows them. */
export type Msg = Omit<Message, "keepAlive" | "upgrade" | "end"> & Partial<Pick<Message, "keepAlive" | "upgrade">>;

/** One parser's reading of a whole input. */
export interface Reading {
  /** The messages it completed. */
  messages: readonly Msg[];
  /** A message whose head it took and whose body had not ended. */
  partial: Msg | null;
  /** It rejected the message after the completed ones: the error's name (ours: abi.ts's; llhttp's: HPE_*), "" when not known. */
  error: string | null;
  /** Where in the input it found the fault (ours), or -1. */
  errorAt: number;
  /** The input ended inside a message. */
  pending: boolean;
  /** It stopped reading after its last message: that one closed the connection, or switched protocols. */
  stopped: "closed" | "upgrade" | null;
}

/** One side where the two part. */
export interface Side {
  /** The message it made there: complete, or a head whose body had not ended (`complete` false); null when not even a head. */
  message: Msg | null;
  complete: boolean;
  /** It rejected the message there: the error's name, "" when not known. */
  error: string | null;
  errorAt: number;
  pending: boolean;
  /** It stopped reading before this message (the one before closed the connection or switched protocols). */
  stopped: "closed" | "upgrade" | null;
}

export interface Parting {
  input: Uint8Array;
  /** Where the message they part on begins in the input (after the messages both read alike). */
  start: number;
  /** The message both read alike just before, if any. */
  previous: Msg | null;
  ours: Side;
  theirs: Side;
  /** Our parser, to ask how it judges other bytes. */
  parser: ParserInstance;
}

export interface Difference {
  id: string;
  /** Why we differ from llhttp here, with the RFC that says so. */
  reason: string;
  applies(p: Parting): boolean;
  /** Cases of llhttp's own test corpus that differ for this reason (test/conformance.test.ts checks that they still do). */
  corpus?: readonly string[];
}

// ---- what the predicates read -----------------------------------------------

const latin1 = (bytes: Uint8Array, from = 0, to = bytes.length): string => Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString("latin1");

const texts = new WeakMap<Parting, string>();
/** The bytes from the parting message on (at most what a head may hold, and more is never needed). */
function text(p: Parting): string {
  let t = texts.get(p);
  if (t === undefined) texts.set(p, (t = latin1(p.input, p.start, Math.min(p.input.length, p.start + LIMITS.MAX_HEAD_BYTES + 2048))));
  return t;
}

/** The request line of the parting message (after the CRLFs skipped before a request), so far. */
function requestLine(p: Parting): string {
  const rest = text(p).replace(/^(\r\n)+/, "");
  return rest.slice(0, rest.search(/\r?\n|\r|$/));
}

/** Its field lines, so far (up to the empty line; the last one may be unfinished). */
function headLines(p: Parting): string[] {
  const rest = text(p).replace(/^(\r\n)+/, "");
  const end = rest.indexOf("\r\n\r\n");
  return (end < 0 ? rest.replace(/\r$/, "") : rest.slice(0, end)).split("\r\n").slice(1).filter((l) => l !== "");
}

/** Its method token (up to the first SP). */
const methodOf = (p: Parting): string => requestLine(p).split(" ")[0];
/** Its target (between the first and second SP). */
const targetOf = (p: Parting): string => requestLine(p).split(" ")[1] ?? "";

const fields = (p: Parting, name: string): string[] =>
  headLines(p).filter((l) => l.slice(0, l.indexOf(":")).toLowerCase() === name).map((l) => l.slice(l.indexOf(":") + 1).replace(/^[ \t]+|[ \t]+$/g, ""));

/** The body bytes after the parting message's head, so far. */
function bodyText(p: Parting): string {
  const t = text(p);
  const end = t.indexOf("\r\n\r\n");
  return end < 0 ? "" : t.slice(end + 4);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VCHARS = /^[\x21-\x7e]+$/;
const OWS = "[ \\t]*";
const QUOTED = `"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"`;
const TOKEN_CHARS = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
/** RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ). */
const CHUNK_EXT = `(?:${OWS};${OWS}${TOKEN_CHARS}(?:${OWS}=${OWS}(?:${TOKEN_CHARS}|${QUOTED}))?)*`;
const CHUNK_LINE = new RegExp(`^[0-9A-Fa-f]+(${CHUNK_EXT})$`);
/** RFC 3986 §3.2.2 host: IP-literal, IPv4address or reg-name. */
const HOST = String.raw`(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)`;
/** host [ ":" port ] (RFC 9110 §7.2). */
const URI_HOST = new RegExp(`^${HOST}(?::[0-9]*)?$`);
/** RFC 9112 §3.2.3, RFC 9110 §9.3.6: CONNECT's target is uri-host ":" port, the port always sent. */
const AUTHORITY_FORM = new RegExp(`^(?!:)${HOST}:[0-9]+$`);

/**
 * Whether a target is an absolute-form the parser must take (RFC 9112 §3.2.2):
 * a URI whose authority, if it has one, is a valid [userinfo@]host[:port],
 * the host not empty (RFC 9110 §4.2.1: a recipient must reject an http URI with an
 * empty host; the authority stands in for Host, §7.2).
 */
function absoluteFormValid(target: string): boolean {
  const uri = /^[A-Za-z][A-Za-z0-9+.-]*:(\/\/([^/?#]*))?/.exec(target);
  if (uri === null || !VCHARS.test(target)) return false;
  if (uri[2] === undefined) return true;
  const at = uri[2].split("@");
  if (at.length > 2 || (at.length === 2 && !USERINFO.test(at[0]))) return false;
  const host = at.at(-1)!;
  return URI_HOST.test(host) && !/^(:|$)/.test(host);
}

/** RFC 3986 §3.2.1. */
const USERINFO = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*$/;
/** RFC 3986 §3: an absolute URI's scheme, then anything a target may hold. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]*$/;
const FRAMING_FIELD = /^(content-length|transfer-encoding)$/i;
const CLOSE = /(^|,)[ \t]*close[ \t]*(,|$)/i;

/** Whether, after CRLF pairs, the message begins with a lone CR or LF. */
function strayLineEnd(p: Parting): boolean {
  let i = p.start;
  while (p.input[i] === 0x0d && p.input[i + 1] === 0x0a) i += 2;
  return p.input[i] === 0x0d || p.input[i] === 0x0a;
}

/** The line of the input that holds byte `at`. */
function lineAt(input: Uint8Array, at: number): string {
  let from = Math.min(at, input.length);
  while (from > 0 && input[from - 1] !== 0x0a) from--;
  let to = from;
  while (to < input.length && input[to] !== 0x0d && input[to] !== 0x0a) to++;
  return latin1(input, from, to);
}

/** The side took the message there (completed it, took its head, or still reads its head). */
const takes = (s: Side): boolean => s.error === null && s.stopped === null && (s.message !== null || s.pending);
const sameHead = (a: Msg, b: Msg): boolean =>
  a.method === b.method && a.target === b.target && a.version === b.version && JSON.stringify(a.headers) === JSON.stringify(b.headers);

/**
 * Our verdict on the parting head if it ended where the input ends (its last
 * line ended, then the empty line; a Host supplied if it has none): the
 * error's name, or null when we would take it.
 */
function oursAtHeadEnd(p: Parting): string | null {
  let head = text(p);
  if (head.endsWith("\r")) head += "\n";
  else if (!head.endsWith("\r\n")) head += "\r\n";
  const judge = (h: string) => driveStream(p.parser, [Uint8Array.from(h + "\r\n", (c) => c.charCodeAt(0))]).error?.code ?? null;
  const code = judge(head);
  if (code !== "MISSING_HOST") return code;
  const line = head.indexOf("\r\n", head.search(/[^\r\n]/));
  return judge(head.slice(0, line + 2) + "Host: h\r\n" + head.slice(line + 2));
}

/** A chunk line as RFC 9112 §7.1.1 has it, or the beginning of one. */
const chunkLineSoFar = (l: string): boolean => ["", "a", ";a", "=a", "\"", "a\""].some((more) => CHUNK_LINE.test(l + more));

/**
 * A Transfer-Encoding value's codings (RFC 9110 §5.6.1): its list elements
 * without the OWS around them, empty ones dropped. OWS is SP and HTAB only:
 * String.prototype.trim would take NBSP (obs-text) too.
 */
const transferCodings = (value: string): string[] =>
  value.split(",").map((c) => c.replace(/^[ \t]+|[ \t]+$/g, "")).filter((c) => c !== "");

/** transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9112 §7). */
const CODING = new RegExp(`^${TOKEN_CHARS}(?:${OWS};${OWS}${TOKEN_CHARS}${OWS}=${OWS}(?:${TOKEN_CHARS}|${QUOTED}))*$`);

/** RFC 9112 §6.1, §6.3: a request's Transfer-Encoding is a list of codings (tokens, with parameters), chunked once and last. */
function transferEncodingValid(value: string): boolean {
  const codings = transferCodings(value);
  return codings.length > 0 && codings.every((c) => CODING.test(c)) && codings.at(-1)!.toLowerCase() === "chunked" &&
    codings.filter((c) => c.toLowerCase() === "chunked").length === 1;
}

// ---- the table ------------------------------------------------------------------

export const DIFFERENCES: readonly Difference[] = [
  {
    id: "missing-host",
    reason: "RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host; llhttp does not look at Host",
    applies: (p) => p.ours.error === "MISSING_HOST" && /^HTTP\/1\.1$/.test(requestLine(p).split(" ")[2] ?? "") && fields(p, "host").length === 0,
  },
  {
    id: "bad-host",
    reason: "RFC 9112 §3.2: a server must answer 400 to a request with more than one Host field line or an invalid one (RFC 3986 host[:port]); llhttp does not look at Host",
    applies: (p) => (p.ours.error === "DUPLICATE_HOST" && fields(p, "host").length > 1) ||
      (p.ours.error === "BAD_HOST" && fields(p, "host").some((h) => !URI_HOST.test(h))),
  },
  {
    id: "method",
    reason: "RFC 9110 §9.1: a method is any token (an unknown one is the application's to refuse, 501); llhttp knows a fixed list, and ties some names to RTSP",
    applies: (p) => takes(p.ours) && /^HPE_INVALID_(METHOD|CONSTANT)$/.test(p.theirs.error ?? "") &&
      TOKEN.test(methodOf(p)) && !LLHTTP_METHODS.has(methodOf(p)),
    corpus: ["invalid.md: HTTP protocol and ANNOUNCE method", "invalid.md: Invalid method"],
  },
  {
    id: "pri",
    reason: "RFC 9113 §3.4: PRI * HTTP/2.0 is HTTP/2's connection preface, not an HTTP/1.1 request (we answer it 505 or 400, and take PRI with HTTP/1.x as any token method, RFC 9110 §9.1); llhttp waits for the rest of the preface, and refuses PRI with another version",
    applies: (p) => methodOf(p) === "PRI" && !p.theirs.complete &&
      (p.theirs.pending || p.theirs.stopped === "upgrade" || /^HPE_(PAUSED_H2_UPGRADE|INVALID_VERSION)$/.test(p.theirs.error ?? "")) &&
      (takes(p.ours) || /^(VERSION_NOT_SUPPORTED|BAD_TARGET)$/.test(p.ours.error ?? "")),
    corpus: ["method.md: PRI request HTTP2"],
  },
  {
    id: "protocol",
    reason: "RFC 9112 §2.3: HTTP-version is \"HTTP/\" DIGIT \".\" DIGIT; llhttp also reads RTSP/ and ICE/ request lines",
    applies: (p) => {
      // The version so far: RTSP/ or ICE/, or the beginning of one (llhttp waits for the rest where we refuse at once).
      const version = requestLine(p).split(" ")[2] ?? "";
      return p.ours.error === "BAD_VERSION" && version !== "" &&
        (/^(RTSP|ICE)\//.test(version) || "RTSP/".startsWith(version) || "ICE/".startsWith(version));
    },
    corpus: ["method.md: SOURCE request with ICE", "method.md: OPTIONS request with RTSP", "method.md: ANNOUNCE request with RTSP"],
  },
  {
    id: "target-form",
    reason: "RFC 9112 §3.2: the target's form must fit the method (asterisk-form only with OPTIONS; authority-form only and always with CONNECT, its port always sent, RFC 9110 §9.3.6; absolute-form a URI per RFC 3986 whose authority is a valid host); llhttp takes what its URL parser takes",
    applies: (p) => {
      const target = targetOf(p), method = methodOf(p);
      if (p.ours.error !== "BAD_TARGET" || / {2}/.test(requestLine(p)) || !VCHARS.test(target)) return false;
      if (method === "CONNECT") return !AUTHORITY_FORM.test(target);
      if (target === "*") return method !== "OPTIONS";
      return !target.startsWith("/") && !absoluteFormValid(target);
    },
    corpus: ["method.md: M-SEARCH request"],
  },
  {
    id: "spaces",
    reason: "RFC 9112 §3: exactly one SP between method, target and version; llhttp takes several",
    applies: (p) => /^(BAD_TARGET|BAD_VERSION)$/.test(p.ours.error ?? "") && / {2}/.test(requestLine(p)),
  },
  {
    id: "http09",
    reason: "RFC 9112 §2.3, §3: a request line has a version (HTTP/0.9's has none, and HTTP/1.1 servers need not take it); llhttp reads one, even with an empty target",
    applies: (p) => /^(HTTP09|BAD_TARGET)$/.test(p.ours.error ?? "") && /^[^ ]+ [^ ]*$/.test(requestLine(p)) &&
      text(p).replace(/^(\r\n)+/, "").length > requestLine(p).length,
    corpus: ["sample.md: No HTTP version"],
  },
  {
    id: "version",
    reason: "RFC 9110 §15.6.6, RFC 9112 §2.3: only HTTP/1.0 and HTTP/1.1 are served (505 otherwise); llhttp takes any digit.digit",
    applies: (p) => p.ours.error === "VERSION_NOT_SUPPORTED" && /^HTTP\/\d\.\d$/.test(requestLine(p).split(" ")[2] ?? "") &&
      !/^HTTP\/1\.[01]$/.test(requestLine(p).split(" ")[2]),
  },
  {
    id: "empty-lines",
    reason: "RFC 9112 §2.2: a server skips empty lines (CRLF) before a request line; a lone CR or LF is not one (bare CR is invalid), and llhttp skips those too",
    applies: (p) => /^(BARE_CR|BARE_LF|BAD_METHOD)$/.test(p.ours.error ?? "") && strayLineEnd(p),
  },
  {
    id: "te-http10",
    reason: "RFC 9112 §6.1: a server must treat a Transfer-Encoding in an HTTP/1.0 request as faulty framing and close; llhttp reads the chunked body",
    applies: (p) => p.ours.error === "BAD_TRANSFER_ENCODING" && / HTTP\/1\.0$/.test(requestLine(p)) && fields(p, "transfer-encoding").length > 0,
  },
  {
    id: "te-lines",
    reason: "RFC 9112 §6.1, §11.2: Transfer-Encoding must be one field line ending in chunked; split over lines it is refused (a smuggling vector); llhttp combines the lines",
    applies: (p) => p.ours.error === "BAD_TRANSFER_ENCODING" && fields(p, "transfer-encoding").length > 1,
    corpus: ["transfer-encoding.md: POST with `chunked` as last transfer-encoding (multiple headers)"],
  },
  {
    id: "te-coding",
    reason: "RFC 9112 §6.1: a server answers 501 to a transfer coding it does not implement (only chunked is); llhttp passes the coded body on",
    applies: (p) => p.ours.error === "UNSUPPORTED_TRANSFER_CODING" &&
      fields(p, "transfer-encoding").some((v) => v.split(",").some((c) => c.trim() !== "" && c.trim().toLowerCase() !== "chunked")),
    corpus: ["transfer-encoding.md: POST with `chunked` as last transfer-encoding"],
  },
  {
    id: "te-value",
    reason: "RFC 9112 §6.1, §6.3: a request's Transfer-Encoding must list transfer codings (tokens) with chunked once and last, else the body's length cannot be known and the server answers 400; llhttp reads such a body as not chunked, or as chunked when it ends in chunked",
    applies: (p) => p.ours.error === "BAD_TRANSFER_ENCODING" && fields(p, "transfer-encoding").length === 1 &&
      !transferEncodingValid(fields(p, "transfer-encoding")[0]),
  },
  {
    id: "tunnel-body",
    reason: "RFC 9112 §6.3: a CONNECT or Upgrade request's body is framed like any other; the parser reads (and judges) what its framing announces and switches nothing; llhttp hands what follows a CONNECT head to its caller, and Node's binding hands over the rest of an Upgrade request at the first fault in its body",
    applies: (p) => {
      const o = p.ours.message, t = p.theirs.message;
      if (o === null || t === null || !(t.method === "CONNECT" || t.upgrade === true) || !sameHead(o, t)) return false;
      if (p.theirs.complete) return t.body === "" && t.trailers.length === 0 && (o.body !== "" || o.trailers.length > 0 || !p.ours.complete);
      return p.theirs.stopped === "upgrade";
    },
    corpus: ["method.md: CONNECT with body"],
  },
  {
    id: "url",
    reason: "RFC 3986 §3, RFC 9112 §3.2.2: an absolute-form target is any URI (a scheme of letters, digits, \"+\", \"-\", \".\"; a path without \"//\"; every VCHAR an origin-form path takes); llhttp's URL parser is narrower",
    applies: (p) => takes(p.ours) && p.theirs.error === "HPE_INVALID_URL" && methodOf(p) !== "CONNECT" && ABSOLUTE_FORM.test(targetOf(p)),
  },
  {
    id: "ows",
    reason: "RFC 9110 §5.5, RFC 9112 §5: whitespace around a field value is not part of it, Content-Length's and Transfer-Encoding's too; llhttp refuses whitespace after those values",
    applies: (p) => takes(p.ours) && /^HPE_INVALID_(CONTENT_LENGTH|TRANSFER_ENCODING)$/.test(p.theirs.error ?? "") &&
      headLines(p).some((l) => /^(content-length|transfer-encoding):.*[ \t]$/i.test(l)),
  },
  {
    id: "empty-list-elements",
    reason: "RFC 9110 §5.6.1: a recipient ignores empty elements of a list (\"chunked,\" or \", chunked\"); llhttp refuses them in Transfer-Encoding",
    applies: (p) => takes(p.ours) && p.theirs.error === "HPE_INVALID_TRANSFER_ENCODING" &&
      fields(p, "transfer-encoding").some((v) => v.split(",").some((c) => c.trim() === "")),
  },
  {
    id: "chunk-ext-bws",
    reason: "RFC 9112 §7.1.1: whitespace (BWS) around \";\" and \"=\" of a chunk extension is allowed; strict llhttp refuses it",
    applies: (p) => takes(p.ours) && /^HPE_(STRICT|INVALID_CHUNK_SIZE)$/.test(p.theirs.error ?? "") &&
      bodyText(p).replace(/\r$/, "").split("\r\n").some((l) => /[ \t]/.test(l) && chunkLineSoFar(l)),
  },
  {
    id: "chunk-ext-grammar",
    reason: "RFC 9112 §7.1.1: a chunk extension is \";\" name [\"=\" value], the name a token and the value a token or quoted-string; llhttp lets \";;\", \"a=\" and the like through",
    applies: (p) => p.ours.error === "BAD_CHUNK_EXTENSION" && p.ours.errorAt >= 0 && takes(p.theirs) &&
      /^[0-9A-Fa-f]+;/.test(lineAt(p.input, p.ours.errorAt)) && !CHUNK_LINE.test(lineAt(p.input, p.ours.errorAt)),
  },
  {
    id: "trailer-framing",
    reason: "RFC 9110 §6.5.1, RFC 9112 §7.1.2: framing fields (Content-Length, Transfer-Encoding) are not processed from trailers, they are fields without effect there; llhttp applies its header rules to them and refuses the message",
    applies: (p) => takes(p.ours) && /CONTENT_LENGTH|TRANSFER_ENCODING/.test(p.theirs.error ?? "") &&
      trailerSection(p).some((l) => FRAMING_FIELD.test(l.slice(0, l.indexOf(":")))),
  },
  {
    id: "trailer-connection",
    reason: "RFC 9110 §6.5.1, §7.6.1: connection control is not taken from trailers (Connection is a field a trailer section must not be used for; a recipient does not merge trailers into the header section); llhttp takes \"Connection: close\" in trailers as closing and refuses the next request",
    applies: (p) => p.theirs.error === "HPE_CLOSED_CONNECTION" && p.previous !== null &&
      p.previous.trailers.some(([name, value]) => /^connection$/i.test(name) && CLOSE.test(value)) &&
      !p.previous.headers.some(([name, value]) => /^connection$/i.test(name) && CLOSE.test(value)) && p.previous.version === "1.1",
  },
  {
    id: "close-wins",
    reason: "RFC 9112 §9.3, §9.6: the \"close\" connection option ends the connection after the response, whatever else Connection lists; in HTTP/1.0 llhttp lets keep-alive win",
    applies: (p) => {
      const m = p.ours.stopped === "closed" ? p.previous : p.ours.complete ? p.ours.message : null;
      return m !== null && m.keepAlive !== true && m.headers.some(([name, value]) => /^connection$/i.test(name) && CLOSE.test(value)) &&
        (p.theirs.stopped === null || p.theirs.message?.keepAlive === true);
    },
  },
  {
    id: "request-proxy-connection",
    reason: "RFC 9110 §7.6.1, RFC 9112 §9.3: connection options come from Connection; Proxy-Connection was never standard (RFC 7230 §A.1.2), so an HTTP/1.0 request that asks for keep-alive only there closes after its response; llhttp reads keep-alive (and close) in it as Connection's",
    applies: (p) => {
      const o = p.ours.message, t = p.theirs.message;
      return o !== null && t !== null && p.ours.complete && p.theirs.complete && o.keepAlive !== t.keepAlive &&
        o.headers.some(([name]) => /^proxy-connection$/i.test(name)) && messageDifference(o, { ...t, keepAlive: o.keepAlive }) === null;
    },
  },
  {
    id: "judged-at-head-end",
    reason: "RFC 9112 §2.2, §6.3: a head is judged when it is complete (its lines as they end, then what its framing fields mean together: Content-Length with Transfer-Encoding, a repeated or malformed Content-Length), and we refuse this one once it ends; llhttp refuses at the first byte or field it cannot take",
    applies: (p) => p.ours.pending && p.ours.message === null && p.theirs.error !== null && oursAtHeadEnd(p) !== null,
    corpus: ["content-length.md: Error on `Content-Length` overflow", "content-length.md: Error on duplicate `Content-Length`"],
  },
  {
    id: "limits",
    reason: "RFC 9110 §5.4, §8.6, RFC 9112 §7.1: a server refuses (4xx) fields beyond its limits, and lengths it cannot represent; ours (abi.ts LIMITS; Content-Length and chunk sizes up to 2^53 - 1) are not llhttp's",
    applies: (p) => {
      switch (p.ours.error) {
        case "TOO_MANY_HEADERS": return headLines(p).length > LIMITS.MAX_HEADERS || trailerLines(p) > LIMITS.MAX_HEADERS;
        case "HEAD_TOO_LARGE": return p.ours.errorAt - p.start >= LIMITS.MAX_HEAD_BYTES;
        case "HEADER_LINE_TOO_LONG": return headLines(p).some((l) => l.length > LIMITS.MAX_HEADER_LINE) || lineAt(p.input, p.ours.errorAt).length > LIMITS.MAX_HEADER_LINE;
        case "TARGET_TOO_LONG": return targetOf(p).length > LIMITS.MAX_TARGET_BYTES;
        case "BAD_CONTENT_LENGTH": return fields(p, "content-length").some((v) => /^\d+$/.test(v) && Number(v) > Number.MAX_SAFE_INTEGER);
        case "CHUNK_SIZE_OVERFLOW": return /^0*[0-9A-Fa-f]{14,}/.test(lineAt(p.input, p.ours.errorAt)) &&
          parseInt(/^[0-9A-Fa-f]+/.exec(lineAt(p.input, p.ours.errorAt))![0], 16) > Number.MAX_SAFE_INTEGER;
        default: return false;
      }
    },
  },
];

/** The lines of the parting message's trailer section, so far: its chunked body walked chunk by chunk. */
function trailerSection(p: Parting): string[] {
  return trailerLinesOf(bodyText(p));
}

/** The trailer section's lines of a chunked body (so far). */
function trailerLinesOf(body: string): string[] {
  for (let i = 0; ;) {
    const eol = body.indexOf("\r\n", i);
    const size = /^[0-9A-Fa-f]+/.exec(body.slice(i, eol < 0 ? body.length : eol));
    if (eol < 0 || size === null) return [];
    if (/^0+$/.test(size[0])) {
      const rest = body.slice(eol + 2);
      const end = rest.indexOf("\r\n\r\n");
      return (end < 0 ? rest.replace(/\r$/, "") : rest.slice(0, end)).split("\r\n").filter((l) => l !== "");
    }
    i = eol + 2 + parseInt(size[0], 16) + 2;
  }
}

/** Field lines of its trailer section. */
const trailerLines = (p: Parting): number => trailerSection(p).length;

export const byId = (id: string): Difference => {
  const d = DIFFERENCES.find((x) => x.id === id);
  if (d === undefined) throw new Error(`no difference ${id}`);
  return d;
};

/** The entry that explains the parting, or null. */
export function explain(p: Parting): Difference | null {
  return DIFFERENCES.find((d) => d.applies(p)) ?? null;
}

// ---- comparing two readings ---------------------------------------------------

export type Verdict = { agree: true } | { difference: Difference } | { unexplained: string };

/** Each side at message `i`, the first the two do not both complete alike. */
function sideAt(r: Reading, i: number): Side {
  const message = r.messages[i];
  if (message !== undefined) return { message, complete: true, error: null, errorAt: -1, pending: false, stopped: null };
  if (r.stopped !== null) return { message: r.partial, complete: false, error: null, errorAt: -1, pending: false, stopped: r.stopped };
  return { message: r.partial, complete: false, error: r.error, errorAt: r.errorAt, pending: r.pending, stopped: null };
}

/** Builds the parting at message `i` (ours' `ends` say where our messages ended). */
export function partingAt(input: Uint8Array, i: number, ours: Reading, ends: readonly number[], theirs: Reading, parser: ParserInstance): Parting {
  return {
    input, start: i === 0 ? 0 : ends[i - 1], previous: i === 0 ? null : ours.messages[i - 1],
    ours: sideAt(ours, i), theirs: sideAt(theirs, i), parser,
  };
}

/** What of two messages differs (keepAlive where both readings know it), or null. */
export function messageDifference(o: Msg, t: Msg): string | null {
  for (const key of ["method", "target", "version", "body", "keepAlive"] as const) {
    if (o[key] !== undefined && t[key] !== undefined && o[key] !== t[key]) return `${key} ${JSON.stringify(o[key])} vs llhttp ${JSON.stringify(t[key])}`;
  }
  for (const key of ["headers", "trailers"] as const) {
    const a = JSON.stringify(o[key]), b = JSON.stringify(t[key]);
    if (a !== b) return `${key} ${a} vs llhttp ${b}`;
  }
  return null;
}

const describe = (s: Side): string =>
  s.error !== null ? `rejected it (${s.error})` : s.complete ? "read it" : s.stopped !== null ? `had stopped (${s.stopped})` :
  s.pending ? (s.message !== null ? "took its head, waiting for the body" : "waiting for the rest of its head") : "saw no message";

/**
 * Compares the two readings message by message. Messages both complete must
 * agree; where they part, one side decided (read the message or rejected it)
 * and the other decided otherwise or not yet, and the table must explain
 * it. Two sides that both rejected, or both still wait or saw nothing more,
 * agree. After a message that closes the connection or switches protocols,
 * nothing more is compared (our server closes; llhttp stops).
 */
export function compareReadings(input: Uint8Array, ours: Reading, ends: readonly number[], theirs: Reading, parser: ParserInstance): Verdict {
  for (let i = 0; ; i++) {
    const o = ours.messages[i];
    const t = theirs.messages[i];
    if (o !== undefined && t !== undefined) {
      const difference = messageDifference(o, t);
      if (difference !== null) return explainAt(input, i, ours, ends, theirs, parser, difference);
      if (endsConnection(o as Required<Msg>) || endsConnection(t as Required<Msg>)) return { agree: true };
      continue;
    }
    const a = sideAt(ours, i), b = sideAt(theirs, i);
    // Both rejected the message, or both stopped reading, or we closed where llhttp refuses data after a close: alike.
    if ((a.error !== null && b.error !== null) || (a.stopped !== null && b.stopped !== null)) return { agree: true };
    if (a.stopped === "closed" && b.error === "HPE_CLOSED_CONNECTION") return { agree: true };
    if (!decided(a) && !decided(b)) {
      // Neither read nor rejected a message here: both wait, or saw nothing more; or one stopped and no request follows.
      if (a.stopped === null && b.stopped === null) return { agree: true };
      if (!hasRequestBytes(input, i === 0 ? 0 : ends[i - 1])) return { agree: true };
    }
    return explainAt(input, i, ours, ends, theirs, parser, `ours ${describe(a)}; llhttp ${describe(b)}`);
  }
}

/** The side read or rejected the message. */
const decided = (s: Side): boolean => s.complete || s.error !== null;

function explainAt(input: Uint8Array, i: number, ours: Reading, ends: readonly number[], theirs: Reading, parser: ParserInstance, what: string): Verdict {
  const p = partingAt(input, i, ours, ends, theirs, parser);
  const d = explain(p);
  return d !== null ? { difference: d } : { unexplained: `message ${i} (at ${p.start}): ${what}` };
}

function hasRequestBytes(input: Uint8Array, from: number): boolean {
  for (let i = from; i < input.length; i++) if (input[i] !== 0x0d && input[i] !== 0x0a) return true;
  return false;
}

// ---- the two parsers' readings ------------------------------------------------

/** Our stream driver's run as a reading. */
export function ourReading(run: StreamRun): Reading {
  const last = run.messages.at(-1);
  const stopped = run.stopped && last !== undefined ? (last.upgrade || last.method === "CONNECT" ? "upgrade" : "closed") : null;
  return {
    messages: run.messages, partial: run.partial, error: run.error?.code ?? null, errorAt: run.error?.at ?? -1,
    pending: run.pending, stopped,
  };
}

/** llhttp's run as a reading. */
export function llhttpReading(run: LlhttpRun): Reading {
  return {
    messages: run.messages, partial: run.partial, error: run.error?.code ?? null, errorAt: -1, pending: run.pending,
    stopped: run.upgraded ? "upgrade" : null,
  };
}

/** Our run of a whole input (every message, not stopping at a close) against llhttp's reading of it. */
export function compareWithLlhttp(input: Uint8Array, run: StreamRun, parser: ParserInstance): Verdict {
  return compareReadings(input, ourReading(run), run.messages.map((m) => m.end), llhttpReading(llhttpParse(input)), parser);
}

/** A projection (test/support/llhttp-corpus.ts: ours from projectStream, llhttp's from its log) as a reading. */
export function projectionReading(p: Projection): Reading {
  return {
    messages: p.messages, partial: p.partial ?? null,
    error: p.outcome === "error" ? p.code ?? "" : p.outcome === "closed" && p.code !== undefined ? p.code : null,
    errorAt: p.errorAt ?? -1, pending: p.outcome === "incomplete",
    stopped: p.outcome === "upgrade" ? "upgrade" : p.outcome === "closed" && p.code === undefined ? "closed" : null,
  };
}

// ---- responses ------------------------------------------------------------------
// The same kind of table for responses (test/response-conformance.test.ts,
// test/response-differential.test.ts, the fuzzer's response-head target):
// where our response parser and llhttp in response mode part, and why.

/** A response as both parsers are compared on: keepAlive and upgrade where the reading knows them. */
export type ResponseMsg = Omit<ResponseMessage, "keepAlive" | "upgrade" | "end" | "framing"> & Partial<Pick<ResponseMessage, "keepAlive" | "upgrade">>;

export type ResponseReading = Omit<Reading, "messages" | "partial"> & { messages: readonly ResponseMsg[]; partial: ResponseMsg | null };
export type ResponseSide = Omit<Side, "message"> & { message: ResponseMsg | null };

export interface ResponseParting {
  input: Uint8Array;
  start: number;
  previous: ResponseMsg | null;
  ours: ResponseSide;
  theirs: ResponseSide;
  parser: ParserInstance;
  /** The method of the request the responses answer (undefined: any other than HEAD and CONNECT). */
  requestMethod: string | undefined;
}

export interface ResponseDifference {
  id: string;
  reason: string;
  applies(p: ResponseParting): boolean;
  corpus?: readonly string[];
}

const responseTexts = new WeakMap<ResponseParting, string>();
function responseText(p: ResponseParting): string {
  let t = responseTexts.get(p);
  if (t === undefined) responseTexts.set(p, (t = latin1(p.input, p.start, Math.min(p.input.length, p.start + LIMITS.MAX_HEAD_BYTES + 2048))));
  return t;
}

/** The status line of the parting response (after the CRLFs skipped before it), so far. */
function statusLine(p: ResponseParting): string {
  const rest = responseText(p).replace(/^(\r\n)+/, "");
  return rest.slice(0, rest.search(/\r?\n|\r|$/));
}

/** Its field lines, so far. */
function responseHeadLines(p: ResponseParting): string[] {
  const rest = responseText(p).replace(/^(\r\n)+/, "");
  const end = rest.indexOf("\r\n\r\n");
  return (end < 0 ? rest.replace(/\r$/, "") : rest.slice(0, end)).split("\r\n").slice(1).filter((l) => l !== "");
}

const responseFields = (p: ResponseParting, name: string): string[] =>
  responseHeadLines(p).filter((l) => l.slice(0, l.indexOf(":")).toLowerCase() === name)
    .map((l) => l.slice(l.indexOf(":") + 1).replace(/^[ \t]+|[ \t]+$/g, ""));

/** The parting response's status code as its line has it (NaN when it has none). */
const statusOf = (p: ResponseParting): number => Number(/^HTTP\/\d\.\d (\d{3})(?: |$)/.exec(statusLine(p))?.[1] ?? NaN);

/** RFC 9112 §6.3 item 1 (and item 2, for a tunnel): the response has no body whatever its framing fields say. */
const bodiless = (p: ResponseParting): boolean => {
  const status = statusOf(p);
  return p.requestMethod === "HEAD" || (status >= 100 && status < 200) || status === 204 || status === 304 ||
    (p.requestMethod === "CONNECT" && status >= 200 && status < 300);
};

/** Whether, after CRLF pairs, the bytes from `start` begin with a lone CR or LF. */
function strayLineEndAt(input: Uint8Array, start: number): boolean {
  let i = start;
  while (input[i] === 0x0d && input[i + 1] === 0x0a) i += 2;
  return input[i] === 0x0d || input[i] === 0x0a;
}

/** RFC 9112 §6.1: a list of transfer codings (tokens with parameters), chunked at most once and without parameters. */
function responseCodingsValid(value: string): boolean {
  const codings = transferCodings(value);
  const chunked = codings.filter((c) => /^chunked\b/i.test(c));
  return codings.length > 0 && codings.every((c) => CODING.test(c)) && chunked.length <= 1 && chunked.every((c) => /^chunked$/i.test(c));
}

/**
 * Where the parting response's body begins, as an index into responseText(p)
 * (-1 while its head is incomplete): after the empty line that ends its head,
 * not an empty line skipped before its status line.
 */
function responseBodyStart(p: ResponseParting): number {
  const t = responseText(p);
  const lead = /^(\r\n)*/.exec(t)![0].length;
  const end = t.indexOf("\r\n\r\n", lead);
  return end < 0 ? -1 : end + 4;
}

/** The body bytes after the parting response's head, so far. */
function responseBodyText(p: ResponseParting): string {
  const start = responseBodyStart(p);
  return start < 0 ? "" : responseText(p).slice(start);
}

/** We refused the parting response for a fault in its body (after its head's empty line). */
function errorInBody(p: ResponseParting): boolean {
  const start = responseBodyStart(p);
  return p.ours.error !== null && start >= 0 && p.ours.errorAt >= p.start + start;
}

/** Our verdict on the parting response's head if it ended where the input ends: the error's name, or null. */
function oursResponseAtHeadEnd(p: ResponseParting): string | null {
  let head = responseText(p);
  if (head.endsWith("\r")) head += "\n";
  else if (!head.endsWith("\r\n")) head += "\r\n";
  const input = Uint8Array.from(head + "\r\n", (c) => c.charCodeAt(0));
  return driveResponses(p.parser, [input], { requestMethod: p.requestMethod }).error?.code ?? null;
}

const takesResponse = (s: ResponseSide): boolean => s.error === null && s.stopped === null && (s.message !== null || s.pending);

export const RESPONSE_DIFFERENCES: readonly ResponseDifference[] = [
  {
    id: "response-protocol",
    reason: "RFC 9112 §2.3, §4: a status line begins with HTTP-version, \"HTTP/\" DIGIT \".\" DIGIT; llhttp also reads RTSP/ and ICE/ status lines",
    applies: (p) => {
      const line = statusLine(p);
      return p.ours.error === "BAD_VERSION" && line !== "" && (/^(RTSP|ICE)\//.test(line) || "RTSP/".startsWith(line) || "ICE/".startsWith(line));
    },
    corpus: ["sample.md: RTSP response", "sample.md: ICE response"],
  },
  {
    id: "response-version",
    reason: "RFC 9112 §2.3, §2.5: a client reads HTTP/1.0 and HTTP/1.1 (HTTP/0.9 has no status line; another major version is another protocol); llhttp takes any digit.digit",
    applies: (p) => p.ours.error === "VERSION_NOT_SUPPORTED" && /^HTTP\/\d\.\d( |$)/.test(statusLine(p)) && !/^HTTP\/1\.[01]/.test(statusLine(p)),
    corpus: ["sample.md: HTTP version 0.9"],
  },
  {
    id: "status-sp",
    reason: "RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ], and a server MUST send the SP after the code even when the reason is empty; llhttp takes a line that ends after the code",
    applies: (p) => p.ours.error === "BAD_STATUS_CODE" && /^HTTP\/1\.[01] \d{3}[\r\n]/.test(responseText(p).replace(/^(\r\n)+/, "")),
    corpus: ["sample.md: No reason phrase"],
  },
  {
    id: "status-class",
    reason: "RFC 9110 §15: a status code's first digit is its class (a client reads an unknown code as the x00 of its class, and one past 599 as a 5xx); a code below 100 has none, and is refused; llhttp takes any three digits",
    applies: (p) => p.ours.error === "BAD_STATUS_CODE" && /^HTTP\/1\.[01] 0\d\d /.test(statusLine(p) + " "),
  },
  {
    id: "response-te-lines",
    reason: "RFC 9112 §6.1, §11.2: Transfer-Encoding must be one field line; split over lines it is refused, as in a request (a response-splitting vector); llhttp combines the lines",
    applies: (p) => p.ours.error === "BAD_TRANSFER_ENCODING" && responseFields(p, "transfer-encoding").length > 1,
    corpus: ["transfer-encoding.md: multiple transfer-encoding where chunked is not the last one"],
  },
  {
    id: "reason",
    reason: "RFC 9112 §4: reason-phrase = *( HTAB / SP / VCHAR / obs-text ): no other control byte, no DEL; llhttp takes any byte but CR and LF",
    applies: (p) => p.ours.error === "BAD_REASON" && p.ours.errorAt >= 0 && /^[\0-\x08\x0a-\x1f\x7f]$/.test(latin1(p.input, p.ours.errorAt, p.ours.errorAt + 1)),
  },
  {
    id: "bodiless-framing",
    reason: "RFC 9112 §6.3 item 1: a response to HEAD, a 1xx, 204 or 304 ends at its empty line \"regardless of the header fields present\" (and a 2xx to CONNECT at the tunnel, item 2), so its Content-Length and Transfer-Encoding frame nothing and are not judged; llhttp refuses one it cannot parse",
    applies: (p) => bodiless(p) && (p.ours.complete || takesResponse(p.ours)) && /CONTENT_LENGTH|TRANSFER_ENCODING/.test(p.theirs.error ?? "") &&
      responseHeadLines(p).some((l) => /^(content-length|transfer-encoding):/i.test(l)),
  },
  {
    id: "interim-close",
    reason: "RFC 9110 §15.2: a 1xx response is interim: the final response follows it on the connection, whatever the 1xx's own Connection or version says; llhttp takes a 1xx that does not keep alive as the connection's last response and refuses what follows",
    applies: (p) => p.previous !== null && p.previous.status >= 100 && p.previous.status < 200 && p.previous.status !== 101 &&
      p.previous.keepAlive === false && p.theirs.error === "HPE_CLOSED_CONNECTION",
  },
  {
    id: "response-empty-lines",
    reason: "RFC 9112 §2.2: empty lines (CRLF) before a start line may be skipped, as we do before a status line too; a lone CR or LF is not one (bare CR is invalid, RFC 9112 §2.2), and llhttp skips those too",
    applies: (p) => /^(BARE_CR|BARE_LF|BAD_VERSION)$/.test(p.ours.error ?? "") && strayLineEndAt(p.input, p.start),
  },
  {
    id: "response-te-value",
    reason: "RFC 9112 §6.1, §6.3: a response's Transfer-Encoding must list transfer codings (tokens, with parameters), chunked at most once and without parameters, else its body's length cannot be known and a client must not guess; llhttp reads such a body until the close, or as chunked when the value ends in chunked",
    applies: (p) => p.ours.error === "BAD_TRANSFER_ENCODING" && responseFields(p, "transfer-encoding").length === 1 &&
      !responseCodingsValid(responseFields(p, "transfer-encoding")[0]),
  },
  {
    id: "response-te-http10",
    reason: "RFC 9112 §6.1: a Transfer-Encoding in an HTTP/1.0 message means its framing is faulty, and it is refused as in a request; llhttp reads the chunked body",
    applies: (p) => p.ours.error === "BAD_TRANSFER_ENCODING" && /^HTTP\/1\.0 /.test(statusLine(p)) && responseFields(p, "transfer-encoding").length > 0,
  },
  {
    id: "response-ows",
    reason: "RFC 9110 §5.5, RFC 9112 §5: whitespace around a field value is not part of it, Content-Length's and Transfer-Encoding's too; Node's llhttp refuses whitespace after those values, or reads \"chunked\\t\" as another coding (the body until the close)",
    applies: (p) => (takesResponse(p.ours) && /^HPE_INVALID_(CONTENT_LENGTH|TRANSFER_ENCODING)$/.test(p.theirs.error ?? "") &&
        responseHeadLines(p).some((l) => /^(content-length|transfer-encoding):.*[ \t]$/i.test(l))) ||
      ((p.ours.complete || takesResponse(p.ours) || errorInBody(p)) && (p.theirs.complete || takesResponse(p.theirs)) &&
        responseHeadLines(p).some((l) => /^transfer-encoding:.*chunked[ \t]+$/i.test(l))),
  },
  {
    id: "bare-cr",
    reason: "RFC 9112 §2.2: a CR not followed by LF is invalid, and we refuse it wherever it is, as in a request; Node's llhttp takes one after the status line",
    applies: (p) => p.ours.error === "BARE_CR" && p.ours.errorAt >= 0 && p.input[p.ours.errorAt] === 0x0d && p.input[p.ours.errorAt + 1] !== 0x0a &&
      (p.theirs.complete || takesResponse(p.theirs)),
  },
  {
    id: "response-judged-at-head-end",
    reason: "RFC 9112 §2.2, §6.3: a head is judged when it is complete, and we refuse this one once it ends (as a request's, judged-at-head-end); llhttp refuses at the first byte or field it cannot take",
    applies: (p) => p.ours.pending && p.ours.message === null && p.theirs.error !== null && oursResponseAtHeadEnd(p) !== null,
  },
  {
    id: "proxy-connection",
    reason: "RFC 9110 §7.6.1: connection options come from Connection; Proxy-Connection was never standard (RFC 7230 §A.1.2) and means nothing to a client; llhttp reads \"close\" in it as Connection's",
    applies: (p) => {
      const o = p.ours.message, t = p.theirs.message;
      return o !== null && t !== null && p.ours.complete && p.theirs.complete && o.keepAlive === true && t.keepAlive === false &&
        o.headers.some(([name, value]) => /^proxy-connection$/i.test(name) && CLOSE.test(value)) &&
        responseMessageDifference(o, { ...t, keepAlive: true }) === null;
    },
  },
  {
    id: "response-chunk-ext-bws",
    reason: "RFC 9112 §7.1.1: whitespace (BWS) around \";\" and \"=\" of a chunk extension is allowed, in a response's chunked body as in a request's; strict llhttp refuses it",
    applies: (p) => takesResponse(p.ours) && /^HPE_(STRICT|INVALID_CHUNK_SIZE)$/.test(p.theirs.error ?? "") &&
      responseBodyText(p).replace(/\r$/, "").split("\r\n").some((l) => /[ \t]/.test(l) && chunkLineSoFar(l)),
  },
  {
    id: "response-chunk-ext-grammar",
    reason: "RFC 9112 §7.1.1: a chunk extension is \";\" name [\"=\" value], the name a token and the value a token or quoted-string; llhttp lets \";;\", \"a=\" and the like through",
    applies: (p) => p.ours.error === "BAD_CHUNK_EXTENSION" && p.ours.errorAt >= 0 && (p.theirs.complete || takesResponse(p.theirs)) &&
      /^[0-9A-Fa-f]+;/.test(lineAt(p.input, p.ours.errorAt)) && !CHUNK_LINE.test(lineAt(p.input, p.ours.errorAt)),
  },
  {
    id: "response-limits",
    reason: "RFC 9110 §5.4, §8.6, RFC 9112 §7.1: a recipient refuses fields beyond its limits, and lengths it cannot represent; ours (abi.ts LIMITS; Content-Length and chunk sizes up to 2^53 - 1) are not llhttp's",
    applies: (p) => {
      switch (p.ours.error) {
        case "TOO_MANY_HEADERS": return responseHeadLines(p).length > LIMITS.MAX_HEADERS;
        case "HEAD_TOO_LARGE": return p.ours.errorAt - p.start >= LIMITS.MAX_HEAD_BYTES;
        case "HEADER_LINE_TOO_LONG": return lineAt(p.input, p.ours.errorAt).length > LIMITS.MAX_HEADER_LINE;
        case "BAD_CONTENT_LENGTH": return responseFields(p, "content-length").some((v) => /^\d+$/.test(v) && Number(v) > Number.MAX_SAFE_INTEGER);
        case "CHUNK_SIZE_OVERFLOW": return parseInt(/^[0-9A-Fa-f]*/.exec(lineAt(p.input, p.ours.errorAt))![0] || "0", 16) > Number.MAX_SAFE_INTEGER;
        default: return false;
      }
    },
  },
  {
    id: "bodiless-body",
    reason: "RFC 9112 §6.3 item 1: a 1xx response ends at its empty line whatever its fields say; llhttp reads the body a 1xx's Content-Length or Transfer-Encoding announces",
    applies: (p) => {
      const status = statusOf(p), o = p.ours.message, t = p.theirs.message;
      return status >= 100 && status < 200 && status !== 101 && o !== null && t !== null && p.ours.complete && o.body === "" &&
        (!p.theirs.complete || t.body !== "") && o.status === t.status && JSON.stringify(o.headers) === JSON.stringify(t.headers) &&
        o.headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
    },
  },
  {
    id: "response-trailer-framing",
    reason: "RFC 9110 §6.5.1, RFC 9112 §7.1.2: framing fields are not processed from trailers, in a response as in a request; llhttp applies its header rules to them and refuses the message",
    applies: (p) => (p.ours.complete || takesResponse(p.ours)) && /CONTENT_LENGTH|TRANSFER_ENCODING/.test(p.theirs.error ?? "") &&
      trailerLinesOf(responseBodyText(p)).some((l) => FRAMING_FIELD.test(l.slice(0, l.indexOf(":")))),
  },
  {
    id: "response-empty-list-elements",
    reason: "RFC 9110 §5.6.1: a recipient ignores empty elements of a list, so \"chunked,\" ends in chunked; llhttp reads it as another coding, and the body as running until the close",
    applies: (p) => (p.ours.complete || takesResponse(p.ours) || errorInBody(p)) && (p.theirs.complete || takesResponse(p.theirs)) &&
      responseFields(p, "transfer-encoding").some((v) => v.split(",").some((c) => c.replace(/^[ \t]+|[ \t]+$/g, "") === "")),
  },
  {
    id: "response-trailer-connection",
    reason: "RFC 9110 §6.5.1, §7.6.1: connection control is not taken from trailers, in a response as in a request; llhttp takes \"Connection: close\" in trailers as closing and refuses the next response",
    applies: (p) => p.theirs.error === "HPE_CLOSED_CONNECTION" && p.previous !== null &&
      p.previous.trailers.some(([name, value]) => /^connection$/i.test(name) && CLOSE.test(value)) &&
      !p.previous.headers.some(([name, value]) => /^connection$/i.test(name) && CLOSE.test(value)),
  },
  {
    id: "response-trailer-te",
    reason: "RFC 9110 §6.5.1, RFC 9112 §7.1.2: a Transfer-Encoding in trailers has no effect, the message having ended at its last chunk; llhttp lets one that does not end in chunked make the message close-delimited, and refuses the next response",
    applies: (p) => p.theirs.error === "HPE_CLOSED_CONNECTION" && p.previous !== null && p.previous.keepAlive !== false &&
      p.previous.trailers.some(([name]) => /^transfer-encoding$/i.test(name)),
  },
  {
    id: "connection-token-ows",
    reason: "RFC 9110 §5.5, §5.6.1: whitespace (SP or HTAB) around a list element is not part of it, so \"Upgrade\\t\" is the upgrade option; llhttp ends a Connection token only at SP or \",\", and reads \"Upgrade\\t\" as another option",
    applies: (p) => {
      const o = p.ours.message, t = p.theirs.message;
      return o !== null && t !== null && p.ours.complete && p.theirs.complete && o.upgrade === true && t.upgrade === false &&
        responseHeadLines(p).some((l) => /^connection:(.*,)?[ \t]*upgrade *\t[ \t]*(,|$)/i.test(l)) &&
        responseMessageDifference(o, { ...t, upgrade: true }) === null;
    },
  },
  {
    id: "head-keep-alive",
    reason: "RFC 9112 §6.3 item 1, §9.3: a response to HEAD ends at its empty line, so without Connection: close it keeps the connection; Node's binding reports llhttp's keep-alive from before the client says the response has no body, as if the body ran until the close",
    applies: (p) => {
      const o = p.ours.message, t = p.theirs.message;
      if (p.requestMethod !== "HEAD" || o === null || t === null || !p.ours.complete || !p.theirs.complete) return false;
      // llhttp's view: a body runs until the close unless Content-Length or Transfer-Encoding ending in chunked frames it.
      const length = o.headers.some(([name]) => /^content-length$/i.test(name));
      const codings = o.headers.filter(([name]) => /^transfer-encoding$/i.test(name)).map(([, v]) => v).join(",").split(",")
        .map((c) => c.trim()).filter((c) => c !== "");
      const chunked = codings.length > 0 && codings.at(-1)!.toLowerCase() === "chunked";
      return o.keepAlive === true && t.keepAlive === false && !length && !chunked && o.status >= 200 && o.status !== 204 && o.status !== 304 &&
        responseMessageDifference(o, { ...t, keepAlive: true }) === null;
    },
  },
  {
    id: "response-close-wins",
    reason: "RFC 9112 §9.3, §9.6: the \"close\" connection option ends the connection after the response, whatever else Connection lists; in HTTP/1.0 llhttp lets keep-alive win",
    applies: (p) => {
      const o = p.ours.message, t = p.theirs.message;
      return o !== null && t !== null && p.ours.complete && p.theirs.complete && o.keepAlive === false && t.keepAlive === true &&
        o.headers.some(([name, value]) => /^connection$/i.test(name) && CLOSE.test(value)) &&
        responseMessageDifference(o, { ...t, keepAlive: false }) === null;
    },
  },
];

export function explainResponse(p: ResponseParting): ResponseDifference | null {
  return RESPONSE_DIFFERENCES.find((d) => d.applies(p)) ?? null;
}

function responseSideAt(r: ResponseReading, i: number): ResponseSide {
  const message = r.messages[i];
  if (message !== undefined) return { message, complete: true, error: null, errorAt: -1, pending: false, stopped: null };
  if (r.stopped !== null) return { message: r.partial, complete: false, error: null, errorAt: -1, pending: false, stopped: r.stopped };
  return { message: r.partial, complete: false, error: r.error, errorAt: r.errorAt, pending: r.pending, stopped: null };
}

export function responsePartingAt(
  input: Uint8Array, i: number, ours: ResponseReading, ends: readonly number[], theirs: ResponseReading, parser: ParserInstance,
  requestMethod: string | undefined,
): ResponseParting {
  return {
    input, start: i === 0 ? 0 : ends[i - 1], previous: i === 0 ? null : ours.messages[i - 1],
    ours: responseSideAt(ours, i), theirs: responseSideAt(theirs, i), parser, requestMethod,
  };
}

/** A response projection (test/support/llhttp-corpus.ts) as a reading. */
export function responseProjectionReading(p: ResponseProjection): ResponseReading {
  return {
    messages: p.messages, partial: p.partial ?? null,
    error: p.outcome === "error" ? p.code ?? "" : p.outcome === "closed" && p.code !== undefined ? p.code : null,
    errorAt: p.errorAt ?? -1, pending: p.outcome === "incomplete",
    stopped: p.outcome === "upgrade" ? "upgrade" : p.outcome === "closed" && p.code === undefined ? "closed" : null,
  };
}

/** What of two responses differs (keepAlive and upgrade where both readings know them), or null. */
export function responseMessageDifference(o: ResponseMsg, t: ResponseMsg): string | null {
  for (const key of ["status", "reason", "version", "body", "keepAlive", "upgrade"] as const) {
    if (o[key] !== undefined && t[key] !== undefined && o[key] !== t[key]) return `${key} ${JSON.stringify(o[key])} vs llhttp ${JSON.stringify(t[key])}`;
  }
  for (const key of ["headers", "trailers"] as const) {
    const a = JSON.stringify(o[key]), b = JSON.stringify(t[key]);
    if (a !== b) return `${key} ${a} vs llhttp ${b}`;
  }
  return null;
}

/** The response is the connection's last HTTP message: a final one that does not keep it, or one that switches protocols. */
const endsResponses = (m: ResponseMsg, tunnel: boolean): boolean => tunnel || (m.status >= 200 && m.keepAlive === false);

/**
 * Compares two readings of a response stream message by message, as
 * compareReadings does requests': responses both complete must agree;
 * where they part, the response table must explain it.
 */
export function compareResponseReadings(
  input: Uint8Array, ours: ResponseReading, ends: readonly number[], theirs: ResponseReading, parser: ParserInstance,
  requestMethod: string | undefined,
): { agree: true } | { difference: ResponseDifference } | { unexplained: string } {
  const explainAt = (i: number, what: string) => {
    const p = responsePartingAt(input, i, ours, ends, theirs, parser, requestMethod);
    const d = explainResponse(p);
    return d !== null ? { difference: d } : { unexplained: `response ${i} (at ${p.start}): ${what}` };
  };
  for (let i = 0; ; i++) {
    const o = ours.messages[i];
    const t = theirs.messages[i];
    if (o !== undefined && t !== undefined) {
      const difference = responseMessageDifference(o, t);
      if (difference !== null) return explainAt(i, difference);
      const tunnel = (ours.stopped === "upgrade" || theirs.stopped === "upgrade") && (i === ours.messages.length - 1 || i === theirs.messages.length - 1);
      if (endsResponses(o, tunnel) || endsResponses(t, tunnel)) return { agree: true };
      continue;
    }
    const a = responseSideAt(ours, i), b = responseSideAt(theirs, i);
    if ((a.error !== null && b.error !== null) || (a.stopped !== null && b.stopped !== null)) return { agree: true };
    if (a.stopped === "closed" && b.error === "HPE_CLOSED_CONNECTION") return { agree: true };
    if (!(a.complete || a.error !== null) && !(b.complete || b.error !== null)) {
      if (a.stopped === null && b.stopped === null) return { agree: true };
      if (!hasRequestBytes(input, i === 0 ? 0 : ends[i - 1])) return { agree: true };
    }
    const describeSide = (s: ResponseSide): string =>
      s.error !== null ? `rejected it (${s.error})` : s.complete ? "read it" : s.stopped !== null ? `had stopped (${s.stopped})` :
      s.pending ? (s.message !== null ? "took its head, waiting for the body" : "waiting for the rest of its head") : "saw no response";
    return explainAt(i, `ours ${describeSide(a)}; llhttp ${describeSide(b)}`);
  }
}

/** Our response driver's run as a reading: a tunnel's keep-alive is not compared (no HTTP follows it either way). */
export function ourResponseReading(run: ResponseRun): ResponseReading {
  const last = run.messages.at(-1);
  const tunnel = last?.framing === "tunnel";
  return {
    messages: run.messages.map((m) => (m.framing === "tunnel" ? { ...m, keepAlive: undefined } : m)),
    partial: run.partial, error: run.error?.code ?? null, errorAt: run.error?.at ?? -1, pending: run.pending,
    stopped: tunnel ? "upgrade" : null,
  };
}

export function llhttpResponseReading(run: LlhttpResponseRun): ResponseReading {
  return {
    messages: run.messages, partial: run.partial, error: run.error?.code ?? null, errorAt: -1, pending: run.pending,
    stopped: run.upgraded ? "upgrade" : null,
  };
}

const llhttpResponses = new LlhttpResponses();

/** Our run of a whole response stream against llhttp's reading of it (both told whether the connection closed after it). */
export function compareResponsesWithLlhttp(
  input: Uint8Array, run: ResponseRun, parser: ParserInstance, requestMethod: string | undefined, endOfInput = false,
) {
  return compareResponseReadings(
    input, ourResponseReading(run), run.messages.map((m) => m.end), llhttpResponseReading(llhttpResponses.parse(input, requestMethod, endOfInput)),
    parser, requestMethod,
  );
}

/** llhttp's reading, for a report. */
export const llhttpResponsesParse = (input: Uint8Array, requestMethod: string | undefined, endOfInput = false): LlhttpResponseRun =>
  llhttpResponses.parse(input, requestMethod, endOfInput);
