// Reads llhttp's markdown test corpus (../../../shared/llhttp-tests/, see its
// README.md) into cases, and turns each expected callback trace into the
// projection simplenet can be compared on: which messages completed, with
// what method, target, version, headers, body and trailers, and how the
// input ended.
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runInNewContext } from "node:vm";
import { concat, type ParserInstance } from "../../parser/src/parser.ts";
import { driveStream, type Message as StreamMessage, type Run } from "./stream.ts";
import { driveResponses, type ResponseMessage } from "./response-stream.ts";

export interface CorpusCase {
  /** "file.md: heading", made unique within the corpus. */
  name: string;
  type: string;
  noScan: boolean;
  /** llhttp's runner is told there is no body (its skipBody): what a response to HEAD is. */
  skipBody: boolean;
  input: Uint8Array;
  log: string[];
}

/** A completed message as both parsers are compared on: the stream driver's record, less what llhttp's log does not show. */
export type Message = Omit<StreamMessage, "keepAlive" | "upgrade" | "end">;

/**
 * How the input ended after the completed messages:
 * "end": nothing left over; "incomplete": a message had begun and needs more bytes;
 * "error": rejected; "closed": bytes came after a message that closes the connection;
 * "upgrade": the connection switched protocols (CONNECT or Upgrade) and the rest is not HTTP.
 */
export type Outcome = "end" | "incomplete" | "error" | "closed" | "upgrade";

export interface Projection<M = Message> {
  messages: M[];
  outcome: Outcome;
  /** The error's name when it rejected (ours: abi.ts's; llhttp's: HPE_*); not compared, each parser's codes are its own. */
  code?: string;
  /** Where each completed message ended in the input (ours). */
  ends?: number[];
  /** Ours: a message whose head was taken and whose body had not ended. */
  partial?: M | null;
  /** Ours: where in the input the fault was found. */
  errorAt?: number;
}

/** ../shared/llhttp-tests/ beside the checkout, or the folder SIMPLENET_LLHTTP_TESTS names. */
export const corpusDir = process.env.SIMPLENET_LLHTTP_TESTS
  ? pathToFileURL(resolve(process.env.SIMPLENET_LLHTTP_TESTS) + "/")
  : new URL("../../../shared/llhttp-tests/", import.meta.url);

/** Every case of the request files, in file order. */
export function loadRequestCases(dir: URL = corpusDir): CorpusCase[] {
  return loadCases("request", dir);
}

/** Every case of the response files, in file order. */
export function loadResponseCases(dir: URL = corpusDir): CorpusCase[] {
  return loadCases("response", dir);
}

function loadCases(kind: "request" | "response", dir: URL): CorpusCase[] {
  const kindDir = new URL(`${kind}/`, dir);
  const cases: CorpusCase[] = [];
  const seen = new Map<string, number>();
  for (const file of readdirSync(kindDir).filter((f) => f.endsWith(".md")).sort()) {
    for (const c of parseMarkdown(file, readFileSync(new URL(file, kindDir), "utf8"))) {
      const n = (seen.get(c.name) ?? 0) + 1;
      seen.set(c.name, n);
      cases.push(n === 1 ? c : { ...c, name: `${c.name} #${n}` });
    }
  }
  return cases;
}

function parseMarkdown(file: string, text: string): CorpusCase[] {
  const lines = text.split("\n");
  const cases: CorpusCase[] = [];
  let heading = "";
  let meta: { type?: string; noScan?: boolean; skipBody?: boolean } | null = null;
  let input: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const atx = /^#+\s+(.*)$/.exec(line);
    if (atx) heading = atx[1].trim();
    else if (/^(=+|-+)\s*$/.test(line) && i > 0 && lines[i - 1].trim() !== "") heading = lines[i - 1].trim();
    const m = /^<!--\s*meta=(\{.*\})\s*-->/.exec(line);
    if (m) {
      meta = JSON.parse(m[1]);
      input = null;
      continue;
    }
    const fence = /^```(\w+)\s*$/.exec(line);
    if (!fence || meta === null) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith("```")) end++;
    const body = lines.slice(i + 1, end).map((l) => l + "\n").join("");
    i = end;
    if (fence[1] === "http") {
      input = body;
    } else if (fence[1] === "log" && input !== null) {
      cases.push({
        name: `${file}: ${heading}`, type: meta.type ?? "", noScan: meta.noScan === true, skipBody: meta.skipBody === true,
        input: decodeInput(input), log: body.split("\n").filter((l) => l !== ""),
      });
      meta = null;
      input = null;
    }
  }
  return cases;
}

/** The corpus's input conventions (README.md): CRLF line ends, escapes, line continuations, ${js}. */
function decodeInput(raw: string): Uint8Array {
  const s = raw
    .replace(/\n$/, "")
    .replace(/\\(\r\n|\r|\n)/g, "")
    .replace(/\r\n|\r|\n/g, "\r\n")
    .replace(/\\r/g, "\r")
    .replace(/\\n/g, "\n")
    .replace(/\\t/g, "\t")
    .replace(/\\f/g, "\f")
    .replace(/\\x([0-9a-fA-F]+)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/\\([0-7]{1,3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
    .replace(/\$\{(.+?)\}/g, (_, code: string) => String(runInNewContext(code)));
  // llhttp's runner hands the input to its parser as UTF-8, so "\xff" arrives as two bytes; so do we.
  return new TextEncoder().encode(s);
}

/**
 * A span as the log prints it (raw, but for the tabs and form feeds the runner
 * escapes), as our parser reports it: one character per byte.
 */
function spanText(printed: string): string {
  const text = printed.replace(/\\t/g, "\t").replace(/\\f/g, "\f");
  return String.fromCharCode(...new TextEncoder().encode(text));
}

/** llhttp's error names by number, from its constants (as undici ships them). */
const LLHTTP_ERRORS: ReadonlyMap<string, string> = new Map(
  Object.entries((createRequire(import.meta.url)("../../node_modules/undici/lib/llhttp/constants.js") as { ERROR: Record<string, number> }).ERROR)
    .map(([name, code]) => [String(code), `HPE_${name}`]),
);
// llhttp pauses when a request switches protocols; that is not a rejection.
const UPGRADE_PAUSES = new Set(["HPE_PAUSED_UPGRADE", "HPE_PAUSED_H2_UPGRADE"]);
// llhttp's strict mode refuses bytes after a message that closes the connection.
const DATA_AFTER_CLOSE = "HPE_CLOSED_CONNECTION";

/** What one kind of message (request, response) adds to the reading of a trace. */
interface TraceKind<M extends Message | ResponseMsg> {
  /** A message's record at "message begin". */
  begin(): M;
  /** An entry the shared reading does not know (its first line's "... complete", "headers complete ..."), for the current message. */
  entry(entry: string, current: M, spans: Record<string, string>): void;
  /** Whether an entry other than "message complete" completes the current message. */
  completes?(entry: string): boolean;
}

/** The projection of an expected llhttp trace, for either kind. */
function projectTrace<M extends Message | ResponseMsg>(log: readonly string[], kind: TraceKind<M>): Projection<M> {
  const messages: M[] = [];
  let current: M | null = null;
  let inTrailers = false;
  let field = "";
  let value = "";
  const spans: Record<string, string> = {};
  for (const line of log) {
    const entry = line.replace(/^off=\S+\s+/, "");
    const span = /^len=\d+ span\[(\w+)\]="(.*)"$/s.exec(entry);
    if (entry === "message begin") {
      current = kind.begin();
      inTrailers = false;
      for (const k of Object.keys(spans)) delete spans[k];
    } else if (span) {
      const kind = span[1];
      const text = spanText(span[2]);
      if (kind === "body") current!.body += text;
      else if (kind === "header_field") field += text;
      else if (kind === "header_value") value += text;
      else spans[kind] = (spans[kind] ?? "") + text;
    } else if (/^len=\d+ span\[body\]=(cr|lf)$/.test(entry)) {
      // A body span of one CR or LF byte is logged by name.
      current!.body += entry.endsWith("cr") ? "\r" : "\n";
    } else if (entry === "header_value complete") {
      // llhttp keeps trailing whitespace in the value; RFC 9112 §5 says it is not part of it.
      (inTrailers ? current!.trailers : current!.headers).push([field, value.replace(/[ \t]+$/, "")]);
      field = value = "";
    } else if (entry === "message complete" || (current !== null && kind.completes?.(entry))) {
      messages.push(current!);
      current = null;
    } else if (entry.startsWith("error")) {
      const number = /code=(\d+)/.exec(entry)?.[1] ?? "";
      const code = LLHTTP_ERRORS.get(number) ?? `code ${number}`;
      const outcome: Outcome = UPGRADE_PAUSES.has(code) ? "upgrade" : code === DATA_AFTER_CLOSE ? "closed" : "error";
      return { messages, outcome, code };
    } else {
      if (entry.startsWith("headers complete")) inTrailers = true;
      kind.entry(entry, current!, spans);
    }
  }
  return { messages, outcome: current !== null ? "incomplete" : "end" };
}

/** The projection of an expected llhttp request trace. */
export function projectLog(log: readonly string[]): Projection {
  return projectTrace<Message>(log, {
    begin: () => ({ method: "", target: "", version: "", headers: [], body: "", trailers: [] }),
    entry(entry, current, spans) {
      if (entry === "method complete") current.method = spans.method ?? "";
      else if (entry === "url complete") current.target = spans.url ?? "";
      else if (entry === "version complete") current.version = spans.version ?? "";
    },
  });
}

/**
 * Our parser's projection of the same input, fed in the given pieces. It
 * stops as our connection does: after a message that closes the connection,
 * and after one that switches protocols (CONNECT, or Upgrade with
 * Connection: upgrade).
 */
export function projectStream(parser: ParserInstance, pieces: readonly Uint8Array[]): Projection {
  const run = driveStream(parser, pieces, { stopAtClose: true });
  return projectRun(run, pieces, project, false, (last) => run.stopped && (last.upgrade || last.method === "CONNECT"));
}

const project = (m: StreamMessage): Message => ({
  method: m.method, target: m.target, version: m.version, headers: m.headers, body: m.body, trailers: m.trailers,
});

/**
 * A driver's run as a projection: its messages, and how the input ended —
 * rejected, inside a message, switched (`switched`, of the last message),
 * or after a message that closes the connection with bytes after it.
 * With `endOfInput` the input was ended: a partial message and a stop are what that made of it.
 */
function projectRun<D extends { end: number }, M>(
  run: Run<D>, pieces: readonly Uint8Array[], project: (m: D) => M, endOfInput: boolean, switched: (last: D) => boolean,
): Projection<M> {
  const messages = run.messages.map(project);
  const ends = run.messages.map((m) => m.end);
  const partial = run.partial === null ? null : project(run.partial);
  if (run.error !== null) return { messages, outcome: "error", code: run.error.code, ends, partial, errorAt: run.error.at };
  if (run.partial !== null && !endOfInput) return { messages, outcome: "incomplete", ends, partial };
  const last = run.messages.at(-1);
  if (last !== undefined && switched(last)) return { messages, outcome: "upgrade", ends };
  const begun = concat(pieces).subarray(run.position).some((b) => b !== 0x0d && b !== 0x0a);
  if (run.stopped && !endOfInput) return { messages, outcome: begun ? "closed" : "end", ends };
  return { messages, outcome: begun ? "incomplete" : "end", ends };
}

// ---- responses --------------------------------------------------------------

/** A completed response as both parsers are compared on: the response driver's record, less what llhttp's log does not show. */
export type ResponseMsg = Pick<ResponseMessage, "status" | "reason" | "version" | "headers" | "body" | "trailers">;

/** As Projection, for responses. */
export type ResponseProjection = Projection<ResponseMsg>;

/**
 * The projection of an expected llhttp response trace. `finish=1` (a
 * response-finish case: llhttp_finish completed the message at the end of
 * input) ends the message being read.
 */
export function projectResponseLog(log: readonly string[]): ResponseProjection {
  return projectTrace<ResponseMsg>(log, {
    begin: () => ({ status: 0, reason: "", version: "", headers: [], body: "", trailers: [] }),
    entry(entry, current, spans) {
      const headers = /^headers complete status=(\d+)/.exec(entry);
      if (entry === "version complete") current.version = spans.version ?? "";
      else if (entry === "status complete") current.reason = spans.status ?? "";
      else if (headers) current.status = Number(headers[1]);
    },
    completes: (entry) => entry === "finish=1",
  });
}

/**
 * Our response parser's projection of the same input, fed in the given
 * pieces: it stops as a client does, after a response that closes the
 * connection and after a tunnel's head (a 101, or a 2xx to CONNECT).
 */
export function projectResponseStream(
  parser: ParserInstance, pieces: readonly Uint8Array[], options: { requestMethod?: string; endOfInput?: boolean } = {},
): ResponseProjection {
  const run = driveResponses(parser, pieces, { ...options, stopAtClose: true });
  return projectRun(run, pieces, projectResponse, options.endOfInput === true, (last) => last.framing === "tunnel");
}

const projectResponse = (m: ResponseMessage): ResponseMsg => ({
  status: m.status, reason: m.reason, version: m.version, headers: m.headers, body: m.body, trailers: m.trailers,
});
