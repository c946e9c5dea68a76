// serve({ websocket }): the handshake, the sockets of one server, publishing
// to topics, the idle timer and the memory budget. Each socket is a
// WebSocket (socket.ts: what the application calls, and what it sends) and
// its link (link.ts: what arrives, read by reader.ts); this file makes them
// and keeps what they share.
import { CLOSE } from "simplenet-parser/abi";
import { FrameCodec } from "simplenet-parser/frames";
import type { ParserInstance } from "simplenet-parser";
import type { Request } from "../http/request.js";
import type { Response } from "../http/response.js";
import { MemoryBudget, processBudgetCounters } from "./budget.js";
import { Deflater, Inflater, ZlibLimiter, negotiate, type DeflateOptions, type Negotiated } from "./deflate.js";
import { acceptFields, handshakeFault } from "./handshake.js";
import { clockNow, elapsed } from "./clock.js";
import { Link, type LinkHub } from "./link.js";
import type { UpgradeAnswer, WebSocketOptions } from "./options.js";
import { SEND_DROPPED, WebSocket, type SendOptions } from "./socket.js";
import { Topics } from "./topics.js";
import { Fanout } from "../http/fanout.js";

export { WebSocket, SEND_DROPPED, SEND_QUEUED, type SendOptions } from "./socket.js";
export type { UpgradeAnswer, WebSocketOptions } from "./options.js";

const MIB = 1024 * 1024;
/** How long a close handshake we started may wait for the client's answer. */
const CLOSE_WAIT_MS = 5000;

/** What a subscriber's send of a publish batch left waits for its own write (fanout.ts): charged to the socket, and back-pressure (a drain follows once it is out). */
function restGathered(ws: WebSocket<unknown>): void {
  ws.takeQueued();
  ws.backpressured = true;
}

let processBudget: MemoryBudget | null = null;
let processLimiter: ZlibLimiter | null = null;

export class WebSocketHub<T = unknown> implements LinkHub<T> {
  readonly topics = new Topics<WebSocket<T>>();
  /** Publishes' one crossing, per turn, to the subscribers whose output is empty (a batch at most maxBackpressure). */
  private readonly fanout: Fanout<WebSocket<T>>;
  readonly budget: MemoryBudget;
  readonly codec: FrameCodec;
  /** The largest message, bytes. */
  readonly maxPayload: number;
  readonly maxBackpressure: number;
  readonly closeOnBackpressureLimit: boolean;
  readonly compressThreshold: number;
  /** Every socket's link, in the order they opened. */
  private readonly links = new Set<Link<T>>();
  private readonly idleMs: number;
  /** A message's minimum rate (WebSocketOptions.messageTimeout, messageMinRate); 0 ms: none. */
  private readonly messageMs: number;
  private readonly messageMinRate: number;
  private readonly deflate: DeflateOptions | null;
  private readonly limiter: ZlibLimiter;
  private readonly sharedDeflaters = new Map<number, Deflater>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    readonly options: WebSocketOptions<T>,
    readonly parser: ParserInstance,
    private readonly onError: (error: unknown) => void,
  ) {
    this.codec = new FrameCodec(parser);
    this.maxPayload = options.maxPayloadLength ?? 16 * MIB;
    this.maxBackpressure = options.maxBackpressure ?? 16 * MIB;
    this.closeOnBackpressureLimit = options.closeOnBackpressureLimit ?? false;
    this.fanout = new Fanout<WebSocket<T>>(restGathered, this.maxBackpressure);
    this.idleMs = (options.idleTimeout ?? 120) * 1000;
    this.messageMs = (options.messageTimeout ?? 20) * 1000;
    this.messageMinRate = options.messageMinRate ?? 500;
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
    // A quarter of the shortest timeout at most, so that a short idle one still pings at half before it closes.
    const shortest = Math.min(this.idleMs || 4000, this.messageMs || 4000);
    const period = Math.max(50, Math.min(1000, shortest / 4));
    this.timer = setInterval(() => this.sweep(clockNow()), period);
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
    const link = new Link(this, negotiated === null ? null : new Inflater(negotiated, this.limiter));
    const deflater = negotiated === null ? null : this.deflaterFor(negotiated);
    const ws = new WebSocket<T>(link, tunnel, deflater, answer.data as T, clockNow(), answer.protocol ?? "", negotiated?.header ?? "");
    link.ws = ws;
    this.links.add(link);
    tunnel.handler = link;
    this.call(() => this.options.open?.(ws), link);
    return ws;
  }

  /**
   * Sends to every subscriber of `topic` (but `except`); the frame is made
   * once. The subscribers whose output is empty get it at the end of the
   * turn, with the turn's other publishes to them, in one crossing into the
   * shim (fanout.ts); the rest (output queued or corked, permessage-deflate,
   * a budget too full to let them all take the frames without asking) by
   * their own sends. Each gets them in order with its other writes.
   */
  publish(topic: string, data: string | Uint8Array, options: SendOptions = {}, except?: WebSocket<T>): number {
    const subscribers = this.topics.subscribersOf(topic);
    if (subscribers === undefined) return 0;
    const n = subscribers.length;
    const frame = subscribers[0].preparedFrame(data, options);
    const { fanout } = this;
    // The same subscribers as the open batch: its members get the frame with it (nobody excluded, so no member is).
    const roomy = this.budget.allows(n * (fanout.batchBytes + frame.length)) === true;
    if (except === undefined && roomy && fanout.takes(subscribers, frame)) {
      const others = fanout.add(frame);
      let count = n - others.length;
      for (const ws of others) if (this.sendOwn(ws, data, options, frame) !== SEND_DROPPED) count++;
      return count;
    }
    // (=== true: a boolean the optimizing compiler knows as one, so the loop tests it as one.)
    const direct = this.budget.allows(n * frame.length) === true;
    if (direct) fanout.open(subscribers, frame);
    else fanout.send();
    let count = 0;
    let others: WebSocket<T>[] | null = null;
    for (let i = 0; i < n; i++) {
      const ws = subscribers[i];
      // permessage-deflate sockets take their own way: they compress per socket, and a send may wait for zlib (a later publish must not overtake it).
      if (direct && ws !== except && ws.extensions === "" && ws.sendsDirect && fanout.join(i, ws.tunnel)) count++;
      else (others ??= []).push(ws);
    }
    if (others === null) return count;
    if (direct) fanout.others = others; // (before any send of theirs: one may close a socket, whose close handler may publish)
    for (const ws of others) if (ws !== except && this.sendOwn(ws, data, options, frame) !== SEND_DROPPED) count++;
    return count;
  }

  /** A publish to one subscriber outside the batch: compressed for itself, or the shared frame. */
  private sendOwn(ws: WebSocket<T>, data: string | Uint8Array, options: SendOptions, frame: Uint8Array): number {
    return ws.extensions !== "" && options.compress !== false ? ws.send(data, options) : ws.sendPrepared(frame);
  }

  /** Closes every socket (the server is closing without waiting). */
  destroyAll(): void {
    for (const link of [...this.links]) link.ws.close();
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

  /** A link's connection has closed (its link has stopped reading). */
  onClose(link: Link<T>): void {
    const { ws } = link;
    this.topics.leaveAll(ws);
    this.links.delete(link);
    ws.closed();
    this.call(() => this.options.close?.(ws, link.closeCode, link.closeReason));
  }

  /** Validates text in the receive region, a region's worth at a time (outside any parse of it). */
  isUtf8(bytes: Uint8Array): boolean {
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
  call(fn: () => void, link?: Link<T>): void {
    try {
      fn();
    } catch (error) {
      this.onError(error);
      if (link !== undefined) link.fail(CLOSE.INTERNAL_ERROR, "Internal error");
    }
  }

  private deflaterFor(negotiated: Negotiated): Deflater {
    if (!negotiated.serverNoContextTakeover) return new Deflater(negotiated, this.limiter);
    // Without context takeover every socket with the same window can share one deflater.
    let shared = this.sharedDeflaters.get(negotiated.serverWindowBits);
    if (shared === undefined) this.sharedDeflaters.set(negotiated.serverWindowBits, (shared = new Deflater(negotiated, this.limiter)));
    return shared;
  }

  /**
   * The idle timer (times from clock.ts): ends close handshakes left
   * unanswered, fails a message sent below its minimum rate, pings a quiet
   * client at half the timeout and closes it at the timeout.
   */
  private sweep(now: number): void {
    for (const link of this.links) {
      const { ws } = link;
      if (link.closingSince !== 0) {
        if (elapsed(link.closingSince, now) > CLOSE_WAIT_MS) ws.close();
        continue;
      }
      // 1008, not 1002: the frames are well formed; the pace breaks this server's policy (RFC 6455 §7.4.1).
      if (this.messageMs !== 0 && link.messageTooSlow(now, this.messageMs, this.messageMinRate)) {
        link.fail(CLOSE.POLICY_VIOLATION, "Message too slow");
        continue;
      }
      if (this.idleMs === 0) continue;
      const idle = elapsed(ws.lastSeen, now);
      if (idle >= this.idleMs && ws.pinged) {
        link.noteClose(CLOSE.ABNORMAL);
        ws.close();
      } else if (idle >= this.idleMs / 2 && !ws.pinged) {
        // (Late, past the timeout, when the loop was held up: the client still gets its ping and a sweep's time to answer.)
        ws.pinged = true;
        ws.ping();
      }
    }
  }
}
