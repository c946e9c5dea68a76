// permessage-deflate (RFC 7692): the negotiation, and the zlib work it needs,
// done off the loop thread by node:zlib, one job at a time per connection
// (messages stay in order) and at most `maxConcurrency` jobs in the process.
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from "node:zlib";

export interface DeflateOptions {
  /** "shared": no context between messages (server_no_context_takeover), so any number of sockets share the cost of none; "dedicated": one compression context per socket (better ratio, a window of memory each). Default "shared". */
  compressor?: "shared" | "dedicated";
  /** "shared": the client is asked to compress each message alone (client_no_context_takeover); "dedicated": it may keep its context, and each socket keeps an inflater. Default "shared". */
  decompressor?: "shared" | "dedicated";
  /** Messages shorter than this go uncompressed. Default 1024 bytes. */
  threshold?: number;
  /** Largest LZ77 window the server compresses with (9-15). Default 15. */
  serverMaxWindowBits?: number;
  /** Largest window the server asks the client to use, when it offers to be asked (9-15). Default 15. */
  clientMaxWindowBits?: number;
  /** zlib jobs running at once; the rest wait in order. Set: for this server's sockets. Unset: 8, shared by every server of the process that did not set it. */
  maxConcurrency?: number;
}

export interface Negotiated {
  /** The Sec-WebSocket-Extensions value of the 101. */
  header: string;
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverWindowBits: number;
  clientWindowBits: number;
}

/** The first permessage-deflate offer this server can accept, and its answer; null to decline them all. */
export function negotiate(header: string | null, options: DeflateOptions): Negotiated | null {
  if (header === null) return null;
  for (const offer of header.split(",")) {
    const [name, ...params] = offer.split(";").map((p) => p.trim());
    if (name.toLowerCase() !== "permessage-deflate") continue;
    const answer = accept(params, options);
    if (answer !== null) return answer;
  }
  return null;
}

function accept(params: string[], options: DeflateOptions): Negotiated | null {
  const seen = new Map<string, string | true>();
  for (const param of params) {
    if (param === "") continue;
    const eq = param.indexOf("=");
    const key = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? true : param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
    if (seen.has(key)) return null; // RFC 7692 §7.1: each parameter at most once
    seen.set(key, value);
  }
  const serverOwn = options.serverMaxWindowBits ?? 15;
  const clientOwn = options.clientMaxWindowBits ?? 15;
  let serverWindowBits = serverOwn;
  let clientWindowBits = 15;
  let clientBitsAnswer: number | null = null;
  for (const [key, value] of seen) {
    if (key === "server_no_context_takeover" || key === "client_no_context_takeover") {
      if (value !== true) return null;
    } else if (key === "server_max_window_bits") {
      const bits = windowBits(value);
      // zlib's raw deflate cannot make an 8-bit window: decline rather than break the promise.
      if (bits === null || bits < 9) return null;
      serverWindowBits = Math.min(bits, serverOwn);
    } else if (key === "client_max_window_bits") {
      if (value === true) {
        clientBitsAnswer = clientOwn;
        clientWindowBits = clientOwn;
      } else {
        const bits = windowBits(value);
        if (bits === null) return null;
        clientWindowBits = bits;
        if (clientOwn < bits) {
          clientBitsAnswer = clientOwn;
          clientWindowBits = clientOwn;
        }
      }
    } else {
      return null; // an unknown parameter: this offer cannot be accepted as made
    }
  }
  // The server may always promise not to take over its own context, and ask the client not to (RFC 7692 §7.1.1).
  const serverNoContextTakeover = seen.has("server_no_context_takeover") || (options.compressor ?? "shared") === "shared";
  const clientNoContextTakeover = seen.has("client_no_context_takeover") || (options.decompressor ?? "shared") === "shared";
  const parts = ["permessage-deflate"];
  if (serverNoContextTakeover) parts.push("server_no_context_takeover");
  if (clientNoContextTakeover) parts.push("client_no_context_takeover");
  // A smaller server window may be announced even when the client did not ask (RFC 7692 §7.1.2.1).
  if (seen.has("server_max_window_bits") || serverWindowBits < 15) parts.push(`server_max_window_bits=${serverWindowBits}`);
  if (clientBitsAnswer !== null) parts.push(`client_max_window_bits=${clientBitsAnswer}`);
  return { header: parts.join("; "), serverNoContextTakeover, clientNoContextTakeover, serverWindowBits, clientWindowBits };
}

function windowBits(value: string | true): number | null {
  if (value === true || !/^\d{1,2}$/.test(value)) return null;
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : null;
}

/** Caps the zlib jobs running at once; the others wait in order. */
export class ZlibLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  run(job: (done: () => void) => void): void {
    const start = (): void => {
      this.running++;
      let finished = false;
      job(() => {
        if (finished) return;
        finished = true;
        this.running--;
        this.waiting.shift()?.();
      });
    };
    if (this.running < this.max) start();
    else this.waiting.push(start);
  }
}

const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

type ZStream = InflateRaw | DeflateRaw;

/**
 * A zlib stream that runs one message at a time, in order, each ending in a
 * sync flush; reset after each message when no context is kept.
 */
class MessageCodec {
  private stream: ZStream | null = null;
  private readonly queue: (() => void)[] = [];
  private busy = false;
  private closed = false;

  constructor(private readonly make: () => ZStream, private readonly resetEach: boolean, private readonly limiter: ZlibLimiter) {}

  /** The output of `input` flushed, or null (corrupt input, or more than maxOutput bytes: `tooLarge`). */
  run(input: Uint8Array, maxOutput: number, done: (out: Buffer | null, tooLarge: boolean) => void): void {
    this.queue.push(() => this.limiter.run((release) => {
      const finish = (out: Buffer | null, tooLarge: boolean): void => {
        release();
        const next = this.closed ? undefined : this.queue.shift();
        if (next !== undefined) next();
        else this.busy = false;
        if (!this.closed) done(out, tooLarge);
      };
      if (this.closed) return finish(null, false);
      const stream = (this.stream ??= this.fresh());
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      // Once per job, whichever comes first: the flush, an error (zlib then
      // calls no flush callback), or the output passing maxOutput.
      const settle = (out: Buffer | null, tooLarge: boolean): void => {
        if (settled) return;
        settled = true;
        stream.off("data", onData);
        stream.off("error", onError);
        if (out === null && !stream.destroyed) stream.destroy();
        if (out === null && this.stream === stream) this.stream = null;
        finish(out, tooLarge);
      };
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > maxOutput) settle(null, true); // stop inflating a bomb at once
        else chunks.push(chunk);
      };
      const onError = (): void => settle(null, false);
      stream.on("data", onData);
      stream.on("error", onError);
      stream.write(input);
      stream.flush(constants.Z_SYNC_FLUSH, () => {
        if (settled) return;
        // Closed while this job ran: the stream is destroyed, and resetting it would abort the process.
        if (this.closed || stream.destroyed) return settle(null, false);
        if (this.resetEach) stream.reset();
        settle(Buffer.concat(chunks), false);
      });
    }));
    if (!this.busy) {
      this.busy = true;
      this.queue.shift()!();
    }
  }

  /** A new stream, with an error listener of its own: an error after a job has settled must not go unhandled. */
  private fresh(): ZStream {
    const stream = this.make();
    stream.on("error", () => {});
    return stream;
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.stream?.destroy();
    this.stream = null;
  }
}

/** A message's bytes once inflated, or why not (over the size limit: close 1009; corrupt data: 1007). */
export type Inflated = { data: Uint8Array } | { error: "too-large" | "corrupt" };

/** One socket's inflater: a fresh context per message, or a kept one. */
export class Inflater {
  private readonly codec: MessageCodec;

  constructor(negotiated: Negotiated, limiter: ZlibLimiter) {
    this.codec = new MessageCodec(() => createInflateRaw({ windowBits: negotiated.clientWindowBits }), negotiated.clientNoContextTakeover, limiter);
  }

  inflate(parts: Uint8Array[], maxLength: number, done: (result: Inflated) => void): void {
    this.codec.run(Buffer.concat([...parts, TAIL]), maxLength, (out, tooLarge) => {
      if (out === null) return done({ error: tooLarge ? "too-large" : "corrupt" });
      done({ data: new Uint8Array(out.buffer, out.byteOffset, out.length) });
    });
  }

  close(): void {
    this.codec.close();
  }
}

/** A deflater: a compressed message body, without the sync flush's 4-byte tail (RFC 7692 §7.2.1). */
export class Deflater {
  private readonly codec: MessageCodec;
  /** The LZ77 window it compresses with. */
  readonly windowBits: number;

  constructor(negotiated: Negotiated, limiter: ZlibLimiter) {
    this.windowBits = negotiated.serverWindowBits;
    this.codec = new MessageCodec(() => createDeflateRaw({ windowBits: negotiated.serverWindowBits }), negotiated.serverNoContextTakeover, limiter);
  }

  deflate(data: Uint8Array, done: (compressed: Uint8Array | null) => void): void {
    this.codec.run(data, Infinity, (out) => {
      done(out === null || out.length < 4 ? null : new Uint8Array(out.buffer, out.byteOffset, out.length - 4));
    });
  }

  close(): void {
    this.codec.close();
  }
}
