// What a connection holds only while busy (Active), lent by its server's
// pool (StatePool), and what only some connections ever need (Rare): kept
// apart so that an idle connection is one small object (connection.ts).
import { RequestStream, type Fields, type ParseErrorInfo, type ParserInstance, type RequestHead, type StreamHandlers } from "simplenet-parser";
import type { Request } from "./request.js";
import type { Response } from "./response.js";
import { ResponseQueue } from "./response-queue.js";
import { Outbox } from "./outbox.js";
import type { Cork } from "./cork.js";
import type { Tunnel } from "./tunnel.js";
import type { Connection } from "./connection.js";

/** A request read but not handed to its handler yet (see Active.deferred). */
export interface Deferred {
  req: Request;
  res: Response;
  upgrade: boolean;
}

/** Most request streams, and most active states, a pool keeps at rest. */
const MAX_FREE = 1024;

/**
 * What a connection has only while it is busy — reading a request, with
 * responses in flight or bytes to send: its request stream, response queue,
 * outbox and current request. At rest, a connection gives it back to the
 * server's pool, so an idle connection is one small object.
 */
export class Active {
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
  /** After a 101: the connection carries another protocol's bytes (and is never at rest again). */
  tunnel: Tunnel | null = null;

  constructor(readonly responses: ResponseQueue, readonly outbox: Outbox) {}
}

/**
 * A server's request streams and connections' active states at rest, lent
 * to connections while they are busy. A stream between messages holds
 * nothing of its connection; the pool is every stream's handler and passes
 * each event to the connection whose bytes are being parsed (one at a time:
 * the receive region has one owner).
 */
export class StatePool implements StreamHandlers {
  private readonly free: RequestStream[] = [];
  private readonly actives: Active[] = [];
  /** The connection being parsed now. */
  reader: Connection | null = null;
  /** When the bytes being parsed were read (ms): the time of every response to them. */
  readAt = 0;

  constructor(private readonly parser: ParserInstance, private readonly cork: Cork) {}

  take(): RequestStream {
    return this.free.pop() ?? new RequestStream(this.parser, this);
  }

  give(stream: RequestStream): void {
    if (this.free.length < MAX_FREE) this.free.push(stream);
  }

  takeActive(conn: Connection): Active {
    const active = this.actives.pop();
    if (active === undefined) return new Active(new ResponseQueue(conn), new Outbox(conn, this.cork));
    active.responses.attach(conn);
    active.outbox.attach(conn);
    return active;
  }

  giveActive(active: Active): void {
    if (this.actives.length < MAX_FREE) this.actives.push(active);
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

/** What only some connections need (PROXY headers, upgrades, lingering close, shutdown, the peer's address), made when first needed. */
export class Rare {
  /** When the lingering close began (clock()), or 0. */
  lingeringSince = 0;
  /** Who the client is, once asked (see remote). */
  peer: { address: string; port: number } | null = null;
  /** The bytes of a PROXY protocol header received so far, while one is awaited. */
  proxyHeader: Uint8Array | null = null;
  /** At shutdown, when an idle connection that has not sent a request yet is closed (clock()), or 0. */
  graceUntil = 0;
  /** The response to a request that asked to switch protocols, while the upgrade hook decides. */
  upgrading: Response | null = null;
  /** The bytes that followed that request's head: the new protocol's, if the switch happens. */
  early: Uint8Array | null = null;
  /** Tunnel bytes written before the 101 left (it waits behind earlier responses). */
  tunnelBacklog: Uint8Array[] = [];
  tunnelBacklogBytes = 0;
}
