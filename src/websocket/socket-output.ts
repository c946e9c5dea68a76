// What one WebSocket sends: frames written through its tunnel, sends held
// back behind one being compressed, back-pressure, and every byte of it
// charged to the socket's account in the memory budget. The base class of
// WebSocket (socket.ts), so a socket is one object.
import { OPCODE, RSV } from "simplenet-parser/abi";
import type { FrameCodec } from "simplenet-parser/frames";
import type { ParserInstance } from "simplenet-parser";
import type { Tunnel } from "../http/tunnel.js";
import { Account, OVER_SHARE, ROOM, type MemoryBudget } from "./budget.js";
import type { Deflater } from "./deflate.js";
import { checkView, echoHead } from "./delivery.js";

/** What send() did: the bytes written, SEND_QUEUED (queued, the socket is back-pressured), or SEND_DROPPED. */
export const SEND_QUEUED = -1;
export const SEND_DROPPED = 0;

export interface SendOptions {
  /** Send as a binary message (a string is sent as text otherwise; bytes are binary unless this is false). */
  binary?: boolean;
  /** Compress (when permessage-deflate was negotiated and the message is over the threshold). Default true. */
  compress?: boolean;
}

/** What sending asks of the hub (hub.ts): the limits and budget its sockets share. */
export interface OutputHub {
  readonly budget: MemoryBudget;
  readonly codec: FrameCodec;
  /** The loop's memory (parser.bytes): the receive and output regions the frames are put together in. */
  readonly parser: ParserInstance;
  readonly compressThreshold: number;
  readonly maxBackpressure: number;
  readonly closeOnBackpressureLimit: boolean;
  /** Whether `deflater` is shared by sockets (so no socket may close it). */
  sharesDeflater(deflater: Deflater): boolean;
}

/** What sending tells the socket's link (link.ts). */
export interface OutputLink {
  readonly hub: OutputHub;
  /** The socket's queued sends are all out: the link decides on drain. */
  drained(): void;
}

const encoder = new TextEncoder();
export const OPEN = 1, CLOSING = 2, CLOSED = 3;
// Bits of `flags` (one field for the socket's yes-or-no state; WebSocket adds its own).
const BACKPRESSURED = 1, END_WHEN_FLUSHED = 2;
export const FIRST_FREE_FLAG = 4;

/** A send waiting behind one being compressed; `parts` is null until it is ready. */
interface Outgoing { parts: Uint8Array[] | null; size: number }

export class SocketOutput {
  /** 1 open, 2 closing (a close frame was sent), 3 closed. */
  readyState = OPEN;
  /** Pongs sent while output was queued, since the queue last drained: a client that pings and never reads is stopped (see link.ts). */
  pongsOwed = 0;
  protected flags = 0;
  /** The socket's share of the budget, made when it first holds a byte (an idle socket holds none). */
  private account: Account | null = null;
  /** Bytes of the connection's queue taken from the account. */
  private queuedTaken = 0;
  /** Sends waiting behind one being compressed, in order: each goes once it and all before it are ready; null while none waits. */
  private outbound: Outgoing[] | null = null;
  /** Bytes of the sends in `outbound`. */
  private pendingBytes = 0;

  constructor(
    /** @internal The connection, for the socket's link (and a publish): its events are the link's, not the application's. */
    readonly tunnel: Tunnel,
    protected readonly link: OutputLink,
    private readonly deflater: Deflater | null,
  ) {}

  /** Whether a send was refused or queued for back-pressure since the last drain. */
  get backpressured(): boolean {
    return (this.flags & BACKPRESSURED) !== 0;
  }

  set backpressured(yes: boolean) {
    this.flags = yes ? this.flags | BACKPRESSURED : this.flags & ~BACKPRESSURED;
  }

  /** Every byte held for this socket (queued output and pongs, sends being compressed, a message being assembled or inflated), in the budget. */
  get memory(): Account {
    return (this.account ??= new Account(this.link.hub.budget));
  }

  /** Bytes queued that the kernel has not taken yet. */
  getBufferedAmount(): number {
    return this.tunnel.bufferedAmount + this.pendingBytes;
  }

  /** Whether nothing waits to go out: no send being compressed, nothing in the connection's queue. */
  get idle(): boolean {
    return this.outbound === null && this.tunnel.bufferedAmount === 0;
  }

  /**
   * Sends a message: text for a string, binary for bytes (or as `binary`
   * says). Returns the bytes written, SEND_QUEUED (-1: queued, the socket is
   * back-pressured — wait for drain), or SEND_DROPPED (0: the socket is
   * closing, over maxBackpressure, or the process is over its memory budget).
   * The bytes are taken as they are at the call, but for a binary message's
   * view (see WebSocketOptions.message): not to be written after it is sent.
   */
  send(data: string | Uint8Array, options: SendOptions = {}): number {
    const binary = options.binary ?? typeof data !== "string";
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const { parser } = this.link.hub;
    if (bytes === data) checkView(bytes, parser);
    const opcode = binary ? OPCODE.BINARY : OPCODE.TEXT;
    if (this.readyState !== OPEN) return SEND_DROPPED;
    if (this.refuses(bytes.length)) return SEND_DROPPED;
    const compress = this.deflater !== null && options.compress !== false && bytes.length >= this.link.hub.compressThreshold;
    if (!compress && this.outbound === null) {
      // The message being delivered, sent back: it leaves from where it lies, behind its new head (delivery.ts).
      const at = echoHead(bytes, parser, opcode);
      if (at < 0) return this.sendFrame(opcode, bytes, 0);
      const end = at + (bytes.length < 126 ? 2 : 4) + bytes.length;
      return this.written(this.tunnel.writeRange(at, end), end - at);
    }
    const copy = bytes.slice();
    const slot: Outgoing = { parts: compress ? null : [this.frame(opcode, copy, 0, false, true), copy], size: copy.length };
    this.hold(slot);
    // Queued: the application may wait for drain, so one must follow once it is out.
    this.flags |= BACKPRESSURED;
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
    if (this.outbound === null) {
      this.tunnel.writeSoon(frame);
      this.takeQueued();
      return frame.length;
    }
    this.hold({ parts: [frame], size: frame.length });
    this.flags |= BACKPRESSURED;
    return SEND_QUEUED;
  }

  /** Whether a publish may send to this socket straight (fanout.ts): open, no send held back behind one being compressed. */
  get sendsDirect(): boolean {
    return this.readyState === OPEN && this.outbound === null;
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

  /** For the link: ends the connection (TCP) once the sends still being compressed, and the close frame behind them, are out. */
  endConnection(): void {
    if (this.outbound === null) this.tunnel.end();
    else this.flags |= END_WHEN_FLUSHED; // once they are out
  }

  /**
   * Sends a control frame. Pings and pongs answer to maxBackpressure and the
   * budget like messages, and may overtake messages still being compressed;
   * a close frame goes after them (no message may follow it, none is lost).
   */
  control(opcode: number, payload: Uint8Array): number {
    if (this.readyState === CLOSED || (this.readyState === CLOSING && opcode !== OPCODE.CLOSE)) return SEND_DROPPED;
    if (opcode === OPCODE.CLOSE && this.outbound !== null) {
      const head = this.frame(opcode, payload, 0, true, true);
      this.hold({ parts: [head], size: head.length });
      return SEND_QUEUED;
    }
    if (opcode !== OPCODE.CLOSE && this.refuses(2 + payload.length)) return SEND_DROPPED;
    const sent = this.sendFrame(opcode, payload, 0);
    if (opcode === OPCODE.PONG && this.tunnel.bufferedAmount > 0) this.pongsOwed++;
    return sent;
  }

  /** Brings the account up to date with the connection's queue (a running count: no walk). */
  takeQueued(): void {
    const queued = this.tunnel.bufferedAmount;
    if (queued > this.queuedTaken) this.memory.take(queued - this.queuedTaken);
    else if (queued < this.queuedTaken) this.memory.give(this.queuedTaken - queued);
    this.queuedTaken = queued;
    if (queued === 0) this.pongsOwed = 0;
  }

  /** The connection closed: give back what it held. */
  closed(): void {
    this.readyState = CLOSED;
    this.account?.giveAll();
    this.queuedTaken = 0;
    this.outbound = null;
    this.pendingBytes = 0;
    if (this.deflater !== null && !this.link.hub.sharesDeflater(this.deflater)) this.deflater.close();
  }

  /** Queues a send behind the one being compressed, holding its bytes. */
  private hold(slot: Outgoing): void {
    (this.outbound ??= []).push(slot);
    this.pendingBytes += slot.size;
    this.memory.take(slot.size);
  }

  /** Sends the waiting sends that are ready, in order (and ends the connection if that waited for them). */
  private flushOutbound(): void {
    // (this.outbound is read afresh each time: a write may close the socket, which drops it.)
    while (this.outbound !== null && this.outbound.length > 0 && this.outbound[0].parts !== null) {
      const slot = this.outbound.shift()!;
      this.pendingBytes -= slot.size;
      this.memory.give(slot.size);
      if (this.readyState !== CLOSED) this.write(slot.parts!);
    }
    if (this.outbound !== null && this.outbound.length === 0) this.outbound = null;
    if (this.outbound === null && (this.flags & END_WHEN_FLUSHED) !== 0) {
      this.flags &= ~END_WHEN_FLUSHED;
      this.tunnel.end();
    }
    // All out and taken by the kernel: the drain a queued send promised (else the connection's drain brings it).
    if (this.readyState !== CLOSED && this.idle) this.link.drained();
  }

  /**
   * Whether a send of n bytes must be dropped: over maxBackpressure, or no
   * room in the budget. A slow reader (over maxBackpressure, or holding more
   * than its share of a nearly full budget) is closed instead when the server
   * says so; a full budget alone closes nobody.
   */
  private refuses(n: number): boolean {
    const { hub } = this.link;
    const buffered = this.getBufferedAmount(); // sends still being compressed count too
    const overLimit = buffered + n > hub.maxBackpressure && buffered > 0;
    const room = hub.budget.room(this.account === null ? 0 : this.account.held, n);
    if (!overLimit && room === ROOM) return false;
    if (overLimit || room === OVER_SHARE) {
      this.flags |= BACKPRESSURED;
      if (hub.closeOnBackpressureLimit) this.tunnel.destroy();
    }
    return true;
  }

  /**
   * Frames and writes one message, its bytes taken now (a cork may hold what
   * it is given until the callback returns): put together in the output
   * region when they fit, else as a head and a copy of the payload.
   */
  private sendFrame(opcode: number, payload: Uint8Array, rsv: number): number {
    const length = payload.length;
    const total = (length < 126 ? 2 : length < 65536 ? 4 : 10) + length;
    const start = this.tunnel.placeAt(total);
    if (start < 0) return this.write([this.frame(opcode, payload, rsv, false), payload.slice()]);
    const { codec, parser } = this.link.hub;
    parser.bytes.set(payload, start + codec.writeHeader(start, true, opcode, rsv, length));
    return this.written(this.tunnel.writeRange(start, start + total), total);
  }

  /**
   * A frame head written by the codec in the output region (with the payload
   * after it when `withPayload`), valid until the next write; `copy` for one
   * that must outlive it.
   */
  private frame(opcode: number, payload: Uint8Array, rsv: number, withPayload: boolean, copy = false): Uint8Array {
    const headerLength = payload.length < 126 ? 2 : payload.length < 65536 ? 4 : 10;
    const place = this.tunnel.place(headerLength + (withPayload ? payload.length : 0))!;
    this.link.hub.codec.writeHeader(place.byteOffset, true, opcode, rsv, payload.length);
    if (withPayload) place.set(payload, headerLength);
    return copy ? place.slice() : place;
  }

  private write(parts: Uint8Array[]): number {
    let length = 0;
    for (const part of parts) length += part.length;
    return this.written(this.tunnel.write(parts), length);
  }

  /** After a write of `length` bytes (`all`: none was queued): the account, and back-pressure if some was. */
  private written(all: boolean, length: number): number {
    this.takeQueued();
    if (all) return length;
    this.flags |= BACKPRESSURED;
    return SEND_QUEUED;
  }
}
