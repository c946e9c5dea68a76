// The client side of the security tests: raw bytes over node:net, and a
// strict reader of what came back.
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a TCP connection to 127.0.0.1:port; no Nagle, so each write leaves as its own segment. */
export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", noDelay: true }, () => resolve(socket));
    socket.once("error", reject);
  });
}

export interface Conversation {
  /** Everything the server sent. */
  received: Buffer;
  /** Whether the server closed the connection (FIN or reset) before `waitMs` ran out. */
  closed: boolean;
  /** The client's port: the server sees it as req.remote.port. */
  localPort: number;
}

export interface ConverseOptions {
  /** Pause between pieces, ms. */
  gapMs?: number;
  /** How long to wait for the server to close after the last piece, ms. */
  waitMs?: number;
  /** Called once connected, before anything is written. */
  onOpen?: (localPort: number) => void;
}

/**
 * Writes each piece (pausing `gapMs` between them), then waits for the server
 * to close the connection, at most `waitMs` after the last piece.
 */
export async function converse(
  port: number, pieces: readonly (string | Uint8Array)[], { gapMs = 10, waitMs = 3000, onOpen }: ConverseOptions = {},
): Promise<Conversation> {
  const socket = await open(port);
  const localPort = socket.localPort!;
  onOpen?.(localPort);
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {}); // a reset is a close, and is reported as one
  const gone = new Promise<void>((resolve) => socket.once("close", () => {
    closed = true;
    resolve();
  }));
  for (const piece of pieces) {
    if (closed) break;
    socket.write(typeof piece === "string" ? Buffer.from(piece, "latin1") : piece);
    if (gapMs > 0) await sleep(gapMs);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
  socket.destroy();
  return { received: Buffer.concat(chunks), closed, localPort };
}

export interface WireResponse {
  status: number;
  /** Header lines as sent, names lower-cased; repeated names keep every value. */
  headers: [string, string][];
  body: Buffer;
}

export interface WireReading {
  responses: WireResponse[];
  /** Bytes that do not form a whole, well-framed response (must be empty). */
  rest: Buffer;
}

/** The value of a response header (repeated ones joined with ", "), or undefined. */
export function header(res: Pick<WireResponse, "headers">, name: string): string | undefined {
  const values = res.headers.filter(([n]) => n === name).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(", ");
}

/**
 * Splits a byte stream into responses, framed by Content-Length or chunked
 * (1xx, 204 and 304 have no body; no request here is a HEAD). Stops at the
 * first thing it cannot frame.
 */
export function readResponses(data: Buffer): WireReading {
  const responses: WireResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf("\r\n\r\n", at, "latin1");
    if (end < 0) break;
    const lines = data.toString("latin1", at, end).split("\r\n");
    const statusLine = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/.exec(lines[0]);
    if (statusLine === null || lines.slice(1).some((line) => line.indexOf(":") <= 0)) break;
    const status = Number(statusLine[1]);
    const headers = lines.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
    const framed = status < 200 || status === 204 || status === 304
      ? { body: Buffer.alloc(0), next: end + 4 }
      : header({ headers }, "transfer-encoding") === "chunked"
        ? readChunked(data, end + 4)
        : readSized(data, end + 4, header({ headers }, "content-length"));
    if (framed === null) break;
    responses.push({ status, headers, body: framed.body });
    at = framed.next;
  }
  return { responses, rest: data.subarray(at) };
}

type Framed = { body: Buffer; next: number } | null;

function readSized(data: Buffer, start: number, length: string | undefined): Framed {
  if (length === undefined || !/^\d+$/.test(length) || start + Number(length) > data.length) return null;
  return { body: data.subarray(start, start + Number(length)), next: start + Number(length) };
}

function readChunked(data: Buffer, start: number): Framed {
  const parts: Buffer[] = [];
  let at = start;
  while (true) {
    const lineEnd = data.indexOf("\r\n", at, "latin1");
    if (lineEnd < 0) return null;
    const size = parseInt(data.toString("latin1", at, lineEnd), 16);
    at = lineEnd + 2;
    if (size === 0) return data.indexOf("\r\n", at, "latin1") === at ? { body: Buffer.concat(parts), next: at + 2 } : null;
    if (Number.isNaN(size) || at + size + 2 > data.length) return null;
    parts.push(data.subarray(at, at + size));
    at += size + 2;
  }
}

/** Entries in this process's descriptor table. */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}
