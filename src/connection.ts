// One accepted socket: reads land in the parser's receive region and become
// requests for the handler. Its parts: the in-order response queue
// (response-queue.ts) and the outbox (outbox.ts), which writes through the
// loop's cork (cork.ts). This file reads, parses and decides when to close.
import { BodyError, BodyStream } from "./body.js";
import { RequestHead, RequestStream, type Fields, type ParseErrorInfo, type ParserInstance, type StreamHandlers } from "simplenet-parser";
import { Request } from "./request.js";
import { Response, dropFiles, type OutputPart, type ResponseSink } from "./response.js";
import { ResponseQueue, type QueueHost } from "./response-queue.js";
import { Outbox, type OutboxHost } from "./outbox.js";
import type { Cork } from "./cork.js";
import { Tunnel, type TunnelHost } from "./tunnel.js";
import { parseProxyHeader } from "./proxy.js";
import { Errno, K, close, getpeername, read, shutdown } from "./syscalls.js";
import type { EventLoop, Watcher } from "./loop.js";

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly loop: EventLoop;
  readonly parser: ParserInstance;
  readonly cork: Cork;
  readonly closing: boolean;
  /** Whether each connection begins with a PROXY protocol header. */
  readonly proxyProtocol: boolean;
  /** Whether requests that ask to switch protocols go to an upgrade hook (else their Upgrade is ignored). */
  readonly upgrades: boolean;
  /** Runs the handler, or the upgrade hook when `upgrade` is true. */
  dispatch(req: Request, res: Response, upgrade: boolean): void;
  /** An application callback threw where no response can take the blame. */
  reportError(error: unknown): void;
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
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
/** Tunnel reads land this far into the receive region: the bytes before are the tunnel's, to put a carried frame head in front. */
export const TUNNEL_HEADROOM = 16;

export class Connection implements Watcher, ResponseSink, StreamHandlers, QueueHost, OutboxHost, TunnelHost {
  readonly parser: ParserInstance;
  /** Last time bytes came in or a response finished (ms). */
  lastActivity = Date.now();
  /** When the head now arriving began (ms), or 0. */
  headStartedAt = 0;
  /** When the lingering close began (ms), or 0. */
  lingeringSince = 0;
  private readonly stream: RequestStream;
  private readonly responses: ResponseQueue;
  private readonly outbox: Outbox;
  private current: Request | null = null;
  private currentResponse: Response | null = null;
  private interest = READABLE;
  private readPaused = false;
  private peerEnded = false;
  /** No more requests are read: close once the responses in flight are sent. */
  private closeWhenDone = false;
  private closed = false;
  /** Reading the requests of one read: output is corked, and the read's time stands for now. */
  private batching = false;
  private requests = 0;
  /** Who the client is, once asked (see remote). */
  private peer: { address: string; port: number } | null = null;
  /** The bytes of a PROXY protocol header received so far, while one is awaited. */
  private proxyHeader: Uint8Array | null;
  /** At shutdown, when an idle connection that has not sent a request yet is closed (ms), or 0. */
  private graceUntil = 0;
  /** The response to a request that asked to switch protocols, while the upgrade hook decides. */
  private upgrading: Response | null = null;
  /** The bytes that followed that request's head: the new protocol's, if the switch happens. */
  private early: Uint8Array | null = null;
  /** After a 101: the connection carries another protocol's bytes. */
  private tunnel: Tunnel | null = null;
  /** Tunnel bytes written before the 101 left (it waits behind earlier responses). */
  private tunnelBacklog: Uint8Array[] = [];
  private tunnelBacklogBytes = 0;

  /** Watches fd; if the loop refuses it, fd is closed and the error thrown. */
  constructor(
    private readonly host: ConnectionHost,
    readonly fd: number,
  ) {
    this.parser = host.parser;
    this.proxyHeader = host.proxyProtocol ? new Uint8Array(0) : null;
    // The connection is the stream's handler itself: an idle connection should cost little.
    this.stream = new RequestStream(this.parser, this);
    this.responses = new ResponseQueue(this);
    this.outbox = new Outbox(this, host.cork);
    try {
      host.loop.add(fd, READABLE, this);
    } catch (error) {
      close(fd);
      throw error;
    }
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
    return this.responses.length === 0 && !this.stream.inMessage && !this.outbox.pending;
  }

  ready(events: number): void {
    // Reset, or both directions shut: nothing more can be sent or received.
    if (events & (K.EPOLLHUP | K.EPOLLERR)) return this.destroy();
    if (events & K.EPOLLOUT) this.outbox.flush();
    if (!this.closed && events & READABLE) this.onReadable();
  }

  // ---- reading -------------------------------------------------------------

  private onReadable(): void {
    // A handler of another connection's batch got here (server.close(), say):
    // the receive region holds that batch, so read once its parse returns.
    if (this.parser.parsing) return queueMicrotask(() => this.closed || this.onReadable());
    if (this.tunnel !== null) return this.onTunnelReadable(this.tunnel);
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
    const cork = this.host.cork;
    cork.take(this.outbox);
    this.batching = true;
    try {
      if (this.proxyHeader !== null) this.onProxyBytes(this.parser.bytes.subarray(stream.writeAt, stream.writeAt + n));
      else stream.commit(n);
    } finally {
      this.batching = false;
      cork.release(this.outbox);
    }
    this.maybeClose();
    if (!stream.inMessage && this.responses.length === 0) this.headStartedAt = 0;
  }

  /** After a 101: the bytes go to the tunnel, as a view of the receive region valid during the call. */
  private onTunnelReadable(tunnel: Tunnel): void {
    const { parser } = this;
    const at = parser.recv + TUNNEL_HEADROOM;
    const n = read(this.fd, parser.bytes, at, parser.recvCapacity - TUNNEL_HEADROOM);
    if (n < 0) {
      if (n !== EAGAIN) this.destroy();
      return;
    }
    if (n === 0) return this.onPeerEnd();
    this.lastActivity = Date.now();
    if (this.lingeringSince !== 0) return;
    parser.beginParse();
    this.batching = true;
    try {
      this.outbox.corked(() => tunnel.emitData(parser.bytes.subarray(at, at + n)));
    } catch (error) {
      this.host.reportError(error);
      this.destroy();
    } finally {
      this.batching = false;
      parser.endParse();
    }
    this.maybeClose();
  }

  /** Runs a tunnel callback; one that throws is reported and closes the connection. */
  private tunnelCall(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.host.reportError(error);
      this.destroy();
    }
  }

  /** ResponseSink: the upgrade hook's res.upgrade(). */
  switchProtocols(res: Response): Tunnel {
    if (res !== this.upgrading || this.closed) {
      throw new Error("upgrade() is only for a request that asked to switch protocols, in the server's upgrade hook");
    }
    this.upgrading = null;
    this.closeWhenDone = false; // the tunnel decides when the connection ends
    // The handshake's request and response are done with: an idle socket keeps neither.
    this.current = null;
    this.currentResponse = null;
    const tunnel = new Tunnel(this);
    this.tunnel = tunnel;
    const early = this.early;
    this.early = null;
    if (early !== null && early.length > 0) {
      // After the hook has returned and set ondata.
      queueMicrotask(() => this.closed || this.tunnelCall(() => tunnel.emitData(early)));
    }
    return tunnel;
  }

  // ---- TunnelHost: the connection is its tunnel's host, so an upgraded socket costs no more objects.

  tunnelSend(parts: Uint8Array[]): boolean {
    if (this.closed) return false;
    if (this.responses.length > 0) {
      for (const part of parts) {
        this.tunnelBacklog.push(part.slice());
        this.tunnelBacklogBytes += part.length;
      }
      return false;
    }
    return this.outbox.send(parts);
  }

  tunnelSendSoon(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.responses.length > 0) {
      this.tunnelSend([bytes]);
      return;
    }
    this.outbox.sendSoon(bytes);
  }

  get bufferedAmount(): number {
    return this.outbox.queuedBytes + this.tunnelBacklogBytes;
  }

  endTunnel(): void {
    this.closeWhenDone = true;
    this.maybeClose();
  }

  corkTunnel(fn: () => void): void {
    this.outbox.corked(fn);
  }

  place(n: number): Uint8Array | null {
    return this.host.cork.place(n);
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
    const res = new Response(this, head, this.lastActivity, head.expectUnsupported);
    const body = head.hasBody ? new BodyStream(() => this.onBodyRead(res), () => this.resumeReading()) : null;
    const req = new Request(head, body, this);
    this.responses.push(res);
    this.current = req;
    this.currentResponse = res;
    // Requests after one that closes the connection are not read (RFC 9112 §9.6).
    if (res.closesConnection || this.host.closing) this.closeWhenDone = true;
    if (this.responses.length >= MAX_IN_FLIGHT) this.pauseReading();
    if (head.expectUnsupported) return res.fail(417, "Expectation Failed\n");
    // "OPTIONS *" asks about the server, not about a resource: it is answered
    // here, as Go's net/http does, and never reaches the handler.
    if (head.method === "OPTIONS" && head.target === "*") return res.end();
    // RFC 9110 §7.8: a switch is asked by Upgrade with Connection: upgrade, in
    // HTTP/1.1; the bytes after the head are the new protocol's if the hook
    // switches. Without a hook, Upgrade is ignored and the request served.
    if (head.upgrade && this.host.upgrades && head.minorVersion === 1 && !head.hasBody && !this.closeWhenDone) {
      this.upgrading = res;
      this.early = this.stream.takeRest();
      this.closeWhenDone = true; // declined: the response is the last
      return this.host.dispatch(req, res, true);
    }
    this.host.dispatch(req, res, false);
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
    req.openBody?.end();
    this.current = null;
    this.currentResponse = null;
    if (this.closeWhenDone) this.stream.stop();
  }

  private onBodyRead(res: Response): void {
    // HTTP/1.0 clients do not know 100 Continue (RFC 9110 §10.1.1).
    if (!res.request.expectContinue || res.request.minorVersion === 0 || res.headersSent || res.finished) return;
    this.responses.sendInOrder(res, CONTINUE);
  }

  /** StreamHandlers: the bytes are not HTTP; answer the error and close. */
  error(error: ParseErrorInfo): void {
    const inBody = this.currentResponse;
    this.current?.openBody?.fail(new BodyError(error.reason));
    this.stopReadingRequests();
    // The fault is in the body of a request the handler has: the error
    // answers that request, and whatever the handler does next is ignored.
    let res = inBody;
    if (res === null || res.headersSent || res.finished) {
      res = new Response(this, RequestHead.unparsed(), Date.now(), true);
      this.responses.push(res);
    }
    res.fail(error.status, `${error.reason}\n`);
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    const tunnel = this.tunnel;
    if (tunnel !== null && this.lingeringSince === 0) {
      this.updateInterest();
      this.tunnelCall(() => tunnel.emitEnd());
      return this.maybeClose();
    }
    if (this.lingeringSince !== 0 || this.responses.length === 0) return this.destroy();
    // The client half-closed: finish the responses it is waiting for, then
    // close. A body cut short is the client's fault: 400, if nothing was sent.
    const res = this.currentResponse;
    if (res !== null && !res.headersSent && !res.finished && !this.current!.body.complete) {
      res.fail(400, "Request body cut short\n");
    }
    this.current?.openBody?.fail(new BodyError("connection ended before the end of the request body"));
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

  // ---- writing: ResponseSink, QueueHost, OutboxHost ------------------------

  get headAt(): number {
    return this.host.cork.headAt;
  }

  serializeHead(
    status: number, reason: string, fields: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number,
  ): number {
    // One clock reading per batch: the read's time stands for now.
    const now = this.batching ? this.lastActivity : Date.now();
    return this.host.cork.serializeHead(status, reason, fields, framing, contentLength, flags, Math.floor(now / 1000));
  }

  output(res: Response, parts: OutputPart[], last: boolean): boolean {
    if (this.closed) {
      dropFiles(parts);
      return false;
    }
    return this.responses.output(res, parts, last);
  }

  /** Resolves once `res` is first in line (or finished) and nothing is queued; rejects if the connection closes first. */
  drained(res: Response): Promise<void> {
    return this.outbox.whenDrained(() => this.responses.oldest === res || res.finished);
  }

  send(parts: OutputPart[]): boolean {
    return this.outbox.send(parts);
  }

  closingResponseSent(): void {
    this.stopReadingRequests();
    this.responses.discardAll();
  }

  responseEnded(): void {
    this.lastActivity = Date.now();
    if (this.tunnel !== null && this.responses.length === 0 && this.tunnelBacklog.length > 0) {
      this.tunnelBacklogBytes = 0;
      this.outbox.send(this.tunnelBacklog.splice(0));
    }
    this.outbox.wake();
    this.resumeReading();
    this.maybeClose();
  }

  /** OutboxHost: everything queued went out. */
  drainedAll(): void {
    const tunnel = this.tunnel;
    if (tunnel !== null && !this.closeWhenDone) this.tunnelCall(() => tunnel.emitDrain());
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.batching) return; // onReadable comes back here
    if (this.closed || !this.closeWhenDone || this.responses.length > 0 || this.outbox.pending) return;
    if (this.lingeringSince !== 0) return;
    if (this.peerEnded) return this.destroy();
    // Lingering close (RFC 9112 §9.6): stop sending, then read and drop what
    // the client still sends, so it gets our response rather than a reset.
    shutdown(this.fd, K.SHUT_WR);
    this.lingeringSince = Date.now();
    this.readPaused = false;
    this.updateInterest();
  }

  updateInterest(): void {
    if (this.closed) return;
    let interest = this.readPaused || this.peerEnded ? 0 : READABLE;
    if (this.outbox.pending) interest |= K.EPOLLOUT;
    if (interest !== this.interest) {
      this.interest = interest;
      this.host.loop.modify(this.fd, interest);
    }
  }

  // ---- timeouts and closing ------------------------------------------------

  /** Called once a second by the server with its timeouts. */
  sweep(now: number, timeouts: { headers: number; request: number; keepAlive: number }): void {
    const oldest = this.responses.oldest;
    if (this.tunnel !== null && this.lingeringSince === 0) return; // the tunnel's protocol keeps its own time
    if (this.lingeringSince !== 0) {
      if (now - this.lingeringSince > LINGER_MS) this.destroy();
    } else if (this.headStartedAt !== 0 && now - this.headStartedAt > timeouts.headers) {
      this.timeOut();
    } else if (oldest !== undefined && now - oldest.startedAt > timeouts.request) {
      this.timeOut();
    } else if (this.idle && (now - this.lastActivity > timeouts.keepAlive || (this.graceUntil !== 0 && now > this.graceUntil))) {
      this.destroy();
    }
  }

  private timeOut(): void {
    const oldest = this.responses.oldest;
    if (oldest !== undefined && oldest.headersSent) return this.destroy();
    this.current?.openBody?.fail(new BodyError("request timed out"));
    this.headStartedAt = 0;
    this.stopReadingRequests();
    // Answer 408 in the oldest unanswered slot; later ones are dropped.
    this.responses.discardAll();
    const res = new Response(this, RequestHead.unparsed(), Date.now(), true);
    this.responses.push(res);
    res.fail(408, "Request Timeout\n");
  }

  /** Closes the descriptor now (once), failing whatever is in flight. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.loop.remove(this.fd);
    close(this.fd);
    this.stream.stop();
    this.current?.openBody?.fail(new BodyError("connection closed"));
    this.responses.discardAll();
    this.outbox.close();
    this.early = null;
    this.tunnelBacklog = [];
    this.tunnelBacklogBytes = 0;
    const tunnel = this.tunnel;
    if (tunnel !== null) this.tunnelCall(() => tunnel.markClosed());
    this.host.forget(this);
  }

  /**
   * Server shutdown: close after the responses in flight. An idle connection
   * is read once more first, since its next request may be on the way; one
   * that has not sent a request yet gets a moment to send it. Either way the
   * request is answered with "Connection: close".
   */
  shutdown(): void {
    if (this.parser.parsing) return void queueMicrotask(() => this.closed || this.shutdown());
    const tunnel = this.tunnel;
    if (tunnel !== null) return this.tunnelCall(() => tunnel.emitShutdown());
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
