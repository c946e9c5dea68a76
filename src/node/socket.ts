// The socket node:http apps see as req.socket and res.socket: a Duplex whose
// writes are the bytes node:http's ServerResponse makes, sent as the current
// response of one simplenet connection. node:http's own bookkeeping of a
// connection (its requests, the responses waiting for the socket) lives here.
import { Duplex } from "node:stream";
import type { IncomingMessage, ServerResponse } from "../../node-http/classes.js";
import type { Request, Response } from "../index.js";

/** The simplenet response a ServerResponse's bytes go to, kept on the instance so that a swapped prototype keeps it. */
export const SIMPLENET_RESPONSE = Symbol("simplenet response");

/** The request a ServerResponse answers and the socket it writes to, for its 'finish' listener (one shared function, no closure per request). */
export const FACE_REQUEST = Symbol("simplenet face request");
export const FACE_SOCKET = Symbol("simplenet face socket");

/** The fields of node:http's ServerResponse that its server sets and reads, outside its types. */
export type NodeResponse = ServerResponse & {
  [SIMPLENET_RESPONSE]: Response;
  [FACE_REQUEST]: IncomingMessage;
  [FACE_SOCKET]: ConnectionSocket;
  _last: boolean;
  _keepAliveTimeout: number;
  _maxRequestsPerSocket: number;
  _onPendingData: (delta: number) => void;
  _expect_continue: boolean;
  _closed: boolean;
  shouldKeepAlive: boolean;
  assignSocket(socket: ConnectionSocket): void;
  detachSocket(socket: ConnectionSocket): void;
};

/** node:http's private "a write returned false" flag of OutgoingMessage, found by its name on a fresh instance. */
let needDrainKey: symbol | undefined;
export function findNeedDrainKey(res: ServerResponse): void {
  needDrainKey ??= Object.getOwnPropertySymbols(res).find((key) => key.description === "kNeedDrain");
}

/** The error node:http destroys a request with when its connection goes first. */
export function connectionReset(): Error {
  const error = new Error("aborted") as Error & { code: string };
  error.code = "ECONNRESET";
  return error;
}

export class ConnectionSocket extends Duplex {
  /** node:http's name for the response writing to the socket now. */
  _httpMessage: NodeResponse | null = null;
  /** node:http's server reads these; there is no parser object here, and reading is never paused by the face. */
  readonly parser = null;
  _paused = false;
  /** Requests not yet answered, oldest first (node:http's state.incoming). */
  readonly incoming: IncomingMessage[] = [];
  /** Responses waiting for the socket, behind the one writing now (node:http's state.outgoing). */
  readonly outgoing: NodeResponse[] = [];
  /** The simplenet response that the bytes written now belong to. */
  private current: Response | null = null;
  /** Set while the face ends a simplenet response itself: its finish is no lost connection. */
  private ending = false;
  private timer: NodeJS.Timeout | null = null;
  private timeoutMs = 0;
  private readonly remote: { address: string; port: number };
  private readonly connection: { destroy(): void };
  /** The connection closes by itself once the response that asked for it is sent: destroy() must not cut that short. */
  private closesItself = false;
  /**
   * Called by every simplenet response of the connection when it finishes:
   * one that finishes on its own lost its connection, or was given up on by
   * it (a 408 goes in its place), which then closes by itself.
   */
  readonly lost = (): void => {
    if (this.ending || this.destroyed) return;
    this.closesItself = true;
    this.destroy();
  };

  constructor(request: Request, private readonly local: () => { address: string; family: string; port: number } | null) {
    super({ allowHalfOpen: true });
    this.remote = request.remote;
    this.connection = request.connection;
    this.on("drain", this.emitResponseDrain);
  }

  get remoteAddress(): string | undefined {
    return this.remote.address || undefined;
  }
  get remotePort(): number | undefined {
    return this.remote.port || undefined;
  }
  get remoteFamily(): string | undefined {
    const address = this.remote.address;
    return address === "" ? undefined : address.includes(":") ? "IPv6" : "IPv4";
  }
  get localAddress(): string | undefined {
    return this.local()?.address;
  }
  get localPort(): number | undefined {
    return this.local()?.port;
  }
  address(): { address: string; family: string; port: number } | Record<string, never> {
    return this.local() ?? {};
  }

  /** Gives the socket to `res` (node:http's assignSocket): its bytes, buffered or to come, go to its simplenet response. */
  assign(res: NodeResponse): void {
    this.current = res[SIMPLENET_RESPONSE];
    res.assignSocket(this);
  }

  /** The current response's bytes are all written: its simplenet response ends, and the connection closes after it if `close`. */
  endResponse(res: NodeResponse, close: boolean): void {
    const response = res[SIMPLENET_RESPONSE];
    if (this.current === response) this.current = null;
    response.status = res.statusCode;
    this.ending = true;
    try {
      response.sendRaw([], true, close);
    } finally {
      this.ending = false;
    }
  }

  /** node:http calls this after a response that closes the connection: simplenet closes it once that response is sent. */
  destroySoon(): void {
    this.closesItself = true;
    this.destroy();
  }

  override _read(): void {
    // Request bodies are each request's own stream (incoming.ts); nothing is read from here.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.send([chunk], done);
  }

  /** ServerResponse's end() writes its last piece and an empty one whose callback is its finish: the empty one is left out. */
  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < chunks.length; i++) if (chunks[i].chunk.length > 0) parts.push(chunks[i].chunk);
    this.send(parts, done);
  }

  /** Bytes for the current response; the write's callback waits while the client is slow, which is the back-pressure node:http apps see. */
  private send(parts: Uint8Array[], done: () => void): void {
    if (this.timer !== null) this.timer.refresh();
    const res = this.current;
    if (res === null || res.finished || res.sendRaw(parts, false)) return done();
    res.drained().then(done, done);
  }

  override _final(done: () => void): void {
    const res = this._httpMessage;
    this.closesItself = true;
    if (res !== null) this.endResponse(res, true);
    else this.connection.destroy(); // nothing in flight: nothing to lose
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (!this.closesItself) this.connection.destroy(); // once only: a closed connection ignores it
    const incoming = this.incoming.splice(0);
    for (const req of incoming) req.destroy(connectionReset());
    done(error);
  }

  /** node:http's socketOnDrain: a response whose write returned false hears 'drain'. */
  private emitResponseDrain(this: ConnectionSocket): void {
    const msg = this._httpMessage as (NodeResponse & Record<symbol, boolean>) | null;
    if (msg === null || msg.finished || needDrainKey === undefined || !msg[needDrainKey]) return;
    msg[needDrainKey] = false;
    msg.emit("drain");
  }

  /** 'timeout' after `ms` without a write (0 turns it off), as net.Socket's setTimeout. */
  setTimeout(ms: number, callback?: () => void): this {
    if (callback !== undefined) this.once("timeout", callback);
    this.timeoutMs = ms;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = ms > 0 ? setTimeout(() => this.emit("timeout"), ms).unref() : null;
    return this;
  }
  get timeout(): number {
    return this.timeoutMs;
  }
  /** TCP_NODELAY is always on for simplenet's connections, and keep-alive probes are the kernel's default. */
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
