// Test clients: raw bytes over node:net (tests may use it; src/ may not).
import { connect, type Socket } from "node:net";

/** Opens a TCP connection to 127.0.0.1:port. */
export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/**
 * Writes each piece (pausing `gapMs` between them) and returns everything the
 * server sent until it closed the connection, or until `idleMs` passed with
 * nothing new, or 5 s in all.
 */
export async function exchange(
  port: number, pieces: (string | Uint8Array)[], { gapMs = 5, idleMs = 1000 } = {},
): Promise<{ text: string; closed: boolean }> {
  const socket = await open(port);
  const received: Buffer[] = [];
  let closed = false;
  const done = new Promise<void>((resolve) => {
    let idle = setTimeout(resolve, idleMs);
    const total = setTimeout(resolve, 5000);
    socket.on("data", (chunk) => {
      received.push(chunk);
      clearTimeout(idle);
      idle = setTimeout(resolve, idleMs);
    });
    socket.on("close", () => {
      closed = true;
      clearTimeout(idle);
      clearTimeout(total);
      resolve();
    });
    socket.on("error", () => {});
  });
  for (const piece of pieces) {
    socket.write(piece);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  await done;
  socket.destroy();
  return { text: Buffer.concat(received).toString("latin1"), closed };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits a byte stream of HTTP/1.1 responses (Content-Length or chunked bodies). */
export function parseResponses(text: string, { head = false } = {}): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const lines = text.slice(at, end).split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = end + 4;
    let body = "";
    if (head || status < 200 || status === 204 || status === 304) {
      // no body
    } else if (headers["transfer-encoding"] === "chunked") {
      while (true) {
        const lineEnd = text.indexOf("\r\n", at);
        if (lineEnd < 0) return out; // the rest never arrived
        const size = parseInt(text.slice(at, lineEnd), 16);
        at = lineEnd + 2;
        if (size === 0) {
          at = text.indexOf("\r\n", at) + 2;
          break;
        }
        body += text.slice(at, at + size);
        at += size + 2;
      }
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      body = text.slice(at, at + n);
      at += n;
    } else {
      body = text.slice(at);
      at = text.length;
    }
    out.push({ status, headers, body });
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
