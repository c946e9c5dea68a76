// Test clients: raw bytes over node:net (tests may use it; src/ may not).
// Every response they hand a test has been read by the strict client
// (support/strict-client.ts): a test fails on bytes a strict client refuses,
// whatever it asserts itself.
import { connect, type Socket } from "node:net";
import { llhttpParse } from "./support/llhttp.ts";
import { readStrictly, type StrictOptions, type StrictResponse } from "./support/strict-client.ts";

/** Opens a TCP connection to 127.0.0.1:port. */
export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** The methods of the requests in the bytes a client sent, in order, as llhttp reads them (a request cut short included). */
export function methodsOf(pieces: readonly (string | Uint8Array)[]): string[] {
  const run = llhttpParse(Buffer.concat(pieces.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p))));
  const methods = run.messages.map((m) => m.method);
  if (run.partial !== null) methods.push(run.partial.method);
  return methods;
}

export interface ExchangeOptions extends Pick<StrictOptions, "allowIncomplete" | "overParserLimits"> {
  gapMs?: number;
  idleMs?: number;
  /** The requests' methods, where the pieces do not say (default: as llhttp reads the pieces). */
  requestMethods?: readonly string[];
}

/**
 * Writes each piece (pausing `gapMs` between them) and returns everything the
 * server sent until it closed the connection, or until `idleMs` passed with
 * nothing new, or 5 s in all; read by the strict client, which throws on
 * anything it refuses.
 */
export async function exchange(
  port: number, pieces: (string | Uint8Array)[], { gapMs = 5, idleMs = 1000, requestMethods, ...strict }: ExchangeOptions = {},
): Promise<{ text: string; closed: boolean; responses: StrictResponse[] }> {
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
  const bytes = Buffer.concat(received);
  const { responses } = readStrictly(bytes, { requestMethods: requestMethods ?? methodsOf(pieces), closed, ...strict });
  return { text: bytes.toString("latin1"), closed, responses };
}

export type RawResponse = StrictResponse;

export interface ParseOptions extends Pick<StrictOptions, "allowIncomplete" | "overParserLimits" | "requestMethods"> {
  /** Every response answers a HEAD. */
  head?: boolean;
  /** The connection closed after `text` (the default: a body that runs until the close ends with the text). */
  closed?: boolean;
}

/**
 * The responses in everything one connection received (`text`, one
 * character per byte), read by the strict client: it throws on anything a
 * strict client refuses.
 */
export function parseResponses(text: string, { head = false, requestMethods, closed = true, ...strict }: ParseOptions = {}): RawResponse[] {
  const reading = readStrictly(Buffer.from(text, "latin1"), { requestMethods: head ? "HEAD" : requestMethods, closed, ...strict });
  return reading.partial === null ? reading.responses : [...reading.responses, reading.partial];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
