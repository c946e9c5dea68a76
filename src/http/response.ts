// What a handler answers with: its status, fields and lifecycle. The head
// is serialized by the wasm module into its output region (response-head.ts:
// the framing); a string body given to end() is encoded right after it
// (response-body.ts), so a whole small response leaves in one write.
import { FRAMING } from "simplenet-parser/abi";
import type { RequestHead } from "simplenet-parser";
import { FileRegion, type OutputPart } from "./output-part.js";
import type { Tunnel } from "./tunnel.js";
import {
  NO_FIELDS, addField, applyHeadFields, checkedReason, fieldValues, removeField, sameName, setField, type FlatFields, type HeaderValue, type OutgoingFields,
} from "./response-fields.js";
import type { OutgoingState, ResponseWriter } from "./response-head.js";
import { bodyBytes, cutShort, finish, finishWithFile, sendFramed, writePiece, type Body } from "./response-body.js";

/** What a response writes through: its connection. */
export interface ResponseSink extends ResponseWriter {
  output(res: Response, parts: OutputPart[], last: boolean): boolean;
  outputRegion(res: Response, start: number, end: number, last: boolean): boolean;
  /** Resolves when the bytes queued so far have been handed to the kernel. */
  drained(res: Response): Promise<void>;
  /** Closes the connection at once: the response cannot be completed. */
  destroy(): void;
  /** The connection becomes a tunnel once `res` (a 101) is sent; throws if `res` may not switch. */
  switchProtocols(res: Response): Tunnel;
}

export type { FlatFields, HeaderValue, OutgoingFields } from "./response-fields.js";
export type { Body } from "./response-body.js";

export class Response implements OutgoingState {
  status = 200;
  /** Reason phrase; empty means the standard one for the status. */
  statusMessage = "";
  headersSent = false;
  finished = false;
  /** When the request arrived (ms). */
  readonly startedAt: number;
  /** Body bytes handed to the connection (none for HEAD and bodiless statuses). */
  bytesWritten = 0;
  private finishListeners: (() => void)[] | null = null;
  /** @internal What response-head.ts reads and decides (see OutgoingState): the fields as set, the body's framing and declared length, whether no body goes out. */
  headers: [string, string][] = NO_FIELDS;
  framing: number = FRAMING.NONE;
  declaredLength = 0;
  bodyless = false;
  /** Finished by drop(): its connection is gone or gave up on it, so nothing more of it is sent. */
  private dropped = false;
  /** @internal Whether the connection closes after this response (closesConnection). */
  closes: boolean;
  /**
   * @internal Its place in the connection's response queue (response-queue.ts):
   * the next response in it; output kept while earlier responses are
   * unfinished (copies, and file regions it owns); whether end() came
   * meanwhile; whether it is in the queue; whether abort() cut it short (what
   * the queue kept for it is dropped, never sent).
   */
  queueNext: Response | null = null;
  queuePending: OutputPart[] | null = null;
  queueEnded = false;
  queued = false;
  cutShort = false;

  /**
   * startedAt: when the request arrived (ms); closeAfter: the connection
   * closes after this response whatever the handler does (Expect failures,
   * errors, timeouts).
   */
  constructor(readonly sink: ResponseSink, readonly request: RequestHead, startedAt = Date.now(), closeAfter = false) {
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
    setField(this, name, value);
    return this;
  }

  /** Adds values to the field. Throws a TypeError naming the field when its name or a value cannot be sent. */
  appendHeader(name: string, value: HeaderValue): this {
    for (const v of fieldValues(name, value)) addField(this, name, v);
    return this;
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
    removeField(this, name);
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
    return !this.finished && writePiece(this, bodyBytes(chunk));
  }

  /**
   * Finishes the response, with a last piece of body if given. Throws
   * ERR_HTTP_CONTENT_LENGTH_MISMATCH, sending none of `body`, when it would
   * take the body past the Content-Length the handler set; a body shorter
   * than that is sent and the connection closes after it, so the client sees
   * it cut short rather than reading the next response as its rest.
   */
  end(body?: Body): void {
    if (!this.finished) finish(this, body);
  }

  /**
   * Finishes the response with `length` bytes of the open file `fd` from
   * `offset` as its body, sent by sendfile(2) without passing through
   * JavaScript. The response takes `fd` and closes it, whatever happens.
   */
  sendFile(fd: number, offset: number, length: number): void {
    finishWithFile(this, new FileRegion(fd, offset, length));
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

  /** @internal */
  notifyFinish(): void {
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
    return !this.finished && sendFramed(this, parts, last, close);
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
    if (!this.finished) cutShort(this);
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
}
