// One WebSocket's link to its hub: the socket's tunnel handler and frame
// events as methods (an idle socket carries no closures), and the state of
// it that only the hub needs. Each event goes to the hub, which decides.
import { CLOSE } from "simplenet-parser/abi";
import type { Tunnel, TunnelHandler } from "../http/tunnel.js";
import type { Inflater } from "./deflate.js";
import type { FrameEvents, FrameReader } from "./reader.js";
import type { WebSocket } from "./socket.js";

/** What a link passes its events to (the hub). */
export interface LinkHub<T> {
  updateReading(link: Link<T>): void;
  drained(ws: WebSocket<T>): void;
  onClose(link: Link<T>): void;
  onMessage(link: Link<T>, data: Uint8Array, text: boolean, compressed: boolean, owned: boolean): void;
  onControl(link: Link<T>, opcode: number, payload: Uint8Array): void;
  fail(link: Link<T>, code: number, reason: string): void;
}

/**
 * Per socket, what only the hub needs; also the socket's tunnel handler and
 * frame events, as methods (an idle socket carries no closures).
 */
export class Link<T> implements TunnelHandler, FrameEvents {
  reader!: FrameReader;
  /** Messages waiting behind one being inflated, in order; `size`: the bytes each holds (taken from the socket's account). */
  inbound: { ready: boolean; size: number; deliver: () => void }[] = [];
  closeCode: number = CLOSE.ABNORMAL;
  closeReason = "";
  closingSince = 0;
  /** Reading is paused (see the hub's PAUSE_READING_AT). */
  paused = false;
  /** When the message the client is sending began (ms), or 0 between messages. */
  private messageStart = 0;

  constructor(
    private readonly hub: LinkHub<T>,
    readonly ws: WebSocket<T>,
    readonly tunnel: Tunnel,
    readonly inflater: Inflater | null,
  ) {}

  // TunnelHandler
  data(bytes: Uint8Array): void {
    const now = Date.now();
    this.ws.lastSeen = now;
    this.ws.pinged = false;
    this.reader.feed(bytes);
    if (!this.reader.midMessage) this.messageStart = 0;
    else if (this.messageStart === 0) this.messageStart = now;
    this.hub.updateReading(this);
  }
  messageSince(): number {
    return this.messageStart;
  }
  end(): void {
    this.tunnel.destroy(); // the client left without a close frame: 1006
  }
  drain(): void {
    this.hub.drained(this.ws);
  }
  shutdown(): void {
    if (this.ws.readyState === 1) this.ws.end(CLOSE.GOING_AWAY, "Server shutting down");
    else this.tunnel.end();
  }
  close(): void {
    this.hub.onClose(this);
  }

  // FrameEvents
  message(data: Uint8Array, text: boolean, compressed: boolean, owned: boolean): void {
    this.hub.onMessage(this, data, text, compressed, owned);
  }
  control(opcode: number, payload: Uint8Array): void {
    this.hub.onControl(this, opcode, payload);
  }
  fault(code: number, reason: string): void {
    this.hub.fail(this, code, reason);
  }
  reserve(bytes: number): boolean {
    return this.ws.memory.reserve(bytes);
  }
  release(bytes: number): void {
    this.ws.memory.give(bytes);
  }
}
