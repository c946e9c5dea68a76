// The client side of the security tests: raw bytes over node:net, and the
// strict client's reading of what came back.
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { readStrictly } from "../support/strict-client.ts";

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
}

/** The value of a response header (repeated ones joined with ", "), or undefined. */
export function header(res: Pick<WireResponse, "headers">, name: string): string | undefined {
  const values = res.headers.filter(([n]) => n === name).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(", ");
}

/**
 * The responses in everything one connection received, read by the strict
 * client (test/support/strict-client.ts), which throws on anything it
 * refuses: unframed or left-over bytes included. No request here is a HEAD;
 * `closed` (the default): the connection closed after `data`.
 */
export function readResponses(data: Buffer, { closed = true } = {}): WireReading {
  const { responses } = readStrictly(data, { closed });
  return {
    responses: responses.map((r) => ({
      status: r.status, headers: r.fields.map(([n, v]): [string, string] => [n.toLowerCase(), v]), body: Buffer.from(r.body, "latin1"),
    })),
  };
}

/** Entries in this process's descriptor table. */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}
