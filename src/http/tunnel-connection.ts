// A socket after "101 Switching Protocols": its own watcher on the loop. The
// connection hands it the socket, and the outbox with whatever of its
// responses the kernel has not taken yet, once the 101 and every response
// before it have ended; until then the tunnel's writes wait here. From then
// on the peer's bytes go to the Tunnel (tunnel.ts) and its writes through
// that outbox, and the server asks this watcher, not the connection, about
// deadlines, held bytes and eviction. After each write it reads the outbox's
// state (a failed write, bytes waiting, all sent), which calls no one back.
import type { ParserInstance } from "simplenet-parser";
import { Tunnel, type TunnelHost } from "./tunnel.js";
import type { Outbox } from "./outbox.js";
import type { Cork } from "./cork.js";
import { LINGER_MS, peerOf, type Deadlines, type Served } from "./served.js";
import { READABLE, clock, clockAt, since, type Upgraded } from "./connection-state.js";
import type { EventLoop, TurnEnd } from "../socket/loop.js";
import { Errno, K, read, shutdown } from "../socket/syscalls.js";

const EAGAIN = -Errno.EAGAIN;
/** Tunnel reads land this far into the receive region: the bytes before are the tunnel's, to put a carried frame head in front. */
const HEADROOM = 16;
/**
 * The watcher's states, bits of one field: READ_PAUSED (the tunnel paused
 * reading), PEER_ENDED (the peer shut its write side), ENDING (end() was
 * called: close once everything queued is sent), CLOSED, READING (handing the
 * peer's bytes to the tunnel: closing waits until that returns).
 */
const READ_PAUSED = 1, PEER_ENDED = 2, ENDING = 4, CLOSED = 8, READING = 16;

/** What a tunnel needs from its server (a connection's host has it all). */
export interface TunnelServer {
  readonly loop: EventLoop;
  readonly parser: ParserInstance;
  readonly cork: Cork;
  /** An application callback threw. */
  reportError(error: unknown): void;
  /** A served socket has closed. */
  forget(): void;
}

/** The tunnel's writes before the handover: copies, in order. */
class Backlog {
  readonly parts: Uint8Array[] = [];
  bytes = 0;

  /** Keeps copies of `parts`; false, since none went out. */
  add(parts: Uint8Array[]): false {
    for (const part of parts) {
      this.parts.push(part.slice());
      this.bytes += part.length;
    }
    return false;
  }
}

export class TunnelConnection implements Served, TunnelHost, Upgraded, TurnEnd {
  readonly tunnel: Tunnel;
  /** Null until the connection hands the socket over (read by the tunnel's joinShared and leaveShared). */
  outbox: Outbox | null = null;
  private backlog: Backlog | null = null;
  /** The epoll interest the socket is watched with. */
  private interest = 0;
  /** READ_PAUSED, PEER_ENDED, ENDING, CLOSED, READING: one word per socket, not five. */
  private flags = 0;
  /** While bytes wait for EPOLLOUT: when the client last took some; when the lingering close began, or 0 (clock()). */
  private writeSince = 0;
  private lingeringSince = 0;

  /** `connection`: what destroy() closes until the handover; `early`: the bytes that came with the request's head, for the tunnel once the upgrade hook has returned. */
  constructor(
    private readonly host: TunnelServer,
    readonly fd: number,
    private peer: { address: string; port: number } | null,
    early: Uint8Array | null,
    private connection: { destroy(): void } | null,
  ) {
    this.tunnel = new Tunnel(this);
    if (early !== null && early.length > 0) queueMicrotask(() => this.closed || this.deliver(early, 0, 0));
  }

  /** Upgraded: the 101 has left; this watcher takes the socket (watched with `interest`) and its outbox. */
  takeOver(outbox: Outbox, interest: number): void {
    this.connection = null;
    this.outbox = outbox;
    this.interest = interest;
    this.host.loop.replace(this.fd, this);
    const backlog = this.backlog;
    this.backlog = null;
    // Writes before the handover returned false: the tunnel waits for a drain.
    this.afterSend(backlog !== null && outbox.send(backlog.parts));
    this.maybeClose();
  }

  /** Upgraded: the connection closed before the handover. */
  connectionClosed(): void {
    if (this.closed) return;
    this.flags |= CLOSED;
    this.backlog = null;
    this.call(() => this.tunnel.markClosed());
  }

  get remote(): { address: string; port: number } {
    return (this.peer ??= peerOf(this.closed ? -1 : this.fd));
  }

  private get closed(): boolean {
    return (this.flags & CLOSED) !== 0;
  }

  /** Watcher: the socket is ready. */
  ready(events: number): void {
    if (events & (K.EPOLLHUP | K.EPOLLERR)) return this.destroy();
    if (events & K.EPOLLOUT && this.outbox !== null) {
      this.writeSince = clock(); // the client took bytes: its write deadline starts again
      this.afterSend(this.outbox.flush());
    }
    if (!this.closed && events & READABLE) this.onReadable();
  }

  private onReadable(): void {
    const { parser } = this.host;
    // Another connection's handler got here: the receive region holds its batch, so read once that parse returns.
    if (parser.parsing) return queueMicrotask(() => this.closed || this.onReadable());
    const at = parser.recv + HEADROOM;
    const n = read(this.fd, this.host.cork.memory, at, parser.recvCapacity - HEADROOM); // the memory's own ArrayBuffer: the shim's argument-free read
    if (n < 0) {
      if (n !== EAGAIN) this.destroy();
      return;
    }
    if (n === 0) return this.onPeerEnd();
    if (this.lingeringSince !== 0) return; // discarding what arrives after our close
    parser.beginParse();
    try {
      this.deliver(null, at, n);
    } finally {
      parser.endParse();
    }
  }

  /** The peer's bytes to the tunnel (`early`, or read just now: the memory's [at, at + n)), its writes meanwhile corked into one. */
  private deliver(early: Uint8Array | null, at: number, n: number): void {
    const corked = this.outbox?.takeCork() === true;
    this.flags |= READING;
    try {
      if (early === null) this.tunnel.emitReceived(at, n, clockAt(this.host.loop.now()));
      else this.tunnel.emitData(early, clock());
      if (corked) this.outbox!.releaseCork();
      this.afterSend();
    } catch (error) {
      this.host.reportError(error);
      this.destroy();
    } finally {
      this.flags &= ~READING;
    }
    this.maybeClose();
  }

  private onPeerEnd(): void {
    this.flags |= PEER_ENDED;
    if (this.lingeringSince !== 0) return this.destroy();
    this.updateInterest();
    this.call(() => this.tunnel.emitEnd());
    this.maybeClose();
  }

  /** After end(): once everything queued is sent, the write side shuts and the peer has LINGER_MS to close its side. */
  private maybeClose(): void {
    const outbox = this.outbox;
    if (!(this.flags & ENDING) || this.flags & (CLOSED | READING) || outbox === null || this.lingeringSince !== 0) return;
    if (outbox.queuedBytes > 0) return; // afterSend() comes back here once all is sent
    if (outbox.ownsCork) return queueMicrotask(() => this.maybeClose()); // corked: the batch leaves at its owner's release, this turn
    if (this.flags & PEER_ENDED) return this.destroy();
    shutdown(this.fd, K.SHUT_WR);
    this.lingeringSince = clock();
    this.flags &= ~READ_PAUSED;
    this.updateInterest();
  }

  /** Runs a tunnel callback; one that throws is reported and closes the socket. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.host.reportError(error);
      this.destroy();
    }
  }

  /** The socket's own deadlines (the protocol keeps its own time besides): bytes the client takes none of, and the lingering close. */
  sweep(time: number, timeouts: Deadlines): void {
    const now = clockAt(time);
    if (this.lingeringSince !== 0) {
      if (since(now, this.lingeringSince) > LINGER_MS) this.destroy();
    } else if (this.outbox !== null && this.outbox.pending && since(now, this.writeSince) > timeouts.write) {
      this.destroy(); // the client stopped reading: nothing more can reach it
    }
  }

  /** Closing already: first; then the message (a WebSocket's) the peer has been sending longest; -1 between messages. */
  evictionRank(time: number): number {
    if (this.closed) return -1;
    if (this.lingeringSince !== 0) return Infinity;
    const began = this.tunnel.messageSince;
    return began === 0 ? -1 : Math.max(0, time - began);
  }

  get heldBytes(): number {
    return this.bufferedAmount;
  }

  /** Nothing waits to be sent. */
  get idle(): boolean {
    return this.bufferedAmount === 0;
  }

  /** Server shutdown: the protocol ends politely (a WebSocket sends its close frame). */
  shutdown(): void {
    if (this.host.parser.parsing) return void queueMicrotask(() => this.shutdown()); // close() from a handler: after its batch
    if (!this.closed) this.call(() => this.tunnel.emitShutdown());
  }

  destroy(): void {
    if (this.connection !== null) return this.connection.destroy(); // it tells connectionClosed()
    if (this.closed) return;
    this.flags |= CLOSED;
    this.host.loop.closeWatched(this.fd);
    this.outbox!.close();
    this.call(() => this.tunnel.markClosed());
    this.host.forget();
  }

  /** After writes: a failed one closes the socket, bytes refused wait for EPOLLOUT, and `drained` (all queued went) is told. */
  private afterSend(drained = false): void {
    if (this.outbox === null || this.closed) return;
    if (this.outbox.failed) return this.destroy();
    this.updateInterest();
    if (!drained) return;
    if (!(this.flags & ENDING)) this.call(() => this.tunnel.emitDrain());
    this.maybeClose();
  }

  private updateInterest(): void {
    if (this.closed || this.outbox === null) return;
    let interest = this.flags & (READ_PAUSED | PEER_ENDED) ? 0 : READABLE;
    if (this.outbox.pending) {
      interest |= K.EPOLLOUT;
      if (!(this.interest & K.EPOLLOUT)) this.writeSince = clock();
    }
    if (interest !== this.interest) {
      this.interest = interest;
      this.host.loop.modify(this.fd, interest);
    }
  }

  /** TurnEnd: what tunnelSendSoon gathered this turn leaves. */
  turnEnded(): void {
    if (this.outbox !== null) this.afterSend(this.outbox.sendGathered());
  }

  tunnelSend(parts: Uint8Array[]): boolean {
    if (this.closed) return false;
    if (this.outbox === null) return (this.backlog ??= new Backlog()).add(parts);
    const sent = this.outbox.send(parts);
    if (!sent) this.afterSend();
    return sent;
  }

  tunnelSendRange(start: number, end: number): boolean {
    if (this.outbox === null || this.closed) return this.tunnelSend([this.host.parser.bytes.subarray(start, end)]);
    const sent = this.outbox.sendRegion(start, end);
    if (!sent) this.afterSend();
    return sent;
  }

  tunnelSendSoon(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.outbox === null) this.tunnelSend([bytes]);
    else if (this.outbox.sendSoon(bytes)) this.host.loop.atTurnEnd(this);
  }

  get bufferedAmount(): number {
    if (this.outbox !== null) return this.outbox.queuedBytes; // the backlog went into it
    return this.closed || this.backlog === null ? 0 : this.backlog.bytes;
  }

  endTunnel(): void {
    this.flags |= ENDING;
    this.maybeClose();
  }

  corkTunnel(fn: () => void): void {
    if (this.outbox === null) return fn();
    this.outbox.corked(fn);
    this.afterSend();
  }

  pauseTunnel(paused: boolean): void {
    this.flags = paused ? this.flags | READ_PAUSED : this.flags & ~READ_PAUSED;
    this.updateInterest();
  }

  get cork(): Cork {
    return this.host.cork;
  }
}
