// The client side of RFC 6455 for tests: masked frames built by hand (any
// header, any bits, lengths the payload does not have), the opening handshake
// over a raw node:net socket, and a reader of the server's frames. Nothing
// here is shared with src/: the tests check the server against this.
import { concat } from "../../parser/src/parser.ts";
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { readStrictly, type StrictReading } from "./strict-client.ts";
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync } from "node:zlib";

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;
const encoder = new TextEncoder();

export interface FrameSpec {
  fin?: boolean;
  /** RSV bits as a number 0-7: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
  rsv?: number;
  opcode: number;
  payload?: string | Uint8Array;
  /** Send the frame unmasked (a protocol error from a client). */
  unmasked?: boolean;
  /** The 4-byte key; a fixed one by default so cases are reproducible. */
  key?: Uint8Array;
  /** Announce this length instead of the payload's (for lengths too large to send). */
  length?: number | bigint;
  /** Use this length encoding even when a shorter one fits (7, 16 or 64 bits). */
  lengthBits?: 7 | 16 | 64;
}

const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

export function bytesOf(data: string | Uint8Array | undefined): Uint8Array {
  return data === undefined ? new Uint8Array(0) : typeof data === "string" ? encoder.encode(data) : data;
}

/** One client frame, masked unless `unmasked`. */
export function frame(spec: FrameSpec): Uint8Array {
  const payload = bytesOf(spec.payload);
  const length = BigInt(spec.length ?? payload.length);
  const bits = spec.lengthBits ?? (length < 126n ? 7 : length < 65536n ? 16 : 64);
  const masked = spec.unmasked !== true;
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const maskBit = masked ? 0x80 : 0;
  if (bits === 7) head.push(maskBit | Number(length));
  else if (bits === 16) head.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn));
  }
  const key = spec.key ?? KEY;
  if (masked) head.push(...key);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  for (let i = 0; i < payload.length; i++) out[head.length + i] = masked ? payload[i] ^ key[i & 3] : payload[i];
  return out;
}

export const text = (payload: string | Uint8Array, more: Partial<FrameSpec> = {}): Uint8Array => frame({ opcode: OP.TEXT, payload, ...more });
export const binary = (payload: Uint8Array, more: Partial<FrameSpec> = {}): Uint8Array => frame({ opcode: OP.BINARY, payload, ...more });
export const ping = (payload: string | Uint8Array = "", more: Partial<FrameSpec> = {}): Uint8Array => frame({ opcode: OP.PING, payload, ...more });
export const pong = (payload: string | Uint8Array = "", more: Partial<FrameSpec> = {}): Uint8Array => frame({ opcode: OP.PONG, payload, ...more });

/** A close frame's payload: the code (big-endian) and the reason. */
export function closePayload(code?: number, reason: string | Uint8Array = ""): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const r = bytesOf(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

export const close = (code?: number, reason: string | Uint8Array = "", more: Partial<FrameSpec> = {}): Uint8Array =>
  frame({ opcode: OP.CLOSE, payload: closePayload(code, reason), ...more });

/** A message split into frames of the given sizes (the last size repeats), the first with `opcode`, the rest continuations. */
export function fragments(opcode: number, payload: string | Uint8Array, sizes: number[], more: Partial<FrameSpec> = {}): Uint8Array[] {
  const bytes = bytesOf(payload);
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length || i === 0; i++) {
    const n = Math.max(0, sizes[Math.min(i, sizes.length - 1)]);
    const piece = bytes.subarray(at, Math.min(bytes.length, at + n));
    at += piece.length;
    out.push(frame({ ...(i === 0 ? more : {}), opcode: i === 0 ? opcode : OP.CONT, payload: piece, fin: at >= bytes.length }));
    if (n === 0 && at < bytes.length && i > bytes.length + 8) throw new Error("fragments: sizes make no progress");
  }
  return out;
}

export { concat };

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A message compressed alone (no context), without the 4-byte tail (RFC 7692 §7.2.1). */
export function deflateAlone(data: string | Uint8Array, windowBits = 15): Uint8Array {
  const out = deflateRawSync(bytesOf(data), { finishFlush: constants.Z_SYNC_FLUSH, windowBits });
  if (!out.subarray(out.length - 4).equals(TAIL)) throw new Error("deflateAlone: no sync-flush tail");
  return new Uint8Array(out.subarray(0, out.length - 4));
}

/** A client compressor that keeps its context between messages (context takeover). */
export class KeptDeflater {
  private readonly stream = createDeflateRaw({ windowBits: 15 });

  deflate(data: string | Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (c: Buffer): void => void chunks.push(c);
      this.stream.on("data", onData);
      this.stream.once("error", reject);
      this.stream.write(bytesOf(data));
      this.stream.flush(constants.Z_SYNC_FLUSH, () => {
        this.stream.off("data", onData);
        const out = Buffer.concat(chunks);
        resolve(new Uint8Array(out.subarray(0, out.length - 4)));
      });
    });
  }

  close(): void {
    this.stream.destroy();
  }
}

/** Inflates the server's compressed messages in order, with one context (works whether or not the server keeps its own). */
export class ClientInflater {
  private readonly stream = createInflateRaw({ windowBits: 15 });

  inflate(data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (c: Buffer): void => void chunks.push(c);
      this.stream.on("data", onData);
      this.stream.once("error", reject);
      this.stream.write(Buffer.concat([data, TAIL]));
      this.stream.flush(constants.Z_SYNC_FLUSH, () => {
        this.stream.off("data", onData);
        resolve(new Uint8Array(Buffer.concat(chunks)));
      });
    });
  }

  close(): void {
    this.stream.destroy();
  }
}

export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/** Reads the server's frames from a byte stream fed in any pieces. */
export class FrameParser {
  private buffer: Uint8Array = new Uint8Array(0);
  readonly frames: ServerFrame[] = [];

  push(chunk: Uint8Array): void {
    this.buffer = this.buffer.length === 0 ? new Uint8Array(chunk) : concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      let length = b[1] & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = (b[2] << 8) | b[3];
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
        at = 10;
      }
      const masked = (b[1] & 0x80) !== 0;
      const keyAt = at;
      if (masked) at += 4;
      if (b.length < at + length) return;
      const payload = b.slice(at, at + length);
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= b[keyAt + (i & 3)];
      this.frames.push({ fin: (b[0] & 0x80) !== 0, rsv: (b[0] >> 4) & 7, opcode: b[0] & 0x0f, masked, payload });
      this.buffer = b.slice(at + length);
    }
  }

  get pending(): number {
    return this.buffer.length;
  }
}

/** What a test compares: the server's messages (fragments joined, inflated), control frames, and its close. */
export type Event =
  | { type: "text"; data: string }
  | { type: "binary"; data: string /* hex */ }
  | { type: "ping" | "pong"; data: string /* hex */ }
  | { type: "close"; code: number | null; reason: string };

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Turns the server's frames into events; throws on anything a client must fail (bad framing from the server). */
export async function eventsOf(frames: ServerFrame[], inflater?: ClientInflater): Promise<Event[]> {
  const events: Event[] = [];
  let message: { opcode: number; parts: Uint8Array[]; compressed: boolean } | null = null;
  for (const f of frames) {
    if (f.masked) throw new Error("the server masked a frame");
    if (f.opcode >= 8) {
      if (!f.fin || f.payload.length > 125 || f.rsv !== 0) throw new Error(`bad control frame from the server: ${JSON.stringify(f)}`);
      if (f.opcode === OP.CLOSE) {
        const code = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : null;
        events.push({ type: "close", code, reason: Buffer.from(f.payload.subarray(2)).toString("utf8") });
      } else events.push({ type: f.opcode === OP.PING ? "ping" : "pong", data: hex(f.payload) });
      continue;
    }
    if (f.opcode === OP.CONT) {
      if (message === null) throw new Error("continuation without a message from the server");
      message.parts.push(f.payload);
    } else {
      if (message !== null) throw new Error("the server interleaved messages");
      if ((f.rsv & 4) !== 0 && inflater === undefined) throw new Error("compressed frame without permessage-deflate");
      message = { opcode: f.opcode, parts: [f.payload], compressed: (f.rsv & 4) !== 0 };
    }
    if (!f.fin) continue;
    let data = concat(message.parts);
    if (message.compressed) data = await inflater!.inflate(data);
    events.push(message.opcode === OP.TEXT
      ? { type: "text", data: new TextDecoder("utf-8", { fatal: true }).decode(data) }
      : { type: "binary", data: hex(data) });
    message = null;
  }
  return events;
}

export interface HandshakeOptions {
  path?: string;
  extensions?: string;
  protocols?: string;
  origin?: string;
  version?: string;
  /** More request fields, as raw lines. */
  fields?: string[];
}

export interface Opened {
  socket: Socket;
  status: number;
  headers: Record<string, string>;
  /** The frames read so far (kept up to date). */
  parser: FrameParser;
  /** Resolves when the server has closed its side (FIN or reset). */
  ended: Promise<void>;
  /** Whether the server has closed its side. */
  isEnded(): boolean;
}

/** Sends an opening handshake and reads the answer's head; the bytes after it go to the frame parser. */
export function handshake(port: number, options: HandshakeOptions = {}): Promise<Opened> {
  const key = randomBytes(16).toString("base64");
  const lines = [
    `GET ${options.path ?? "/"} HTTP/1.1`, "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`, `Sec-WebSocket-Version: ${options.version ?? "13"}`,
  ];
  if (options.extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${options.extensions}`);
  if (options.protocols !== undefined) lines.push(`Sec-WebSocket-Protocol: ${options.protocols}`);
  if (options.origin !== undefined) lines.push(`Origin: ${options.origin}`);
  lines.push(...(options.fields ?? []));
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.setNoDelay(true);
    const parser = new FrameParser();
    let head: Buffer | null = Buffer.alloc(0);
    let ended = false;
    let endedResolve!: () => void;
    const endedPromise = new Promise<void>((r) => (endedResolve = r));
    const timer = setTimeout(() => reject(new Error("handshake: no answer in 5 s")), 5000);
    socket.on("error", () => {});
    const finish = (): void => {
      ended = true;
      endedResolve();
    };
    socket.on("end", finish);
    socket.on("close", () => {
      finish();
      if (head !== null) {
        clearTimeout(timer);
        try {
          readStrictly(head, { requestMethods: ["GET"], closed: true });
          reject(new Error(`handshake: closed before a whole answer: ${JSON.stringify(head.toString("latin1"))}`));
        } catch (e) {
          reject(e);
        }
      }
    });
    socket.on("data", (chunk: Buffer) => {
      if (head === null) return parser.push(chunk);
      head = Buffer.concat([head, chunk]);
      // The answer, read by the strict client once it is whole: a 101 (its tunnel's bytes are frames) or a refusal.
      let answer: StrictReading;
      try {
        answer = readStrictly(head, { requestMethods: ["GET"], allowIncomplete: true });
      } catch (e) {
        head = null;
        clearTimeout(timer);
        reject(e);
        return;
      }
      const final = answer.responses.find((r) => r.status >= 200 || r.status === 101);
      if (final === undefined) return;
      head = null;
      clearTimeout(timer);
      const { status, headers } = final;
      const rest = answer.tunnel;
      if (status === 101) {
        const expected = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        if (headers["sec-websocket-accept"] !== expected) {
          reject(new Error(`bad Sec-WebSocket-Accept ${headers["sec-websocket-accept"]}`));
          return;
        }
      }
      if (rest.length > 0) parser.push(rest);
      resolve({ socket, status, headers, parser, ended: endedPromise, isEnded: () => ended });
    });
    socket.on("connect", () => socket.write(`${lines.join("\r\n")}\r\n\r\n`));
  });
}

/** Resolves when `check` holds (checked on each chunk from the server and every 10 ms), false after `ms`. */
export function until(opened: Opened, check: () => boolean, ms = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    if (check()) return resolve(true);
    const started = Date.now();
    const timer = setInterval(() => {
      if (check()) done(true);
      else if (Date.now() - started > ms) done(false);
    }, 10);
    const onData = (): void => void setImmediate(() => check() && done(true));
    opened.socket.on("data", onData);
    const done = (ok: boolean): void => {
      clearInterval(timer);
      opened.socket.off("data", onData);
      resolve(ok);
    };
  });
}

/** Writes a piece and lets the event loop turn (twice), so that the server, in this process, reads it alone. */
export async function writeAlone(socket: Socket, piece: Uint8Array): Promise<void> {
  await new Promise<void>((resolve) => socket.write(piece, () => resolve()));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}
