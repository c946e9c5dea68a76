// A simplenet request as node:http's IncomingMessage: Node's own class, its
// fields set as node:http's parser sets them, and its body pushed from the
// simplenet request as the app reads it. Everything lives on the instance,
// so an app that swaps the prototype (Express) keeps it working.
import type { IncomingMessage } from "../../node-http/classes.js";
import type { Duplex } from "node:stream";
import type { Fields, Request } from "../index.js";
import { connectionReset } from "./socket.js";

/** The fields of node:http's IncomingMessage that its parser sets, outside its types. */
type NodeRequest = IncomingMessage & {
  _addHeaderLines(lines: string[], n: number): void;
  _consuming: boolean;
  _readableState: { readingMore: boolean };
  _dumped: boolean;
  _dump(): void;
  upgrade: boolean;
  [BODY]?: Request;
  [WAKE]?: (() => void) | null;
};

export type IncomingMessageClass = new (socket: never) => IncomingMessage;

/** The simplenet request whose body this message reads, until the body is pumped. */
const BODY = Symbol("simplenet request body");
/** Resumes the pump that waits for the reader to want more. */
const WAKE = Symbol("simplenet body wake");

/** node:http's rawHeaders: name, value, name, value, as sent. */
function flatFields(fields: Fields): string[] {
  const list: string[] = new Array(fields.length * 2);
  for (let i = 0; i < fields.length; i++) {
    list[2 * i] = fields.name(i);
    list[2 * i + 1] = fields.value(i);
  }
  return list;
}

/** The IncomingMessage for `request`, read through `socket`; a request without a body is complete once end() is called. */
export function incomingMessage(Incoming: IncomingMessageClass, socket: Duplex, request: Request, upgrade: boolean): IncomingMessage {
  const req = new Incoming(socket as never) as NodeRequest;
  const head = request.head;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = head.minorVersion;
  req.httpVersion = head.minorVersion === 1 ? "1.1" : "1.0";
  req.method = request.method;
  req.url = request.target;
  req.upgrade = upgrade;
  const lines = flatFields(request.headers);
  req._addHeaderLines(lines, lines.length);
  if (head.hasBody) {
    req[BODY] = request;
    req[WAKE] = null;
    req._read = readBody;
  }
  return req;
}

/** A request without a body is complete after its head, as node:http's parser pushes the end once the 'request' listeners return. */
export function endWithoutBody(req: IncomingMessage): void {
  req.complete = true;
  req.push(null);
}

/** IncomingMessage's _read for a request with a body: the first call starts the pump, later ones wake it. */
function readBody(this: NodeRequest): void {
  if (!this._consuming) {
    this._readableState.readingMore = false;
    this._consuming = true;
  }
  const wake = this[WAKE];
  if (wake != null) {
    this[WAKE] = null;
    return wake();
  }
  const request = this[BODY];
  if (request === undefined) return;
  this[BODY] = undefined;
  void pump(this, request);
}

/** Pushes the body's chunks as the reader takes them; a body that cannot be read to its end aborts the request, as a reset does in node:http. */
async function pump(req: NodeRequest, request: Request): Promise<void> {
  try {
    for await (const chunk of request) {
      if (req.destroyed) return;
      if (!req.push(chunk)) await new Promise<void>((resolve) => (req[WAKE] = resolve));
    }
  } catch {
    if (!req.destroyed) req.destroy(connectionReset());
    return;
  }
  if (req.destroyed) return;
  req.complete = true;
  const trailers = request.trailers;
  if (trailers !== null && trailers.length > 0) {
    const lines = flatFields(trailers);
    req._addHeaderLines(lines, lines.length);
  }
  req.push(null);
}
