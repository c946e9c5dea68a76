// Runs a byte stream through RequestStream (src/parser.ts) and records what
// came out as plain data, so two runs compare as JSON. Checks the invariants
// that hold for any input on the way: consumed bytes never exceed the input,
// and every span the module wrote lies inside the bytes it was given.
import { RequestStream, type ParserInstance } from "../src/parser.ts";
import { latin1 } from "../src/fields.ts";

export interface Message {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: string;
  trailers: [string, string][];
  keepAlive: boolean;
  upgrade: boolean;
  /** Stream position after the message. */
  end: number;
}

export interface Outcome {
  messages: Message[];
  error: { code: string; offset: number } | null;
  /** Input ended inside a message. */
  pending: boolean;
  /** Bytes consumed; null after an error, since how far a stream got before failing depends on how its input was cut. */
  position: number | null;
}

/** Where to read the module's result table: spans are checked there. */
export interface SpanCheck {
  i32: Int32Array;
  /** i32 index of the result table. */
  table: number;
}

const R_HEADER_COUNT = 5, R_HEADERS = 16;

/** Feeds `pieces` one push each; `problems` collects broken invariants. */
export function runStream(parser: ParserInstance, pieces: readonly Uint8Array[], problems: string[], spans?: SpanCheck): Outcome {
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const messages: Message[] = [];
  let error: Outcome["error"] = null;
  let current: Message | null = null;
  let messageStart = 0;
  let body: string[] = [];
  let bodyBytes = 0;
  const stream: RequestStream = new RequestStream(parser, {
    head(head) {
      const n = head.text.length;
      messageStart = stream.position - n;
      if (messageStart < 0 || stream.position > total) problems.push(`head of ${n} bytes ends at ${stream.position}, past the input (${total})`);
      if (spans) checkHeadSpans(spans, n, problems);
      checkFieldSpans(head.headers.spans, head.headers.length, n, "header", problems);
      current = {
        method: head.method, target: head.target, version: head.version, headers: head.headers.toArray(), body: "",
        trailers: [], keepAlive: head.keepAlive, upgrade: head.upgrade, end: -1,
      };
      body = [];
    },
    data(chunk) {
      bodyBytes += chunk.length;
      if (bodyBytes > total) problems.push(`body bytes (${bodyBytes}) exceed the input (${total})`);
      body.push(latin1(chunk, 0, chunk.length));
    },
    end(trailers) {
      const message = current!;
      if (trailers) {
        checkFieldSpans(trailers.spans, trailers.length, trailers.text.length, "trailer", problems);
        message.trailers = trailers.toArray();
      }
      message.body = body.join("");
      message.end = stream.position;
      messages.push(message);
      messageStart = stream.position;
      current = null;
    },
    error(e) {
      error = { code: e.code, offset: e.offset };
      if (e.offset < 0 || messageStart + e.offset > total) problems.push(`error offset ${e.offset} (message at ${messageStart}) outside the input (${total})`);
    },
  });
  for (const piece of pieces) {
    stream.push(piece);
    if (stream.position > total) problems.push(`consumed ${stream.position} of ${total} bytes`);
  }
  return { messages, error, pending: error === null && stream.inMessage, position: error === null ? stream.position : null };
}

function checkHeadSpans({ i32, table }: SpanCheck, n: number, problems: string[]): void {
  const inside = (what: string, off: number, len: number): void => {
    if (off < 0 || len < 0 || off + len > n) problems.push(`${what} span [${off}, +${len}) outside the head (${n} bytes)`);
  };
  inside("method", i32[table], i32[table + 1]);
  inside("target", i32[table + 2], i32[table + 3]);
  const count = i32[table + R_HEADER_COUNT];
  for (let h = 0; h < count; h++) {
    const s = table + R_HEADERS + h * 4;
    inside(`header ${h} name`, i32[s], i32[s + 1]);
    inside(`header ${h} value`, i32[s + 2], i32[s + 3]);
  }
}

function checkFieldSpans(spans: ArrayLike<number>, count: number, n: number, what: string, problems: string[]): void {
  for (let h = 0; h < count; h++) {
    for (const part of [0, 2]) {
      const off = spans[h * 4 + part], len = spans[h * 4 + part + 1];
      if (off < 0 || len < 0 || off + len > n) problems.push(`${what} ${h} span [${off}, +${len}) outside its ${n} bytes`);
    }
  }
}
