// What a handler answers with. The head is serialized by the wasm module into
// its output region; a string body given to end() is encoded right after it,
// so a whole small response leaves in one write.
import { FRAMING } from "simplenet-parser/abi";
import type { ParserInstance } from "simplenet-parser";
import { FileRegion, type OutputPart } from "./output-part.js";
import type { OutgoingFields } from "./response-fields.js";
import { ResponseHead, lengthMismatch, type HeadSink } from "./response-head.js";
import type { Tunnel } from "./tunnel.js";

export type { FlatFields, HeaderValue, OutgoingFields } from "./response-fields.js";

/** What a response writes through: its connection. */
export interface ResponseSink extends HeadSink {
  readonly parser: ParserInstance;
  /**
   * Makes the connection the owner of the output region (cork.ts) unless it
   * is already: true when it took it, to give back with releaseCork(). Only
   * the owner writes into the region.
   */
  holdCork(): boolean;
  /** Gives the cork back, sending what was written meanwhile; false when the kernel did not take all of it. */
  releaseCork(): boolean;
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

export class Response extends ResponseHead<ResponseSink> {
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

  drained(): Promise<void> {
    return this.sink.drained(this);
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

  /** The connection answers with an error in this response's place and closes after it. */
  fail(status: number, text: string): void {
    this.reset(status);
    this.closes = true;
    this.setHeader("Content-Type", "text/plain; charset=utf-8");
    this.end(text);
  }


}
