// One accepted socket: reads land in the parser's receive region, requests go
// to the handler, responses leave strictly in request order.
import { BodyError, BodyStream } from "./body.js";
import { RequestHead, RequestStream, type ParseErrorInfo, type ParserInstance, type StreamHandlers } from "./parser.js";
import type { Fields } from "./fields.js";
import { Request } from "./request.js";
import { FileRegion, Response, dropFiles, type OutputPart, type ResponseSink } from "./response.js";
import { parseProxyHeader } from "./proxy.js";
import { Errno, K, close, getpeername, read, sendfile, shutdown, write, writev } from "./syscalls.js";
import type { EventLoop, Watcher } from "./loop.js";

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly loop: EventLoop;
  readonly parser: ParserInstance;
  readonly closing: boolean;
  /** Whether each connection begins with a PROXY protocol header. */
  readonly proxyProtocol: boolean;
  dispatch(req: Request, res: Response): void;
  forget(conn: Connection): void;
}

const EAGAIN = -Errno.EAGAIN;
const READABLE = K.EPOLLIN | K.EPOLLRDHUP;
/** Most responses in flight on one connection before it stops reading (pipelining). */
const MAX_IN_FLIGHT = 64;
/** Unread request body bytes at which the connection stops reading. */
const BODY_HIGH_WATER = 1 << 20;
const LINGER_MS = 2000;
/** At server shutdown, how long a connection that has sent nothing yet may still send its request. */
const SHUTDOWN_GRACE_MS = 1000;
/** File bytes sent per wake-up, so one large file cannot starve the other connections. */
const SENDFILE_BUDGET = 1 << 20;
/** Most parts one batched write carries (the shim's writev takes 64). */
const MAX_CORKED_PARTS = 60;
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

export class Connection implements Watcher, ResponseSink, StreamHandlers {
  readonly parser: ParserInstance;
  /** Last time bytes came in or a response finished (ms). */
  lastActivity = Date.now();
  /** When the head now arriving began (ms), or 0. */
  headStartedAt = 0;
  /** When the lingering close began (ms), or 0. */
  lingeringSince = 0;
  private readonly stream: RequestStream;
  private responses: Response[] = [];
  private current: Request | null = null;
  private currentResponse: Response | null = null;
  /** What the kernel has not taken yet, in order; byte parts here are copies. */
  private outQueue: OutputPart[] = [];
  private drainWaiters: { res: Response; wake: () => void; fail: (error: Error) => void }[] = [];
  private interest = READABLE;
  private readPaused = false;
  private peerEnded = false;
  /** No more requests are read: close once the responses in flight are sent. */
  private closeWhenDone = false;
  private closed = false;
  private requests = 0;
  /** Who the client is, once asked (see remote). */
  private peer: { address: string; port: number } | null = null;
  /** The bytes of a PROXY protocol header received so far, while one is awaited. */
  private proxyHeader: Uint8Array | null;
  /** At shutdown, when an idle connection that has not sent a request yet is closed (ms), or 0. */
  private graceUntil = 0;
  /**
   * While the requests of one read are handled: the output they produce,
   * sent together in one write afterwards. Heads serialized meanwhile stay in
   * the output region, each after the last (ParserInstance.outUsed).
   */
  private cork: OutputPart[] | null = null;

  constructor(
    private readonly host: ConnectionHost,
    readonly fd: number,
  ) {
    this.parser = host.parser;
    this.proxyHeader = host.proxyProtocol ? new Uint8Array(0) : null;
    // The connection is the stream's handler itself: an idle connection should cost little.
    this.stream = new RequestStream(this.parser, this);
    host.loop.add(fd, READABLE, this);
  }

  /** While the requests of one read are handled, the time of that read: one clock reading per batch. */
  now(): number {
    return this.cork !== null ? this.lastActivity : Date.now();
  }

  /** The client: who a PROXY header said it is, or the socket's peer (looked up when first asked). */
  get remote(): { address: string; port: number } {
    if (this.peer === null) {
      const peer = this.closed ? -1 : getpeername(this.fd);
      this.peer = typeof peer === "number" ? { address: "", port: 0 } : { address: peer[1], port: peer[2] };
    }
    return this.peer;
  }

  get closing(): boolean {
    return this.host.closing;
  }

  /** Idle: nothing in flight, nothing half-read, nothing left to send. */
  get idle(): boolean {
    return this.responses.length === 0 && !this.stream.inMessage && this.outQueue.length === 0;
  }

  ready(events: number): void {
    // Reset, or both directions shut: nothing more can be sent or received.
    if (events & (K.EPOLLHUP | K.EPOLLERR)) return this.destroy();
    if (events & K.EPOLLOUT) this.flush();
    if (!this.closed && events & READABLE) this.onReadable();
  }

  // ---- reading -------------------------------------------------------------

  private onReadable(): void {
    const stream = this.stream;
    const room = stream.prepare();
    const n = read(this.fd, this.parser.bytes, stream.writeAt, room);
    if (n < 0) {
      if (n !== EAGAIN) this.destroy();
      return;
    }
    if (n === 0) return this.onPeerEnd();
    this.lastActivity = Date.now();
    if (this.lingeringSince !== 0) return; // discarding what arrives after our close
    if (!stream.inMessage && this.headStartedAt === 0) this.headStartedAt = this.lastActivity;
    this.cork = [];
    if (this.proxyHeader !== null) this.onProxyBytes(this.parser.bytes.subarray(stream.writeAt, stream.writeAt + n));
    else stream.commit(n);
    this.uncork();
    if (!stream.inMessage && this.responses.length === 0) this.headStartedAt = 0;
  }

  /** Sends what the requests of this read produced, in one write. */
  private uncork(): void {
    const parts = this.cork;
    this.cork = null;
    if (parts !== null && parts.length > 0) this.send(coalesce(parts as Uint8Array[]));
    this.parser.outUsed = 0;
    this.maybeClose();
  }

  /** Before the first request: the PROXY header (v1 or v2) names the real client. */
  private onProxyBytes(fresh: Uint8Array): void {
    const bytes = new Uint8Array(this.proxyHeader!.length + fresh.length);
    bytes.set(this.proxyHeader!);
    bytes.set(fresh, this.proxyHeader!.length);
    const result = parseProxyHeader(bytes, 0, bytes.length);
    if (result === "incomplete") {
      this.proxyHeader = bytes;
      return;
    }
    // Not from the proxy we were told to expect: drop it (the protocol's rule).
    if (result instanceof Error) return this.destroy();
    this.proxyHeader = null;
    if (result.source !== null) this.peer = result.source;
    if (result.consumed < bytes.length) this.stream.push(bytes.subarray(result.consumed));
  }

  /** StreamHandlers: a request head has arrived. */
  head(head: RequestHead): void {
    this.headStartedAt = 0;
    this.requests++;
    const res = new Response(this, head, this.lastActivity);
    const body = head.hasBody ? new BodyStream(() => this.onBodyRead(res), () => this.resumeReading()) : BodyStream.empty();
    const req = new Request(head, body, this);
    this.responses.push(res);
    this.current = req;
    this.currentResponse = res;
    if (head.expectUnsupported) res.closeAfter = true;
    // Requests after one that closes the connection are not read (RFC 9112 §9.6).
    if (res.closeAfter || this.host.closing) this.closeWhenDone = true;
    if (this.responses.length >= MAX_IN_FLIGHT) this.pauseReading();
    if (head.expectUnsupported) {
      res.reset(417);
      res.end("Expectation Failed\n");
      return;
    }
    // "OPTIONS *" asks about the server, not about a resource: it is answered
    // here, as Go's net/http does, and never reaches the handler.
    if (head.method === "OPTIONS" && head.target === "*") return res.end();
    this.host.dispatch(req, res);
  }

  /** StreamHandlers: a piece of the current request's body. */
  data(chunk: Uint8Array): void {
    const req = this.current!;
    if (this.currentResponse!.finished && !req.body.complete) return; // answered already: discard
    req.body.push(Buffer.from(chunk));
    if (req.body.buffered > BODY_HIGH_WATER) this.pauseReading();
  }

  /** StreamHandlers: the current request's body has ended. */
  end(trailers: Fields | null): void {
    const req = this.current!;
    req.trailers = trailers;
    req.body.end();
    this.current = null;
    this.currentResponse = null;
    if (this.closeWhenDone) this.stream.stop();
  }

  private onBodyRead(res: Response): void {
    // HTTP/1.0 clients do not know 100 Continue (RFC 9110 §10.1.1).
    if (!res.request.expectContinue || res.request.minorVersion === 0 || res.headersSent || res.finished) return;
    if (this.responses[0] === res) this.send([CONTINUE]);
    else res.pending.push(CONTINUE);
  }

  /** StreamHandlers: the bytes are not HTTP; answer the error and close. */
  error(error: ParseErrorInfo): void {
    const inBody = this.currentResponse;
    this.current?.body.fail(new BodyError(error.reason));
    this.stopReadingRequests();
    let res: Response;
    if (inBody !== null && !inBody.headersSent && !inBody.finished) {
      // The fault is in the body of a request the handler has: the error
      // answers that request, and whatever the handler does next is ignored.
      res = inBody;
      res.reset(error.status);
    } else {
      res = new Response(this, RequestHead.unparsed());
      res.status = error.status;
      this.responses.push(res);
    }
    res.closeAfter = true;
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.end(`${error.reason}\n`);
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    if (this.lingeringSince !== 0 || this.responses.length === 0) return this.destroy();
    // The client half-closed: finish the responses it is waiting for, then close.
    this.current?.body.fail(new BodyError("connection ended before the request body"));
    this.stopReadingRequests();
    this.updateInterest();
  }

  private stopReadingRequests(): void {
    this.closeWhenDone = true;
    this.stream.stop();
  }

  private pauseReading(): void {
    this.readPaused = true;
    this.updateInterest();
  }

  private resumeReading(): void {
    if (!this.readPaused || this.closed) return;
    if (this.responses.length >= MAX_IN_FLIGHT) return;
    if (this.current !== null && this.current.body.buffered > BODY_HIGH_WATER) return;
    this.readPaused = false;
    this.updateInterest();
  }

  // ---- writing -------------------------------------------------------------

  output(res: Response, parts: OutputPart[], last: boolean): boolean {
    if (this.closed) {
      dropFiles(parts);
      return false;
    }
    if (this.responses[0] !== res) {
      for (const part of parts) if (part instanceof FileRegion || part.length > 0) res.pending.push(copy(part));
      if (last) res.pendingEnd = true;
      return false;
    }
    const sent = this.send(parts);
    if (last && !this.closed) this.finishOldest(); // a failed send has closed the connection already
    return sent;
  }

  /** Resolves once `res` is first in line and the queue is empty; rejects if the connection closes first. */
  drained(res: Response): Promise<void> {
    if (this.closed) return Promise.reject(new Error("connection closed"));
    if (this.outQueue.length === 0 && this.responses[0] === res) return Promise.resolve();
    return new Promise((wake, fail) => this.drainWaiters.push({ res, wake, fail }));
  }

  /** Writes now what the kernel takes and queues the rest (copying bytes, which are only lent). */
  private send(parts: OutputPart[]): boolean {
    if (this.closed) {
      dropFiles(parts);
      return false;
    }
    if (this.cork !== null) {
      if (this.corked(parts)) return true;
      this.uncork(); // a file, or the batch is full: what is corked goes first
      this.cork = [];
    }
    if (this.outQueue.length > 0) {
      for (const part of parts) if (part instanceof FileRegion || part.length > 0) this.outQueue.push(copy(part));
      return false;
    }
    for (const part of parts) if (part instanceof FileRegion) return this.sendWithFiles(parts);
    const bytes = parts as Uint8Array[];
    let total = 0;
    for (const part of bytes) total += part.length;
    if (total === 0) return true;
    let n = bytes.length === 1 ? write(this.fd, bytes[0], 0, total) : writev(this.fd, bytes);
    if (n === total) return true;
    if (n < 0) {
      if (n !== EAGAIN) {
        this.destroy();
        return false;
      }
      n = 0;
    }
    for (const part of bytes) {
      if (n >= part.length) {
        n -= part.length;
        continue;
      }
      this.outQueue.push(part.slice(n));
      n = 0;
    }
    this.updateInterest();
    return false;
  }

  /**
   * Adds byte parts to the cork, keeping the output region's bytes they use
   * for them; false for a file or when the batch is full.
   */
  private corked(parts: OutputPart[]): boolean {
    const cork = this.cork!;
    const parser = this.parser;
    if (cork.length + parts.length > MAX_CORKED_PARTS) return false;
    for (const part of parts) if (part instanceof FileRegion) return false;
    for (const part of parts as Uint8Array[]) {
      if (part.length === 0) continue;
      cork.push(part);
      const offset = part.byteOffset - parser.out;
      if (part.buffer === parser.bytes.buffer && offset >= 0 && offset < parser.outCapacity) {
        parser.outUsed = Math.max(parser.outUsed, offset + part.length);
      }
    }
    // Keep room in the output region for the next response's head and body.
    if (parser.outUsed > parser.outCapacity >> 1) {
      this.uncork();
      this.cork = [];
    }
    return true;
  }

  /** The queue is empty: send through it, then keep copies of the bytes it still holds. */
  private sendWithFiles(parts: OutputPart[]): boolean {
    for (const part of parts) if (part instanceof FileRegion || part.length > 0) this.outQueue.push(part);
    this.flush();
    const queue = this.outQueue;
    for (let i = 0; i < queue.length; i++) queue[i] = copy(queue[i]);
    this.updateInterest();
    return queue.length === 0;
  }

  /** Sends what is queued, until the kernel refuses more or this wake-up's file budget is spent. */
  private flush(): void {
    const queue = this.outQueue;
    let budget = SENDFILE_BUDGET;
    while (queue.length > 0) {
      const first = queue[0];
      if (first instanceof FileRegion) {
        if (budget <= 0) return; // EPOLLOUT stays on: the rest goes on the next wake-up
        const n = sendfile(this.fd, first.fd, first.offset, Math.min(first.remaining, budget));
        if (n === EAGAIN) return;
        // An error, or the file shrank under us: the promised length cannot be kept.
        if (n <= 0) return this.destroy();
        budget -= n;
        first.offset += n;
        first.remaining -= n;
        if (first.remaining === 0) {
          queue.shift();
          first.close();
        }
        continue;
      }
      let count = 0;
      while (count < queue.length && count < 64 && !(queue[count] instanceof FileRegion)) count++;
      const batch = queue.slice(0, count) as Uint8Array[];
      let n = writev(this.fd, batch);
      if (n < 0) {
        if (n !== EAGAIN) this.destroy();
        return;
      }
      let done = 0;
      while (done < batch.length && n >= batch[done].length) n -= batch[done++].length;
      queue.splice(0, done);
      if (n > 0) {
        queue[0] = batch[done].subarray(n);
        return;
      }
      if (done < batch.length) return; // the kernel's buffer is full again
    }
    this.updateInterest();
    this.wakeDrained();
    this.maybeClose();
  }

  /** Resolves the drained() promises of responses that may write again: first in line (or gone) with nothing queued. */
  private wakeDrained(): void {
    if (this.outQueue.length > 0 || this.drainWaiters.length === 0) return;
    const first = this.responses[0];
    const waiting = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiting) {
      if (waiter.res === first || waiter.res.finished) waiter.wake();
      else this.drainWaiters.push(waiter);
    }
  }

  /** The oldest response has ended: let the next one's buffered output go. */
  private finishOldest(): void {
    const done = this.responses.shift()!;
    this.lastActivity = Date.now();
    if (done.closeAfter) this.afterClosingResponse();
    // Its request body may still be arriving; nobody will read it now.
    while (this.responses.length > 0 && !this.closed) {
      const next = this.responses[0];
      if (next.pending.length > 0) this.send(next.pending.splice(0));
      if (!next.pendingEnd) break;
      this.responses.shift();
      if (next.closeAfter) this.afterClosingResponse();
    }
    // A fresh array for the next request: an idle connection keeps no grown one.
    if (this.responses.length === 0) this.responses = [];
    this.wakeDrained();
    this.resumeReading();
    this.maybeClose();
  }

  /**
   * A response that closes the connection has been sent: it is the last one
   * (RFC 9112 §9.6), so the requests pipelined after it go unanswered.
   */
  private afterClosingResponse(): void {
    this.stopReadingRequests();
    for (const res of this.responses.splice(0)) discard(res);
  }

  private maybeClose(): void {
    if (this.cork !== null) return; // uncork() comes back here
    if (this.closed || !this.closeWhenDone || this.responses.length > 0 || this.outQueue.length > 0) return;
    if (this.lingeringSince !== 0) return;
    if (this.peerEnded) return this.destroy();
    // Lingering close (RFC 9112 §9.6): stop sending, then read and drop what
    // the client still sends, so it gets our response rather than a reset.
    shutdown(this.fd, K.SHUT_WR);
    this.lingeringSince = Date.now();
    this.readPaused = false;
    this.updateInterest();
  }

  private updateInterest(): void {
    if (this.closed) return;
    let interest = this.readPaused || this.peerEnded ? 0 : READABLE;
    if (this.outQueue.length > 0) interest |= K.EPOLLOUT;
    if (interest !== this.interest) {
      this.interest = interest;
      this.host.loop.modify(this.fd, interest);
    }
  }

  /** Called once a second by the server with its timeouts. */
  sweep(now: number, timeouts: { headers: number; request: number; keepAlive: number }): void {
    if (this.lingeringSince !== 0) {
      if (now - this.lingeringSince > LINGER_MS) this.destroy();
    } else if (this.headStartedAt !== 0 && now - this.headStartedAt > timeouts.headers) {
      this.timeOut();
    } else if (this.responses.length > 0 && now - this.responses[0].startedAt > timeouts.request) {
      this.timeOut();
    } else if (this.idle && (now - this.lastActivity > timeouts.keepAlive || (this.graceUntil !== 0 && now > this.graceUntil))) {
      this.destroy();
    }
  }

  private timeOut(): void {
    const oldest = this.responses[0];
    if (oldest !== undefined && oldest.headersSent) return this.destroy();
    this.current?.body.fail(new BodyError("request timed out"));
    this.headStartedAt = 0;
    this.stopReadingRequests();
    // Answer 408 in the oldest unanswered slot; later ones are dropped.
    for (const res of this.responses.splice(0)) discard(res);
    const res = new Response(this, RequestHead.unparsed());
    res.closeAfter = true;
    res.status = 408;
    this.responses.push(res);
    res.end("Request Timeout\n");
  }

  /** Closes the descriptor now (once), failing whatever is in flight. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.cork !== null) {
      this.cork = null;
      this.parser.outUsed = 0;
    }
    this.host.loop.remove(this.fd);
    close(this.fd);
    this.stream.stop();
    this.current?.body.fail(new BodyError("connection closed"));
    for (const res of this.responses.splice(0)) discard(res);
    dropFiles(this.outQueue);
    this.outQueue = [];
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter.fail(new Error("connection closed"));
    this.host.forget(this);
  }

  /**
   * Server shutdown: close after the responses in flight. An idle connection
   * is read once more first, since its next request may be on the way; one
   * that has not sent a request yet gets a moment to send it. Either way the
   * request is answered with "Connection: close".
   */
  shutdown(): void {
    if (this.idle) this.onReadable();
    if (this.closed) return;
    if (!this.idle) {
      this.closeWhenDone = true;
      if (!this.stream.inMessage) this.stream.stop(); // a request still arriving is read to its end
      return this.maybeClose();
    }
    if (this.requests > 0) return this.destroy();
    this.graceUntil = Date.now() + SHUTDOWN_GRACE_MS;
  }
}

/** Joins parts that lie back to back in one buffer (heads and bodies in the output region) into one view. */
function coalesce(parts: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < parts.length; ) {
    const first = parts[i];
    let end = first.byteOffset + first.length;
    let j = i + 1;
    while (j < parts.length && parts[j].buffer === first.buffer && parts[j].byteOffset === end) end += parts[j++].length;
    out.push(j === i + 1 ? first : new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset));
    i = j;
  }
  return out;
}

function copy(part: OutputPart): OutputPart {
  return part instanceof FileRegion ? part : part.slice();
}

/** Gives up on a response: its queued output is never sent. */
function discard(res: Response): void {
  dropFiles(res.pending);
  res.pending.length = 0;
  res.drop();
}
