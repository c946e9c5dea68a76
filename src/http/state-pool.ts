// What a connection holds only while busy (BusyState: its request stream,
// response queue, outbox and current request), lent by its server's pool
// (StatePool), so that an idle connection is one small object. The pool is
// also every request stream's handler, passing each event to the connection
// being parsed (connection.ts).
import { RequestStream, type Fields, type ParseErrorInfo, type ParserInstance, type RequestHead, type StreamHandlers } from "simplenet-parser";
import type { Request } from "./request.js";
import type { Response } from "./response.js";
import { ResponseQueue } from "./response-queue.js";
import { Outbox } from "./outbox.js";
import type { Cork } from "./cork.js";

/** A request read but not handed to its handler yet (see BusyState.deferred). */
export interface Deferred {
  req: Request;
  res: Response;
  upgrade: boolean;
}

/** Most request streams, and most busy states, a pool keeps at rest. */
const MAX_FREE = 1024;

/**
 * What a connection has only while it is busy — reading a request, with
 * responses in flight or bytes to send: its request stream, response queue,
 * outbox and current request. At rest, a connection gives it back to the
 * server's pool, so an idle connection is one small object.
 */
export class BusyState {
  /** Borrowed from the pool while a message is being read. */
  stream: RequestStream | null = null;
  current: Request | null = null;
  currentResponse: Response | null = null;
  /** When the head now arriving began (clock()), or 0. */
  headStartedAt = 0;
  /** While a body is read: since when (clock()), and how many bytes came since then (its minimum-rate deadline). */
  bodySince = 0;
  bodyBytes = 0;
  /** While bytes wait for EPOLLOUT: when the client last took some (clock()). */
  writeSince = 0;
  /** Requests read while the connection held more than its high-water mark: dispatched in order once it drains. */
  deferred: Deferred[] | null = null;
  /** Bytes lent to the loop's cork during this read's batch (sent or copied only when it is flushed). */
  corkedBytes = 0;
  /** Whether deferred requests are being dispatched (a handler that ends at once must not start another round inside this one). */
  dispatchingDeferred = false;

  constructor(readonly responses: ResponseQueue, readonly outbox: Outbox) {}
}

/**
 * A server's request streams and connections' busy states at rest, lent
 * to connections while they are busy. A stream between messages holds
 * nothing of its connection; the pool is every stream's handler and passes
 * each event to the connection whose bytes are being parsed (one at a time:
 * the receive region has one owner).
 */
export class StatePool implements StreamHandlers {
  private readonly free: RequestStream[] = [];
  private readonly busyStates: BusyState[] = [];
  /** The connection being parsed now. */
  reader: StreamHandlers | null = null;

  constructor(private readonly parser: ParserInstance, private readonly cork: Cork) {}

  take(): RequestStream {
    return this.free.pop() ?? new RequestStream(this.parser, this);
  }

  give(stream: RequestStream): void {
    if (this.free.length < MAX_FREE) this.free.push(stream);
  }

  /** A busy state for the connection on socket `fd`. */
  takeBusyState(fd: number): BusyState {
    const state = this.busyStates.pop();
    if (state === undefined) return new BusyState(new ResponseQueue(), new Outbox(fd, this.cork));
    state.outbox.attach(fd);
    return state;
  }

  giveBusyState(state: BusyState): void {
    if (this.busyStates.length < MAX_FREE) this.busyStates.push(state);
  }

  head(head: RequestHead): void {
    this.reader!.head(head);
  }
  data(chunk: Uint8Array): void {
    this.reader!.data(chunk);
  }
  end(trailers: Fields | null): void {
    this.reader!.end(trailers);
  }
  error(error: ParseErrorInfo): void {
    this.reader!.error(error);
  }
}
