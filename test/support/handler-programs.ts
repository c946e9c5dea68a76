// Handler programs: what a node:http-style handler does with its response,
// written down as data, so that one program runs on simplenet and on
// node:http alike and prints as the code a user would write. The calls are
// the ones both APIs share — statusCode (simplenet's status too),
// statusMessage, setHeader/appendHeader/removeHeader/getHeader (Content-Length,
// Transfer-Encoding and Connection among the fields), writeHead's four forms,
// write, end with and without data (string or Buffer), awaits between them,
// a throw — in the order node:http allows them: nothing changes the head
// once writeHead has run or the body has begun (node's writeHead commits the
// head; later setHeader calls throw there). `await res.drained()` is node's
// `once(res, "drain")` when the last write returned false, else nothing.
//
// A program without an await is a synchronous handler, as users write most
// of them. A throw is answered as simplenet answers it (a 500 if nothing was
// sent, else a closed connection); node:http leaves a throwing listener to
// crash the process, so its handler does the same with node's own notion of
// "sent" (headersSent). Node's responses are strictContentLength, the
// framing node:http checks a handler's Content-Length with.
//
// Request sequences go with the programs: GET and HEAD, HTTP/1.0 with and
// without keep-alive, Connection: close, each answered before the next is
// sent or all pipelined in one write. A program is chosen by the request's
// path, /p/<id>, so one server of each kind serves a whole run.
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HeaderValue, Request, Response } from "../../src/index.ts";
import { Gen } from "./generate.ts";

/** A piece of body: `piece` repeated `times` (large bodies stay short to print). */
export interface Data {
  piece: string;
  times: number;
  /** Given as a Buffer, else as a string. */
  buffer: boolean;
}

type Fields = Record<string, HeaderValue> | [string, HeaderValue][];

export type Step =
  | { op: "status"; code: number; name: "status" | "statusCode" }
  | { op: "statusMessage"; text: string }
  | { op: "setHeader"; name: string; value: HeaderValue }
  | { op: "appendHeader"; name: string; value: string | string[] }
  | { op: "removeHeader"; name: string }
  | { op: "getHeader"; name: string }
  | { op: "writeHead"; code: number; reason?: string; fields?: Fields }
  | { op: "write"; data: Data }
  | { op: "await"; on: "promise" | "immediate" | "drained" }
  | { op: "end"; data?: Data }
  | { op: "throw" };

export interface Program {
  id: number;
  steps: Step[];
}

export interface RequestSpec {
  method: "GET" | "HEAD";
  version: "1.0" | "1.1";
  /** The request's Connection field, "" for none. */
  connection: "" | "close" | "keep-alive";
  program: Program;
}

export interface Conversation {
  requests: RequestSpec[];
  /** All requests in one write, else each once the one before is answered. */
  pipelined: boolean;
}

// ---- running a program ------------------------------------------------------------

/** The error a program's throw step throws. */
export class ProgramThrew extends Error {
  override name = "ProgramThrew";
}

export const textOf = (d: Data): string => d.piece.repeat(d.times);
const payload = (d: Data): string | Buffer => (d.buffer ? Buffer.from(textOf(d)) : textOf(d));

/** The calls of a response both APIs share, typed loosely enough for both. */
interface SharedResponse {
  statusCode: number;
  statusMessage: string;
  setHeader(name: string, value: HeaderValue): unknown;
  appendHeader(name: string, value: string | string[]): unknown;
  removeHeader(name: string): unknown;
  getHeader(name: string): unknown;
  writeHead(code: number, reason?: string | Fields, fields?: Fields): unknown;
  write(chunk: string | Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
}

type Server = "simplenet" | "node";

/**
 * What a getHeader call saw, as text: node:http returns a value as it was set
 * (a number, a list), simplenet returns a string with repeated values joined
 * by ", " (RFC 9110 §5.3's combination); the text is that combination for both.
 */
const shown = (value: unknown): string =>
  value === undefined ? "undefined" : Array.isArray(value) ? value.join(", ") : String(value);

/**
 * Runs the program's steps from `from` on: synchronously up to its first
 * await, then as a promise. `seen` collects what getHeader calls returned.
 */
function perform(server: Server, res: SharedResponse, steps: readonly Step[], from: number, seen: string[], flowing: boolean): void | Promise<void> {
  for (let k = from; k < steps.length; k++) {
    const step = steps[k];
    switch (step.op) {
      case "status":
        if (server === "simplenet" && step.name === "status") (res as unknown as Response).status = step.code;
        else res.statusCode = step.code;
        break;
      case "statusMessage":
        res.statusMessage = step.text;
        break;
      case "setHeader":
        res.setHeader(step.name, step.value);
        break;
      case "appendHeader":
        res.appendHeader(step.name, step.value);
        break;
      case "removeHeader":
        res.removeHeader(step.name);
        break;
      case "getHeader":
        seen.push(`getHeader(${step.name}) = ${shown(res.getHeader(step.name))}`);
        break;
      case "writeHead": {
        // node:http's list form is flat (name, value, name, value): its [name, value] pairs are taken only before any setHeader.
        const fields = server === "node" && Array.isArray(step.fields) ? (step.fields.flat() as unknown as Fields) : step.fields;
        if (step.reason !== undefined) res.writeHead(step.code, step.reason, fields);
        else res.writeHead(step.code, fields);
        break;
      }
      case "write":
        flowing = res.write(payload(step.data));
        break;
      case "end":
        if (step.data === undefined) res.end();
        else res.end(payload(step.data));
        break;
      case "throw":
        throw new ProgramThrew("the program throws");
      case "await": {
        const paused = step.on === "promise" ? Promise.resolve() : step.on === "immediate" ? new Promise<void>((r) => setImmediate(r))
          : server === "simplenet" ? (res as unknown as Response).drained()
          : flowing ? Promise.resolve() : Promise.race([once(res as unknown as ServerResponse, "drain"), once(res as unknown as ServerResponse, "close")]);
        return paused.then(() => perform(server, res, steps, k + 1, seen, true));
      }
    }
  }
}

/** The error's name for what a handler saw: a program's throw, or node's code (ERR_HTTP_*), or the class. */
const errorName = (e: unknown): string =>
  e instanceof ProgramThrew ? "the program's throw" : String((e as { code?: string }).code ?? (e as Error).name ?? e);

/** What each side's handlers saw, by program id: getHeader results and errors. */
export type Seen = Map<number, string[]>;

const PROGRAM_PATH = /^\/p\/(\d+)$/;
export const PROBE_PATH = "/probe";

/** simplenet's handler: runs the program the path names; a throw goes on to the server, which answers it. */
export function simplenetHandler(programs: ReadonlyMap<number, Program>, seen: Seen) {
  return (req: Request, res: Response): void | Promise<void> => {
    const id = Number(PROGRAM_PATH.exec(req.path)?.[1] ?? -1);
    const program = programs.get(id);
    if (program === undefined) return res.end(req.path === PROBE_PATH ? "probe" : "no such program");
    const mine: string[] = [];
    seen.set(id, mine);
    const failed = (e: unknown): never => {
      mine.push(`threw ${errorName(e)}`);
      throw e;
    };
    try {
      return perform("simplenet", res as unknown as SharedResponse, program.steps, 0, mine, true)?.catch(failed);
    } catch (e) {
      failed(e);
    }
  };
}

/** node:http's listener: runs the program the path names; a throw is answered as simplenet documents it. */
export function nodeHandler(programs: ReadonlyMap<number, Program>, seen: Seen) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const id = Number(PROGRAM_PATH.exec(req.url ?? "")?.[1] ?? -1);
    const program = programs.get(id);
    if (program === undefined) return void res.end(req.url === PROBE_PATH ? "probe" : "no such program");
    res.strictContentLength = true;
    const mine: string[] = [];
    seen.set(id, mine);
    const failed = (e: unknown): void => {
      mine.push(`threw ${errorName(e)}`);
      if (res.writableEnded) return;
      if (res.headersSent) return void res.destroy();
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.statusCode = 500;
      res.statusMessage = "";
      res.end("Internal Server Error\n");
    };
    try {
      perform("node", res as unknown as SharedResponse, program.steps, 0, mine, true)?.catch(failed);
    } catch (e) {
      failed(e);
    }
  };
}

/** The bytes of a request. */
export function requestBytes(r: RequestSpec): string {
  return `${r.method} /p/${r.program.id} HTTP/${r.version}\r\nHost: h\r\n${r.connection === "" ? "" : `Connection: ${r.connection}\r\n`}\r\n`;
}

/** The request that asks, after a conversation, whether the connection still serves. */
export const PROBE = `GET ${PROBE_PATH} HTTP/1.1\r\nHost: h\r\n\r\n`;

// ---- generating ---------------------------------------------------------------------

const STATUSES = [200, 200, 200, 201, 204, 304, 404, 500, 299];
const REASONS = ["Fine", "Not Quite", ""];
/** Ordinary fields, in the spellings users give them. */
const NAMES = ["X-Test", "x-test", "Content-Type", "content-type", "Set-Cookie", "Cache-Control", "X-Empty"];
const VALUES = ["text/plain", "a=1; Path=/", "no-cache", "", "v1", "caf\xe9"];
const PIECES = ["hello", "a", "", "é€", "line\r\n", "0\r\n\r\n"];

function data(g: Gen): Data {
  if (g.chance(0.03)) return { piece: g.pick(["x", "yz"]), times: 40_000 + g.int(200_000), buffer: g.chance(0.5) };
  return { piece: g.pick(PIECES), times: 1 + g.int(g.chance(0.2) ? 30 : 2), buffer: g.chance(0.4) };
}

const byteLength = (d: Data | undefined): number => (d === undefined ? 0 : Buffer.byteLength(textOf(d)));

/** A field for the head: an ordinary one, or one of the framing and connection fields. */
function field(g: Gen, bodyLength: number): [string, HeaderValue] {
  switch (g.int(8)) {
    case 0: {
      const name = g.pick(["Content-Length", "content-length"]);
      const wrong = g.chance(0.15) ? g.pick([1, -1]) : 0;
      const n = Math.max(0, bodyLength + wrong);
      return [name, g.chance(0.5) ? n : String(n)];
    }
    case 1:
      return [g.pick(["Transfer-Encoding", "transfer-encoding"]), "chunked"];
    case 2:
      return [g.pick(["Connection", "connection"]), g.pick(["close", "keep-alive", "Close"])];
    case 3:
      return [g.pick(NAMES), [g.pick(VALUES), g.pick(VALUES)]];
    case 4:
      return [g.pick(NAMES), g.int(1000)];
    default:
      return [g.pick(NAMES), g.pick(VALUES)];
  }
}

function headStep(g: Gen, bodyLength: number): Step {
  switch (g.int(10)) {
    case 0:
      return { op: "status", code: g.pick(STATUSES), name: g.pick(["status", "statusCode"]) };
    case 1:
      return { op: "statusMessage", text: g.pick(REASONS) };
    case 2:
      return { op: "appendHeader", name: g.pick(NAMES), value: g.chance(0.3) ? [g.pick(VALUES), g.pick(VALUES)] : g.pick(VALUES) };
    case 3:
      return { op: "removeHeader", name: g.pick([...NAMES, "Content-Length", "transfer-encoding", "CONNECTION"]) };
    case 4:
      return { op: "getHeader", name: g.pick([...NAMES, "Content-Length", "transfer-encoding", "Connection"]) };
    case 5:
      return { op: "await", on: g.pick(["promise", "immediate"]) };
    default: {
      const [name, value] = field(g, bodyLength);
      return { op: "setHeader", name, value };
    }
  }
}

function writeHead(g: Gen, bodyLength: number): Step {
  const code = g.pick(STATUSES);
  const fields: [string, HeaderValue][] = [];
  for (let n = g.int(3); n > 0; n--) fields.push(field(g, bodyLength));
  switch (g.int(4)) {
    case 0:
      return { op: "writeHead", code };
    case 1:
      return { op: "writeHead", code, reason: g.pick(REASONS) || "Reason" };
    case 2:
      // An object: the first of each name, in node's one-value-per-key way.
      return { op: "writeHead", code, fields: Object.fromEntries(fields) };
    default:
      return { op: "writeHead", code, fields };
  }
}

/** A program: head calls, maybe writeHead, then writes with awaits between, and end; maybe a throw somewhere. */
export function generateProgram(g: Gen, id: number): Program {
  const writes: Data[] = [];
  for (let n = g.chance(0.5) ? 0 : 1 + g.int(3); n > 0; n--) writes.push(data(g));
  const last = g.chance(0.6) ? data(g) : undefined;
  const bodyLength = writes.reduce((sum, d) => sum + byteLength(d), byteLength(last));
  const steps: Step[] = [];
  for (let n = g.int(6); n > 0; n--) steps.push(headStep(g, bodyLength));
  if (g.chance(0.35)) steps.push(writeHead(g, bodyLength));
  if (g.chance(0.04)) return { id, steps: [...steps, { op: "throw" }] };
  for (const d of writes) {
    steps.push({ op: "write", data: d });
    if (g.chance(0.4)) steps.push({ op: "await", on: g.pick(["promise", "immediate", "drained", "drained"]) });
    if (g.chance(0.03)) return { id, steps: [...steps, { op: "throw" }] };
  }
  steps.push({ op: "end", data: last });
  if (g.chance(0.03)) steps.push({ op: "throw" });
  return { id, steps };
}

/** One to three requests on one connection, each with its own program; ids from `nextId` on. */
export function generateConversation(g: Gen, nextId: number): Conversation {
  const requests: RequestSpec[] = [];
  for (let n = 1 + g.int(3); n > 0; n--) {
    const version = g.chance(0.8) ? "1.1" : "1.0";
    const connection = version === "1.0" ? g.pick(["", "keep-alive"] as const) : g.pick(["", "", "", "close", "keep-alive"] as const);
    requests.push({ method: g.chance(0.8) ? "GET" : "HEAD", version, connection, program: generateProgram(g, nextId++) });
  }
  return { requests, pipelined: g.chance(0.4) };
}

// ---- printing -------------------------------------------------------------------------

const quote = (s: string): string => JSON.stringify(s);
const literal = (v: HeaderValue): string => (typeof v === "object" ? `[${v.map(quote).join(", ")}]` : typeof v === "number" ? String(v) : quote(v));
const fieldsLiteral = (f: Fields): string =>
  Array.isArray(f) ? `[${f.map(([n, v]) => `[${quote(n)}, ${literal(v)}]`).join(", ")}]`
    : `{ ${Object.entries(f).map(([n, v]) => `${quote(n)}: ${literal(v)}`).join(", ")} }`;

function dataLiteral(d: Data): string {
  const text = d.times === 1 ? quote(d.piece) : `${quote(d.piece)}.repeat(${d.times})`;
  return d.buffer ? `Buffer.from(${text})` : text;
}

function stepLine(s: Step): string {
  switch (s.op) {
    case "status": return `res.${s.name} = ${s.code};`;
    case "statusMessage": return `res.statusMessage = ${quote(s.text)};`;
    case "setHeader": return `res.setHeader(${quote(s.name)}, ${literal(s.value)});`;
    case "appendHeader": return `res.appendHeader(${quote(s.name)}, ${literal(s.value)});`;
    case "removeHeader": return `res.removeHeader(${quote(s.name)});`;
    case "getHeader": return `seen(res.getHeader(${quote(s.name)}));`;
    case "writeHead":
      return `res.writeHead(${[String(s.code), ...(s.reason !== undefined ? [quote(s.reason)] : []), ...(s.fields !== undefined ? [fieldsLiteral(s.fields)] : [])].join(", ")});` +
        (Array.isArray(s.fields) ? " // node:http: the list flat" : "");
    case "write": return `res.write(${dataLiteral(s.data)});`;
    case "end": return `res.end(${s.data === undefined ? "" : dataLiteral(s.data)});`;
    case "throw": return `throw new Error("the program throws");`;
    case "await":
      return s.on === "promise" ? "await Promise.resolve();" : s.on === "immediate" ? "await new Promise((r) => setImmediate(r));"
        : `await res.drained(); // node:http: if the last write returned false, await once(res, "drain")`;
  }
}

/** The program as the handler a user would write. */
export function printProgram(p: Program): string {
  const sync = !p.steps.some((s) => s.op === "await");
  return `${sync ? "" : "async "}(req, res) => { // /p/${p.id}\n${p.steps.map((s) => `  ${stepLine(s)}`).join("\n")}\n}`;
}

/** The conversation: its requests as sent, then each program. */
export function printConversation(c: Conversation): string {
  const requests = c.requests.map((r) => `  ${JSON.stringify(requestBytes(r))}`).join("\n");
  return `${c.pipelined ? "pipelined, in one write" : "each once the one before is answered"}:\n${requests}\n${c.requests.map((r) => printProgram(r.program)).join("\n")}`;
}
