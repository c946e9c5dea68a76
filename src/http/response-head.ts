// A response's head: how its body is framed on the wire (Content-Length,
// chunked, or the close), decided from the status, the request and the
// handler's fields, and the head serialized into the output region. Free
// functions over the response's state, so the response stays one object.
import { FRAMING, HEAD } from "simplenet-parser/abi";
import type { ParserInstance, RequestHead } from "simplenet-parser";
import type { OutputPart } from "./output-part.js";
import { chunkedLast, declaredLength, fieldsToSend, lengthMismatch, sameName } from "./response-fields.js";

/** What a response's head and body are written through: its connection (response.ts's ResponseSink says it all). */
export interface ResponseWriter {
  readonly parser: ParserInstance;
  /**
   * Makes the connection the owner of the output region (cork.ts) unless it
   * is already: true when it took it, to give back with releaseCork(). Only
   * the owner writes into the region.
   */
  holdCork(): boolean;
  /** Gives the cork back, sending what was written meanwhile; false when the kernel did not take all of it. */
  releaseCork(): boolean;
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
  readonly headAt: number;
  /**
   * Sends bytes for `res`, or queues them behind earlier responses. Byte parts
   * are only valid during the call; file regions are the sink's to close.
   * Returns false when not all went out now.
   */
  output(res: OutgoingState, parts: OutputPart[], last: boolean): boolean;
  /** output() of parser.bytes[start, end), bytes of the output region: no view needs making for them. */
  outputRegion(res: OutgoingState, start: number, end: number, last: boolean): boolean;
}

/** The state of a response (response.ts) that its head and body are written from. */
export interface OutgoingState {
  readonly sink: ResponseWriter;
  readonly request: RequestHead;
  status: number;
  statusMessage: string;
  headers: [string, string][];
  headersSent: boolean;
  finished: boolean;
  bytesWritten: number;
  /** How the body goes on the wire: LENGTH, CHUNKED (ours or the handler's Transfer-Encoding), UNTIL_CLOSE (HTTP/1.0 without a length) or NONE. */
  framing: number;
  /** The body length the head declared (with FRAMING.LENGTH): more is refused, fewer closes the connection. */
  declaredLength: number;
  bodyless: boolean;
  /** Whether the connection closes once this response is sent. */
  closes: boolean;
  /** Calls the listeners waiting for the response's end. */
  notifyFinish(): void;
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
export function serializeHead(res: OutgoingState, bodyLength: number, firstChunk = 0): number {
  const status = res.status;
  const noBody = status < 200 || status === 204 || status === 304;
  res.bodyless = noBody || res.request.isHead;
  const http11 = res.request.minorVersion === 1;
  let flags: number = HEAD.DATE;
  const headers = res.headers;
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
        if (/(^|[\s,])close($|[\s,])/i.test(field[1])) res.closes = true;
      }
    } else if (sameName(name, "date")) flags &= ~HEAD.DATE;
  }
  const honourCodings = codings !== null && !noBody && http11;
  // The handler's Content-Length stays as given only on a 304 (a HEAD's goes out as ours).
  const keepLengths = status === 304 && lengths !== null;
  const declared = lengths === null || honourCodings ? -1 : declaredLength(lengths);
  const fields = dropConnection || lengths !== null || codings !== null
    ? fieldsToSend(headers, status === 101, keepLengths, honourCodings ? chunkedLast(codings!) : null)
    : headers;
  // What the serializer adds; res.framing is how the body goes.
  let framing: number = FRAMING.NONE;
  let length = 0;
  if (noBody) {
    res.framing = FRAMING.NONE;
  } else if (honourCodings) {
    res.framing = FRAMING.CHUNKED;
  } else if (declared >= 0) {
    framing = res.framing = FRAMING.LENGTH;
    length = res.declaredLength = declared;
    if (!res.bodyless) {
      const given = bodyLength >= 0 ? bodyLength : firstChunk;
      if (given > declared) throw lengthMismatch(given, declared);
      if (bodyLength >= 0 && bodyLength < declared) res.closes = true; // cut short: the close tells the client
    }
  } else if (bodyLength >= 0) {
    framing = res.framing = FRAMING.LENGTH;
    length = res.declaredLength = bodyLength;
  } else if (http11) {
    framing = res.framing = FRAMING.CHUNKED;
  } else if (res.bodyless) {
    res.framing = FRAMING.NONE; // HTTP/1.0 HEAD: no body, so no close to end one
  } else {
    res.framing = FRAMING.UNTIL_CLOSE;
    res.closes = true; // HTTP/1.0 without a length: the close ends the body
  }
  if (res.sink.closing && status !== 101) res.closes = true;
  if (res.closes) flags |= HEAD.CLOSE;
  else if (!http11) flags |= HEAD.KEEP_ALIVE;
  const n = res.sink.serializeHead(status, res.statusMessage, fields, framing, length, flags);
  res.headersSent = true;
  return n;
}
