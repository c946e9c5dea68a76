// One accepted socket: reads land in the parser's receive region and become
// requests for the handler; this file reads, parses and decides when to
// close. Its other jobs are the classes it builds on, one file each:
// connection-state.ts (the packed state), connection-flow.ts (interest and
// byte accounting), connection-upgrade.ts (a 101 hands the socket to its
// tunnel's own watcher, tunnel-connection.ts), connection-output.ts
// (the writing side) and connection-deadlines.ts (timeouts, eviction).
import { BodyError, BodyStream } from "./body.js";
import { RequestHead, type Fields, type ParseErrorInfo, type StreamHandlers } from "simplenet-parser";
import { BATCHING, CLOSE_WHEN_DONE, SERVED, CLIENT_CLOSES, UNREAD, CORK_HELD, READABLE, clock, clockAt } from "./connection-state.js";
import { BODY_HIGH_WATER, HIGH_WATER, MAX_IN_FLIGHT } from "./connection-flow.js";
import { ConnectionDeadlines } from "./connection-deadlines.js";
import { Request } from "./request.js";
import type { Response } from "./response.js";
import { parseProxyHeader } from "../socket/proxy.js";
import { Errno, K, read, shutdown } from "../socket/syscalls.js";
import type { Watcher } from "../socket/loop.js";

const EAGAIN = -Errno.EAGAIN;
/** At server shutdown, how long a connection that has sent nothing yet may still send its request. */
const SHUTDOWN_GRACE_MS = 1000;
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
/** Where a closing connection's last look at its socket reads to. */
const PROBE = new Uint8Array(64);

export class Connection extends ConnectionDeadlines implements Watcher, StreamHandlers {
  ready(events: number): void {
    // Reset, or both directions shut: nothing more can be sent or received.
    if (events & (K.EPOLLHUP | K.EPOLLERR)) return this.destroy();
    if (events & K.EPOLLOUT && this.busyState !== null) {
      this.busyState.writeSince = clock(); // the client took bytes: its write deadline starts again
      this.sendQueued();
    }
    if (!this.closed && events & READABLE) this.onReadable();
  }

  // ---- reading -------------------------------------------------------------

  private onReadable(): void {
    // A handler of another connection's batch got here (server.close(), say):
    // the receive region holds that batch, so read once its parse returns.
    if (this.parser.parsing) return queueMicrotask(() => this.closed || this.onReadable());
    if (this.upgradePending) return this.pauseReading(); // the tunnel's watcher reads them, once the 101 has left
    const a = this.busyState ?? this.borrowBusyState();
    const stream = a.stream ?? this.borrowStream();
    const room = stream.prepare();
    const n = read(this.fd, this.host.cork.memory, stream.writeAt, room);
    if (n <= 0) {
      // Nothing came: what the reads kept goes back now, before a close could drop it.
      this.giveBack();
      if (n === 0) return this.onPeerEnd();
      if (n !== EAGAIN) return this.destroy();
      return;
    }
    this.lastActivity = clockAt(this.host.loop.now());
    if (this.lingeringSince !== 0) return; // discarding what arrives after our close
    const outbox = a.outbox;
    outbox.takeCork();
    this.flags |= BATCHING;
    const pool = this.host.pool;
    pool.reader = this;
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
      outbox.releaseCork();
      a.corkedBytes = 0;
    }
    // The batch has gone (or was sent earlier, when another connection took the cork): act on how.
    this.afterSend();
    // The stream and busy state stay lent until the sweep (giveBack).
    if (this.heldBytes > HIGH_WATER) this.pauseReading();
    if (this.flags & CLOSE_WHEN_DONE) this.maybeClose(); // (the test maybeClose would make first, without its call)
    // A head left half-read is timed from this read, also when it began
    // after the requests this read completed (Go's ReadHeaderTimeout).
    if (a.current === null && a.stream !== null && a.stream.inMessage) {
      if (a.headStartedAt === 0) a.headStartedAt = this.lastActivity;
    } else {
      a.headStartedAt = 0;
    }
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
    const a = this.busyState ?? this.borrowBusyState();
    a.headStartedAt = 0;
    this.flags |= SERVED;
    if (!head.keepAlive) this.flags |= CLIENT_CLOSES;
    const res = this.newResponse(head, this.host.loop.now(), head.expectUnsupported);
    const body = head.hasBody ? new BodyStream(() => this.onBodyRead(res), () => this.resumeReading()) : null;
    const req = new Request(head, body, this);
    a.responses.push(res);
    if (body !== null) {
      // Only a request with a body stays current past this call: a bodiless
      // one's end() follows at once, so it is never stored (two stores of new
      // objects into the old busy state, each a write barrier).
      a.current = req;
      a.currentResponse = res;
      this.startBodyClock();
    }
    // Requests after one that closes the connection are not read (RFC 9112 §9.6).
    if (res.closesConnection || this.host.closing) this.closeWhenDone = true;
    if (a.responses.length >= MAX_IN_FLIGHT) this.pauseReading();
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

  /** StreamHandlers: a piece of the current request's body. */
  data(chunk: Uint8Array): void {
    const a = this.busyState!; // a body is read after its head(), with the busy state borrowed
    const req = a.current!;
    a.bodyBytes += chunk.length;
    if (a.currentResponse!.finished && !req.body.complete) return; // answered already: discard
    req.body.push(Buffer.from(chunk));
    if (req.body.buffered > BODY_HIGH_WATER) this.pauseReading();
  }

  /** StreamHandlers: the current request's body has ended. */
  end(trailers: Fields | null): void {
    const a = this.busyState!; // as in data()
    const req = a.current;
    if (req !== null) {
      req.trailers = trailers;
      req.openBody?.end();
      a.current = null;
      a.currentResponse = null;
    }
    if (this.closeWhenDone) this.stopStream();
  }

  private onBodyRead(res: Response): void {
    // HTTP/1.0 clients do not know 100 Continue (RFC 9110 §10.1.1).
    if (!res.request.expectContinue || res.request.minorVersion === 0 || res.headersSent || res.finished) return;
    this.sendInOrder(res, CONTINUE);
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

  protected onPeerEnd(): void {
    this.peerEnded = true;
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

  protected stopReadingRequests(): void {
    this.closeWhenDone = true;
    this.stopStream();
  }

  protected maybeClose(): void {
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
    this.upgraded?.connectionClosed();
    this.host.forget();
  }

  /**
   * Server shutdown: close after the responses in flight. An idle connection
   * is read once more first, since its next request may be on the way; one
   * that has not sent a request yet gets a moment to send it. Either way the
   * request is answered with "Connection: close".
   */
  shutdown(): void {
    if (this.parser.parsing) return void queueMicrotask(() => this.closed || this.shutdown());
    if (this.upgradePending) return this.upgraded!.shutdown();
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
