// serve(): a listening socket and the sockets it accepts, on one event loop
// with one wasm parser instance. The Server is each connection's host (the
// handlers, the parser, the cork and the pool it borrows from); its listener
// is acceptor.ts's, and the open sockets' count, deadlines and eviction are
// served-sockets.ts's.
import { BodyError } from "../http/body.js";
import { Connection } from "../http/connection.js";
import type { ConnectionHost } from "../http/connection-flow.js";
import type { Deadlines } from "../http/served.js";
import { StatePool } from "../http/state-pool.js";
import { Cork } from "../http/cork.js";
import { Origin } from "../http/origin.js";
import { WebSocketHub, type UpgradeAnswer } from "../websocket/hub.js";
import type { SendOptions } from "../websocket/socket.js";
import { originOf } from "../web/fetch.js";
import { inheritedListeners, resolveHost, type ListenOptions, type Listening } from "../socket/listener.js";
import { listenWithHandover } from "./handover.js";
import { fromFetch } from "../web/fetch.js";
import { installLightResponse } from "../web/web-response.js";
import { EventLoop } from "../socket/loop.js";
import { createParser, type ParserInstance } from "simplenet-parser";
import type { Request } from "../http/request.js";
import type { Response } from "../http/response.js";
import type { Handler } from "../http/handler.js";
import { K, close, latin1Decoder, setTrace } from "../socket/syscalls.js";
import { QuietTrim } from "../socket/quiet-trim.js";
import { WorkerPool, joinPool, reportFailure, takeAssignment, workerCount } from "./workers.js";
import { Acceptor } from "./acceptor.js";
import { ServedSockets } from "./served-sockets.js";

export type { Handler };
export { DEFAULT_MAX_BODY_BYTES, type Limits, type ServeOptions, type Timeouts } from "./options.js";
import { parserLimits, type ServeOptions } from "./options.js";

export class Server implements ConnectionHost {
  readonly loop: EventLoop;
  readonly parser: ParserInstance;
  readonly cork: Cork;
  readonly pool: StatePool;
  host = "";
  port = 0;
  /** The Unix socket path, when listening on one. */
  path: string | undefined;
  readonly proxyProtocol: boolean;
  /** Since close() or stopAccepting(): each next response says "Connection: close". */
  private shuttingDown = false;
  private readonly closeHooks: (() => void)[] = [];
  private readonly acceptor: Acceptor;
  /** Open connections and tunnels. */
  private readonly served: ServedSockets;
  private readonly handler: Handler;
  private readonly upgradeHandler: Handler | null;
  /** The server's WebSockets, when serve() was given `websocket`. */
  readonly websockets: WebSocketHub | null;
  private readonly fetchUpgrades: boolean;
  private readonly origin: Origin;
  private readonly onError: (error: unknown) => void;
  /** ConnectionHost: serve()'s onResponse, its errors reported, or null. */
  readonly onResponse: ((res: Response) => void) | null;
  private readonly timeouts: Deadlines & { close: number };
  private tracing = false;
  private readonly quietTrim: QuietTrim | null;
  private closed: Promise<void> | null = null;

  constructor(options: ServeOptions) {
    if (options.handler === undefined && options.fetch === undefined) throw new TypeError("serve() needs a handler or fetch");
    // The parser first: if it cannot be made (bad limits, a stale build), no loop handle is left open.
    this.parser = createParser(parserLimits(options.limits), undefined, latin1Decoder); // heads decoded by the shim from the memory it reads into
    this.cork = new Cork(this.parser);
    this.pool = new StatePool(this.parser, this.cork);
    if (options.trace) {
      const log = options.trace;
      setTrace(typeof log === "function" ? log : (line) => process.stderr.write(`${line}\n`));
      this.tracing = true;
    }
    this.loop = new EventLoop();
    this.proxyProtocol = options.proxyProtocol ?? false;
    this.handler = options.handler ?? fromFetch(options.fetch!);
    this.upgradeHandler = options.upgrade ?? null;
    this.origin = new Origin(options);
    this.websockets = options.websocket === undefined ? null : new WebSocketHub(options.websocket, this.parser, (e) => this.onError(e));
    // Bun's form: the fetch handler calls server.upgrade(request) itself.
    this.fetchUpgrades = options.fetch !== undefined && options.websocket?.upgrade === undefined;
    if (options.fetch !== undefined && options.lightResponse !== false) installLightResponse();
    this.onError = options.onError ?? ((error) => console.error("simplenet:", error));
    const onResponse = options.onResponse;
    this.onResponse = onResponse === undefined ? null : (res) => {
      try {
        onResponse(res);
      } catch (error) {
        this.onError(error);
      }
    };
    this.timeouts = {
      headers: options.timeouts?.headers ?? 60_000,
      request: options.timeouts?.request ?? 300_000,
      body: options.timeouts?.body ?? 20_000,
      bodyMinRate: options.timeouts?.bodyMinRate ?? 500,
      write: options.timeouts?.write ?? 60_000,
      keepAlive: options.timeouts?.keepAlive ?? 5_000,
      close: options.timeouts?.close ?? 10_000,
    };
    this.served = new ServedSockets(this.loop, options.limits?.maxConnections ?? 10000, this.timeouts);
    this.acceptor = new Acceptor(this.loop, (fd) => this.accepted(fd), (error) => this.onError(error));
    this.quietTrim = options.trimWhenQuiet === false ? null : new QuietTrim(this.loop);
  }

  /** Opens the listening socket (or takes the one handed in, which stays the caller's if this throws) and watches it. */
  listen(options: ListenOptions, inherited?: Listening): void {
    let listening: Listening;
    try {
      listening = this.acceptor.listen(options, inherited);
    } catch (error) {
      this.release();
      throw error;
    }
    this.host = listening.host;
    this.port = listening.port;
    this.path = listening.path;
  }

  private accepted(fd: number): void {
    if (!this.served.admit()) return void close(fd);
    let conn: Connection;
    try {
      conn = new Connection(this, fd); // the loop keeps it; closes fd if the loop refuses it
    } catch (error) {
      return this.onError(error);
    }
    this.served.opened();
    // A client's request tends to arrive with its handshake: read it now
    // rather than after another turn of the loop (EAGAIN when it has not).
    conn.ready(K.EPOLLIN);
  }

  get upgrades(): boolean {
    return this.upgradeHandler !== null || this.websockets !== null;
  }

  dispatch(req: Request, res: Response, upgrade: boolean): void {
    if (this.origin.answers(req, res)) return;
    try {
      const result = this.handlerFor(req, upgrade)(req, res);
      if (result !== undefined && typeof (result as Promise<void>).then === "function") {
        // Most handlers have ended their response by the time they return: one shared callback then, not a closure per request.
        (result as Promise<void>).then(undefined, res.finished ? this.failedAfterEnd : (error: unknown) => this.handlerFailed(res, error));
      }
    } catch (error) {
      this.handlerFailed(res, error);
    }
  }

  private handlerFor(req: Request, upgrade: boolean): Handler {
    if (!upgrade) return this.handler;
    if (this.websockets !== null && /^\s*websocket\s*$/i.test(req.headers.get("upgrade") ?? "")) {
      return this.fetchUpgrades ? this.handler : (q, s) => this.websockets!.handleUpgrade(q, s);
    }
    return this.upgradeHandler ?? this.handler;
  }

  /**
   * From a fetch handler (Bun's form): accepts the WebSocket handshake of
   * `request` with the socket's data and more 101 fields. False when the
   * request is not a valid handshake (answer it yourself then).
   */
  upgrade<T>(request: globalThis.Request, answer: UpgradeAnswer<T> = {}): boolean {
    const origin = originOf(request);
    if (origin === undefined || this.websockets === null || origin.res.headersSent) return false;
    return this.websockets.tryAccept(origin.req, origin.res, answer as UpgradeAnswer<unknown>);
  }

  /** Sends to every WebSocket subscribed to `topic`; returns how many it went to. */
  publish(topic: string, data: string | Uint8Array, options?: SendOptions): number {
    return this.websockets?.publish(topic, data, options) ?? 0;
  }

  reportError(error: unknown): void {
    this.onError(error);
  }

  /** A handler failed after its response ended: only reported (a body that could not be read, never: see handlerFailed). */
  private readonly failedAfterEnd = (error: unknown): void => {
    if (!(error instanceof BodyError)) this.onError(error);
  };

  /** A handler threw or rejected: 500 if nothing was sent yet, else cut the response short. */
  private handlerFailed(res: Response, error: unknown): void {
    if (res.finished) return this.failedAfterEnd(error);
    // A body that could not be read is the client's doing (cut short, too
    // large, timed out): answered with its own status, never reported.
    if (error instanceof BodyError) {
      if (res.headersSent) return res.abort();
      return res.fail(error.status, `${error.message}\n`);
    }
    this.onError(error);
    if (res.headersSent) return res.abort();
    res.reset(500);
    res.end("Internal Server Error\n");
  }


  /** A connection (or tunnel) has closed. */
  forget(): void {
    this.served.forget();
  }

  /** Closes every connection now, responses in flight or not (node:http's closeAllConnections). */
  closeAllConnections(): void {
    this.served.destroyAll();
  }

  /** Closes the connections with nothing in flight (node:http's closeIdleConnections). */
  closeIdleConnections(): void {
    this.served.destroyIdle();
  }

  get connectionCount(): number {
    return this.served.size;
  }

  /** Bytes held for all connections: unsent output, output kept behind unfinished responses, unread request bodies. */
  get heldBytes(): number {
    return this.served.heldBytes;
  }

  get closing(): boolean {
    return this.shuttingDown;
  }

  /** Calls `fn` once, when close() begins. */
  onClose(fn: () => void): void {
    this.closeHooks.push(fn);
  }

  /** Handover: the listening socket lives on in a successor, so close() closes only this process's descriptor (a Unix socket's file stays). */
  shareListener(): void {
    this.acceptor.share();
  }

  /** Stops accepting but leaves the listener open (handover: a successor accepts on it); each next response says "Connection: close". */
  stopAccepting(): void {
    this.shuttingDown = true;
    this.acceptor.stop();
  }

  /**
   * Stops accepting, closes idle connections, lets responses in flight finish
   * (up to timeouts.close), then releases the event loop.
   */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.shuttingDown = true;
    for (const hook of this.closeHooks.splice(0)) hook();
    this.acceptor.close();
    const gone = this.served.shutdownAll();
    const deadline = setTimeout(() => this.served.destroyAll(), this.timeouts.close);
    this.closed = gone.then(() => {
      clearTimeout(deadline);
      this.release();
    });
    return this.closed;
  }

  private release(): void {
    this.websockets?.close();
    this.served.stop();
    this.quietTrim?.stop();
    this.loop.close();
    if (this.tracing) setTrace(null);
  }
}

/**
 * Starts a server; resolves once it is listening (its port is then known).
 * With `workers` > 1 the entry module runs in that many worker threads, each
 * serving on the same port; the result is then the pool that closes them.
 */
export function serve(options: ServeOptions & { workers: number | "auto" }): Promise<Server | WorkerPool>;
export function serve(options: ServeOptions): Promise<Server>;
export async function serve(options: ServeOptions): Promise<Server | WorkerPool> {
  const assignment = takeAssignment();
  if (assignment !== null) {
    try {
      const server = new Server(options);
      server.listen({ ...options, host: assignment.host, port: assignment.port, reusePort: true });
      joinPool(server);
      return server;
    } catch (error) {
      reportFailure(error);
      throw error;
    }
  }
  if (options.host !== undefined && options.path === undefined) options = { ...options, host: await resolveHost(options.host) };
  if (options.workers !== undefined && workerCount(options.workers) > 1) {
    return WorkerPool.start({ ...options, workers: options.workers });
  }
  const server = new Server(options);
  if (options.handover !== undefined) return listenWithHandover(server, { ...options, handover: options.handover });
  const [inherited] = options.socketActivation === false ? [] : inheritedListeners();
  server.listen(options, inherited);
  return server;
}
