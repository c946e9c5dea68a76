// A response's head and state: what the status and fields make of its
// framing (node:http's rules, RFC 9112 where they differ), whether the
// connection closes after it, and whether it has finished. response.ts sends
// its body.
import { FRAMING, HEAD } from "simplenet-parser/abi";
import type { RequestHead } from "simplenet-parser";
import { ResponseFields, sameName } from "./response-fields.js";

/** What a response's head is serialized through: its connection. */
export interface HeadSink {
  /** Whether the server is shutting down, so connections close after their responses. */
  readonly closing: boolean;
  /**
   * Serializes a head into the output region and returns its length; it
   * starts at `headAt` (an index into parser.bytes), which the call sets and
   * which is valid until the connection's next write.
   * Throws a HeadError for a field the serializer refuses.
   */
  serializeHead(
    status: number, reason: string, fields: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number,
  ): number;
}

/** `Sink`: what the response writes through; its head is serialized through it too. */
export abstract class ResponseHead<Sink extends HeadSink> extends ResponseFields {
  headersSent = false;
  finished = false;
  /** When the request arrived (ms). */
  readonly startedAt: number;
  /** Body bytes handed to the connection (none for HEAD and bodiless statuses). */
  bytesWritten = 0;
  private finishListeners: (() => void)[] | null = null;
  /** How the body goes on the wire: LENGTH, CHUNKED (ours or the handler's Transfer-Encoding), UNTIL_CLOSE (HTTP/1.0 without a length) or NONE. */
  protected framing: number = FRAMING.NONE;
  /** The body length the head declared (with FRAMING.LENGTH): more is refused, fewer closes the connection. */
  protected declaredLength = 0;
  protected bodyless = false;
  protected closes: boolean;

  /**
   * startedAt: when the request arrived (ms); closeAfter: the connection
   * closes after this response whatever the handler does (Expect failures,
   * errors, timeouts).
   */
  constructor(protected readonly sink: Sink, readonly request: RequestHead, startedAt = Date.now(), closeAfter = false) {
    super();
    this.closes = closeAfter || !request.keepAlive;
    this.startedAt = startedAt;
  }

  /** Whether the connection closes once this response is sent. */
  get closesConnection(): boolean {
    return this.closes;
  }

  /**
   * Calls `listener` once the response has ended, or once its connection
   * closed before it could (then `finished` is true too, and writes return false).
   */
  onFinish(listener: () => void): void {
    if (this.finished) return listener();
    (this.finishListeners ??= []).push(listener);
  }

  /** Marks the response finished without sending more: its connection is gone or has given up on it. */
  drop(): void {
    this.finished = true;
    this.notifyFinish();
  }

  protected notifyFinish(): void {
    const listeners = this.finishListeners;
    this.finishListeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
  }

  /**
   * Serializes the head into the parser's output region and returns its
   * length. bodyLength is the whole body's length, or -1 when it streams;
   * then firstChunk is the length of the piece about to follow the head.
   *
   * The framing follows node:http: a Content-Length the handler set is the
   * framing (sent once, as ours); a Transfer-Encoding it set is sent and the
   * body chunked. Where node:http differs, RFC 9112 decides: a coding list
   * that does not end in chunked gets chunked added, since the handler applied
   * the others itself and only chunked (or a close) can end such a body (§6.1;
   * node:http sends the body bare and keeps the connection); a Content-Length
   * beside a Transfer-Encoding is dropped (§6.2; node:http sends both); an
   * HTTP/1.0 client, which cannot read Transfer-Encoding (§6.1), gets none,
   * its body framed as if none had been set (node:http sends chunks). A HEAD
   * or 304 keeps the handler's Content-Length, as in node:http (it is the
   * representation's); a 1xx or 204 sends neither field (RFC 9110 §8.6, RFC
   * 9112 §6.1; node:http sends what the handler set).
   */
  protected serialize(bodyLength: number, firstChunk = 0): number {
    const status = this.status;
    const noBody = status < 200 || status === 204 || status === 304;
    this.bodyless = noBody || this.request.isHead;
    const http11 = this.request.minorVersion === 1;
    let flags: number = HEAD.DATE;
    const headers = this.headers;
    // The fields that decide the framing: looked at only when present, so a plain response costs no copy.
    let lengths: string | null = null;
    let codings: string | null = null;
    let dropConnection = false;
    for (let i = 0; i < headers.length; i++) {
      const field = headers[i];
      const name = field[0];
      // Only names as long as one of the four we look at can be one of them.
      const n = name.length;
      if (n !== 4 && n !== 10 && n !== 14 && n !== 17) continue;
      if (sameName(name, "content-length")) lengths = lengths === null ? field[1] : lengths + "," + field[1];
      else if (sameName(name, "transfer-encoding")) codings = codings === null ? field[1] : codings + "," + field[1];
      else if (sameName(name, "connection")) {
        if (status !== 101) {
          dropConnection = true;
          if (/(^|[\s,])close($|[\s,])/i.test(field[1])) this.closes = true;
        }
      } else if (sameName(name, "date")) flags &= ~HEAD.DATE;
    }
    const honourCodings = codings !== null && !noBody && http11;
    // The handler's Content-Length stays as given only on a 304 (a HEAD's goes out as ours).
    const keepLengths = status === 304 && lengths !== null;
    const declared = lengths === null || honourCodings ? -1 : declaredLength(lengths);
    let fields: [string, string][] = headers;
    if (dropConnection || lengths !== null || codings !== null) {
      fields = headers.filter(([name]) => {
        if (sameName(name, "connection")) return status === 101;
        if (sameName(name, "content-length")) return keepLengths;
        return !sameName(name, "transfer-encoding");
      });
      // The handler's codings as one field, chunked last.
      if (honourCodings) fields.push(["Transfer-Encoding", lastCoding(codings!) === "chunked" ? codings! : codings + ", chunked"]);
    }
    // What the serializer adds; this.framing is how the body goes.
    let framing: number = FRAMING.NONE;
    let length = 0;
    if (noBody) {
      this.framing = FRAMING.NONE;
    } else if (honourCodings) {
      this.framing = FRAMING.CHUNKED;
    } else if (declared >= 0) {
      framing = this.framing = FRAMING.LENGTH;
      length = this.declaredLength = declared;
      if (!this.bodyless) {
        const given = bodyLength >= 0 ? bodyLength : firstChunk;
        if (given > declared) throw lengthMismatch(given, declared);
        if (bodyLength >= 0 && bodyLength < declared) this.closes = true; // cut short: the close tells the client
      }
    } else if (bodyLength >= 0) {
      framing = this.framing = FRAMING.LENGTH;
      length = this.declaredLength = bodyLength;
    } else if (http11) {
      framing = this.framing = FRAMING.CHUNKED;
    } else if (this.bodyless) {
      this.framing = FRAMING.NONE; // HTTP/1.0 HEAD: no body, so no close to end one
    } else {
      this.framing = FRAMING.UNTIL_CLOSE;
      this.closes = true; // HTTP/1.0 without a length: the close ends the body
    }
    if (this.sink.closing && status !== 101) this.closes = true;
    if (this.closes) flags |= HEAD.CLOSE;
    else if (!http11) flags |= HEAD.KEEP_ALIVE;
    const n = this.sink.serializeHead(status, this.statusMessage, fields, framing, length, flags);
    this.headersSent = true;
    return n;
  }
}

/** The handler's Content-Length (its fields' values joined): one byte count, repeated or not; anything else is refused. */
function declaredLength(values: string): number {
  let length = -1;
  for (const value of values.split(",")) {
    const text = value.trim();
    const n = /^[0-9]{1,15}$/.test(text) ? Number(text) : -1;
    if (n < 0 || (length >= 0 && n !== length)) throw new TypeError(`Invalid Content-Length: ${JSON.stringify(values)}`);
    length = n;
  }
  return length;
}

/** The last transfer coding of a Transfer-Encoding list, lowercased. */
function lastCoding(codings: string): string {
  return codings.slice(codings.lastIndexOf(",") + 1).trim().toLowerCase();
}

/** The error node:http throws (with strictContentLength) for a body longer than its Content-Length. */
export function lengthMismatch(given: number, declared: number): Error {
  const error = new Error(
    `Response body's content-length of ${given} byte(s) does not match the content-length of ${declared} byte(s) set in header`,
  ) as Error & { code: string };
  error.code = "ERR_HTTP_CONTENT_LENGTH_MISMATCH";
  return error;
}
