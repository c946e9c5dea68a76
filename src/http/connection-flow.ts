// A connection's flow control: what it asks of its server, what it borrows
// from the server's pool while busy, the epoll interest it watches its
// socket with, and the byte accounting that pauses reading and defers
// requests while too much is held for one client. The
// first of the connection's classes that acts (connection-state.ts below it
// only holds state); the tunnel, writing, deadline and reading classes
// build on it, each in a file of its own, ending in connection.ts.
import type { ParserInstance, RequestStream } from "simplenet-parser";
import { ConnectionState, BATCHING, CLOSE_WHEN_DONE, CLOSED, INTEREST, READABLE, STOPPED, clock } from "./connection-state.js";
import type { StatePool } from "./state-pool.js";
import type { Request } from "./request.js";
import type { Response } from "./response.js";
import type { Cork } from "./cork.js";
import { K, close } from "../socket/syscalls.js";
import type { EventLoop } from "../socket/loop.js";

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
  /** A connection has closed. */
  forget(): void;
  /** The request streams and busy states connections borrow. */
  readonly pool: StatePool;
  /** Told of every response once it has finished, the server's own answers included (serve()'s onResponse), or null. */
  readonly onResponse: ((res: Response) => void) | null;
}

/** Most responses in flight on one connection before it stops reading (pipelining). */
export const MAX_IN_FLIGHT = 64;
/** Unread request body bytes at which the connection stops reading. */
export const BODY_HIGH_WATER = 1 << 20;
/**
 * Bytes held for one connection (unsent output, output kept behind an
 * unfinished response, unread body) past which its requests wait undispatched
 * and its reading pauses, until the backlog is back under LOW_WATER: the
 * 64-in-flight rule alone bounds requests, not bytes.
 */
export const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;

export abstract class ConnectionFlow extends ConnectionState {
  /** Watches fd; if the loop refuses it, fd is closed and the error thrown. */
  constructor(
    protected readonly host: ConnectionHost,
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

  /** Called by the loop when the socket is ready (Watcher). */
  abstract ready(events: number): void;

  /** At rest (nothing in flight, half-read, queued or awaited, and not closing): the busy state goes back to the pool. */
  protected rest(): void {
    const a = this.busyState;
    if (a === null || this.flags & (CLOSED | CLOSE_WHEN_DONE | BATCHING | STOPPED)) return;
    if (a.stream !== null || a.current !== null || a.currentResponse !== null || a.headStartedAt !== 0) return;
    if (a.responses.length !== 0 || !a.outbox.atRest || a.deferred !== null) return;
    this.busyState = null;
    this.host.pool.giveBusyState(a);
  }

  /** The stream this connection parses with: borrowed from the pool (stopped at once if requests are no longer read). */
  protected borrowStream(): RequestStream {
    const stream = this.host.pool.take();
    if (this.flags & STOPPED) stream.stop();
    this.stream = stream;
    return stream;
  }

  /** Between messages the stream goes back to the pool; a stopped one is kept (it parses nothing more). */
  protected returnStream(): void {
    const stream = this.stream;
    if (stream === null || stream.inMessage || stream.stopped) return;
    this.stream = null;
    this.host.pool.give(stream);
  }

  /**
   * Between messages, the stream and then (at rest) the busy state go back to
   * the pool. The read path keeps both: a keep-alive client's next request
   * mostly comes within the second, and borrowing them again cost every read.
   * The server's sweep calls this once a second, so a connection idle that
   * long is one small object again. Neither holds a byte of the client's
   * while kept (a stream between messages has none, a busy state at rest
   * none).
   */
  protected giveBack(): void {
    this.returnStream();
    this.rest();
  }

  /** No more requests are parsed on this connection. */
  protected stopStream(): void {
    this.flags |= STOPPED;
    this.stream?.stop();
  }

  get parser(): ParserInstance {
    return this.host.parser;
  }

  get closing(): boolean {
    return this.host.closing;
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
  protected dispatchOrDefer(req: Request, res: Response, upgrade: boolean): void {
    const a = this.busyState ?? this.borrowBusyState();
    if (a.deferred === null) {
      let held = this.heldBytes; // counted again only after a flush: it is a sum of four fields
      if (held > HIGH_WATER && a.corkedBytes > 0) {
        // The batch lends what it holds: flushed, the kernel takes what it can, and what is left is counted.
        a.corkedBytes = 0;
        this.host.cork.flush();
        held = this.heldBytes;
      }
      if (held <= HIGH_WATER) return this.host.dispatch(req, res, upgrade);
    }
    (a.deferred ??= []).push({ req, res, upgrade });
    this.pauseReading();
  }

  /** Under the low-water mark: the deferred requests go to the handler, until the backlog is over the high-water mark again. */
  protected dispatchDeferred(): void {
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

  protected pauseReading(): void {
    this.readPaused = true;
    this.updateInterest();
  }

  protected resumeReading(): void {
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
  protected startBodyClock(): void {
    const a = this.busy;
    a.bodySince = clock();
    a.bodyBytes = 0;
  }

  /** Watches the socket for what the connection waits for: reading unless paused or ended, writing while bytes wait. */
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
}
