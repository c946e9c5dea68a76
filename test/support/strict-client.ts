// The strict client every test reads responses through: the bytes a
// connection received go through llhttp in response mode (Node's own parser,
// no leniency) and through simplenet-parser's ResponseStream, and are refused
// when either parser refuses them, when the two read them differently, when a
// head carries a duplicate or conflicting framing field, and when bytes are
// left after the last response. A test that checks a broken or cut response on
// purpose says so with `allowIncomplete`; nothing is lenient by default.
import { createParser, ResponseStream, type ResponseHead } from "../../parser/src/parser-node.ts";
import { LIMITS, REGIONS } from "../../parser/src/abi.ts";
import { LlhttpResponses, type LlhttpResponse, type LlhttpResponseRun } from "./llhttp.ts";

export interface StrictOptions {
  /**
   * The method of each request sent, in order (pipelined requests: all of
   * them); a response past the list answers a request whose method does not
   * matter (neither HEAD nor CONNECT). A string: the method of every request.
   */
  requestMethods?: string | readonly string[];
  /** The server closed the connection after these bytes: a body that runs until the close ends there. */
  closed?: boolean;
  /**
   * The bytes may end inside a response (a head cut short, a body aborted
   * mid-way): for tests of aborted or timed-out responses only. The cut one is
   * `partial`; framing and leftover bytes are checked all the same.
   */
  allowIncomplete?: boolean;
  /**
   * A head has more fields than simplenet-parser's result table holds
   * (REGIONS.MAX_FIELDS): llhttp alone reads the responses, for tests of
   * such heads only.
   */
  overParserLimits?: boolean;
}

export interface StrictResponse {
  status: number;
  reason: string;
  version: string;
  /** Fields by lower-case name, repeated ones joined with ", ". */
  headers: Record<string, string>;
  /** Fields as sent, in order. */
  fields: [string, string][];
  /** The decoded body, one character per byte. */
  body: string;
  trailers: [string, string][];
  keepAlive: boolean;
}

export interface StrictReading {
  /** Every complete response, 1xx ones included, in order. */
  responses: StrictResponse[];
  /** A response whose head arrived and whose body did not end (allowIncomplete only). */
  partial: StrictResponse | null;
  /** The bytes after a 101 or a 2xx to CONNECT: not HTTP, the protocol switched. */
  tunnel: Uint8Array;
}

/** The bytes are not a well-formed, well-framed sequence of responses. */
export class StrictResponseError extends Error {
  override name = "StrictResponseError";
}

// A client's limits, not a server's: heads as large as our parser reads (fetch's 16 KiB is a choice, not strictness).
const llhttp = new LlhttpResponses(LIMITS.MAX_HEAD_BYTES_CAP);
const ours = createParser({ maxHeadBytes: LIMITS.MAX_HEAD_BYTES_CAP, maxHeaders: REGIONS.MAX_FIELDS, maxHeaderLine: REGIONS.RECV_CAPACITY });

const show = (bytes: Uint8Array, from: number): string =>
  JSON.stringify(Buffer.from(bytes.buffer, bytes.byteOffset + from, Math.min(80, bytes.length - from)).toString("latin1"));

function toResponse(m: Pick<LlhttpResponse, "status" | "reason" | "version" | "headers" | "body" | "trailers" | "keepAlive">): StrictResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of m.headers) {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return {
    status: m.status, reason: m.reason, version: m.version, headers, fields: m.headers, body: m.body, trailers: m.trailers,
    keepAlive: m.keepAlive,
  };
}

/**
 * What is wrong with a head's framing fields, or null: RFC 9112 §6 allows
 * one Content-Length with one value, or a Transfer-Encoding whose last coding
 * is chunked, never both, and neither in a 1xx, a 204 or a 2xx to CONNECT
 * (RFC 9110 §8.6, §9.3.6; RFC 9112 §6.1).
 */
export function framingFault(status: number, fields: readonly [string, string][], requestMethod?: string): string | null {
  const lengths = fields.filter(([n]) => n.toLowerCase() === "content-length").map(([, v]) => v);
  const codings = fields.filter(([n]) => n.toLowerCase() === "transfer-encoding").map(([, v]) => v);
  if (lengths.length > 1) return `${lengths.length} Content-Length fields (${lengths.join(" | ")})`;
  if (lengths.length === 1 && !/^\d+$/.test(lengths[0].trim())) return `Content-Length ${JSON.stringify(lengths[0])}`;
  if (codings.length > 1) return `${codings.length} Transfer-Encoding fields (${codings.join(" | ")})`;
  if (lengths.length > 0 && codings.length > 0) return "Content-Length with Transfer-Encoding";
  if (codings.length === 1) {
    const list = codings[0].split(",").map((c) => c.trim().toLowerCase());
    if (list.at(-1) !== "chunked" || list.indexOf("chunked") !== list.length - 1) return `Transfer-Encoding ${JSON.stringify(codings[0])}: chunked is not the last coding, once`;
  }
  const framed = lengths.length > 0 || codings.length > 0;
  if (framed && (status < 200 || status === 204)) return `a ${status} with ${lengths.length > 0 ? "Content-Length" : "Transfer-Encoding"}`;
  if (framed && requestMethod === "CONNECT" && status < 300) return `a ${status} to CONNECT with framing fields`;
  return null;
}

interface OurReading {
  messages: { status: number; body: string; fieldCount: number; keepAlive: boolean; tunnel: boolean; start: number }[];
  partial: boolean;
  error: string | null;
  /** Bytes consumed by the complete responses. */
  end: number;
}

/** simplenet-parser's reading; `methodOf(n)`: the method the n-th final response answers. */
function readOurs(bytes: Uint8Array, methodOf: (n: number) => string | undefined, closed: boolean): OurReading {
  const reading: OurReading = { messages: [], partial: false, error: null, end: 0 };
  let finals = 0;
  let head: ResponseHead | null = null;
  let start = 0;
  let body: string[] = [];
  const stream: ResponseStream = new ResponseStream(ours, {
    head(h) {
      head = h;
      body = [];
      if (!h.interim) finals++;
    },
    data(chunk) {
      body.push(Buffer.from(chunk).toString("latin1"));
    },
    end() {
      const h = head!;
      reading.messages.push({
        status: h.status, body: body.join(""), fieldCount: h.headers.toArray().length, keepAlive: h.keepAlive, tunnel: h.tunnel, start,
      });
      head = null;
      start = reading.end = stream.position;
      stream.requestMethod = methodOf(finals);
      // A client reads nothing more after a final response that closes the connection.
      if (h.tunnel || (!h.keepAlive && !h.interim)) stream.stop();
    },
    error(e) {
      reading.error = `${e.code} (${e.reason}) at byte ${e.offset} of the response`;
    },
  }, { requestMethod: methodOf(0) });
  stream.push(bytes);
  if (closed && reading.error === null && !stream.stopped) stream.endOfInput();
  reading.partial = head !== null;
  return reading;
}

/** llhttp's reading in our reading's shape (for overParserLimits). */
function llhttpAsOurs(run: LlhttpResponseRun, length: number): OurReading {
  const messages = run.messages.map((m) => ({
    status: m.status, body: m.body, fieldCount: m.headers.length, keepAlive: m.keepAlive, tunnel: false, start: 0,
  }));
  return { messages, partial: run.partial !== null, error: null, end: run.pending || run.partial !== null ? 0 : length };
}

/**
 * Reads `bytes` (everything one connection received, from its first byte) as
 * responses and throws a StrictResponseError on anything a strict client
 * would refuse.
 */
export function readStrictly(bytes: Uint8Array, { requestMethods = [], closed = false, allowIncomplete = false, overParserLimits = false }: StrictOptions = {},
): StrictReading {
  const fail = (why: string): never => {
    throw new StrictResponseError(`strict client: ${why}\n  received ${JSON.stringify(Buffer.from(bytes).toString("latin1").slice(0, 600))}`);
  };
  const theirs = llhttp.parse(bytes, requestMethods, closed);
  const methodOf = (n: number): string | undefined => (typeof requestMethods === "string" ? requestMethods : requestMethods[n]);
  const read = readOurs(bytes, methodOf, closed);
  // Past our parser's table, llhttp's reading stands in for it: its own refusals still catch leftover bytes but a CR LF.
  const mine = overParserLimits && read.error?.startsWith("TOO_MANY_HEADERS") ? llhttpAsOurs(theirs, bytes.length) : read;
  // llhttp_finish's refusal of a close inside a body is the cut allowIncomplete allows.
  const cutAtClose = allowIncomplete && closed && theirs.error?.code === "HPE_INVALID_EOF_STATE";
  if (theirs.error !== null && !cutAtClose) fail(`llhttp refused it: ${theirs.error.code} (${theirs.error.reason}) at byte ${theirs.error.offset}`);
  if (mine.error !== null && !(allowIncomplete && mine.error.startsWith("TRUNCATED"))) fail(`parseResponse refused it: ${mine.error}`);
  if (theirs.messages.length !== mine.messages.length) {
    fail(`llhttp read ${theirs.messages.length} responses, parseResponse ${mine.messages.length}`);
  }
  let finals = 0;
  theirs.messages.forEach((m, i) => {
    const o = mine.messages[i];
    const method = methodOf(finals);
    if (m.status >= 200 || m.status === 101) finals++;
    if (!bytes.subarray(o.start, o.start + 5).every((b, k) => b === "HTTP/".charCodeAt(k))) {
      fail(`response ${i + 1} does not begin with its status line: ${show(bytes, o.start)}`);
    }
    const fault = framingFault(m.status, m.headers, method);
    if (fault !== null) fail(`response ${i + 1} (${m.status}): ${fault}`);
    if (m.status !== o.status || m.body !== o.body || m.headers.length !== o.fieldCount) {
      fail(`response ${i + 1}: llhttp read ${m.status} with ${m.headers.length} fields and a ${m.body.length}-byte body, parseResponse ${o.status} with ${o.fieldCount} and ${o.body.length}`);
    }
  });
  const last = mine.messages.at(-1);
  const tunnel = last?.tunnel === true ? bytes.subarray(mine.end) : new Uint8Array(0);
  const cut = cutAtClose || theirs.pending || theirs.partial !== null || mine.partial || (mine.error?.startsWith("TRUNCATED") ?? false);
  if (cut && !allowIncomplete) fail(`the bytes end inside response ${theirs.messages.length + 1}${closed ? " (the server closed the connection)" : ""}`);
  if (!cut && last?.tunnel !== true && mine.end < bytes.length) {
    fail(`${bytes.length - mine.end} bytes after the last complete response${last !== undefined && !last.keepAlive ? ", which closed the connection" : ""}: ${show(bytes, mine.end)}`);
  }
  return {
    responses: theirs.messages.map(toResponse),
    partial: cut && theirs.partial !== null ? toResponse(theirs.partial) : null,
    tunnel,
  };
}
