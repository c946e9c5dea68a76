// What serve({ websocket }) takes: the application's callbacks and the limits
// of its sockets, and what the upgrade hook answers.
import type { Request } from "../http/request.js";
import type { OutgoingFields, Response } from "../http/response.js";
import type { DeflateOptions } from "./deflate.js";
import type { WebSocket } from "./socket.js";

/** What the upgrade hook answers to accept: the socket's data, more 101 fields, the chosen subprotocol. */
export interface UpgradeAnswer<T> {
  data?: T;
  headers?: OutgoingFields | Headers;
  /** One of the subprotocols the client offered (Sec-WebSocket-Protocol). */
  protocol?: string;
}

export interface WebSocketOptions<T = unknown> {
  /**
   * Decides on a handshake that is valid per RFC 6455 (anything else was
   * answered already: 400, 405, or 426 for a version other than 13). Return
   * the socket's data (and fields, subprotocol) to accept; answer with `res`
   * (401, 403, ...) or return false to refuse. Default: accept.
   */
  upgrade?: (req: Request, res: Response) => UpgradeAnswer<T> | void | false | Promise<UpgradeAnswer<T> | void | false>;
  open?: (ws: WebSocket<T>) => void;
  /**
   * A whole message: a string for text; for binary a view of the server's
   * receive region, valid only during the call. It may be sent (to any
   * socket) during the call; it must not be written to after it was sent
   * (an echo of it leaves from where it lies, once the call returns); a view
   * kept past the call holds other bytes by then, and sending it throws a
   * TypeError: copy what you keep (message.slice()).
   */
  message?: (ws: WebSocket<T>, message: string | Uint8Array, isBinary: boolean) => void;
  /** The socket's queue has drained after a send was queued or dropped for back-pressure. */
  drain?: (ws: WebSocket<T>) => void;
  /** Once, when the connection has closed: the close code (1005 none given, 1006 no close frame) and reason. */
  close?: (ws: WebSocket<T>, code: number, reason: string) => void;
  ping?: (ws: WebSocket<T>, data: Uint8Array) => void;
  pong?: (ws: WebSocket<T>, data: Uint8Array) => void;
  /** Largest message, bytes (after inflation too); larger closes with 1009. Default 16 MiB. */
  maxPayloadLength?: number;
  /** Bytes a socket may have queued before sends are dropped. Default 16 MiB. */
  maxBackpressure?: number;
  /** Close a socket that reaches maxBackpressure instead of dropping its sends. Default false. */
  closeOnBackpressureLimit?: boolean;
  /** Seconds without a byte from the client before the socket is closed; a ping goes out at half. 0: never. Default 120. */
  idleTimeout?: number;
  /**
   * A message's minimum rate (as the HTTP body's, Timeouts.body and
   * bodyMinRate): a message (or control frame) the client has begun may
   * take `messageTimeout` seconds from its first byte (or from when the
   * server last resumed reading), plus one second for each `messageMinRate`
   * bytes received; past that the socket is closed with 1008. A client
   * trickling a fragmented message would otherwise hold its socket and the
   * fragments' buffer for ever (each byte resets the idle timeout).
   * Defaults 20 s, 500 bytes/s; messageTimeout 0: no deadline.
   */
  messageTimeout?: number;
  messageMinRate?: number;
  /** permessage-deflate (RFC 7692). Default false. */
  perMessageDeflate?: boolean | DeflateOptions;
  /**
   * Bytes the WebSockets may hold at once (messages being assembled or
   * compressed, queued output). Set: this server's sockets share a budget of
   * their own. Unset: they share one of 256 MiB with every server of the
   * process that did not set it either.
   */
  memoryBudget?: number;
}
