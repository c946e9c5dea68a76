// One WebSocket's inbound side: its tunnel's events and its frame reader's
// (link and reader are one object: the reader is its base class), and what
// follows a message or control frame from the client — inflating, ordering
// behind zlib, the application's callbacks, pongs, the close handshake.
import { CLOSE, OPCODE } from "simplenet-parser/abi";
import type { Tunnel, TunnelHandler } from "../http/tunnel.js";
import { clockNow, elapsed, toDateNow } from "./clock.js";
import type { Inflater } from "./deflate.js";
import { delivered, delivering } from "./delivery.js";
import type { WebSocketOptions } from "./options.js";
import { FrameReader, type ReaderSettings } from "./reader.js";
import { closePayload, type SocketHub, type SocketLink, type WebSocket } from "./socket.js";
import { CLOSED, CLOSING, OPEN } from "./socket-output.js";

/** Pongs a client may be owed (sent while output is queued, not yet taken by the kernel); a ping past them closes with 1008 (ws's limit is 60). */
const MAX_PONGS_OWED = 64;
/**
 * A connection's reading pauses while its queued output is over this (or
 * while a message of it is being inflated), and resumes once the queue is
 * down to RESUME_READING_AT: what the client sends meanwhile waits in the
 * kernel, so echoes, pongs and messages behind zlib cannot pile up here.
 */
const PAUSE_READING_AT = 64 * 1024;
const RESUME_READING_AT = 16 * 1024;
const decoder = new TextDecoder();

/** What a link asks of its hub (hub.ts) beyond what its socket does. */
export interface LinkHub<T> extends SocketHub<T>, ReaderSettings {
  readonly options: WebSocketOptions<T>;
  /** Runs an application callback; one that throws is reported, and fails `link`'s socket with 1011. */
  call(fn: () => void, link?: Link<T>): void;
  /** Whether the bytes are UTF-8 (for text that was inflated). */
  isUtf8(bytes: Uint8Array): boolean;
  onClose(link: Link<T>): void;
}

interface CloseState { code: number; reason: string; since: number }

/** A message or control frame waiting behind one being inflated; `size`: the bytes it holds (taken from the socket's account). */
interface Waiting { ready: boolean; size: number; deliver: () => void }

/** (The hub is the reader's settings: one pointer per socket for both.) */
export class Link<T> extends FrameReader<LinkHub<T>> implements TunnelHandler, SocketLink<T> {
  ws!: WebSocket<T>;
  /** Messages waiting behind one being inflated, in order; null while none waits. */
  private inbound: Waiting[] | null = null;
  /** The close code and reason for the close callback, and when our close frame went out (clock.ts, or 0); null until one is known (1006). */
  private closeState: CloseState | null = null;
  /** Reading is paused (see PAUSE_READING_AT). */
  private paused = false;
  /** When the message the client is sending began (clock.ts), or 0 between messages; the bytes received since, for its minimum rate. */
  private messageStart = 0;
  private messageBytes = 0;

  constructor(hub: LinkHub<T>, private readonly inflater: Inflater | null) {
    super(hub);
  }

  get closeCode(): number {
    return this.closeState?.code ?? CLOSE.ABNORMAL;
  }
  get closeReason(): string {
    return this.closeState?.reason ?? "";
  }
  get closingSince(): number {
    return this.closeState?.since ?? 0;
  }

  /** What the close callback will be told (the reason kept when none is given); `since`: when our close frame went out. */
  noteClose(code: number, reason = this.closeReason, since = this.closingSince): void {
    this.closeState = { code, reason, since };
  }

  get hub(): LinkHub<T> {
    return this.settings;
  }

  private get tunnel(): Tunnel {
    return this.ws.tunnel;
  }

  // ---- TunnelHandler ---------------------------------------------------------

  data(bytes: Uint8Array, now: number): void {
    this.heard(now);
    this.feed(bytes);
    this.fed(bytes.length, now);
  }
  received(at: number, n: number, now: number): void {
    this.heard(now);
    this.feedReceived(at, n);
    this.fed(n, now);
  }
  messageSince(): number {
    return this.messageStart === 0 ? 0 : toDateNow(this.messageStart);
  }

  /** Bytes came in at `now`: the idle timer starts again. */
  private heard(now: number): void {
    const { ws } = this;
    ws.lastSeen = now;
    ws.pinged = false;
  }

  /** After n bytes were read: the message under way is timed (its minimum rate), and reading paused or resumed. */
  private fed(n: number, now: number): void {
    if (!this.midMessage) {
      this.messageStart = 0;
    } else if (this.messageStart === 0) {
      this.messageStart = now;
      this.messageBytes = n;
    } else {
      this.messageBytes += n;
    }
    this.updateReading();
  }

  /** The message under way has taken longer than `timeoutMs` plus a second per `minRate` bytes of it (never while the server is not reading). */
  messageTooSlow(now: number, timeoutMs: number, minRate: number): boolean {
    if (this.messageStart === 0 || this.paused) return false;
    return elapsed(this.messageStart, now) > timeoutMs + (this.messageBytes * 1000) / minRate;
  }
  end(): void {
    this.tunnel.destroy(); // the client left without a close frame: 1006
  }
  drain(): void {
    this.drained();
  }
  shutdown(): void {
    if (this.ws.readyState === OPEN) this.ws.end(CLOSE.GOING_AWAY, "Server shutting down");
    else this.tunnel.end();
  }
  close(): void {
    this.stop();
    this.inflater?.close();
    this.inbound = null;
    this.hub.onClose(this);
  }

  // ---- SocketLink ------------------------------------------------------------

  /** The connection's queue has drained, or the socket's queued sends are all out: drain, if a send was queued or dropped and nothing waits now. */
  drained(): void {
    const { ws } = this;
    ws.takeQueued();
    this.updateReading();
    if (ws.backpressured && ws.idle) {
      ws.backpressured = false;
      this.hub.call(() => this.hub.options.drain?.(ws), this);
    }
  }

  /** The socket sent its close frame (ws.end()): the client has a while to answer (see the hub's sweep). */
  closing(code: number, reason: string): void {
    this.noteClose(code, reason, clockNow());
  }

  /** Pauses or resumes reading the connection (see PAUSE_READING_AT). */
  updateReading(): void {
    const queued = this.ws.getBufferedAmount();
    const pause = this.inbound !== null || queued > (this.paused ? RESUME_READING_AT : PAUSE_READING_AT);
    if (pause === this.paused) return;
    this.paused = pause;
    // The client could not send while we held it back: its message's time starts again.
    if (!pause && this.messageStart !== 0) {
      this.messageStart = clockNow();
      this.messageBytes = 0;
    }
    if (pause) this.tunnel.pause();
    else this.tunnel.resume();
  }

  // ---- FrameReader's events --------------------------------------------------

  protected mayCompress(): boolean {
    return this.inflater !== null;
  }
  protected reserve(bytes: number): boolean {
    return this.ws.memory.reserve(bytes);
  }
  protected release(bytes: number): void {
    this.ws.memory.give(bytes);
  }

  protected message(data: Uint8Array, text: boolean, compressed: boolean, receivedAt: number): void {
    if (!compressed && this.inbound === null) return this.deliver(data, text, receivedAt);
    // A message waiting for zlib, or behind one, holds its bytes: within the budget, like one being assembled.
    const memory = this.ws.memory;
    if (compressed && !memory.reserve(data.length)) return this.fail(CLOSE.TRY_AGAIN_LATER, "Server memory budget reached");
    if (!compressed) memory.take(data.length);
    const slot: Waiting = { ready: false, size: data.length, deliver: (): void => {} };
    (this.inbound ??= []).push(slot);
    const input = receivedAt < 0 ? data : data.slice();
    const finish = (bytes: Uint8Array): void => {
      slot.ready = true;
      slot.deliver = () => this.deliver(bytes, text);
      this.deliverReady();
    };
    if (!compressed) return finish(input);
    this.inflater!.inflate([input], this.settings.maxPayload, (result) => {
      // (Not called once the socket has closed: its account was given back whole.)
      if (this.ws.readyState === CLOSED) return;
      if ("error" in result) {
        return this.fail(result.error === "too-large" ? CLOSE.MESSAGE_TOO_BIG : CLOSE.INVALID_PAYLOAD, "Bad compressed message");
      }
      if (text && !this.hub.isUtf8(result.data)) return this.fail(CLOSE.INVALID_PAYLOAD, "Text is not UTF-8");
      finish(result.data);
    });
  }

  protected control(opcode: number, payload: Uint8Array): void {
    if (opcode === OPCODE.CLOSE) this.stop(); // nothing after a close frame is read
    // Behind messages still being inflated, a control frame waits its turn: a
    // close must not overtake them (they would be lost), nor a pong their echoes.
    // (The reader gives each control frame a payload of its own, so it may wait.)
    if (this.inbound !== null) {
      this.ws.memory.take(payload.length);
      this.inbound.push({ ready: true, size: payload.length, deliver: () => this.handleControl(opcode, payload) });
      return;
    }
    this.handleControl(opcode, payload);
  }

  /** Fails the connection (RFC 6455 §7.1.7): a close frame with the code, then the TCP close. */
  fail(code: number, reason: string): void {
    const { ws } = this;
    this.stop();
    if (ws.readyState === OPEN) {
      ws.control(OPCODE.CLOSE, closePayload(code, reason));
      this.noteClose(code, reason);
    }
    ws.readyState = CLOSING;
    ws.endConnection();
  }

  // ---- after an event --------------------------------------------------------

  /** Delivers the waiting messages and control frames that are ready, in order; reading resumes once none waits. */
  private deliverReady(): void {
    // (this.inbound is read afresh each time: a callback may close the socket, which drops it.)
    while (this.inbound !== null && this.inbound.length > 0 && this.inbound[0].ready) {
      const slot = this.inbound.shift()!;
      this.ws.memory.give(slot.size);
      slot.deliver();
    }
    if (this.inbound !== null && this.inbound.length === 0) this.inbound = null;
    this.updateReading();
  }

  /** `receivedAt`: where `data` begins when it is a view of the receive region right after its frame's head (see delivery.ts), else -1. */
  private deliver(data: Uint8Array, text: boolean, receivedAt = -1): void {
    const { ws, hub } = this;
    if (ws.readyState !== OPEN || hub.options.message === undefined) return;
    if (text) return hub.call(() => hub.options.message!(ws, decoder.decode(data), false), this);
    if (receivedAt < 0) return hub.call(() => hub.options.message!(ws, data, true), this);
    delivering(hub.parser, data, receivedAt);
    try {
      hub.call(() => hub.options.message!(ws, data, true), this); // (which catches what the callback throws, unless onError throws)
    } finally {
      delivered();
    }
  }

  private handleControl(opcode: number, payload: Uint8Array): void {
    const { ws, hub } = this;
    if (ws.readyState === CLOSED) return;
    if (opcode === OPCODE.PING) {
      if (ws.pongsOwed >= MAX_PONGS_OWED) {
        // It pings and does not read the answers: as ws does, end it (a close frame could not reach it either).
        this.noteClose(CLOSE.POLICY_VIOLATION, "Too many pongs owed");
        return this.tunnel.destroy();
      }
      ws.pong(payload);
      return hub.call(() => hub.options.ping?.(ws, payload), this);
    }
    if (opcode === OPCODE.PONG) {
      ws.pinged = false;
      return hub.call(() => hub.options.pong?.(ws, payload), this);
    }
    // A close frame: echo it if we had not sent ours, then close the TCP connection (RFC 6455 §5.5.1, §7.1.1).
    const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : CLOSE.NO_STATUS;
    const reason = payload.length > 2 ? decoder.decode(payload.subarray(2)) : "";
    this.stop();
    if (ws.readyState === OPEN) {
      this.noteClose(code, reason);
      ws.control(OPCODE.CLOSE, payload.length >= 2 ? payload.subarray(0, 2) : new Uint8Array(0));
    }
    ws.readyState = CLOSING;
    ws.endConnection();
  }
}
