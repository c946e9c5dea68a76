// One accepted socket: reads land in the parser's receive region and become
// requests for the handler. Its parts: the in-order response queue
// (response-queue.ts) and the outbox (outbox.ts), which writes through the
// loop's cork (cork.ts). This file reads, parses and decides when to close.
import { BodyError, BodyStream } from "./body.js";
import { RequestHead, RequestStream, type Fields, type ParseErrorInfo, type ParserInstance, type StreamHandlers } from "simplenet-parser";
import {
  ConnectionState, Extras, INTEREST, READABLE, CLOSE_WHEN_DONE, CLOSED, BATCHING, SERVED, STOPPED, CLIENT_CLOSES,
  UNREAD, CORK_HELD, clock, clockAt, since,
} from "./connection-state.js";
import type { BusyState, StatePool } from "./state-pool.js";
import { Request } from "./request.js";
import { FileRegion, Response, dropFiles, type OutputPart, type ResponseSink } from "./response.js";
import type { QueueHost } from "./response-queue.js";
import type { OutboxHost } from "./outbox.js";
import type { Cork } from "./cork.js";
import { Tunnel, type TunnelHost } from "./tunnel.js";
import { parseProxyHeader } from "../socket/proxy.js";
import { Errno, K, close, getpeername, read, shutdown } from "../socket/syscalls.js";
import type { EventLoop, Watcher } from "../socket/loop.js";

/** The server's deadlines, ms (see Timeouts in server.ts); bodyMinRate in bytes per second. */
export interface Deadlines {
  headers: number;
  body: number;
  bodyMinRate: number;
  request: number;
  write: number;
  keepAlive: number;
}

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
  /** The request streams and busy states connections borrow. */
  readonly pool: StatePool;
  /** Told of every response once it has finished, the server's own answers included (serve()'s onResponse), or null. */
  readonly onResponse: ((res: Response) => void) | null;
}

const EAGAIN = -Errno.EAGAIN;
/** Most responses in flight on one connection before it stops reading (pipelining). */
const MAX_IN_FLIGHT = 64;
/** Unread request body bytes at which the connection stops reading. */
const BODY_HIGH_WATER = 1 << 20;
/**
 * Bytes held for one connection (unsent output, output kept behind an
 * unfinished response, unread body) past which its requests wait undispatched
 * and its reading pauses, until the backlog is back under LOW_WATER: the
 * 64-in-flight rule alone bounds requests, not bytes.
 */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;
const LINGER_MS = 2000;
/** At server shutdown, how long a connection that has sent nothing yet may still send its request. */
const SHUTDOWN_GRACE_MS = 1000;
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
/** Tunnel reads land this far into the receive region: the bytes before are the tunnel's, to put a carried frame head in front. */
export const TUNNEL_HEADROOM = 16;

/** Bytes of memory that output parts lend (a file region lends a descriptor). */
function lentBytes(parts: readonly OutputPart[]): number {
  let n = 0;
  for (const part of parts) if (!(part instanceof FileRegion)) n += part.length;
  return n;
}

/** Where a closing connection's last look at its socket reads to. */
const PROBE = new Uint8Array(64);

export class Connection extends ConnectionState implements Watcher, ResponseSink, StreamHandlers, QueueHost, OutboxHost, TunnelHost {
  /** Watches fd; if the loop refuses it, fd is closed and the error thrown. */
  constructor(
    private readonly host: ConnectionHost,
    readonly fd: number,
  ) {
    super();
    if (host.proxyProtocol) this.proxyHeader = new Uint8Array(0);
    try {
      host.loop.add(fd, READABLE, this);
    } catch (error) {
      close(fd);
      throw error;
    }
  }

  protected takeBusyState(): BusyState {
    return this.host.pool.takeBusyState(this);
  }

  /** At rest (nothing in flight, half-read, queued or awaited, and not closing): the busy state goes back to the pool. */
  private rest(): void {
    const a = this.busyState;
    if (a === null || this.flags & (CLOSED | CLOSE_WHEN_DONE | BATCHING | STOPPED)) return;
    if (a.tunnel !== null || a.stream !== null || a.current !== null || a.currentResponse !== null || a.headStartedAt !== 0) return;
    if (a.responses.length !== 0 || !a.outbox.atRest || a.deferred !== null) return;
    this.busyState = null;
    this.host.pool.giveBusyState(a);
  }

  get parser(): ParserInstance {
    return this.host.parser;
  }

  /** Whether a request's head or body is partly read. */
  private get inMessage(): boolean {
    return this.stream !== null && this.stream.inMessage;
  }

  /** The stream this connection parses with: borrowed from the pool (stopped at once if requests are no longer read). */
  private borrowStream(): RequestStream {
    const stream = this.host.pool.take();
    if (this.flags & STOPPED) stream.stop();
    this.stream = stream;
    return stream;
  }

  /** Between messages the stream goes back to the pool; a stopped one is kept (it parses nothing more). */
  private returnStream(): void {
    const stream = this.stream;
    if (stream === null || stream.inMessage || stream.stopped) return;
    this.stream = null;
    this.host.pool.give(stream);
  }

  /** No more requests are parsed on this connection. */
  private stopStream(): void {
    this.flags |= STOPPED;
    this.stream?.stop();
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
    return this.inFlight === 0 && !this.inMessage && !this.sending;
  }

  ready(events: number): void {
    // Reset, or both directions shut: nothing more can be sent or received.
    if (events & (K.EPOLLHUP | K.EPOLLERR)) return this.destroy();
    if (events & K.EPOLLOUT && this.busyState !== null) {
      this.busyState.writeSince = clock(); // the client took bytes: its write deadline starts again
      this.busyState.outbox.flush();
    }
    if (!this.closed && events & READABLE) this.onReadable();
  }

  // ---- reading -------------------------------------------------------------

  private onReadable(): void {
    // A handler of another connection's batch got here (server.close(), say):
    // the receive region holds that batch, so read once its parse returns.
    if (this.parser.parsing) return queueMicrotask(() => this.closed || this.onReadable());
    if (this.tunnel !== null) return this.onTunnelReadable(this.tunnel);
    const stream = this.stream ?? this.borrowStream();
    const room = stream.prepare();
    const n = read(this.fd, this.host.cork.memory, stream.writeAt, room);
    if (n <= 0) {
      this.returnStream();
      if (n === 0) return this.onPeerEnd();
      if (n !== EAGAIN) return this.destroy();
      return this.rest();
    }
    const now = Date.now();
    this.lastActivity = clockAt(now);
    if (this.lingeringSince !== 0) return; // discarding what arrives after our close
    const cork = this.host.cork;
    cork.take(this.outbox);
    this.flags |= BATCHING;
    const pool = this.host.pool;
    pool.reader = this;
    pool.readAt = now;
    try {
      if (this.proxyHeader !== null) {
        this.onProxyBytes(this.parser.bytes.subarray(stream.writeAt, stream.writeAt + n));
      } else {
        const input = stream.writeAt - this.parser.recv + n;
        const before = stream.position;
        stream.commit(n);
        if (stream.stopped && stream.position - before < input) this.flags |= UNREAD;
      }
    } finally {
      this.flags &= ~BATCHING;
      cork.release(this.outbox);
      if (this.busyState !== null) this.busyState.corkedBytes = 0;
    }
    this.returnStream();
    if (this.heldBytes > HIGH_WATER) this.pauseReading();
    this.maybeClose();
    // A head left half-read is timed from this read, also when it began
    // after the requests this read completed (Go's ReadHeaderTimeout).
    if (this.current === null && this.inMessage) {
      if (this.headStartedAt === 0) this.headStartedAt = this.lastActivity;
    } else {
      this.headStartedAt = 0;
    }
    this.rest();
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
    const now = Date.now();
    this.lastActivity = clockAt(now);
    this.host.pool.readAt = now;
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
    // Its request stream (stopped by takeRest) is done with.
    this.flags |= STOPPED;
    this.stream = null;
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
      const extras = (this.extras ??= new Extras());
      for (const part of parts) {
        extras.tunnelBacklog.push(part.slice());
        extras.tunnelBacklogBytes += part.length;
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
    return (this.busyState === null ? 0 : this.busyState.outbox.queuedBytes) + (this.extras === null ? 0 : this.extras.tunnelBacklogBytes);
  }

  endTunnel(): void {
    this.closeWhenDone = true;
    this.maybeClose();
  }

  corkTunnel(fn: () => void): void {
    this.outbox.corked(fn);
  }

  pauseTunnel(paused: boolean): void {
    if (paused) this.pauseReading();
    else this.resumeReading();
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
    if (result.consumed < bytes.length) this.stream!.push(bytes.subarray(result.consumed));
  }

  /** StreamHandlers: a request head has arrived. */
  head(head: RequestHead): void {
    this.headStartedAt = 0;
    this.flags |= SERVED;
    if (!head.keepAlive) this.flags |= CLIENT_CLOSES;
    const res = this.newResponse(head, this.host.pool.readAt, head.expectUnsupported);
    const body = head.hasBody ? new BodyStream(() => this.onBodyRead(res), () => this.resumeReading()) : null;
    const req = new Request(head, body, this);
    this.responses.push(res);
    this.current = req;
    this.currentResponse = res;
    if (body !== null) this.startBodyClock();
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
      this.early = this.stream!.takeRest();
      this.closeWhenDone = true; // declined: the response is the last
      return this.dispatchOrDefer(req, res, true);
    }
    this.dispatchOrDefer(req, res, false);
  }

  /** Bytes held for this connection: unsent output, output kept behind an unfinished response, the current request's unread body. */
  get heldBytes(): number {
    const a = this.busyState;
    if (a === null) return 0;
    // A body whose response has ended is the handler's to read or drop: no deadline could end a pause it caused.
    const body = a.current === null || a.currentResponse!.finished ? 0 : (a.current.openBody?.buffered ?? 0);
    return a.outbox.queuedBytes + a.responses.keptBytes + a.corkedBytes + body;
  }

  /** Over the high-water mark, a request waits (in order) for the backlog to drain, and reading pauses (as node:http pauses its socket). */
  private dispatchOrDefer(req: Request, res: Response, upgrade: boolean): void {
    const a = this.busy;
    if (a.deferred === null && a.corkedBytes > 0 && this.heldBytes > HIGH_WATER) {
      // The batch lends what it holds: flushed, the kernel takes what it can, and what is left is counted.
      a.corkedBytes = 0;
      this.host.cork.flush();
    }
    if (a.deferred === null && this.heldBytes <= HIGH_WATER) return this.host.dispatch(req, res, upgrade);
    (a.deferred ??= []).push({ req, res, upgrade });
    this.pauseReading();
  }

  /** Under the low-water mark: the deferred requests go to the handler, until the backlog is over the high-water mark again. */
  private dispatchDeferred(): void {
    const a = this.busyState;
    if (a === null || a.deferred === null || a.dispatchingDeferred || this.closed || this.heldBytes > LOW_WATER) return;
    const deferred = a.deferred;
    a.dispatchingDeferred = true;
    try {
      while (deferred.length > 0 && !this.closed && this.heldBytes <= HIGH_WATER) {
        const { req, res, upgrade } = deferred.shift()!;
        if (res.queued) this.host.dispatch(req, res, upgrade); // else given up on (a timeout answered 408)
      }
    } finally {
      a.dispatchingDeferred = false;
    }
    if (deferred.length === 0) a.deferred = null;
  }

  /** StreamHandlers: a piece of the current request's body. */
  data(chunk: Uint8Array): void {
    const req = this.current!;
    this.busyState!.bodyBytes += chunk.length;
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
    if (this.closeWhenDone) this.stopStream();
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
      res = this.newResponse(RequestHead.unparsed(), Date.now(), true);
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
    if (this.lingeringSince !== 0 || this.inFlight === 0) return this.destroy();
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
    this.stopStream();
  }

  private pauseReading(): void {
    this.readPaused = true;
    this.updateInterest();
  }

  private resumeReading(): void {
    if (!this.readPaused || this.closed) return;
    if (this.busyState !== null && (this.busyState.deferred !== null || this.heldBytes > LOW_WATER)) return;
    if (this.inFlight >= MAX_IN_FLIGHT) return;
    if (this.current !== null && this.current.body.buffered > BODY_HIGH_WATER) return;
    this.readPaused = false;
    // The time paused was ours, not the client's: its body's rate is measured from now.
    if (this.current !== null) this.startBodyClock();
    this.updateInterest();
  }

  /** A body's minimum-rate deadline counts from now (Apache mod_reqtimeout's body=, MinRate=). */
  private startBodyClock(): void {
    const a = this.busy;
    a.bodySince = clock();
    a.bodyBytes = 0;
  }

  // ---- writing: ResponseSink, QueueHost, OutboxHost ------------------------

  get headAt(): number {
    return this.host.cork.headAt;
  }

  /** ResponseSink: a response writes into the output region only while its connection owns the cork. */
  holdCork(): boolean {
    const cork = this.host.cork;
    if (cork.owns(this.outbox)) return false;
    cork.take(this.outbox);
    this.flags |= CORK_HELD;
    return true;
  }

  releaseCork(): boolean {
    this.flags &= ~CORK_HELD;
    if (this.busyState === null) return false; // closed meanwhile
    this.host.cork.release(this.busyState.outbox);
    const sent = !this.busyState.outbox.pending;
    this.maybeClose();
    this.rest();
    return sent && !this.closed;
  }

  serializeHead(
    status: number, reason: string, fields: readonly (readonly [string, string])[], framing: number,
    contentLength: number, flags: number,
  ): number {
    // One clock reading per batch: the read's time stands for now.
    const now = this.batching ? this.host.pool.readAt : Date.now();
    return this.host.cork.serializeHead(status, reason, fields, framing, contentLength, flags, Math.floor(now / 1000));
  }

  output(res: Response, parts: OutputPart[], last: boolean): boolean {
    if (this.closed) {
      dropFiles(parts);
      return false;
    }
    return this.responses.output(res, parts, last);
  }

  outputRegion(res: Response, start: number, end: number, last: boolean): boolean {
    if (this.closed) return false;
    return this.responses.outputRegion(res, start, end, last);
  }

  sendRegion(start: number, end: number): boolean {
    return this.outbox.sendRegion(start, end);
  }

  get regionBytes(): Uint8Array {
    return this.host.parser.bytes;
  }

  /** Resolves once `res` is first in line (or finished) and nothing is queued; rejects if the connection closes first. */
  drained(res: Response): Promise<void> {
    // At rest: nothing is queued and no response is in flight.
    if (this.busyState === null) return this.closed ? Promise.reject(new Error("connection closed")) : Promise.resolve();
    return this.outbox.whenDrained(() => this.responses.oldest === res || res.finished);
  }

  send(parts: OutputPart[]): boolean {
    if (this.batching) this.busy.corkedBytes += lentBytes(parts);
    return this.outbox.send(parts);
  }

  closingResponseSent(): void {
    this.stopReadingRequests();
    this.responses.discardAll();
  }

  responseEnded(): void {
    // While the requests of a read are handled, that read's time stands for now.
    if (!this.batching) this.lastActivity = clock();
    const extras = this.extras;
    if (this.tunnel !== null && this.responses.length === 0 && extras !== null && extras.tunnelBacklog.length > 0) {
      extras.tunnelBacklogBytes = 0;
      this.outbox.send(extras.tunnelBacklog.splice(0));
    }
    this.outbox.wake();
    this.dispatchDeferred();
    this.resumeReading();
    this.maybeClose();
    this.rest();
  }

  /** OutboxHost: everything queued went out. */
  drainedAll(): void {
    const tunnel = this.tunnel;
    if (tunnel !== null && !this.closeWhenDone) this.tunnelCall(() => tunnel.emitDrain());
    this.dispatchDeferred();
    this.resumeReading();
    this.maybeClose();
    this.rest();
  }

  private maybeClose(): void {
    if (this.flags & (BATCHING | CORK_HELD)) return; // onReadable, or releaseCork, comes back here
    if (this.closed || !this.closeWhenDone || this.inFlight > 0 || this.sending) return;
    if (this.lingeringSince !== 0) return;
    if (this.peerEnded || this.clientDoneSending()) return this.destroy();
    // Lingering close (RFC 9112 §9.6): stop sending, then read and drop what
    // the client still sends, so it gets our response rather than a reset.
    shutdown(this.fd, K.SHUT_WR);
    this.lingeringSince = clock();
    this.readPaused = false;
    this.updateInterest();
  }

  /**
   * Whether the client asked to close and has sent nothing since that whole
   * request: then close() sends our FIN without the reset that unread bytes
   * would cause, and lingering is only a wait (nginx's heuristic too). One
   * read makes sure nothing has arrived meanwhile.
   */
  private clientDoneSending(): boolean {
    if ((this.flags & (CLIENT_CLOSES | UNREAD)) !== CLIENT_CLOSES) return false;
    const body = this.current?.openBody;
    if (body != null && !body.complete) return false; // answered before its body was all in
    const n = read(this.fd, PROBE, 0, PROBE.length);
    if (n > 0) this.flags |= UNREAD;
    return n <= 0;
  }

  updateInterest(): void {
    if (this.closed) return;
    let interest = this.readPaused || this.peerEnded ? 0 : READABLE;
    if (this.sending) {
      interest |= K.EPOLLOUT;
      if (!(this.flags & K.EPOLLOUT)) this.busyState!.writeSince = clock();
    }
    if (interest !== (this.flags & INTEREST)) {
      this.flags = (this.flags & ~INTEREST) | interest;
      this.host.loop.modify(this.fd, interest);
    }
  }

  // ---- timeouts and closing ------------------------------------------------

  /**
   * Called once a second (or more often for short timeouts) by the server:
   * every state of a connection has its deadline here (SECURITY.md's table).
   */
  sweep(time: number, timeouts: Deadlines): void {
    const now = clockAt(time);
    const a = this.busyState;
    const oldest = a === null ? undefined : a.responses.oldest;
    if (this.tunnel !== null && this.lingeringSince === 0) return; // the tunnel's protocol keeps its own time
    if (this.lingeringSince !== 0) {
      if (since(now, this.lingeringSince) > LINGER_MS) this.destroy();
    } else if (this.headStartedAt !== 0 && since(now, this.headStartedAt) > timeouts.headers) {
      this.timeOut();
    } else if (a !== null && this.sending && since(now, a.writeSince) > timeouts.write) {
      this.destroy(); // the client stopped reading: nothing more can reach it
    } else if (a !== null && this.current !== null && !this.readPaused && !this.peerEnded &&
      since(now, a.bodySince) > timeouts.body + (a.bodyBytes * 1000) / timeouts.bodyMinRate) {
      this.bodyTimedOut(this.currentResponse!);
    } else if (oldest !== undefined && time - oldest.startedAt > timeouts.request) {
      this.timeOut();
    } else if (this.idle && (since(now, this.lastActivity) > timeouts.keepAlive || (this.graceUntil !== 0 && since(now, this.graceUntil) > 0))) {
      this.destroy();
    }
  }

  /** A body came too slowly: 408 if its response has not begun, else the connection closes (its client has an answer already). */
  private bodyTimedOut(res: Response): void {
    if (res.headersSent || res.finished) return this.destroy();
    this.timeOut();
  }

  private timeOut(): void {
    const oldest = this.responses.oldest;
    if (oldest !== undefined && oldest.headersSent) return this.destroy();
    this.current?.openBody?.fail(new BodyError("request timed out"));
    this.headStartedAt = 0;
    this.stopReadingRequests();
    // Answer 408 in the oldest unanswered slot; later ones are dropped.
    this.responses.discardAll();
    const res = this.newResponse(RequestHead.unparsed(), Date.now(), true);
    this.responses.push(res);
    res.fail(408, "Request Timeout\n");
  }

  /** A response of this connection, its host told when it finishes (when the host listens: no listener is made otherwise). */
  private newResponse(head: RequestHead, startedAt: number, closeAfter: boolean): Response {
    const res = new Response(this, head, startedAt, closeAfter);
    const onResponse = this.host.onResponse;
    if (onResponse !== null) res.onFinish(() => onResponse(res));
    return res;
  }

  /**
   * At the connection limit, how fit this connection is to make room for a
   * new client (nginx reuses idle keep-alive connections first): any idle
   * one (never sent a byte, between requests, lingering) before any other,
   * then the head, or the upgraded protocol's message (a WebSocket's), that
   * has been arriving longest; -1 for one being served or at rest upgraded.
   */
  evictionRank(time: number): number {
    if (this.closed) return -1;
    const tunnel = this.tunnel;
    if (tunnel !== null) {
      if (this.lingeringSince !== 0) return Infinity; // closing already
      const began = tunnel.messageSince;
      return began === 0 ? -1 : Math.max(0, time - began);
    }
    if (this.idle) return Infinity;
    if (this.headStartedAt !== 0 && this.inFlight === 0) return since(clockAt(time), this.headStartedAt);
    return -1;
  }

  /** Closes the descriptor now (once), failing whatever is in flight. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.loop.closeWatched(this.fd);
    this.stopStream();
    this.current?.openBody?.fail(new BodyError("connection closed"));
    this.busyState?.responses.discardAll();
    this.busyState?.outbox.close();
    this.early = null;
    if (this.extras !== null) {
      this.extras.tunnelBacklog = [];
      this.extras.tunnelBacklogBytes = 0;
    }
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
      if (!this.inMessage) this.stopStream(); // a request still arriving is read to its end
      return this.maybeClose();
    }
    if (this.flags & SERVED) return this.destroy();
    this.graceUntil = clockAt(Date.now() + SHUTDOWN_GRACE_MS);
  }
}
