// serve({ websocket }): the handshake, the sockets of one server, their
// messages and control frames, topics, the idle timer and the memory budget.
// Frames are read by reader.ts (the wasm codec underneath) and written by
// socket.ts; each socket's events come through its link (link.ts); this file
// wires them to the application's callbacks.
import { CLOSE, OPCODE } from "simplenet-parser/abi";
import { FrameCodec } from "simplenet-parser/frames";
import type { ParserInstance } from "simplenet-parser";
import type { Request } from "../http/request.js";
import type { Response } from "../http/response.js";
import { MemoryBudget, processBudgetCounters } from "./budget.js";
import { Deflater, Inflater, ZlibLimiter, negotiate, type DeflateOptions, type Negotiated } from "./deflate.js";
import { acceptFields, handshakeFault } from "./handshake.js";
import { FrameReader } from "./reader.js";
import { Link, type LinkHub } from "./link.js";
import type { UpgradeAnswer, WebSocketOptions } from "./options.js";
import { SEND_DROPPED, WebSocket, closePayload, type SendOptions, type SocketHub } from "./socket.js";
import { Topics } from "./topics.js";

export { WebSocket, SEND_DROPPED, SEND_QUEUED, type SendOptions } from "./socket.js";
export type { UpgradeAnswer, WebSocketOptions } from "./options.js";

const MIB = 1024 * 1024;
/** How long a close handshake we started may wait for the client's answer. */
const CLOSE_WAIT_MS = 5000;
/** Pongs a client may be owed (sent while output is queued, not yet taken by the kernel); a ping past them closes with 1008 (ws's limit is 60). */
export const MAX_PONGS_OWED = 64;
/**
 * A connection's reading pauses while its queued output is over this (or
 * while a message of it is being inflated), and resumes once the queue is
 * down to RESUME_READING_AT: what the client sends meanwhile waits in the
 * kernel, so echoes, pongs and messages behind zlib cannot pile up here.
 */
const PAUSE_READING_AT = 64 * 1024;
const RESUME_READING_AT = 16 * 1024;
const decoder = new TextDecoder();

let processBudget: MemoryBudget | null = null;
let processLimiter: ZlibLimiter | null = null;

export class WebSocketHub<T = unknown> implements LinkHub<T>, SocketHub<T> {
  readonly topics = new Topics<WebSocket<T>>();
  readonly budget: MemoryBudget;
  readonly maxBackpressure: number;
  readonly closeOnBackpressureLimit: boolean;
  readonly compressThreshold: number;
  private readonly codec: FrameCodec;
  private readonly links = new Map<WebSocket<T>, Link<T>>();
  private readonly maxPayload: number;
  private readonly idleMs: number;
  private readonly deflate: DeflateOptions | null;
  private readonly limiter: ZlibLimiter;
  private readonly sharedDeflaters = new Map<number, Deflater>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly options: WebSocketOptions<T>,
    private readonly parser: ParserInstance,
    private readonly onError: (error: unknown) => void,
  ) {
    this.codec = new FrameCodec(parser);
    this.maxPayload = options.maxPayloadLength ?? 16 * MIB;
    this.maxBackpressure = options.maxBackpressure ?? 16 * MIB;
    this.closeOnBackpressureLimit = options.closeOnBackpressureLimit ?? false;
    this.idleMs = (options.idleTimeout ?? 120) * 1000;
    const deflate = options.perMessageDeflate ?? false;
    this.deflate = deflate === false ? null : deflate === true ? {} : deflate;
    this.compressThreshold = this.deflate?.threshold ?? 1024;
    // One budget and one zlib cap for all the servers of the process that do
    // not set their own; a server given memoryBudget (or maxConcurrency) has its
    // own. (Before, the first server's numbers held for every later one.)
    this.budget = options.memoryBudget !== undefined
      ? new MemoryBudget(options.memoryBudget)
      : (processBudget ??= new MemoryBudget(256 * MIB, processBudgetCounters()));
    this.limiter = this.deflate?.maxConcurrency !== undefined
      ? new ZlibLimiter(this.deflate.maxConcurrency)
      : (processLimiter ??= new ZlibLimiter(8));
    // A quarter of the timeout at most, so that a short one still pings at half before it closes.
    const period = this.idleMs === 0 ? 1000 : Math.max(50, Math.min(1000, this.idleMs / 4));
    this.timer = setInterval(() => this.sweep(Date.now()), period);
    this.timer.unref();
  }

  get socketCount(): number {
    return this.links.size;
  }

  /** The server's upgrade hook, for requests with Upgrade: websocket. */
  async handleUpgrade(req: Request, res: Response): Promise<void> {
    const fault = handshakeFault(req);
    if (fault !== null) {
      res.status = fault.status;
      for (const [name, value] of Object.entries(fault.fields ?? {})) res.setHeader(name, value);
      return res.end(fault.text);
    }
    let answer: UpgradeAnswer<T> = {};
    if (this.options.upgrade !== undefined) {
      const decided = await this.options.upgrade(req, res);
      if (decided === false || res.headersSent || res.finished) {
        if (!res.finished) res.fail(403, "Forbidden\n");
        return;
      }
      answer = decided ?? {};
    }
    this.accept(req, res, answer);
  }

  /** The fetch form's server.upgrade(): accepts a valid handshake; false for anything else. */
  tryAccept(req: Request, res: Response, answer: UpgradeAnswer<T>): boolean {
    if (handshakeFault(req) !== null) return false;
    this.accept(req, res, answer);
    return true;
  }

  /** Answers 101 and makes the socket. */
  accept(req: Request, res: Response, answer: UpgradeAnswer<T>): WebSocket<T> {
    const negotiated = this.deflate === null ? null : negotiate(req.headers.get("sec-websocket-extensions"), this.deflate);
    const tunnel = res.upgrade(acceptFields(req, answer.protocol, negotiated?.header ?? null, answer.headers));
    const deflater = negotiated === null ? null : this.deflaterFor(negotiated);
    const ws = new WebSocket<T>(tunnel, this, this.codec, answer.data as T, answer.protocol ?? "", negotiated?.header ?? "", deflater);
    const link = new Link(this, ws, tunnel, negotiated === null ? null : new Inflater(negotiated, this.limiter));
    link.reader = new FrameReader(this.codec, this.parser, link, this.maxPayload, negotiated !== null);
    this.links.set(ws, link);
    tunnel.handler = link;
    this.call(() => this.options.open?.(ws), link);
    return ws;
  }

  /** Sends to every subscriber of `topic` (but `except`), in subscription order; the frame is made once. */
  publish(topic: string, data: string | Uint8Array, options: SendOptions = {}, except?: WebSocket<T>): number {
    const subscribers = this.topics.subscribersOf(topic);
    if (subscribers === undefined) return 0;
    let count = 0;
    let frame: Uint8Array | null = null;
    for (const ws of subscribers) {
      if (ws === except) continue;
      // Compressing sockets compress per socket; the rest share one prepared frame.
      if (ws.extensions !== "" && options.compress !== false) {
        if (ws.send(data, options) !== SEND_DROPPED) count++;
        continue;
      }
      frame ??= ws.preparedFrame(data, options);
      if (ws.sendPrepared(frame) !== SEND_DROPPED) count++;
    }
    return count;
  }

  /** The connection's queue has drained, or a socket's queued sends are all out: drain, if a send was queued or dropped and nothing waits now. */
  drained(ws: WebSocket<T>): void {
    ws.takeQueued();
    const link = this.links.get(ws);
    if (link !== undefined) this.updateReading(link);
    if (ws.backpressured && ws.idle) {
      ws.backpressured = false;
      this.call(() => this.options.drain?.(ws), link);
    }
  }

  /** Pauses or resumes reading a connection (see PAUSE_READING_AT). */
  updateReading(link: Link<T>): void {
    const queued = link.ws.getBufferedAmount();
    const pause = link.inbound.length > 0 || queued > (link.paused ? RESUME_READING_AT : PAUSE_READING_AT);
    if (pause === link.paused) return;
    link.paused = pause;
    if (pause) link.tunnel.pause();
    else link.tunnel.resume();
  }

  /** A socket sent its close frame (ws.end()): the client has CLOSE_WAIT_MS to answer. */
  closing(ws: WebSocket<T>, code: number, reason: string): void {
    const link = this.links.get(ws);
    if (link === undefined) return;
    link.closeCode = code;
    link.closeReason = reason;
    link.closingSince = Date.now();
  }

  /** Closes every socket (the server is closing without waiting). */
  destroyAll(): void {
    for (const link of [...this.links.values()]) link.tunnel.destroy();
  }

  close(): void {
    clearInterval(this.timer);
    for (const deflater of this.sharedDeflaters.values()) deflater.close();
    this.sharedDeflaters.clear();
  }

  /** Whether `deflater` is shared by sockets (so no socket may close it). */
  sharesDeflater(deflater: Deflater): boolean {
    return this.sharedDeflaters.get(deflater.windowBits) === deflater;
  }

  private deflaterFor(negotiated: Negotiated): Deflater {
    if (!negotiated.serverNoContextTakeover) return new Deflater(negotiated, this.limiter);
    // Without context takeover every socket with the same window can share one deflater.
    let shared = this.sharedDeflaters.get(negotiated.serverWindowBits);
    if (shared === undefined) this.sharedDeflaters.set(negotiated.serverWindowBits, (shared = new Deflater(negotiated, this.limiter)));
    return shared;
  }

  onMessage(link: Link<T>, data: Uint8Array, text: boolean, compressed: boolean, owned: boolean): void {
    if (!compressed && link.inbound.length === 0) return this.deliver(link, data, text);
    // A message waiting for zlib, or behind one, holds its bytes: within the budget, like one being assembled.
    const memory = link.ws.memory;
    if (compressed && !memory.reserve(data.length)) return this.fail(link, CLOSE.TRY_AGAIN_LATER, "Server memory budget reached");
    if (!compressed) memory.take(data.length);
    const slot = { ready: false, size: data.length, deliver: (): void => {} };
    link.inbound.push(slot);
    const input = owned ? data : data.slice();
    const finish = (bytes: Uint8Array): void => {
      slot.ready = true;
      slot.deliver = () => this.deliver(link, bytes, text);
      this.deliverReady(link);
    };
    if (!compressed) return finish(input);
    link.inflater!.inflate([input], this.maxPayload, (result) => {
      // (Not called once the socket has closed: its account was given back whole.)
      if (link.ws.readyState === 3) return;
      if ("error" in result) {
        return this.fail(link, result.error === "too-large" ? CLOSE.MESSAGE_TOO_BIG : CLOSE.INVALID_PAYLOAD, "Bad compressed message");
      }
      if (text && !this.isUtf8(result.data)) return this.fail(link, CLOSE.INVALID_PAYLOAD, "Text is not UTF-8");
      finish(result.data);
    });
  }

  /** Delivers the waiting messages and control frames that are ready, in order; reading resumes once none waits. */
  private deliverReady(link: Link<T>): void {
    while (link.inbound.length > 0 && link.inbound[0].ready) {
      const slot = link.inbound.shift()!;
      link.ws.memory.give(slot.size);
      slot.deliver();
    }
    this.updateReading(link);
  }

  private deliver(link: Link<T>, data: Uint8Array, text: boolean): void {
    if (link.ws.readyState !== 1 || this.options.message === undefined) return;
    const message = text ? decoder.decode(data) : data;
    this.call(() => this.options.message!(link.ws, message, !text), link);
  }

  onControl(link: Link<T>, opcode: number, payload: Uint8Array): void {
    if (opcode === OPCODE.CLOSE) link.reader.stop(); // nothing after a close frame is read
    // Behind messages still being inflated, a control frame waits its turn: a
    // close must not overtake them (they would be lost), nor a pong their echoes.
    // (The reader gives each control frame a payload of its own, so it may wait.)
    if (link.inbound.length > 0) {
      link.ws.memory.take(payload.length);
      link.inbound.push({ ready: true, size: payload.length, deliver: () => this.handleControl(link, opcode, payload) });
      return;
    }
    this.handleControl(link, opcode, payload);
  }

  private handleControl(link: Link<T>, opcode: number, payload: Uint8Array): void {
    const { ws } = link;
    if (ws.readyState === 3) return;
    if (opcode === OPCODE.PING) {
      if (ws.pongsOwed >= MAX_PONGS_OWED) {
        // It pings and does not read the answers: as ws does, end it (a close frame could not reach it either).
        link.closeCode = CLOSE.POLICY_VIOLATION;
        link.closeReason = "Too many pongs owed";
        return link.tunnel.destroy();
      }
      ws.pong(payload);
      return this.call(() => this.options.ping?.(ws, payload), link);
    }
    if (opcode === OPCODE.PONG) {
      ws.pinged = false;
      return this.call(() => this.options.pong?.(ws, payload), link);
    }
    // A close frame: echo it if we had not sent ours, then close the TCP connection (RFC 6455 §5.5.1, §7.1.1).
    const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : CLOSE.NO_STATUS;
    const reason = payload.length > 2 ? decoder.decode(payload.subarray(2)) : "";
    link.reader.stop();
    if (ws.readyState === 1) {
      link.closeCode = code;
      link.closeReason = reason;
      ws.control(OPCODE.CLOSE, payload.length >= 2 ? payload.subarray(0, 2) : new Uint8Array(0));
    }
    ws.readyState = 2;
    ws.endConnection();
  }

  /** Fails the connection (RFC 6455 §7.1.7): a close frame with the code, then the TCP close. */
  fail(link: Link<T>, code: number, reason: string): void {
    const { ws } = link;
    link.reader.stop();
    if (ws.readyState === 1) {
      ws.control(OPCODE.CLOSE, closePayload(code, reason));
      link.closeCode = code;
      link.closeReason = reason;
    }
    ws.readyState = 2;
    ws.endConnection();
  }

  onClose(link: Link<T>): void {
    const { ws } = link;
    link.reader.stop();
    link.inflater?.close();
    link.inbound = [];
    this.topics.leaveAll(ws);
    this.links.delete(ws);
    ws.closed();
    this.call(() => this.options.close?.(ws, link.closeCode, link.closeReason));
  }

  private sweep(now: number): void {
    for (const link of this.links.values()) {
      const { ws } = link;
      if (link.closingSince !== 0) {
        if (now - link.closingSince > CLOSE_WAIT_MS) link.tunnel.destroy();
        continue;
      }
      if (this.idleMs === 0) continue;
      const idle = now - ws.lastSeen;
      if (idle >= this.idleMs && ws.pinged) {
        link.closeCode = CLOSE.ABNORMAL;
        link.tunnel.destroy();
      } else if (idle >= this.idleMs / 2 && !ws.pinged) {
        // (Late, past the timeout, when the loop was held up: the client still gets its ping and a sweep's time to answer.)
        ws.pinged = true;
        ws.ping();
      }
    }
  }

  /** Validates text in the receive region, a region's worth at a time (outside any parse of it). */
  private isUtf8(bytes: Uint8Array): boolean {
    const { parser, codec } = this;
    parser.claimReceiveRegion();
    let state = 0;
    for (let at = 0; at < bytes.length; at += parser.recvCapacity) {
      const n = Math.min(parser.recvCapacity, bytes.length - at);
      parser.bytes.set(bytes.subarray(at, at + n), parser.recv);
      state = codec.utf8(parser.recv, n, state);
      if (state < 0) return false;
    }
    return state === 0;
  }

  /** Runs an application callback; one that throws is reported, and fails its socket with 1011. */
  private call(fn: () => void, link?: Link<T>): void {
    try {
      fn();
    } catch (error) {
      this.onError(error);
      if (link !== undefined) this.fail(link, CLOSE.INTERNAL_ERROR, "Internal error");
    }
  }
}
