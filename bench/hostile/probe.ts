// The well-behaved client: it connects afresh, asks once and times the
// answer (GET /tiny, or a WebSocket echo of one short message).
import { HOST, OP, frame, open, upgrade } from "./wire.ts";

/** Milliseconds to the answer, or how it failed: "refused" (not admitted, reset, closed or not 200) or "timeout". */
export type ProbeResult = number | "refused" | "timeout";

/** Times a GET /tiny on a new connection, from connect() to the whole answer. */
export async function httpProbe(port: number, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const socket = await open(port, timeoutMs).catch(() => null);
  if (socket === null) return performance.now() - start >= timeoutMs ? "timeout" : "refused";
  socket.write(`GET /tiny HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
  return new Promise<ProbeResult>((resolve) => {
    let received = "";
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done("timeout"), Math.max(0, timeoutMs - (performance.now() - start)));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n\r\n");
      // "Hi" is the whole body: the answer is complete once both bytes are in.
      if (end >= 0 && received.length >= end + 6) done(received.startsWith("HTTP/1.1 200") ? performance.now() - start : "refused");
    });
    socket.on("error", () => done("refused"));
    socket.on("close", () => done("refused"));
  });
}

const PROBE_TEXT = Buffer.from("are you there?");
const ECHO = Buffer.concat([Buffer.of(0x80 | OP.TEXT, PROBE_TEXT.length), PROBE_TEXT]);

/** Times a WebSocket echo on a new connection, from connect() through the handshake to the message's return. */
export async function wsProbe(port: number, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const upgraded = await upgrade(port, "/echo", "", timeoutMs).catch((error: Error) => error);
  if (upgraded instanceof Error) return /timeout/.test(upgraded.message) ? "timeout" : "refused";
  const { socket, rest } = upgraded;
  socket.write(frame(OP.TEXT, PROBE_TEXT));
  return new Promise<ProbeResult>((resolve) => {
    let received = rest;
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done("timeout"), Math.max(0, timeoutMs - (performance.now() - start)));
    const check = () => {
      if (received.includes(ECHO)) done(performance.now() - start);
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      check();
    });
    socket.on("error", () => done("refused"));
    socket.on("close", () => done("refused"));
    socket.resume();
    check();
  });
}
