// The one driver of ResponseStream (parser/src/response-stream.ts) for the
// tests and the fuzzer, as test/support/stream.ts is RequestStream's: feeds a
// byte stream in the given pieces, optionally ends the input, and records
// what came out as plain data, so that two runs compare as JSON. On the way
// it checks the invariants that hold for any input: consumed bytes never
// exceed the input, and every span the module wrote lies inside the head.
import { ResponseStream, type ParserInstance } from "../../parser/src/parser.ts";
import { latin1 } from "../../parser/src/fields.ts";
import { RESULT, SPAN } from "../../parser/src/abi.ts";
import type { SpanCheck } from "./stream.ts";

export interface ResponseMessage {
  status: number;
  reason: string;
  version: string;
  headers: [string, string][];
  body: string;
  trailers: [string, string][];
  keepAlive: boolean;
  upgrade: boolean;
  /** "none", "length", "chunked", "until-close" or "tunnel". */
  framing: string;
  /** Stream position after the message (-1 while it has not ended). */
  end: number;
}

export interface ResponseRun {
  /** The messages that ended, interim (1xx) ones included. */
  messages: ResponseMessage[];
  /** A message whose head was taken and whose body had not ended when the input ended or was rejected. */
  partial: ResponseMessage | null;
  /** The rejection: `offset` from the start of the failing message; `at` from the start of the input. */
  error: { code: string; offset: number; at: number } | null;
  /** The input ended inside a message. */
  pending: boolean;
  /** Bytes consumed. */
  position: number;
  /** Parsing stopped: after a tunnel's head, a message that closes the connection (`stopAtClose`), or the end of input. */
  stopped: boolean;
}

export interface ResponseDriveOptions {
  /** The method of the request each response answers. */
  requestMethod?: string;
  /** Call endOfInput() after the last piece: the connection closed. */
  endOfInput?: boolean;
  /** Stop after a message that is not keep-alive (the connection closes after it), as a client does. */
  stopAtClose?: boolean;
  problems?: string[];
  spans?: SpanCheck;
}

const FRAMINGS = ["none", "length", "chunked", "until-close", "tunnel"];

/** Feeds `pieces`, one push each. */
export function driveResponses(parser: ParserInstance, pieces: readonly Uint8Array[], options: ResponseDriveOptions = {}): ResponseRun {
  const { problems, spans, stopAtClose = false } = options;
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const messages: ResponseMessage[] = [];
  let error: ResponseRun["error"] = null;
  let current: ResponseMessage | null = null;
  let messageStart = 0;
  let body: string[] = [];
  let bodyBytes = 0;
  const stream: ResponseStream = new ResponseStream(parser, {
    head(head) {
      const n = head.text.length;
      messageStart = stream.position - n;
      if (problems) {
        if (messageStart < 0 || stream.position > total) problems.push(`head of ${n} bytes ends at ${stream.position}, past the input (${total})`);
        if (spans) checkResponseSpans(spans, n, problems);
      }
      current = {
        status: head.status, reason: head.reason, version: head.version, headers: head.headers.toArray(), body: "", trailers: [],
        keepAlive: head.keepAlive, upgrade: head.upgrade, framing: FRAMINGS[head.framing] ?? `framing ${head.framing}`, end: -1,
      };
      body = [];
    },
    data(chunk) {
      bodyBytes += chunk.length;
      if (problems && bodyBytes > total) problems.push(`body bytes (${bodyBytes}) exceed the input (${total})`);
      body.push(latin1(chunk, 0, chunk.length));
    },
    end(trailers) {
      const message = current!;
      if (trailers) message.trailers = trailers.toArray();
      message.body = body.join("");
      message.end = stream.position;
      messages.push(message);
      messageStart = stream.position;
      current = null;
      if (stopAtClose && !message.keepAlive && message.status >= 200) stream.stop();
    },
    error(e) {
      error = { code: e.code, offset: e.offset, at: messageStart + e.offset };
      if (problems && (e.offset < 0 || messageStart + e.offset > total)) {
        problems.push(`error offset ${e.offset} (message at ${messageStart}) outside the input (${total})`);
      }
    },
  }, { requestMethod: options.requestMethod });
  for (const piece of pieces) {
    stream.push(piece);
    if (problems && stream.position > total) problems.push(`consumed ${stream.position} of ${total} bytes`);
  }
  const pending = error === null && stream.inMessage;
  if (options.endOfInput) stream.endOfInput();
  const partial = current as ResponseMessage | null;
  if (partial !== null) partial.body = body.join("");
  return {
    messages, partial, error, pending: error === null && !options.endOfInput && pending, position: stream.position,
    stopped: error === null && stream.stopped,
  };
}

function checkResponseSpans({ i32, table }: SpanCheck, n: number, problems: string[]): void {
  const inside = (what: string, off: number, len: number): void => {
    if (off < 0 || len < 0 || off + len > n) problems.push(`${what} span [${off}, +${len}) outside the head (${n} bytes)`);
  };
  inside("reason", i32[table + RESULT.REASON_OFF], i32[table + RESULT.REASON_LEN]);
  const count = i32[table + RESULT.HEADER_COUNT];
  for (let h = 0; h < count; h++) {
    const s = table + RESULT.FIELDS + h * SPAN.SLOTS;
    inside(`header ${h} name`, i32[s + SPAN.NAME_OFF], i32[s + SPAN.NAME_LEN]);
    inside(`header ${h} value`, i32[s + SPAN.VALUE_OFF], i32[s + SPAN.VALUE_LEN]);
  }
}

/** The run as compared between feeds and builds. */
export function responseRunKey(run: ResponseRun): string {
  const error = run.error === null ? null : { code: run.error.code, offset: run.error.offset };
  return JSON.stringify({ messages: run.messages, partial: run.error === null ? run.partial : null, error, pending: run.pending, position: run.error === null ? run.position : null });
}

/**
 * As for requests (test/support/stream.ts, deferredHeadFault): fed in
 * pieces, a fault in a head whose end has not arrived is reported once it
 * arrives; a split run still waiting in that head, after the same messages,
 * is the same outcome when the head's end, fed next, brings the same error.
 */
export function deferredResponseFault(
  parser: ParserInstance, pieces: readonly Uint8Array[], whole: ResponseRun, split: ResponseRun, options: ResponseDriveOptions = {},
): boolean {
  // With endOfInput, the split run reports the head it waits in as cut short.
  if (whole.error === null || (split.error !== null && split.error.code !== "TRUNCATED") || split.partial !== null) return false;
  if (JSON.stringify(split.messages) !== JSON.stringify(whole.messages)) return false;
  const ended = driveResponses(parser, [...pieces, HEAD_END], { ...options, endOfInput: false });
  return ended.error !== null && ended.error.code === whole.error.code && ended.error.at === whole.error.at;
}

const HEAD_END = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a);
