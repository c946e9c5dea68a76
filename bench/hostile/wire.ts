// The raw bytes the hostile clients send: TCP sockets to 127.0.0.1, the
// WebSocket handshake, client frames (masked, whole or cut short), and a
// scanner that finds a server's close code in a stream of frames without
// keeping any payload.
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";

export const HOST = "127.0.0.1";

export const OP = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** A connected socket, or the error that refused it. */
export function open(port: number, timeoutMs = 5000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    const timer = setTimeout(() => fail(new Error("connect timeout")), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once("error", fail);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", fail);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

export interface Upgraded {
  socket: Socket;
  /** The server's Sec-WebSocket-Extensions, or "" when it accepted none. */
  extensions: string;
  /** Bytes that came after the 101 head in the same read (frames the server sent at once). */
  rest: Buffer;
}

/** Opens a WebSocket to `path` (offering `extensions` when given); rejects on anything but 101. */
export async function upgrade(port: number, path: string, extensions = "", timeoutMs = 5000): Promise<Upgraded> {
  const socket = await open(port, timeoutMs);
  const head = [
    `GET ${path} HTTP/1.1`, `Host: ${HOST}:${port}`, "Upgrade: websocket", "Connection: Upgrade",
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`, "Sec-WebSocket-Version: 13",
    ...(extensions === "" ? [] : [`Sec-WebSocket-Extensions: ${extensions}`]), "", "",
  ].join("\r\n");
  socket.write(head);
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error("handshake timeout")), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return;
      clearTimeout(timer);
      socket.off("data", onData).off("error", fail).off("close", onClose);
      const text = received.subarray(0, end).toString("latin1");
      if (!text.startsWith("HTTP/1.1 101")) return fail(new Error(`no upgrade: ${text.split("\r\n")[0]}`));
      // Stop the flow the data listener started; the caller decides whether this client reads.
      socket.pause();
      const extensions = /^sec-websocket-extensions:\s*(.*)$/im.exec(text)?.[1].trim() ?? "";
      resolve({ socket, extensions, rest: received.subarray(end + 4) });
    };
    const onClose = () => fail(new Error("closed before the handshake's answer"));
    socket.on("data", onData).once("error", fail).once("close", onClose);
  });
}

/** The head of a client frame carrying `length` payload bytes: the mask key is zero, so the payload goes as it is. */
export function frameHead(opcode: number, length: number, { fin = true, rsv1 = false } = {}): Buffer {
  const size = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const head = Buffer.alloc(size + 4);
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126) head[1] = 0x80 | length;
  else if (length < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  return head;
}

/** A whole client frame. */
export function frame(opcode: number, payload: Uint8Array, options: { fin?: boolean; rsv1?: boolean } = {}): Buffer {
  return Buffer.concat([frameHead(opcode, payload.length, options), payload]);
}

/** `unit` repeated until the buffer holds about `bytes`, or `count` times if fewer: one write of many identical frames or requests. */
export function repeated(unit: Buffer, count: number, bytes = 64 * 1024): { batch: Buffer; units: number } {
  const units = Math.max(1, Math.min(count, Math.floor(bytes / unit.length)));
  return { batch: Buffer.concat(Array.from({ length: units }, () => unit)), units };
}

/**
 * Reads server frames as they stream by and keeps only the close code (1005
 * when the close frame has none): a client that finally reads its backlog
 * can tell how the server ended it without holding what it was sent.
 */
export class CloseScanner {
  code: number | null = null;
  private head: number[] = [];
  private skip = 0;
  /** The bytes of a close frame's code read so far. */
  private codeBytes: number[] | null = null;

  feed(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length && this.code === null;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      if (this.codeBytes !== null) {
        this.codeBytes.push(chunk[i++]);
        if (this.codeBytes.length === 2) this.code = (this.codeBytes[0] << 8) | this.codeBytes[1];
        continue;
      }
      this.head.push(chunk[i++]);
      if (this.head.length < 2) continue;
      const short = this.head[1] & 0x7f;
      const need = (short === 126 ? 4 : short === 127 ? 10 : 2) + (this.head[1] & 0x80 ? 4 : 0);
      if (this.head.length < need) continue;
      const length = short === 126 ? (this.head[2] << 8) | this.head[3]
        : short === 127 ? Number(Buffer.from(this.head.slice(2, 10)).readBigUInt64BE()) : short;
      const opcode = this.head[0] & 0x0f;
      this.head = [];
      if (opcode !== OP.CLOSE) this.skip = length;
      else if (length < 2) this.code = 1005;
      else this.codeBytes = [];
    }
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves true on 'drain', false once `deadline` (a Date.now() time) passes or the socket closes first. */
function drained(socket: Socket, deadline: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.off("drain", onDrain).off("close", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), Math.max(0, deadline - Date.now()));
    socket.on("drain", onDrain).on("close", onClose);
  });
}

/**
 * Writes `batch` up to `count` times, each write only once the kernel has
 * taken the last (so the client never holds a backlog of its own), until the
 * deadline or the socket's end. Returns how many were written.
 */
export async function pour(socket: Socket, batch: Buffer, count: number, deadline: number): Promise<number> {
  let written = 0;
  while (written < count && Date.now() < deadline && !socket.destroyed && socket.writable) {
    written++;
    if (!socket.write(batch) && !(await drained(socket, deadline))) break;
  }
  return written;
}
