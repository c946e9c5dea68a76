// The one driver of RequestStream and ResponseStream (parser/src/parser.ts;
// responses through test/support/response-stream.ts) for the tests and the
// fuzzer: feeds a byte stream in the given pieces and records what came out
// as plain data, so that two runs compare as JSON. On the way it can check
// the invariants that hold for any input: consumed bytes never exceed the
// input, and every span the module wrote lies inside the bytes it was given.
import { RequestStream, type ParserInstance, type RequestHead } from "../../parser/src/parser.ts";
import { latin1, type Fields } from "../../parser/src/fields.ts";
import type { MessageHandlers } from "../../parser/src/message-stream.ts";
import { RESULT, SPAN } from "../../parser/src/abi.ts";

/** What a driver records of any message, request or response. */
export interface RecordedMessage {
  version: string;
  headers: [string, string][];
  body: string;
  trailers: [string, string][];
  keepAlive: boolean;
  upgrade: boolean;
  /** Stream position after the message (-1 while it has not ended). */
  end: number;
}

export interface Message extends RecordedMessage {
  method: string;
  target: string;
}

/** What a driver records of a run, requests or responses alike. */
export interface Run<M> {
  /** The messages that ended. */
  messages: M[];
  /** A message whose head was taken and whose body had not ended when the input ended or was rejected. */
  partial: M | null;
  /** The rejection: `offset` from the start of the failing message, as the stream reports it; `at` from the start of the input. */
  error: { code: string; offset: number; at: number } | null;
  /** The input ended inside a message (bytes of a head, or a body, wait for more). */
  pending: boolean;
  /** Bytes consumed. */
  position: number;
  /** Parsing stopped: after a message that ends the connection (`stopAtClose`), or (responses) a tunnel's head or the end of input. */
  stopped: boolean;
}

export type StreamRun = Run<Message>;

/** Where to read the module's result table: head spans are checked there. */
export interface SpanCheck {
  i32: Int32Array;
  /** i32 index of the result table. */
  table: number;
}

export interface DriveOptions {
  /**
   * Stop after a message that closes the connection (not keep-alive) or
   * switches protocols (an upgrade, or CONNECT), as the server's connection
   * does. Without it, every message of the input is parsed.
   */
  stopAtClose?: boolean;
  /** Collects broken invariants: consumed bytes, body bytes, error offsets, field spans. */
  problems?: string[];
  /** With `problems`: also check the spans the module wrote to its result table for each head. */
  spans?: SpanCheck;
}

/** Whether a message is the last on its connection: it closes it, or switches protocols. */
export const endsConnection = (m: Pick<Message, "keepAlive" | "upgrade" | "method">): boolean =>
  !m.keepAlive || m.upgrade || m.method === "CONNECT";

/** Feeds `pieces`, one push each. */
export function driveStream(parser: ParserInstance, pieces: readonly Uint8Array[], options: DriveOptions = {}): StreamRun {
  return driveMessages<RequestHead, Message>(pieces, options, (on) => new RequestStream(parser, on), {
    message: (head) => ({
      method: head.method, target: head.target, version: head.version, headers: head.headers.toArray(), body: "",
      trailers: [], keepAlive: head.keepAlive, upgrade: head.upgrade, end: -1,
    }),
    lineSpans: [["method", RESULT.METHOD_OFF, RESULT.METHOD_LEN], ["target", RESULT.TARGET_OFF, RESULT.TARGET_LEN]],
    endsConnection,
  });
}

/** The stream a driver feeds: RequestStream or ResponseStream. */
export interface DrivenStream {
  readonly position: number;
  readonly inMessage: boolean;
  readonly stopped: boolean;
  push(input: Uint8Array): void;
  stop(): void;
  endOfInput?(): void;
}

/** What a driver needs to know of its kind of message. */
export interface MessageKind<Head, M> {
  /** The record of a head, its body and trailers still empty and `end` -1. */
  message(head: Head): M;
  /** The result-table slots of the first line's spans: [what, offset slot, length slot]. */
  lineSpans: readonly (readonly [string, number, number])[];
  /** With `stopAtClose`: whether parsing stops after this message. */
  endsConnection(m: M): boolean;
}

type DrivenHead = { readonly text: string; readonly headers: Fields };

/**
 * The one driver: feeds `pieces` to the stream `open` makes with the
 * driver's handlers, one push each (then endOfInput() if asked), recording
 * messages as `kind` says and checking the invariants on the way.
 */
export function driveMessages<Head extends DrivenHead, M extends RecordedMessage>(
  pieces: readonly Uint8Array[], options: DriveOptions & { endOfInput?: boolean },
  open: (on: MessageHandlers<Head>) => DrivenStream, kind: MessageKind<Head, M>,
): Run<M> {
  const { stopAtClose = false, problems, spans } = options;
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const messages: M[] = [];
  let error: Run<M>["error"] = null;
  let current: M | null = null;
  let messageStart = 0;
  let body: string[] = [];
  let bodyBytes = 0;
  const stream: DrivenStream = open({
    head(head) {
      const n = head.text.length;
      messageStart = stream.position - n;
      if (problems) {
        if (messageStart < 0 || stream.position > total) problems.push(`head of ${n} bytes ends at ${stream.position}, past the input (${total})`);
        if (spans) checkHeadSpans(spans, n, kind.lineSpans, problems);
        checkFieldSpans(head.headers.spans, head.headers.length, n, "header", problems);
      }
      current = kind.message(head);
      body = [];
    },
    data(chunk) {
      bodyBytes += chunk.length;
      if (problems && bodyBytes > total) problems.push(`body bytes (${bodyBytes}) exceed the input (${total})`);
      body.push(latin1(chunk, 0, chunk.length));
    },
    end(trailers) {
      const message = current!;
      if (trailers) {
        if (problems) checkFieldSpans(trailers.spans, trailers.length, trailers.text.length, "trailer", problems);
        message.trailers = trailers.toArray();
      }
      message.body = body.join("");
      message.end = stream.position;
      messages.push(message);
      messageStart = stream.position;
      current = null;
      if (stopAtClose && kind.endsConnection(message)) stream.stop();
    },
    error(e) {
      error = { code: e.code, offset: e.offset, at: messageStart + e.offset };
      if (problems && (e.offset < 0 || messageStart + e.offset > total)) {
        problems.push(`error offset ${e.offset} (message at ${messageStart}) outside the input (${total})`);
      }
    },
  });
  for (const piece of pieces) {
    stream.push(piece);
    if (problems && stream.position > total) problems.push(`consumed ${stream.position} of ${total} bytes`);
  }
  const pending = error === null && stream.inMessage;
  if (options.endOfInput) stream.endOfInput!();
  const partial = current as M | null;
  if (partial !== null) partial.body = body.join("");
  return {
    messages, partial, error, pending: error === null && !options.endOfInput && pending, position: stream.position,
    stopped: error === null && stream.stopped,
  };
}

function checkHeadSpans(
  { i32, table }: SpanCheck, n: number, lineSpans: MessageKind<unknown, unknown>["lineSpans"], problems: string[],
): void {
  const inside = (what: string, off: number, len: number): void => {
    if (off < 0 || len < 0 || off + len > n) problems.push(`${what} span [${off}, +${len}) outside the head (${n} bytes)`);
  };
  for (const [what, off, len] of lineSpans) inside(what, i32[table + off], i32[table + len]);
  const count = i32[table + RESULT.HEADER_COUNT];
  for (let h = 0; h < count; h++) {
    const s = table + RESULT.FIELDS + h * SPAN.SLOTS;
    inside(`header ${h} name`, i32[s + SPAN.NAME_OFF], i32[s + SPAN.NAME_LEN]);
    inside(`header ${h} value`, i32[s + SPAN.VALUE_OFF], i32[s + SPAN.VALUE_LEN]);
  }
}

function checkFieldSpans(spans: ArrayLike<number>, count: number, n: number, what: string, problems: string[]): void {
  for (let h = 0; h < count; h++) {
    for (const [offSlot, lenSlot] of [[SPAN.NAME_OFF, SPAN.NAME_LEN], [SPAN.VALUE_OFF, SPAN.VALUE_LEN]]) {
      const off = spans[h * SPAN.SLOTS + offSlot], len = spans[h * SPAN.SLOTS + lenSlot];
      if (off < 0 || len < 0 || off + len > n) problems.push(`${what} ${h} span [${off}, +${len}) outside its ${n} bytes`);
    }
  }
}

/**
 * Fed in pieces, a fault in a head whose end has not arrived is reported
 * once it arrives (or the size limit does): a retry re-parses a head only
 * then (prevLen), so retries stay linear. Fed whole, the same fault is seen
 * at once. So a piecewise run that still waits inside a head where the whole
 * run failed, after the same messages, is the same outcome when the head's
 * end, fed next, brings the same error.
 */
export function deferredHeadFault(parser: ParserInstance, pieces: readonly Uint8Array[], whole: StreamRun, split: StreamRun): boolean {
  if (whole.error === null || split.error !== null || !split.pending || split.partial !== null) return false;
  return headEndBringsError(whole, split, driveStream(parser, [...pieces, HEAD_END]));
}

/**
 * The rest of deferredHeadFault's test, for requests and responses alike:
 * the split run ended the same messages, and `ended` (it, fed a head's end
 * next) fails with the whole run's error at the same place.
 */
export function headEndBringsError<M>(whole: Run<M>, split: Run<M>, ended: Run<M>): boolean {
  if (JSON.stringify(split.messages) !== JSON.stringify(whole.messages)) return false;
  return whole.error !== null && ended.error !== null && ended.error.code === whole.error.code && ended.error.at === whole.error.at;
}

/** The end of a head: fed after a split run's pieces by the deferred-fault checks. */
export const HEAD_END = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a);

/** The run as compared between feeds and builds: what a connection would act on. */
export function runKey(run: StreamRun): string {
  const error = run.error === null ? null : { code: run.error.code, offset: run.error.offset };
  // How far a stream got before failing depends on how its input was cut: not compared after an error.
  return JSON.stringify({ messages: run.messages, error, pending: run.pending, position: run.error === null ? run.position : null });
}
