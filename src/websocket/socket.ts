// One WebSocket connection, as the application sees it: send, ping, topics,
// back-pressure, and the close handshake (RFC 6455 §5.5.1, §7).
import { CLOSE, OPCODE, RSV } from "simplenet-parser/abi";
import { isValidCloseCode, type FrameCodec } from "simplenet-parser/frames";
import type { Tunnel } from "../http/tunnel.js";
import { Account, OVER_SHARE, ROOM, type MemoryBudget } from "./budget.js";
import type { Deflater } from "./deflate.js";
import type { Topics } from "./topics.js";

/** What send() did: the bytes written, SEND_QUEUED (queued, the socket is back-pressured), or SEND_DROPPED. */
export const SEND_QUEUED = -1;
export const SEND_DROPPED = 0;

export interface SendOptions {
  /** Send as a binary message (a string is sent as text otherwise; bytes are binary unless this is false). */
  binary?: boolean;
  /** Compress (when permessage-deflate was negotiated and the message is over the threshold). Default true. */
  compress?: boolean;
}

/** What a socket asks of its hub (hub.ts): the shared limits, topics and budget, and the events only the hub handles. */
export interface SocketHub<T> {
  readonly budget: MemoryBudget;
  readonly topics: Topics<WebSocket<T>>;
  readonly compressThreshold: number;
  readonly maxBackpressure: number;
  readonly closeOnBackpressureLimit: boolean;
  drained(ws: WebSocket<T>): void;
  closing(ws: WebSocket<T>, code: number, reason: string): void;
  publish(topic: string, data: string | Uint8Array, options?: SendOptions, except?: WebSocket<T>): number;
  sharesDeflater(deflater: Deflater): boolean;
}

const encoder = new TextEncoder();
const OPEN = 1, CLOSING = 2, CLOSED = 3;

export class WebSocket<T = unknown> {
  /** The application's data for this socket, as the upgrade hook gave it. */
  data: T;
  /** 1 open, 2 closing (a close frame was sent), 3 closed. */
  readyState = OPEN;
  /** Topics this socket is subscribed to. */
  topics: Set<string> | null = null;
  /** When the last bytes came in (ms), for the idle timeout. */
  lastSeen = Date.now();
  /** A ping sent by the idle timer awaits its pong. */
  pinged = false;
  /** Every byte held for this socket (queued output and pongs, sends being compressed, a message being assembled or inflated), in the budget. */
  readonly memory: Account;
  /** Bytes of the connection's queue taken from `memory`. */
  private queuedTaken = 0;
  /** Pongs sent while output was queued, since the queue last drained: a client that pings and never reads is stopped at MAX_PONGS_OWED. */
  pongsOwed = 0;
  /** Whether a send was refused or queued for back-pressure since the last drain. */
  backpressured = false;
  /** Sends waiting behind one being compressed, in order: each goes once it and all before it are ready. */
  private outbound: { parts: Uint8Array[] | null; opcode: number; size: number }[] = [];
  /** The hub ended the connection while sends were waiting: end it once they are out. */
  private endWhenFlushed = false;
  /** Bytes of the sends in `outbound`. */
  private pendingBytes = 0;

  constructor(
    private readonly tunnel: Tunnel,
    private readonly hub: SocketHub<T>,
    private readonly codec: FrameCodec,
    data: T,
    /** The subprotocol chosen, or "". */
    readonly protocol: string,
    /** The Sec-WebSocket-Extensions the server answered with, or "". */
    readonly extensions: string,
    private readonly deflater: Deflater | null,
  ) {
    this.data = data;
    this.memory = new Account(hub.budget);
  }

  get remoteAddress(): string {
    return this.tunnel.remote.address;
  }

  get remote(): { address: string; port: number } {
    return this.tunnel.remote;
  }

  /** Bytes queued that the kernel has not taken yet. */
  getBufferedAmount(): number {
    return this.tunnel.bufferedAmount + this.pendingBytes;
  }

  /** Whether nothing waits to go out: no send being compressed, nothing in the connection's queue. */
  get idle(): boolean {
    return this.outbound.length === 0 && this.tunnel.bufferedAmount === 0;
  }

  /**
   * Sends a message: text for a string, binary for bytes (or as `binary`
   * says). Returns the bytes written, SEND_QUEUED (-1: queued, the socket is
   * back-pressured — wait for drain), or SEND_DROPPED (0: the socket is
   * closing, over maxBackpressure, or the process is over its memory budget).
   */
  send(data: string | Uint8Array, options: SendOptions = {}): number {
    const binary = options.binary ?? typeof data !== "string";
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const opcode = binary ? OPCODE.BINARY : OPCODE.TEXT;
    if (this.readyState !== OPEN) return SEND_DROPPED;
    if (this.refuses(bytes.length)) return SEND_DROPPED;
    const compress = this.deflater !== null && options.compress !== false && bytes.length >= this.hub.compressThreshold;
    if (!compress && this.outbound.length === 0) return this.sendFrame(opcode, bytes, 0);
    const copy = bytes.slice();
    const slot = { parts: compress ? null : [this.frame(opcode, copy, 0, false, true), copy], opcode, size: copy.length };
    this.outbound.push(slot);
    this.pendingBytes += slot.size;
    this.memory.take(slot.size);
    // Queued: the application may wait for drain, so one must follow once it is out.
    this.backpressured = true;
    if (compress) {
      this.deflater!.deflate(copy, (compressed) => {
        // Not smaller (or failed): sent as it is.
        slot.parts = compressed === null || compressed.length >= copy.length
          ? [this.frame(opcode, copy, 0, false, true), copy]
          : [this.frame(opcode, compressed, RSV.RSV1, false, true), compressed];
        this.flushOutbound();
      });
    }
    return SEND_QUEUED;
  }

  /** Sends a frame that a publish prepared once for every subscriber (header and payload in one buffer). */
  sendPrepared(frame: Uint8Array): number {
    if (this.readyState !== OPEN || this.refuses(frame.length)) return SEND_DROPPED;
    if (this.outbound.length === 0) {
      this.tunnel.writeSoon(frame);
      this.takeQueued();
      return frame.length;
    }
    this.outbound.push({ parts: [frame], opcode: OPCODE.BINARY, size: frame.length });
    this.pendingBytes += frame.length;
    this.memory.take(frame.length);
    this.backpressured = true;
    return SEND_QUEUED;
  }

  /** A whole frame in a buffer of its own, for a publish to many sockets. */
  preparedFrame(data: string | Uint8Array, options: SendOptions): Uint8Array {
    const payload = typeof data === "string" ? encoder.encode(data) : data;
    const opcode = options.binary ?? typeof data !== "string" ? OPCODE.BINARY : OPCODE.TEXT;
    const head = this.frame(opcode, payload, 0, false);
    const frame = new Uint8Array(head.length + payload.length);
    frame.set(head);
    frame.set(payload, head.length);
    return frame;
  }

  /** Sends the waiting sends that are ready, in order (and ends the connection if that waited for them). */
  private flushOutbound(): void {
    while (this.outbound.length > 0 && this.outbound[0].parts !== null) {
      const slot = this.outbound.shift()!;
      this.pendingBytes -= slot.size;
      this.memory.give(slot.size);
      if (this.readyState !== CLOSED) this.write(slot.parts!);
    }
    if (this.outbound.length === 0 && this.endWhenFlushed) {
      this.endWhenFlushed = false;
      this.tunnel.end();
    }
    // All out and taken by the kernel: the drain a queued send promised (else the connection's drain brings it).
    if (this.readyState !== CLOSED && this.idle) this.hub.drained(this);
  }

  /** For the hub: ends the connection (TCP) once the sends still being compressed, and the close frame behind them, are out. */
  endConnection(): void {
    if (this.outbound.length === 0) this.tunnel.end();
    else this.endWhenFlushed = true;
  }

  ping(data: string | Uint8Array = new Uint8Array(0)): number {
    return this.control(OPCODE.PING, typeof data === "string" ? encoder.encode(data) : data);
  }

  pong(data: string | Uint8Array = new Uint8Array(0)): number {
    return this.control(OPCODE.PONG, typeof data === "string" ? encoder.encode(data) : data);
  }

  /** Batches the sends `fn` makes into one system call. */
  cork(fn: () => void): void {
    this.tunnel.cork(fn);
  }

  /** Starts the close handshake: a close frame with `code` and `reason`; the connection closes once the client answers (or in 5 s). */
  end(code: number = CLOSE.NORMAL, reason = ""): void {
    // 1005, 1006 and 1015 are never sent, 0-999 and 1004 never valid (RFC 6455 §7.4): the client would fail the connection.
    if (!isValidCloseCode(code)) throw new RangeError(`${code} is not a close code that may be sent (1000-1003, 1007-1014, 3000-4999)`);
    if (this.readyState !== OPEN) return;
    this.control(OPCODE.CLOSE, closePayload(code, reason));
    this.readyState = CLOSING;
    this.hub.closing(this, code, reason);
  }

  /** Closes the connection at once, without the handshake. */
  close(): void {
    this.tunnel.destroy();
  }

  subscribe(topic: string): void {
    this.hub.topics.subscribe(this, topic);
  }

  unsubscribe(topic: string): void {
    this.hub.topics.unsubscribe(this, topic);
  }

  isSubscribed(topic: string): boolean {
    return this.topics?.has(topic) ?? false;
  }

  /** Sends to every subscriber of `topic` but this socket. Returns how many it was sent (or queued) to. */
  publish(topic: string, data: string | Uint8Array, options: SendOptions = {}): number {
    return this.hub.publish(topic, data, options, this);
  }

  // ---- below: for the hub ---------------------------------------------------

  /**
   * Sends a control frame. Pings and pongs answer to maxBackpressure and the
   * budget like messages, and may overtake messages still being compressed;
   * a close frame goes after them (no message may follow it, none is lost).
   */
  control(opcode: number, payload: Uint8Array): number {
    if (this.readyState === CLOSED || (this.readyState === CLOSING && opcode !== OPCODE.CLOSE)) return SEND_DROPPED;
    if (opcode === OPCODE.CLOSE && this.outbound.length > 0) {
      const head = this.frame(opcode, payload, 0, true, true);
      this.outbound.push({ parts: [head], opcode, size: head.length });
      this.pendingBytes += head.length;
      this.memory.take(head.length);
      return SEND_QUEUED;
    }
    if (opcode !== OPCODE.CLOSE && this.refuses(2 + payload.length)) return SEND_DROPPED;
    const sent = this.sendFrame(opcode, payload, 0);
    if (opcode === OPCODE.PONG && this.tunnel.bufferedAmount > 0) this.pongsOwed++;
    return sent;
  }

  /**
   * Whether a send of n bytes must be dropped: over maxBackpressure, or no
   * room in the budget. A slow reader (over maxBackpressure, or holding more
   * than its share of a nearly full budget) is closed instead when the server
   * says so; a full budget alone closes nobody.
   */
  private refuses(n: number): boolean {
    const buffered = this.getBufferedAmount(); // sends still being compressed count too
    const overLimit = buffered + n > this.hub.maxBackpressure && buffered > 0;
    const room = this.memory.room(n);
    if (!overLimit && room === ROOM) return false;
    if (overLimit || room === OVER_SHARE) {
      this.backpressured = true;
      if (this.hub.closeOnBackpressureLimit) this.close();
    }
    return true;
  }

  /** Frames and writes one message: a small one is put together in the output region, a large one goes as two parts. */
  private sendFrame(opcode: number, payload: Uint8Array, rsv: number): number {
    const small = payload.length <= 1024;
    const head = this.frame(opcode, payload, rsv, small);
    return this.write(small ? [head] : [head, payload]);
  }

  /**
   * A frame head written by the codec in the output region (with the payload
   * after it when `withPayload`), valid until the next write; `copy` for one
   * that must outlive it.
   */
  private frame(opcode: number, payload: Uint8Array, rsv: number, withPayload: boolean, copy = false): Uint8Array {
    const headerLength = payload.length < 126 ? 2 : payload.length < 65536 ? 4 : 10;
    const place = this.tunnel.place(headerLength + (withPayload ? payload.length : 0))!;
    this.codec.writeHeader(place.byteOffset, true, opcode, rsv, payload.length);
    if (withPayload) place.set(payload, headerLength);
    return copy ? place.slice() : place;
  }

  private write(parts: Uint8Array[]): number {
    let length = 0;
    for (const part of parts) length += part.length;
    const all = this.tunnel.write(parts);
    this.takeQueued();
    if (all) return length;
    this.backpressured = true;
    return SEND_QUEUED;
  }

  /** Brings the account up to date with the connection's queue (a running count: no walk). */
  takeQueued(): void {
    const queued = this.tunnel.bufferedAmount;
    if (queued > this.queuedTaken) this.memory.take(queued - this.queuedTaken);
    else this.memory.give(this.queuedTaken - queued);
    this.queuedTaken = queued;
    if (queued === 0) this.pongsOwed = 0;
  }

  /** The connection closed: give back what it held. */
  closed(): void {
    this.readyState = CLOSED;
    this.memory.giveAll();
    this.queuedTaken = 0;
    this.outbound = [];
    this.pendingBytes = 0;
    if (this.deflater !== null && !this.hub.sharesDeflater(this.deflater)) this.deflater.close();
  }
}

/** A close frame's payload: the code, then the reason, at most 123 bytes of UTF-8 (RFC 6455 §5.5, §5.5.1). */
export function closePayload(code: number, reason: string): Uint8Array {
  const text = encoder.encode(reason);
  if (text.length > 123) throw new RangeError("a close reason is at most 123 bytes");
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}
