// A connection's deadlines (SECURITY.md's table): the server's sweep asks
// each connection whether one has passed, and at the connection limit how
// fit it is to make room for a new client.
import { ConnectionOutput } from "./connection-output.js";
import { clockAt, since } from "./connection-state.js";
import { BodyError } from "./body.js";
import { RequestHead } from "simplenet-parser";
import { Response } from "./response.js";
import { LINGER_MS, type Deadlines, type Served } from "./served.js";

export abstract class ConnectionDeadlines extends ConnectionOutput implements Served {
  /** Server shutdown: close after the responses in flight. */
  abstract shutdown(): void;

  /** Whether a request's head or body is partly read. */
  protected get inMessage(): boolean {
    return this.stream !== null && this.stream.inMessage;
  }

  /** Idle: nothing in flight, nothing half-read, nothing left to send. */
  get idle(): boolean {
    return this.inFlight === 0 && !this.inMessage && !this.sending;
  }

  /**
   * Called once a second (or more often for short timeouts) by the server:
   * every state of a connection has its deadline here (SECURITY.md's table).
   */
  sweep(time: number, timeouts: Deadlines): void {
    if (this.idle) this.giveBack(); // what the read path keeps lent (connection-flow.ts)
    const now = clockAt(time);
    const a = this.busyState;
    const oldest = a === null ? undefined : a.responses.oldest;
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
  protected newResponse(head: RequestHead, startedAt: number, closeAfter: boolean): Response {
    const res = new Response(this, head, startedAt, closeAfter);
    const onResponse = this.host.onResponse;
    if (onResponse !== null) res.onFinish(() => onResponse(res));
    return res;
  }

  /**
   * At the connection limit, how fit this connection is to make room for a
   * new client (nginx reuses idle keep-alive connections first): any idle
   * one (never sent a byte, between requests, lingering) before any other,
   * then the head that has been arriving longest; -1 for one being served.
   */
  evictionRank(time: number): number {
    if (this.closed) return -1;
    if (this.idle) return Infinity;
    if (this.headStartedAt !== 0 && this.inFlight === 0) return since(clockAt(time), this.headStartedAt);
    return -1;
  }
}
