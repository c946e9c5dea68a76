// serve(): a listening socket, its connections and their timeouts, on one
// event loop with one wasm parser instance.
import { BodyError } from "../http/body.js";
import { Connection } from "../http/connection.js";
import type { ConnectionHost } from "../http/connection-flow.js";
import type { Deadlines } from "../http/connection-deadlines.js";
import { StatePool } from "../http/state-pool.js";
import { Cork } from "../http/cork.js";
import { Origin } from "../http/origin.js";
import { WebSocketHub, type UpgradeAnswer } from "../websocket/hub.js";
import type { SendOptions } from "../websocket/socket.js";
import { originOf } from "../web/fetch.js";
import { closeListener, inheritedListeners, openListener, resolveHost, type ListenOptions, type Listening } from "../socket/listener.js";
import { listenWithHandover } from "./handover.js";
import { fromFetch } from "../web/fetch.js";
import { installLightResponse } from "../web/web-response.js";
import { EventLoop, type Watcher } from "../socket/loop.js";
import { createParser, type ParserInstance } from "simplenet-parser";
import type { Request } from "../http/request.js";
import type { Response } from "../http/response.js";
import type { Handler } from "../http/handler.js";
import { Errno, K, SyscallError, accept4, close, setTrace } from "../socket/syscalls.js";
import { QuietTrim } from "../socket/quiet-trim.js";
import { WorkerPool, joinPool, reportFailure, takeAssignment, workerCount } from "./workers.js";

export type { Handler };
export { DEFAULT_MAX_BODY_BYTES, type Limits, type ServeOptions, type Timeouts } from "./options.js";
import { parserLimits, type ServeOptions } from "./options.js";

const ACCEPT_BATCH = 64;
const ACCEPT_RETRY_MS = 100;

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
  /** Open connections: the loop's watchers know them by descriptor (no set of our own, which would cost each one an entry). */
  private connections = 0;
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
  private readonly maxConnections: number;
  private listening: Listening | null = null;
  private tracing = false;
  private exhaustionReported = false;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly quietTrim: QuietTrim | null;
  private acceptRetry: ReturnType<typeof setTimeout> | null = null;
  private closed: Promise<void> | null = null;
  private allGone: (() => void) | null = null;

  constructor(options: ServeOptions) {
    if (options.handler === undefined && options.fetch === undefined) throw new TypeError("serve() needs a handler or fetch");
    // The parser first: if it cannot be made (bad limits, a stale build), no loop handle is left open.
    this.parser = createParser(parserLimits(options.limits));
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
    this.maxConnections = options.limits?.maxConnections ?? 10000;
    this.timeouts = {
      headers: options.timeouts?.headers ?? 60_000,
      request: options.timeouts?.request ?? 300_000,
      body: options.timeouts?.body ?? 20_000,
      bodyMinRate: options.timeouts?.bodyMinRate ?? 500,
      write: options.timeouts?.write ?? 60_000,
      keepAlive: options.timeouts?.keepAlive ?? 5_000,
      close: options.timeouts?.close ?? 10_000,
    };
    const { keepAlive, headers, request, body, write } = this.timeouts;
    const every = Math.min(1000, keepAlive / 2, headers / 2, request / 2, body / 2, write / 2);
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, every));
    this.sweeper.unref();
    this.quietTrim = options.trimWhenQuiet === false ? null : new QuietTrim(this.loop);
  }

  /** Opens the listening socket (or takes the inherited one) and watches it. */
  listen(options: ListenOptions, inherited?: Listening): void {
    let listening: Listening;
    try {
      listening = inherited ?? openListener(options);
      this.loop.add(listening.fd, K.EPOLLIN, this.listener);
    } catch (error) {
      this.release();
      throw error;
    }
    this.listening = listening;
    this.host = listening.host;
    this.port = listening.port;
    this.path = listening.path;
  }

  private readonly listener: Watcher = { ready: () => this.acceptBatch() };

  /** Accepts up to a batch per wake-up, so a flood of connections cannot starve the ones already open. */
  private acceptBatch(limit = ACCEPT_BATCH): void {
    for (let i = 0; i < limit && this.listening !== null; i++) {
      const fd = accept4(this.listening.fd, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
      if (fd < 0) {
        if (fd === -Errno.EMFILE || fd === -Errno.ENFILE) this.pauseAccepting(new SyscallError("accept4", -fd));
        else if (fd === -Errno.ECONNABORTED || fd === -Errno.EPROTO) continue;
        return;
      }
      this.exhaustionReported = false;
      if (this.connections >= this.maxConnections && !this.makeRoom()) {
        close(fd);
        continue;
      }
      let conn: Connection;
      try {
        conn = new Connection(this, fd); // the loop keeps it; closes fd if the loop refuses it
      } catch (error) {
        this.onError(error);
        continue;
      }
      this.connections++;
      // A client's request tends to arrive with its handshake: read it now
      // rather than after another turn of the loop (EAGAIN when it has not).
      conn.ready(K.EPOLLIN);
    }
  }

  /**
   * At maxConnections: closes the connection fittest to make room for a new
   * client (Connection.evictionRank: idle ones first, then the slowest
   * head), so sockets that trickle heads cannot lock fresh clients out, as
   * they would if new connections were the ones refused. False when every
   * connection is being served.
   */
  private makeRoom(): boolean {
    const now = Date.now();
    let victim: Connection | null = null;
    let best = -1;
    this.loop.forEach((watcher) => {
      if (best === Infinity || !(watcher instanceof Connection)) return;
      const rank = watcher.evictionRank(now);
      if (rank > best) {
        best = rank;
        victim = watcher;
      }
    });
    if (victim === null) return false;
    (victim as Connection).destroy();
    return true;
  }

  /**
   * Out of descriptors: the pending connection stays in the backlog and the
   * listener would be readable forever, so stop watching it for a while
   * rather than spin. Reported once until an accept succeeds again.
   */
  private pauseAccepting(error: SyscallError): void {
    if (this.acceptRetry !== null || this.listening === null) return;
    if (!this.exhaustionReported) {
      this.exhaustionReported = true;
      this.onError(new Error(`${error.message}: out of file descriptors; pausing accept until some are free`));
    }
    this.loop.modify(this.listening.fd, 0);
    this.acceptRetry = setTimeout(() => {
      this.acceptRetry = null;
      if (this.listening !== null) this.loop.modify(this.listening.fd, K.EPOLLIN);
    }, ACCEPT_RETRY_MS);
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


  /** A connection has closed. */
  forget(): void {
    this.connections--;
    if (this.connections === 0) this.allGone?.();
  }

  private sweep(): void {
    const now = Date.now();
    const timeouts = this.timeouts;
    this.loop.forEach((watcher) => {
      if (watcher instanceof Connection) watcher.sweep(now, timeouts);
    });
  }

  private openConnections(): Connection[] {
    const open: Connection[] = [];
    this.loop.forEach((watcher) => {
      if (watcher instanceof Connection) open.push(watcher);
    });
    return open;
  }

  /** Closes every connection now, responses in flight or not (node:http's closeAllConnections). */
  closeAllConnections(): void {
    for (const conn of this.openConnections()) conn.destroy();
  }

  /** Closes the connections with nothing in flight (node:http's closeIdleConnections). */
  closeIdleConnections(): void {
    for (const conn of this.openConnections()) if (conn.idle) conn.destroy();
  }

  get connectionCount(): number {
    return this.connections;
  }

  /** Bytes held for all connections: unsent output, output kept behind unfinished responses, unread request bodies. */
  get heldBytes(): number {
    let held = 0;
    this.loop.forEach((watcher) => {
      if (watcher instanceof Connection) held += watcher.heldBytes;
    });
    return held;
  }

  get closing(): boolean {
    return this.shuttingDown;
  }

  /** Calls `fn` once, when close() begins. */
  onClose(fn: () => void): void {
    this.closeHooks.push(fn);
  }

  /** Stops accepting but leaves the listener open (handover: a successor accepts on it); each next response says "Connection: close". */
  stopAccepting(): void {
    this.shuttingDown = true;
    if (this.listening !== null) this.loop.modify(this.listening.fd, 0);
  }

  /**
   * Stops accepting, closes idle connections, lets responses in flight finish
   * (up to timeouts.close), then releases the event loop.
   */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.shuttingDown = true;
    for (const hook of this.closeHooks.splice(0)) hook();
    if (this.acceptRetry !== null) clearTimeout(this.acceptRetry);
    if (this.listening !== null) {
      // Connections already in the backlog would be reset by the close: take them in and answer them.
      this.acceptBatch(Infinity);
      closeListener(this.listening, this.loop);
      this.listening = null;
    }
    const gone = new Promise<void>((resolve) => (this.allGone = resolve));
    for (const conn of this.openConnections()) conn.shutdown();
    if (this.connections === 0) this.allGone!();
    const deadline = setTimeout(() => {
      for (const conn of this.openConnections()) conn.destroy();
    }, this.timeouts.close);
    this.closed = gone.then(() => {
      clearTimeout(deadline);
      this.release();
    });
    return this.closed;
  }

  private release(): void {
    this.websockets?.close();
    clearInterval(this.sweeper);
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
