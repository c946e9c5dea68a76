// serve(): a listening socket, its connections and their timeouts, on one
// event loop with one wasm parser instance.
import { Connection, type ConnectionHost } from "./connection.js";
import { EventLoop, type Watcher } from "./loop.js";
import { createParser, type ParserInstance, type ParserLimits } from "./parser.js";
import type { Request } from "./request.js";
import type { Response } from "./response.js";
import {
  Errno, K, SyscallError, accept4, address, bind, check, close, getpeername, getsockname, listen, setsockopt, socket,
} from "./syscalls.js";

export type Handler = (req: Request, res: Response) => void | Promise<void>;

export interface Limits extends ParserLimits {
  /** Most open connections; more are accepted and closed at once. Default 10000. */
  maxConnections?: number;
}

export interface Timeouts {
  /** From the first byte of a head to its end, ms. Default 60 s. */
  headers?: number;
  /** From a complete head to the end of its response, ms. Default 300 s. */
  request?: number;
  /** Idle keep-alive connection, ms. Default 5 s. */
  keepAlive?: number;
  /** How long close() waits for responses in flight, ms. Default 10 s. */
  close?: number;
}

export interface ServeOptions {
  handler: Handler;
  /** Default 0: the kernel picks one; Server.port tells which. */
  port?: number;
  /** IPv4 or IPv6 address. Default "0.0.0.0". */
  host?: string;
  /** listen(2) backlog. Default 511. */
  backlog?: number;
  limits?: Limits;
  timeouts?: Timeouts;
  /** Where handler errors are reported. Default console.error. */
  onError?: (error: unknown) => void;
}

const ACCEPT_BATCH = 64;
const ACCEPT_RETRY_MS = 100;

export class Server implements ConnectionHost {
  readonly loop = new EventLoop();
  readonly parser: ParserInstance;
  readonly host: string;
  port = 0;
  closing = false;
  private readonly connections = new Set<Connection>();
  private readonly handler: Handler;
  private readonly onError: (error: unknown) => void;
  private readonly timeouts: Required<Timeouts>;
  private readonly maxConnections: number;
  private listenFd = -1;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private acceptRetry: ReturnType<typeof setTimeout> | null = null;
  private closed: Promise<void> | null = null;
  private allGone: (() => void) | null = null;

  constructor(options: ServeOptions) {
    this.handler = options.handler;
    this.onError = options.onError ?? ((error) => console.error("simplenet: handler failed:", error));
    this.host = options.host ?? "0.0.0.0";
    this.parser = createParser(options.limits);
    this.maxConnections = options.limits?.maxConnections ?? 10000;
    this.timeouts = {
      headers: options.timeouts?.headers ?? 60_000,
      request: options.timeouts?.request ?? 300_000,
      keepAlive: options.timeouts?.keepAlive ?? 5_000,
      close: options.timeouts?.close ?? 10_000,
    };
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.timeouts.keepAlive / 2, this.timeouts.headers / 2));
    this.sweeper.unref();
  }

  /** Opens the listening socket: socket, setsockopt, bind, listen. */
  listen(port: number, backlog: number): void {
    const family = this.host.includes(":") ? K.AF_INET6 : K.AF_INET;
    const fd = check("socket", socket(family, K.SOCK_STREAM | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC, 0));
    try {
      check("setsockopt", setsockopt(fd, K.SOL_SOCKET, K.SO_REUSEADDR, 1));
      check("bind", bind(fd, family, this.host, port));
      check("listen", listen(fd, backlog));
      this.port = address("getsockname", getsockname(fd))[2];
      this.loop.add(fd, K.EPOLLIN, this.listener);
    } catch (error) {
      close(fd);
      this.release();
      throw error;
    }
    this.listenFd = fd;
  }

  private readonly listener: Watcher = { ready: () => this.acceptBatch() };

  private acceptBatch(): void {
    for (let i = 0; i < ACCEPT_BATCH && this.listenFd >= 0; i++) {
      const fd = accept4(this.listenFd, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
      if (fd < 0) {
        if (fd === -Errno.EMFILE || fd === -Errno.ENFILE) this.pauseAccepting(new SyscallError("accept4", -fd));
        else if (fd === -Errno.ECONNABORTED) continue;
        return;
      }
      if (this.connections.size >= this.maxConnections) {
        close(fd);
        continue;
      }
      setsockopt(fd, K.IPPROTO_TCP, K.TCP_NODELAY, 1);
      const peer = getpeername(fd);
      const remote = typeof peer === "number" ? { address: "", port: 0 } : { address: peer[1], port: peer[2] };
      this.connections.add(new Connection(this, fd, remote));
    }
  }

  /** Out of descriptors: stop watching the listener for a while instead of spinning on it. */
  private pauseAccepting(error: SyscallError): void {
    if (this.acceptRetry !== null) return;
    this.onError(error);
    this.loop.modify(this.listenFd, 0);
    this.acceptRetry = setTimeout(() => {
      this.acceptRetry = null;
      if (this.listenFd >= 0) this.loop.modify(this.listenFd, K.EPOLLIN);
    }, ACCEPT_RETRY_MS);
  }

  dispatch(req: Request, res: Response): void {
    try {
      const result = this.handler(req, res);
      if (result !== undefined && typeof (result as Promise<void>).then === "function") {
        (result as Promise<void>).then(undefined, (error: unknown) => this.handlerFailed(res, error));
      }
    } catch (error) {
      this.handlerFailed(res, error);
    }
  }

  /** A handler threw or rejected: 500 if nothing was sent yet, else cut the response short. */
  private handlerFailed(res: Response, error: unknown): void {
    this.onError(error);
    if (res.finished) return;
    if (res.headersSent) return res.abort();
    res.reset(500);
    res.end("Internal Server Error\n");
  }

  forget(conn: Connection): void {
    this.connections.delete(conn);
    if (this.connections.size === 0) this.allGone?.();
  }

  private sweep(): void {
    const now = Date.now();
    for (const conn of this.connections) conn.sweep(now, this.timeouts);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Stops accepting, closes idle connections, lets responses in flight finish
   * (up to timeouts.close), then releases the event loop.
   */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.closing = true;
    if (this.acceptRetry !== null) clearTimeout(this.acceptRetry);
    if (this.listenFd >= 0) {
      this.loop.remove(this.listenFd);
      close(this.listenFd);
      this.listenFd = -1;
    }
    const gone = new Promise<void>((resolve) => (this.allGone = resolve));
    for (const conn of [...this.connections]) conn.shutdown();
    if (this.connections.size === 0) this.allGone!();
    const deadline = setTimeout(() => {
      for (const conn of [...this.connections]) conn.destroy();
    }, this.timeouts.close);
    this.closed = gone.then(() => {
      clearTimeout(deadline);
      this.release();
    });
    return this.closed;
  }

  private release(): void {
    clearInterval(this.sweeper);
    this.loop.close();
  }
}

/** Starts a server; resolves once it is listening (its port is then known). */
export async function serve(options: ServeOptions): Promise<Server> {
  const server = new Server(options);
  server.listen(options.port ?? 0, options.backlog ?? 511);
  return server;
}
