// One WebSocket connection, as the application sees it: its data, ping,
// topics, and the close handshake (RFC 6455 §5.5.1, §7); what it sends, and
// how, is its base class's (socket-output.ts).
import { CLOSE, OPCODE } from "simplenet-parser/abi";
import { isValidCloseCode } from "simplenet-parser/frames";
import type { Tunnel } from "../http/tunnel.js";
import type { Deflater } from "./deflate.js";
import { CLOSING, FIRST_FREE_FLAG, OPEN, SocketOutput, type OutputHub, type OutputLink, type SendOptions } from "./socket-output.js";
import type { Topics } from "./topics.js";

export { SEND_DROPPED, SEND_QUEUED, type SendOptions } from "./socket-output.js";

/** What a socket asks of its hub (hub.ts): the shared limits, topics and budget. */
export interface SocketHub<T> extends OutputHub {
  readonly topics: Topics<WebSocket<T>>;
  publish(topic: string, data: string | Uint8Array, options?: SendOptions, except?: WebSocket<T>): number;
}

/** What a socket tells its link (link.ts), which holds what only the server needs of it. */
export interface SocketLink<T> extends OutputLink {
  readonly hub: SocketHub<T>;
  /** The socket sent its close frame: the client has a while to answer. */
  closing(code: number, reason: string): void;
}

const encoder = new TextEncoder();
const PINGED = FIRST_FREE_FLAG;

export class WebSocket<T = unknown> extends SocketOutput {
  declare protected readonly link: SocketLink<T>;
  /** The application's data for this socket, as the upgrade hook gave it. */
  data: T;
  /** Topics this socket is subscribed to. */
  topics: Set<string> | null = null;
  /** When the last bytes came in (clock.ts), for the idle timeout. */
  lastSeen: number;

  constructor(
    link: SocketLink<T>,
    tunnel: Tunnel,
    deflater: Deflater | null,
    data: T,
    now: number,
    /** The subprotocol chosen, or "". */
    readonly protocol: string,
    /** The Sec-WebSocket-Extensions the server answered with, or "". */
    readonly extensions: string,
  ) {
    super(tunnel, link, deflater);
    this.data = data;
    this.lastSeen = now;
  }

  /** A ping sent by the idle timer awaits its pong. */
  get pinged(): boolean {
    return (this.flags & PINGED) !== 0;
  }

  set pinged(yes: boolean) {
    this.flags = yes ? this.flags | PINGED : this.flags & ~PINGED;
  }

  get remoteAddress(): string {
    return this.tunnel.remote.address;
  }

  get remote(): { address: string; port: number } {
    return this.tunnel.remote;
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
    this.link.closing(code, reason);
  }

  /** Closes the connection at once, without the handshake. */
  close(): void {
    this.tunnel.destroy();
  }

  subscribe(topic: string): void {
    this.link.hub.topics.subscribe(this, topic);
  }

  unsubscribe(topic: string): void {
    this.link.hub.topics.unsubscribe(this, topic);
  }

  isSubscribed(topic: string): boolean {
    return this.topics?.has(topic) ?? false;
  }

  /** Sends to every subscriber of `topic` but this socket. Returns how many it was sent (or queued) to. */
  publish(topic: string, data: string | Uint8Array, options: SendOptions = {}): number {
    return this.link.hub.publish(topic, data, options, this);
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
