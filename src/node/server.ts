// node:http's Server on simplenet: createServer(), listen(), close() and the
// events an app listens to, with requests and responses of node:http's own
// classes. What node:http's server does per request (_http_server.js's
// parserOnIncoming and resOnFinish) is done here the same way, so the bytes
// Node's ServerResponse makes go out unchanged; simplenet reads and parses.
import { EventEmitter } from "node:events";
import { Duplex } from "node:stream";
import { IncomingMessage, ServerResponse } from "../../node-http/classes.js";
import { lookup } from "node:dns/promises";
import { Server as SimplenetServer, type Request, type Response, type ServeOptions } from "../index.js";
import { ConnectionSocket, FACE_REQUEST, FACE_SOCKET, SIMPLENET_RESPONSE, findNeedDrainKey, type NodeResponse } from "./socket.js";
import { TunnelSocket } from "./tunnel-socket.js";
import { endWithoutBody, incomingMessage, type IncomingMessageClass } from "./incoming.js";
import { AppFields } from "./app-fields.js";

type Listener = (req: IncomingMessage, res: ServerResponse) => void;
type ServerResponseClass = new (req: IncomingMessage, options?: object) => ServerResponse;

/** createServer's options that apply here (node:http's names). */
export interface ServerOptions {
  IncomingMessage?: IncomingMessageClass;
  ServerResponse?: ServerResponseClass;
  keepAliveTimeout?: number;
  headersTimeout?: number;
  requestTimeout?: number;
  /** Largest request head, bytes (node:http's --max-http-header-size). Default 16384. */
  maxHeaderSize?: number;
}

/** listen()'s options, as net.Server takes them. */
export interface ListenArguments {
  port?: number | string;
  host?: string;
  path?: string;
  backlog?: number;
}

const EMPTY = Buffer.alloc(0);
const noPendingData = (): void => {};
/** Most header fields simplenet's parser holds (node:http keeps 2000 and drops the rest). */
const MAX_FIELDS = 256;

function emitCloseNT(res: NodeResponse): void {
  if (!res._closed) {
    res.destroyed = true;
    res._closed = true;
    res.emit("close");
  }
}

/** node:http's resOnFinish, a response's 'finish' listener: the next response may write, or the connection ends with this one. */
function resOnFinish(this: NodeResponse): void {
  const res = this;
  const req = res[FACE_REQUEST] as IncomingMessage & { _consuming: boolean; _readableState: { resumeScheduled: boolean }; _dump(): void };
  const socket = res[FACE_SOCKET];
  if (socket.incoming[0] === req) socket.incoming.shift();
  // A body nobody read is read and dropped, so the connection can go on.
  if (!req._consuming && !req._readableState.resumeScheduled) req._dump();
  res.detachSocket(socket);
  socket.endResponse(res, res._last);
  process.nextTick(emitCloseNT, res);
  if (res._last) socket.destroySoon();
  else if (socket.outgoing.length > 0) socket.assign(socket.outgoing.shift()!);
}

function isAddress(host: string): boolean {
  return host.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

function serverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class Server extends EventEmitter {
  keepAliveTimeout = 5000;
  headersTimeout = 60_000;
  requestTimeout = 300_000;
  maxHeadersCount: number | null = null;
  maxRequestsPerSocket = 0;
  timeout = 0;
  private readonly Incoming: IncomingMessageClass;
  private readonly Outgoing: ServerResponseClass;
  private readonly maxHeaderSize: number;
  private server: SimplenetServer | null = null;
  /** The responses of requests that reached the face, kept only while 'clientError' is listened to (at listen()): any other is the server's own answer. */
  private faceResponses: WeakSet<Response> | null = null;
  private starting = false;
  /** The fields an app that swaps prototypes adds to req and res, made before it runs (app-fields.ts). */
  private readonly appFields = new AppFields();
  /** One socket per connection, found by the connection's request handle. */
  private readonly sockets = new WeakMap<object, ConnectionSocket>();
  private readonly localAddress = (): { address: string; family: string; port: number } | null => {
    const address = this.address();
    return typeof address === "object" ? address : null;
  };

  constructor(options?: ServerOptions | Listener, listener?: Listener) {
    super();
    if (typeof options === "function") [listener, options] = [options, undefined];
    this.Incoming = options?.IncomingMessage ?? IncomingMessage;
    this.Outgoing = options?.ServerResponse ?? ServerResponse;
    this.maxHeaderSize = options?.maxHeaderSize ?? 16384;
    if (options?.keepAliveTimeout !== undefined) this.keepAliveTimeout = options.keepAliveTimeout;
    if (options?.headersTimeout !== undefined) this.headersTimeout = options.headersTimeout;
    if (options?.requestTimeout !== undefined) this.requestTimeout = options.requestTimeout;
    if (listener !== undefined) this.on("request", listener);
  }

  get listening(): boolean {
    return this.server !== null;
  }

  /** listen(port[, host][, backlog][, cb]), listen(path[, cb]) or listen({ port, host, path, backlog }[, cb]), as net.Server. */
  listen(...args: unknown[]): this {
    if (typeof args[args.length - 1] === "function") this.once("listening", args.pop() as () => void);
    if (this.server !== null || this.starting) throw serverError("ERR_SERVER_ALREADY_LISTEN", "Listen method has been called more than once without closing.");
    const [first, second, third] = args;
    let options: ListenArguments;
    if (first !== null && typeof first === "object") options = first as ListenArguments;
    else if (typeof first === "string" && !/^\d+$/.test(first)) options = { path: first, backlog: second as number | undefined };
    else {
      options = { port: first as number | undefined, host: typeof second === "string" ? second : undefined };
      options.backlog = (typeof second === "number" ? second : third) as number | undefined;
    }
    this.starting = true;
    const host = options.host;
    if (host === undefined || options.path !== undefined || isAddress(host)) this.start(options, host);
    else lookup(host).then(({ address }) => this.start(options, address), (error: Error) => this.failStart(error));
    return this;
  }

  private start(options: ListenArguments, host: string | undefined): void {
    const serveOptions: ServeOptions = {
      port: Number(options.port ?? 0),
      path: options.path,
      backlog: options.backlog,
      host: host ?? "::",
      handler: (req, res) => this.handle(req, res, false),
      // Only with a 'clientError' listener: without one, no hook is made per response.
      onResponse: this.listenerCount("clientError") > 0 ? (res) => this.reportClientError(res) : undefined,
      upgrade: (req, res) => this.handleUpgrade(req, res),
      // As node:http: bodies are streams the app reads, with no limit of the server's.
      limits: {
        maxBodyBytes: Infinity,
        maxHeadBytes: this.maxHeaderSize,
        maxHeaderLine: this.maxHeaderSize,
        maxTargetBytes: this.maxHeaderSize,
        maxHeaders: Math.min(this.maxHeadersCount ?? MAX_FIELDS, MAX_FIELDS),
      },
      // node:http's requestTimeout bounds receiving the request, as simplenet's body deadline does; a slow app is never timed out.
      timeouts: {
        headers: this.headersTimeout || Infinity,
        body: this.requestTimeout || Infinity,
        request: Infinity,
        keepAlive: this.keepAliveTimeout || Infinity,
      },
    };
    this.faceResponses = serveOptions.onResponse === undefined ? null : new WeakSet();
    let server: SimplenetServer;
    try {
      server = new SimplenetServer(serveOptions);
      try {
        server.listen(serveOptions);
      } catch (error) {
        // No IPv6 on this machine: node:http falls back to IPv4 the same way.
        if (host !== undefined || (error as { code?: string }).code !== "EAFNOSUPPORT") throw error;
        server = new SimplenetServer(serveOptions);
        server.listen({ ...serveOptions, host: "0.0.0.0" });
      }
    } catch (error) {
      return this.failStart(error as Error);
    }
    this.starting = false;
    this.server = server;
    process.nextTick(() => this.emit("listening"));
  }

  private failStart(error: Error): void {
    this.starting = false;
    process.nextTick(() => this.emit("error", error));
  }

  address(): { address: string; family: string; port: number } | string | null {
    const server = this.server;
    if (server === null) return null;
    if (server.path !== undefined) return server.path;
    return { address: server.host, family: server.host.includes(":") ? "IPv6" : "IPv4", port: server.port };
  }

  /** Stops accepting and closes idle connections; 'close' (and `callback`) once every connection has closed. */
  close(callback?: (error?: Error) => void): this {
    const server = this.server;
    if (server === null) {
      if (callback !== undefined) this.once("close", () => callback(serverError("ERR_SERVER_NOT_RUNNING", "Server is not running.")));
      process.nextTick(() => this.emit("close"));
      return this;
    }
    if (callback !== undefined) this.once("close", callback);
    this.server = null;
    server.close().then(() => this.emit("close"), (error: Error) => this.emit("error", error));
    return this;
  }

  closeAllConnections(): void {
    this.server?.closeAllConnections();
  }

  closeIdleConnections(): void {
    this.server?.closeIdleConnections();
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms;
    if (callback !== undefined) this.on("timeout", callback);
    return this;
  }

  /** The loop's handle keeps the process alive while the server listens, as net.Server's does by default. */
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  /** The connection's socket, made (and announced with 'connection') at its first request. */
  private socketFor(request: Request): ConnectionSocket {
    const key = request.connection;
    let socket = this.sockets.get(key);
    if (socket === undefined) {
      socket = new ConnectionSocket(request, this.localAddress);
      this.sockets.set(key, socket);
      this.emit("connection", socket);
    }
    return socket;
  }

  /**
   * simplenet answered a request itself (400, 408, 413, 414, 431, 501, 505:
   * see the README's table): 'clientError' tells the app afterwards, with a
   * socket already closed to it, since the answer has been sent.
   */
  private reportClientError(res: Response): void {
    if (res.status < 400 || this.faceResponses!.has(res)) return;
    const code = res.status === 408 ? "ERR_HTTP_REQUEST_TIMEOUT" : res.status === 431 ? "HPE_HEADER_OVERFLOW" : "HPE_INVALID_REQUEST";
    const error = Object.assign(new Error(`simplenet answered ${res.status}`), { code });
    this.emit("clientError", error, new Duplex().destroy());
  }

  /** node:http's parserOnIncoming. */
  private handle(request: Request, response: Response, lastOnConnection: boolean): void {
    this.faceResponses?.add(response);
    const socket = this.socketFor(request);
    const head = request.head;
    const req = incomingMessage(this.Incoming, socket, request, false);
    const res = new this.Outgoing(req, { highWaterMark: socket.writableHighWaterMark, rejectNonStandardBodyWrites: false }) as NodeResponse;
    findNeedDrainKey(res);
    res._keepAliveTimeout = this.keepAliveTimeout;
    res._maxRequestsPerSocket = this.maxRequestsPerSocket;
    res._onPendingData = noPendingData;
    res.shouldKeepAlive = head.keepAlive && !lastOnConnection;
    res[SIMPLENET_RESPONSE] = response;
    res[FACE_REQUEST] = req;
    res[FACE_SOCKET] = socket;
    response.onFinish(socket.lost);
    socket.incoming.push(req);
    if (socket._httpMessage !== null) socket.outgoing.push(res);
    else socket.assign(res);
    res.on("finish", resOnFinish);
    const snapshot = this.appFields.prepare(req, res);
    if (snapshot !== null) {
      const requestPrototype = Object.getPrototypeOf(req) as object;
      const responsePrototype = Object.getPrototypeOf(res) as object;
      response.onFinish(() => this.appFields.learn(req, res, snapshot, requestPrototype, responsePrototype));
    }
    try {
      if (head.expectContinue && head.minorVersion === 1) {
        res._expect_continue = true;
        if (this.listenerCount("checkContinue") > 0) {
          this.emit("checkContinue", req, res);
        } else {
          res.writeContinue();
          this.emit("request", req, res);
        }
      } else {
        this.emit("request", req, res);
      }
    } catch (error) {
      // As in node:http, where the listener runs inside the socket's data event: the process's uncaught exception.
      process.nextTick(() => {
        throw error;
      });
    }
    if (!head.hasBody) endWithoutBody(req);
  }

  /** A request that asks to switch protocols: the 'upgrade' listeners get the connection as a socket, or, without one, a listener of 'request' answers it. */
  private handleUpgrade(request: Request, response: Response): void {
    // simplenet closes the connection after an upgrade request it did not switch: the response says so.
    if (this.listenerCount("upgrade") === 0) return this.handle(request, response, true);
    this.faceResponses?.add(response);
    const socket = new TunnelSocket(response.takeOver());
    const req = incomingMessage(this.Incoming, socket, request, true);
    endWithoutBody(req);
    this.emit("upgrade", req, socket, EMPTY);
  }
}

export function createServer(options?: ServerOptions | Listener, listener?: Listener): Server {
  return new Server(options, listener);
}
