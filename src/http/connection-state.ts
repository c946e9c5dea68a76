// A connection's state, packed so that an idle connection is one small
// object (connection.ts adds what it does with it): flags in one integer,
// times as small integers, what it holds while busy borrowed from the
// server's pool (BusyState, state-pool.ts), and what only some connections
// need (Extras) made when first needed. Each piece has a name here, so the
// connection reads `this.closeWhenDone`, not bit tests.
import type { RequestStream } from "simplenet-parser";
import type { Request } from "./request.js";
import type { Response } from "./response.js";
import type { ResponseQueue } from "./response-queue.js";
import type { Outbox } from "./outbox.js";
import type { BusyState } from "./state-pool.js";
import { K } from "../socket/syscalls.js";

export const READABLE = K.EPOLLIN | K.EPOLLRDHUP;

/**
 * Connection times are milliseconds since CLOCK_BASE as 32-bit integers
 * (small integers, which V8 keeps in the object itself, where a Date.now()
 * would be a boxed double). They wrap after 24.8 days, so they are only ever
 * compared as differences, with since(). Never 0, which stands for "not set".
 */
const CLOCK_BASE = Date.now();
export const clockAt = (ms: number): number => (ms - CLOCK_BASE) | 0 || 1;
export const clock = (): number => clockAt(Date.now());
/** Milliseconds from clock time `then` to `now`. */
export const since = (now: number, then: number): number => (now - then) | 0;

// Connection.flags: the epoll interest in the low bits, these above them.
export const INTEREST = K.EPOLLIN | K.EPOLLOUT | K.EPOLLRDHUP;
export const READ_PAUSED = 1 << 16;
export const PEER_ENDED = 1 << 17;
/** No more requests are read: close once the responses in flight are sent. */
export const CLOSE_WHEN_DONE = 1 << 18;
export const CLOSED = 1 << 19;
/** Reading the requests of one read: output is corked, and the read's time stands for now. */
export const BATCHING = 1 << 20;
/** A request has been read on this connection. */
export const SERVED = 1 << 21;
/** Requests are no longer parsed (the stream is stopped). */
export const STOPPED = 1 << 22;
/** The last request read asked to close (Connection: close, or HTTP/1.0 without keep-alive). */
export const CLIENT_CLOSES = 1 << 23;
/** Bytes came after the request the connection closes with: the client may still be sending. */
export const UNREAD = 1 << 24;
/** A response of this connection took the cork for a write outside its read (holdCork): closing waits for releaseCork. */
export const CORK_HELD = 1 << 25;

/** What only some connections need (PROXY headers, upgrades, lingering close, shutdown, the peer's address), made when first needed. */
export class Extras {
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
  /** After the upgrade hook switched protocols: the watcher the socket goes to once the 101 has left. */
  upgraded: Upgraded | null = null;
}

/** The watcher an upgraded socket is handed to (tunnel-connection.ts), as the connection knows it. */
export interface Upgraded {
  readonly remote: { address: string; port: number };
  /** The 101 has left: the socket (watched with `interest`) and its outbox are the tunnel's now. */
  takeOver(outbox: Outbox, interest: number): void;
  /** The connection closed before the handover. */
  connectionClosed(): void;
  /** Server shutdown, before the handover. */
  shutdown(): void;
}

export abstract class ConnectionState {
  // An idle connection is one small object: what it needs while busy is
  // borrowed from the server's pool (BusyState), rarely needed state lives in
  // `extras`, flags in one integer, times as small integers.
  /** Last time bytes came in or a response finished (clock()). */
  protected lastActivity = clock();
  /** The epoll interest (INTEREST bits) and the flags above. */
  protected flags = READABLE;
  protected busyState: BusyState | null = null;
  protected extras: Extras | null = null;

  /** Borrows a busy state from the server's pool. */
  protected abstract takeBusyState(): BusyState;

  /**
   * The busy state, borrowed now if the connection was at rest. The hot
   * paths write `this.busyState ?? this.borrowBusyState()` rather than call
   * this or the accessors below: in the large functions of the read path V8
   * no longer inlines them, and each was a call (~40 instructions).
   */
  protected get busy(): BusyState {
    return this.busyState ?? this.borrowBusyState();
  }

  protected borrowBusyState(): BusyState {
    return (this.busyState = this.takeBusyState());
  }

  protected get responses(): ResponseQueue {
    return this.busy.responses;
  }
  protected get outbox(): Outbox {
    return this.busy.outbox;
  }
  /** Responses in flight. */
  protected get inFlight(): number {
    return this.busyState === null ? 0 : this.busyState.responses.length;
  }
  /** Whether bytes wait for EPOLLOUT. */
  protected get sending(): boolean {
    return this.busyState !== null && this.busyState.outbox.pending;
  }
  protected get stream(): RequestStream | null {
    return this.busyState === null ? null : this.busyState.stream;
  }
  protected set stream(stream: RequestStream | null) {
    if (stream !== null || this.busyState !== null) this.busy.stream = stream;
  }
  protected get current(): Request | null {
    return this.busyState === null ? null : this.busyState.current;
  }
  protected set current(req: Request | null) {
    if (req !== null || this.busyState !== null) this.busy.current = req;
  }
  protected get currentResponse(): Response | null {
    return this.busyState === null ? null : this.busyState.currentResponse;
  }
  protected set currentResponse(res: Response | null) {
    if (res !== null || this.busyState !== null) this.busy.currentResponse = res;
  }
  /** When the head now arriving began (clock()), or 0. */
  protected get headStartedAt(): number {
    return this.busyState === null ? 0 : this.busyState.headStartedAt;
  }
  protected set headStartedAt(t: number) {
    if (t !== 0 || this.busyState !== null) this.busy.headStartedAt = t;
  }

  protected flag(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }
  protected get readPaused(): boolean {
    return (this.flags & READ_PAUSED) !== 0;
  }
  protected set readPaused(on: boolean) {
    this.flag(READ_PAUSED, on);
  }
  protected get peerEnded(): boolean {
    return (this.flags & PEER_ENDED) !== 0;
  }
  protected set peerEnded(on: boolean) {
    this.flag(PEER_ENDED, on);
  }
  /** No more requests are read: close once the responses in flight are sent. */
  protected get closeWhenDone(): boolean {
    return (this.flags & CLOSE_WHEN_DONE) !== 0;
  }
  protected set closeWhenDone(on: boolean) {
    this.flag(CLOSE_WHEN_DONE, on);
  }
  protected get closed(): boolean {
    return (this.flags & CLOSED) !== 0;
  }
  protected set closed(on: boolean) {
    this.flag(CLOSED, on);
  }
  /** Reading the requests of one read: output is corked, and the read's time stands for now. */
  protected get batching(): boolean {
    return (this.flags & BATCHING) !== 0;
  }
  protected set batching(on: boolean) {
    this.flag(BATCHING, on);
  }

  protected get lingeringSince(): number {
    return this.extras === null ? 0 : this.extras.lingeringSince;
  }
  protected set lingeringSince(t: number) {
    if (t !== 0 || this.extras !== null) (this.extras ??= new Extras()).lingeringSince = t;
  }
  protected get peer(): { address: string; port: number } | null {
    return this.extras === null ? null : this.extras.peer;
  }
  protected set peer(peer: { address: string; port: number } | null) {
    if (peer !== null || this.extras !== null) (this.extras ??= new Extras()).peer = peer;
  }
  protected get proxyHeader(): Uint8Array | null {
    return this.extras === null ? null : this.extras.proxyHeader;
  }
  protected set proxyHeader(bytes: Uint8Array | null) {
    if (bytes !== null || this.extras !== null) (this.extras ??= new Extras()).proxyHeader = bytes;
  }
  protected get graceUntil(): number {
    return this.extras === null ? 0 : this.extras.graceUntil;
  }
  protected set graceUntil(t: number) {
    if (t !== 0 || this.extras !== null) (this.extras ??= new Extras()).graceUntil = t;
  }
  protected get upgrading(): Response | null {
    return this.extras === null ? null : this.extras.upgrading;
  }
  protected set upgrading(res: Response | null) {
    if (res !== null || this.extras !== null) (this.extras ??= new Extras()).upgrading = res;
  }
  protected get upgraded(): Upgraded | null {
    return this.extras === null ? null : this.extras.upgraded;
  }
  protected set upgraded(watcher: Upgraded | null) {
    if (watcher !== null || this.extras !== null) (this.extras ??= new Extras()).upgraded = watcher;
  }
  protected get early(): Uint8Array | null {
    return this.extras === null ? null : this.extras.early;
  }
  protected set early(bytes: Uint8Array | null) {
    if (bytes !== null || this.extras !== null) (this.extras ??= new Extras()).early = bytes;
  }
}
