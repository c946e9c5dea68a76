// A connection after "101 Switching Protocols": raw bytes both ways, for the
// protocol the upgrade named (WebSocket builds on this). Reads arrive as
// views of the receive region, valid during the ondata call; writes go
// through the connection's outbox, so back-pressure and the cork apply.
import type { Outbox, SharedFrames } from "./outbox.js";
import type { Cork } from "./cork.js";

/** What a tunnel needs from its connection. */
export interface TunnelHost {
  readonly remote: { address: string; port: number };
  /** Sends now what the kernel takes, queues the rest; false when some was queued. */
  tunnelSend(parts: Uint8Array[]): boolean;
  /** Sends bytes that stay unchanged at the end of this turn of the loop. */
  tunnelSendSoon(bytes: Uint8Array): void;
  readonly bufferedAmount: number;
  /** Sends what is queued, then shuts the write side and closes once the peer has too (or after a linger). */
  endTunnel(): void;
  destroy(): void;
  /** Batches the writes `fn` makes into one write. */
  corkTunnel(fn: () => void): void;
  /** Stops reading the peer (true) or starts again (false). */
  pauseTunnel(paused: boolean): void;
  /** The loop's output region (place() lends from it), with its memory (cork.memory, cork.parser.bytes). */
  readonly cork: Cork;
  /** tunnelSend() for bytes[start, end), output-region bytes lent by placeAt() or receive-region bytes read just now. */
  tunnelSendRange(start: number, end: number): boolean;
  /** The connection's outbox, null until the handover (see Tunnel.joinShared). */
  readonly outbox: Outbox | null;
}

/** The tunnel's events as one object's methods: no closure per tunnel (a WebSocket's link is one). */
export interface TunnelHandler {
  /** As ondata, for bytes that came with the upgrade request; `now`: the time (connection-state.ts's clock). */
  data(bytes: Uint8Array, now: number): void;
  /**
   * The bytes read just now: the loop memory's [at, at + n), in the receive
   * region, with the 16 bytes before them the callee's too; `now`: the time
   * of the loop's wake-up (connection-state.ts's clock).
   */
  received(at: number, n: number, now: number): void;
  end(): void;
  close(): void;
  drain(): void;
  shutdown(): void;
  /** When the message the peer is sending began (Date.now() ms), or 0 when none is under way. */
  messageSince(): number;
}

const noop = (): void => {};

/**
 * The callbacks an application sets one by one (tunnel.ondata = ...), as a
 * handler: made when the first is set, so a tunnel with a handler of its own
 * (a WebSocket's) carries no callback fields.
 */
class Callbacks implements TunnelHandler {
  ondata: (bytes: Uint8Array) => void = noop;
  onend: () => void = noop;
  onclose: () => void = noop;
  ondrain: () => void = noop;
  onshutdown: (() => void) | null = null;

  constructor(private readonly tunnel: Tunnel, private readonly memory: ArrayBuffer) {}

  data(bytes: Uint8Array): void {
    this.ondata(bytes);
  }
  received(at: number, n: number): void {
    this.ondata(new Uint8Array(this.memory, at, n));
  }
  end(): void {
    this.onend();
  }
  close(): void {
    this.onclose();
  }
  drain(): void {
    this.ondrain();
  }
  shutdown(): void {
    if (this.onshutdown !== null) this.onshutdown();
    else this.tunnel.end();
  }
  messageSince(): number {
    return 0;
  }
}

export class Tunnel {
  /** Every event goes to one object's methods: the handler given, or the callbacks below. */
  handler: TunnelHandler | null = null;
  private closedFlag = false;

  constructor(private readonly host: TunnelHost) {}

  get remote(): { address: string; port: number } {
    return this.host.remote;
  }

  /** The callbacks, made (in place of any other handler) for a setter. */
  private get callbacks(): Callbacks {
    const handler = this.handler;
    if (handler instanceof Callbacks) return handler;
    return (this.handler = new Callbacks(this, this.host.cork.memory));
  }

  /** The callbacks if they are the handler, for a getter: reading one never replaces a handler of its own (a WebSocket's link). */
  private get callbacksSet(): Callbacks | null {
    return this.handler instanceof Callbacks ? this.handler : null;
  }

  /**
   * The peer's bytes: a view valid only during the call. When it lies in the
   * receive region, the 16 bytes before it are the callee's to use too (to
   * put a carried frame head in front of the new bytes).
   */
  get ondata(): (bytes: Uint8Array) => void {
    return this.callbacksSet?.ondata ?? noop;
  }
  set ondata(fn: (bytes: Uint8Array) => void) {
    this.callbacks.ondata = fn;
  }
  /** The peer shut its write side. */
  get onend(): () => void {
    return this.callbacksSet?.onend ?? noop;
  }
  set onend(fn: () => void) {
    this.callbacks.onend = fn;
  }
  /** The connection is closed (after end(), destroy(), a reset, or the server's close). */
  get onclose(): () => void {
    return this.callbacksSet?.onclose ?? noop;
  }
  set onclose(fn: () => void) {
    this.callbacks.onclose = fn;
  }
  /** Everything queued has been handed to the kernel. */
  get ondrain(): () => void {
    return this.callbacksSet?.ondrain ?? noop;
  }
  set ondrain(fn: () => void) {
    this.callbacks.ondrain = fn;
  }
  /** The server is closing: end the protocol politely (null: end the tunnel). */
  get onshutdown(): (() => void) | null {
    return this.callbacksSet?.onshutdown ?? null;
  }
  set onshutdown(fn: (() => void) | null) {
    this.callbacks.onshutdown = fn;
  }

  /** When the message the peer is sending began (ms), or 0: none, or a protocol that does not say. */
  get messageSince(): number {
    return this.handler === null ? 0 : this.handler.messageSince();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Bytes queued that the kernel has not taken yet. */
  get bufferedAmount(): number {
    return this.host.bufferedAmount;
  }

  /** Writes bytes (copied if the kernel cannot take them now); false when some are queued: wait for ondrain. */
  write(bytes: Uint8Array | Uint8Array[]): boolean {
    if (this.closedFlag) return false;
    return this.host.tunnelSend(Array.isArray(bytes) ? bytes : [bytes]);
  }

  /**
   * Writes `bytes`, which must stay unchanged (a frame prepared once for many
   * tunnels), at the end of this turn of the loop together with the others
   * written this way: one system call per tunnel per turn.
   */
  writeSoon(bytes: Uint8Array): void {
    if (!this.closedFlag) this.host.tunnelSendSoon(bytes);
  }

  /** Batches the writes `fn` makes into one system call. */
  cork(fn: () => void): void {
    this.host.corkTunnel(fn);
  }

  /** Joins a publish's batch (fanout.ts, Outbox.joinShared) if nothing of its output waits and it is open; true if it did. */
  joinShared(frames: SharedFrames): boolean {
    const outbox = this.host.outbox;
    return outbox !== null && outbox.joinShared(frames); // (a closed tunnel's outbox is closed)
  }

  /** The descriptor to send a batch's `frames` to if it still gathers them, else -1 (Outbox.leaveShared). */
  leaveShared(frames: SharedFrames): number {
    const outbox = this.host.outbox;
    return outbox === null ? -1 : outbox.leaveShared(frames);
  }

  /** Whether it still gathers a batch's `frames` (Outbox.gathers). */
  gathers(frames: SharedFrames): boolean {
    const outbox = this.host.outbox;
    return outbox !== null && outbox.gathers(frames);
  }

  /** n bytes of the loop's output region to fill and pass to write() right away, or null when n is too large. */
  place(n: number): Uint8Array | null {
    const at = this.host.cork.placeAt(n);
    return at < 0 ? null : new Uint8Array(this.host.cork.memory, at, n); // (half what subarray() costs)
  }

  /** @internal place() as an index into the loop's memory (-1: none), for writeRange(): no view is made. */
  placeAt(n: number): number {
    return this.host.cork.placeAt(n);
  }

  /** @internal write() of the loop memory's [start, end): bytes placeAt() lent, or bytes of the receive region read just now. */
  writeRange(start: number, end: number): boolean {
    return !this.closedFlag && this.host.tunnelSendRange(start, end);
  }

  /**
   * Stops reading what the peer sends until resume(): it waits in the
   * kernel, whose full buffers then hold the peer back (TCP's flow control).
   */
  pause(): void {
    if (!this.closedFlag) this.host.pauseTunnel(true);
  }

  resume(): void {
    if (!this.closedFlag) this.host.pauseTunnel(false);
  }

  /** Sends what is queued, then closes the connection in an orderly way. */
  end(): void {
    if (!this.closedFlag) this.host.endTunnel();
  }

  /** Closes the connection now; queued bytes are dropped. */
  destroy(): void {
    if (!this.closedFlag) this.host.destroy();
  }

  // ---- for the connection -------------------------------------------------

  emitData(bytes: Uint8Array, now: number): void {
    this.handler?.data(bytes, now);
  }

  emitReceived(at: number, n: number, now: number): void {
    this.handler?.received(at, n, now);
  }

  emitEnd(): void {
    this.handler?.end();
  }

  emitDrain(): void {
    this.handler?.drain();
  }

  emitShutdown(): void {
    if (this.handler !== null) this.handler.shutdown();
    else this.end();
  }

  /** The connection has closed. */
  markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.handler?.close();
  }
}
