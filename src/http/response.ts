// What a handler answers with. The head is serialized by the wasm module into
// its output region; a string body given to end() is encoded right after it,
// so a whole small response leaves in one write.
import { FRAMING, HEAD } from "simplenet-parser/abi";
import type { ParserInstance, RequestHead } from "simplenet-parser";
import { FileRegion, type OutputPart } from "./output-part.js";
import type { Tunnel } from "./tunnel.js";
import {
  applyHeadFields, checkField, checkedReason, chunkedLast, declaredLength, fieldValues, fieldsToSend, lengthMismatch, sameName,
  type FlatFields, type HeaderValue, type OutgoingFields,
} from "./response-fields.js";

/** What a response writes through: its connection. */
export interface ResponseSink {
  readonly parser: ParserInstance;
  /** Whether the server is shutting down, so connections close after their responses. */
  readonly closing: boolean;
  /**
   * Makes the connection the owner of the output region (cork.ts) unless it
   * is already: true when it took it, to give back with releaseCork(). Only
   * the owner writes into the region.
   */
  holdCork(): boolean;
  /** Gives the cork back, sending what was written meanwhile; false when the kernel did not take all of it. */
  releaseCork(): boolean;
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
  output(res: Response, parts: OutputPart[], last: boolean): boolean;
  /** output() of parser.bytes[start, end), bytes of the output region: no view needs making for them. */
  outputRegion(res: Response, start: number, end: number, last: boolean): boolean;
  /** Resolves when the bytes queued so far have been handed to the kernel. */
  drained(res: Response): Promise<void>;
  /** Closes the connection at once: the response cannot be completed. */
  destroy(): void;
  /** The connection becomes a tunnel once `res` (a 101) is sent; throws if `res` may not switch. */
  switchProtocols(res: Response): Tunnel;
}


const encoder = new TextEncoder();
const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/** The line before a chunk of `size` bytes, made outside the output region, which may hold other responses' bytes. */
function chunkLine(size: number): Uint8Array {
  return encoder.encode(size.toString(16) + "\r\n");
}

/** A string short enough to copy byte by byte, faster than a call to the encoder; always fits the output region. */
function isShortAscii(s: string): boolean {
  if (s.length > 256) return false;
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) > 0x7f) return false;
  return true;
}

export type Body = string | Uint8Array;

/** The fields of a response that has none yet: shared by all of them, never written to (addField replaces it). */
const NO_FIELDS: [string, string][] = [];

export type { FlatFields, HeaderValue, OutgoingFields } from "./response-fields.js";

export class Response {
  status = 200;
  /** Reason phrase; empty means the standard one for the status. */
  statusMessage = "";
  headersSent = false;
  finished = false;
  /** When the request arrived (ms). */
  readonly startedAt: number;
  /** Body bytes handed to the connection (none for HEAD and bodiless statuses). */
  bytesWritten = 0;
  private headers: [string, string][] = NO_FIELDS;
  private finishListeners: (() => void)[] | null = null;
  /** How the body goes on the wire: LENGTH, CHUNKED (ours or the handler's Transfer-Encoding), UNTIL_CLOSE (HTTP/1.0 without a length) or NONE. */
  private framing: number = FRAMING.NONE;
  /** The body length the head declared (with FRAMING.LENGTH): more is refused, fewer closes the connection. */
  private declaredLength = 0;
  private bodyless = false;
  /** Finished by drop(): its connection is gone or gave up on it, so nothing more of it is sent. */
  private dropped = false;
  private closes: boolean;
  /** @internal The connection's response queue (response-queue.ts): the next response in it. */
  queueNext: Response | null = null;
  /** @internal Output kept while earlier responses are unfinished: copies, and file regions it owns. */
  queuePending: OutputPart[] | null = null;
  /** @internal Whether end() came while earlier responses were unfinished. */
  queueEnded = false;
  /** @internal Whether the response is in its connection's queue. */
  queued = false;
  /** @internal Cut short by abort(): the output its queue kept for it is dropped, never sent. */
  cutShort = false;

  /**
   * startedAt: when the request arrived (ms); closeAfter: the connection
   * closes after this response whatever the handler does (Expect failures,
   * errors, timeouts).
   */
  constructor(private readonly sink: ResponseSink, readonly request: RequestHead, startedAt = Date.now(), closeAfter = false) {
    this.closes = closeAfter || !request.keepAlive;
    this.startedAt = startedAt;
  }

  /** Whether the connection closes once this response is sent. */
  get closesConnection(): boolean {
    return this.closes;
  }

  /** node:http's name for status. */
  get statusCode(): number {
    return this.status;
  }
  set statusCode(status: number) {
    this.status = status;
  }

  /** Replaces the field's values. Throws a TypeError naming the field when its name or a value cannot be sent. */
  setHeader(name: string, value: HeaderValue): this {
    if (typeof value === "string") {
      // The common case, without the list: one checked string.
      checkField(name, value);
      if (this.headers.length > 0) this.removeHeader(name);
      this.addField(name, value);
      return this;
    }
    const values = fieldValues(name, value);
    if (this.headers.length > 0) this.removeHeader(name);
    for (const v of values) this.addField(name, v);
    return this;
  }

  /** Adds values to the field. Throws a TypeError naming the field when its name or a value cannot be sent. */
  appendHeader(name: string, value: HeaderValue): this {
    for (const v of fieldValues(name, value)) this.addField(name, v);
    return this;
  }

  /** The first field makes the response's own list, one long: a push onto an empty array would make room for 17. */
  private addField(name: string, value: string): void {
    if (this.headers === NO_FIELDS) this.headers = [[name, value]];
    else this.headers.push([name, value]);
  }

  getHeader(name: string): string | undefined {
    let value: string | undefined;
    for (const [n, v] of this.headers) if (sameName(n, name)) value = value === undefined ? v : value + ", " + v;
    return value;
  }

  hasHeader(name: string): boolean {
    for (const field of this.headers) if (sameName(field[0], name)) return true;
    return false;
  }

  removeHeader(name: string): this {
    if (this.hasHeader(name)) this.headers = this.headers.filter(([n]) => !sameName(n, name));
    return this;
  }

  getHeaders(): [string, string][] {
    return this.headers.slice();
  }

  /**
   * Sets status, reason and headers in one call, as node:http does:
   * writeHead(status, [reason], [headers]), the headers as an object, an
   * array of [name, value] pairs, or node:http's flat array (name, value,
   * name, value). They take precedence over the fields set before: each name
   * given replaces that field, and one given twice (an object's keys may
   * differ in case) is sent with each value, as node:http sends them.
   */
  writeHead(status: number, reason?: string | OutgoingFields | FlatFields, headers?: OutgoingFields | FlatFields): this {
    if (typeof reason !== "string") [headers, reason] = [reason, undefined];
    this.status = status;
    if (reason !== undefined) this.statusMessage = checkedReason(reason);
    if (headers !== undefined) applyHeadFields(this, headers);
    return this;
  }

  /**
   * Sends a piece of the body (the head first, if it has not gone yet).
   * Returns false when the client is slow: await drained() before writing more.
   * Throws ERR_HTTP_CONTENT_LENGTH_MISMATCH, sending none of the piece, when
   * it would take the body past the Content-Length the handler set.
   */
  write(chunk: Body): boolean {
    if (this.finished) return false;
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    const sink = this.sink;
    if (!sink.holdCork()) return this.writeBytes(bytes);
    let sent = false;
    try {
      sent = this.writeBytes(bytes);
    } finally {
      sent = sink.releaseCork() && sent;
    }
    return sent;
  }

  /** write(), its connection owning the output region. */
  private writeBytes(bytes: Uint8Array): boolean {
    const sink = this.sink;
    let head: Uint8Array | null = null;
    if (!this.headersSent) {
      const n = this.serialize(-1, bytes.length);
      head = sink.parser.bytes.subarray(sink.headAt, sink.headAt + n);
    } else if (this.framing === FRAMING.LENGTH && !this.bodyless && this.bytesWritten + bytes.length > this.declaredLength) {
      throw lengthMismatch(this.bytesWritten + bytes.length, this.declaredLength);
    }
    if (this.bodyless || bytes.length === 0) return head === null || sink.output(this, [head], false);
    this.bytesWritten += bytes.length;
    const parts: Uint8Array[] = head === null ? [] : [head];
    if (this.framing === FRAMING.CHUNKED) parts.push(chunkLine(bytes.length), bytes, CRLF);
    else parts.push(bytes);
    return sink.output(this, parts, false);
  }

  /**
   * Finishes the response, with a last piece of body if given. Throws
   * ERR_HTTP_CONTENT_LENGTH_MISMATCH, sending none of `body`, when it would
   * take the body past the Content-Length the handler set; a body shorter
   * than that is sent and the connection closes after it, so the client sees
   * it cut short rather than reading the next response as its rest.
   */
  end(body?: Body): void {
    if (this.finished) return;
    const sink = this.sink;
    if (!sink.holdCork()) return this.endWith(body);
    try {
      this.endWith(body);
    } finally {
      sink.releaseCork();
    }
  }

  /** end(), its connection owning the output region. */
  private endWith(body: Body | undefined): void {
    const sink = this.sink;
    const parser = sink.parser;
    if (!this.headersSent) {
      const isString = typeof body === "string";
      const ascii = isString && isShortAscii(body);
      const length = body === undefined ? 0 : ascii ? body.length : isString ? Buffer.byteLength(body) : body.length;
      const headLength = this.serialize(length);
      const out = sink.headAt;
      if (!this.bodyless) this.bytesWritten = length;
      this.finished = true;
      if (this.framing === FRAMING.CHUNKED && !this.bodyless) {
        // The handler's Transfer-Encoding: the body goes as one chunk and the last.
        const parts = [parser.bytes.subarray(out, out + headLength)];
        if (length > 0) parts.push(chunkLine(length), isString ? encoder.encode(body) : body!, CRLF);
        parts.push(LAST_CHUNK);
        sink.output(this, parts, true);
        return this.notifyFinish();
      }
      const room = parser.out + parser.outCapacity - out;
      // The whole response in the output region when it fits: head and body leave as one range of it.
      let end = -1;
      if (this.bodyless || length === 0) {
        end = out + headLength;
      } else if (ascii && headLength + length <= room) {
        const bytes = parser.bytes;
        for (let k = 0, at = out + headLength; k < length; k++) bytes[at + k] = body.charCodeAt(k);
        end = out + headLength + length;
      } else if (isString && headLength + length <= room) {
        encoder.encodeInto(body, parser.bytes.subarray(out + headLength, out + room));
        end = out + headLength + length;
      }
      if (end >= 0) sink.outputRegion(this, out, end, true);
      else sink.output(this, [parser.bytes.subarray(out, out + headLength), isString ? encoder.encode(body) : body!], true);
      return this.notifyFinish();
    }
    if (body !== undefined) this.writeBytes(typeof body === "string" ? encoder.encode(body) : body);
    this.finished = true;
    if (this.framing === FRAMING.LENGTH && !this.bodyless && this.bytesWritten < this.declaredLength) this.closes = true;
    sink.output(this, this.framing === FRAMING.CHUNKED && !this.bodyless ? [LAST_CHUNK] : [], true);
    this.notifyFinish();
  }

  /**
   * Finishes the response with `length` bytes of the open file `fd` from
   * `offset` as its body, sent by sendfile(2) without passing through
   * JavaScript. The response takes `fd` and closes it, whatever happens.
   */
  sendFile(fd: number, offset: number, length: number): void {
    const region = new FileRegion(fd, offset, length);
    if (this.finished) return region.close();
    if (this.headersSent) {
      region.close();
      throw new Error("sendFile() needs a response whose head has not been sent");
    }
    const sink = this.sink;
    const took = sink.holdCork();
    try {
      this.sendRegion(region);
    } finally {
      if (took) sink.releaseCork();
    }
  }

  /** sendFile(), its connection owning the output region. */
  private sendRegion(region: FileRegion): void {
    const length = region.remaining;
    let headLength: number;
    try {
      headLength = this.serialize(length);
    } catch (error) {
      region.close();
      throw error;
    }
    const out = this.sink.headAt;
    const head = this.sink.parser.bytes.subarray(out, out + headLength);
    this.finished = true;
    if (this.bodyless || length === 0) {
      region.close();
      this.sink.output(this, [head], true);
    } else {
      this.bytesWritten = length;
      this.sink.output(this, [head, region], true);
    }
    this.notifyFinish();
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
    this.dropped = true;
    this.finished = true;
    this.notifyFinish();
  }

  private notifyFinish(): void {
    const listeners = this.finishListeners;
    this.finishListeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
  }

  /**
   * Sends bytes the caller framed itself (head and body, as node:http's
   * ServerResponse makes them for the node:http face): the response counts
   * as begun, `last` ends it, and `close` closes the connection after it.
   * False when the kernel did not take all of it: await drained().
   */
  sendRaw(parts: Uint8Array[], last: boolean, close = false): boolean {
    if (this.finished) return false;
    this.headersSent = true;
    if (close) this.closes = true;
    if (last) this.finished = true;
    const sink = this.sink;
    const took = sink.holdCork();
    let sent = false;
    try {
      sent = sink.output(this, parts, last);
    } finally {
      if (took) sent = sink.releaseCork() && sent;
    }
    if (last) this.notifyFinish();
    return sent;
  }

  /**
   * For a request in the server's upgrade hook: the connection becomes a
   * tunnel now and this response ends without a byte, so the caller writes
   * its own answer through the tunnel (a 101 and the new protocol, or a
   * refusal), as node:http's 'upgrade' listeners write to the socket.
   */
  takeOver(): Tunnel {
    if (this.headersSent || this.finished) throw new Error("takeOver() needs a response whose head has not been sent");
    const tunnel = this.sink.switchProtocols(this);
    this.sendRaw([], true);
    return tunnel;
  }

  /** Sends `value` as JSON. */
  json(value: unknown, status?: number): void {
    if (status !== undefined) this.status = status;
    if (!this.hasHeader("content-type")) this.setHeader("Content-Type", "application/json; charset=utf-8");
    this.end(JSON.stringify(value));
  }

  /**
   * Resolves once the client has taken what was written; rejects once the
   * response was dropped (an earlier response closed the connection), where
   * write() returns false for good: a write loop learns the client is gone
   * rather than writing into nothing.
   */
  drained(): Promise<void> {
    if (this.dropped) return Promise.reject(new Error("connection closed"));
    return this.sink.drained(this).then(() => {
      if (this.dropped) throw new Error("connection closed");
    });
  }

  /**
   * Cuts the response short: nothing more of it is sent, and the connection
   * closes once the responses before it are sent, so the client sees those
   * whole and this one incomplete. What it handed over already still goes
   * if it was first in line (as node:http's socket has sent it), and none of
   * it if it was waiting behind another (node:http destroys the socket
   * before it writes).
   */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.cutShort = true;
    this.closes = true;
    this.sink.output(this, [], true);
    this.notifyFinish();
  }

  /**
   * For a request that asked to switch protocols and reached the server's
   * upgrade hook: answers "101 Switching Protocols" with these fields (plus
   * Connection: upgrade, and the request's Upgrade unless given) and returns
   * the tunnel the connection becomes.
   */
  upgrade(headers?: OutgoingFields): Tunnel {
    if (this.headersSent || this.finished) throw new Error("upgrade() needs a response whose head has not been sent");
    const tunnel = this.sink.switchProtocols(this);
    this.writeHead(101, headers);
    if (!this.hasHeader("upgrade")) this.setHeader("Upgrade", this.request.headers.get("upgrade") ?? "");
    this.setHeader("Connection", "Upgrade");
    this.end();
    return tunnel;
  }

  /** Forgets status and headers, to answer with an error instead (only before the head is sent). */
  reset(status: number): void {
    this.status = status;
    this.statusMessage = "";
    this.headers = NO_FIELDS;
  }

  /** The connection answers with an error in this response's place and closes after it. */
  fail(status: number, text: string): void {
    this.reset(status);
    this.closes = true;
    this.setHeader("Content-Type", "text/plain; charset=utf-8");
    this.end(text);
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
  private serialize(bodyLength: number, firstChunk = 0): number {
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
    const fields = dropConnection || lengths !== null || codings !== null
      ? fieldsToSend(headers, status === 101, keepLengths, honourCodings ? chunkedLast(codings!) : null)
      : headers;
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
