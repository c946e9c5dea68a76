// What serve() takes: the handlers, limits, timeouts and hooks of a server,
// with their defaults.
import type { ParserLimits } from "simplenet-parser";
import type { OriginOptions } from "../http/origin.js";
import type { Handler } from "../http/handler.js";
import type { Response } from "../http/response.js";
import type { ListenOptions } from "../socket/listener.js";
import type { FetchHandler } from "../web/fetch.js";
import type { WebSocketOptions } from "../websocket/options.js";
import type { Successor } from "./handover.js";

export interface Limits extends ParserLimits {
  /** Most open connections; more are accepted and closed at once. Default 10000. */
  maxConnections?: number;
  /**
   * Decoded request body, bytes; a larger one is answered 413 (from
   * Content-Length before any of it is read, or as chunk sizes arrive).
   * Default 1 MiB (DEFAULT_MAX_BODY_BYTES), as nginx and Fastify: req.bytes(),
   * text() and json() hold the whole body, so without a bound each connection
   * could make the server hold whatever its client sends. Infinity for none,
   * as node:http, whose handlers stream.
   */
  maxBodyBytes?: number;
}

/** The request body limit when serve() is given none: see Limits.maxBodyBytes. */
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;

/** The parser's limits for these: the server's default body limit, and Infinity as the parser's "none". */
export function parserLimits(limits: Limits = {}): ParserLimits {
  const maxBodyBytes = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return { ...limits, maxBodyBytes: maxBodyBytes === Infinity ? Number.MAX_SAFE_INTEGER : maxBodyBytes };
}

export interface Timeouts {
  /** From the first byte of a head to its end, ms. Default 60 s. */
  headers?: number;
  /** From a complete head to the end of its response, ms. Default 300 s. */
  request?: number;
  /**
   * A request body's minimum rate, as Apache's mod_reqtimeout (body=20,
   * MinRate=500): `body` ms from its head (or from when the server last
   * resumed reading it), plus one second for each `bodyMinRate` bytes
   * received. Also after the response has ended. Defaults 20 s, 500 bytes/s.
   */
  body?: number;
  bodyMinRate?: number;
  /** Bytes wait for a client that takes none of them, ms (nginx's send_timeout). Default 60 s. */
  write?: number;
  /** Idle keep-alive connection, ms. Default 5 s. */
  keepAlive?: number;
  /** How long close() waits for responses in flight, ms. Default 10 s. */
  close?: number;
}

export interface ServeOptions extends ListenOptions, OriginOptions {
  /** The request handler; or give `fetch` instead. */
  handler?: Handler;
  /**
   * Requests that ask to switch protocols (Upgrade with Connection: upgrade,
   * HTTP/1.1, no body) come here instead of the handler: answer as a handler
   * does (the connection then closes after the response), or call
   * res.upgrade() to answer 101 and take the connection's bytes. Without it,
   * Upgrade is ignored and the handler serves the request (RFC 9110 §7.8).
   */
  upgrade?: Handler;
  /**
   * WebSocket (RFC 6455): requests with Upgrade: websocket are handshaken
   * here (with `websocket.upgrade` deciding, or, with `fetch`, the fetch
   * handler calling server.upgrade(request)); other upgrades go to `upgrade`.
   */
  websocket?: WebSocketOptions<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** A web-standard handler: (Request, info) => Response. */
  fetch?: FetchHandler;
  /**
   * With fetch: make the global Response a lighter one whose string or bytes
   * body the server sends without the streams machinery. Default true.
   */
  lightResponse?: boolean;
  limits?: Limits;
  timeouts?: Timeouts;
  /** Where handler errors are reported. Default console.error. */
  onError?: (error: unknown) => void;
  /**
   * Called once for every response when it has finished (sent, or dropped
   * when its connection closed first), those the server writes itself
   * included: 400, 408, 413, 414, 417, 431, 501, 505 (their `request` is
   * then empty when the head could not be parsed). The place for an access
   * log; node:http's nearest is each response's "finish" event. Default none.
   */
  onResponse?: (res: Response) => void;
  /** Each connection begins with a PROXY protocol (v1 or v2) header naming the real client. Default false. */
  proxyProtocol?: boolean;
  /**
   * Once the server falls quiet after a busy spell (no event for 250 ms),
   * give the C heap's free pages back to the kernel (glibc's malloc_trim):
   * what a burst left behind stops counting in RSS. Default true.
   */
  trimWhenQuiet?: boolean;
  /** Print every system call strace-style (to stderr, or to this function). */
  trace?: boolean | ((line: string) => void);
  /** Worker threads, each with its own loop and SO_REUSEPORT listener. Default 1; "auto": one per core. */
  workers?: number | "auto";
  /** With workers: the module each worker runs (it calls serve()). Default: the process's entry script. */
  entry?: string | URL;
  /** Serve on the listening socket a service manager passed in (LISTEN_FDS), when there is one. Default true. */
  socketActivation?: boolean;
  /** Restarts that lose nothing: take the listener of the process offering it at this Unix socket path, then offer it there in turn (see handover.ts). */
  handover?: string;
  /** With handover: called once a successor accepts on the listener and this server has closed. */
  onHandover?: (successor: Successor) => void;
}
