// What the servers of bench:hostile share (bench/hostile.ts attacks them):
// the same HTTP routes, the same WebSocket roles and the same limits, each
// set where the server has a setting for it.
//   GET /tiny  "Hi";  GET /big  1 MiB;  anything else 404.
//   WebSocket /echo sends every message back, /sub is subscribed to TOPIC,
//   /pub publishes every message it sends to TOPIC.
import type { IncomingMessage, ServerResponse } from "node:http";
export { HOST, listening, note, peerRequire, unsupported } from "./common.js";

const MIB = 1024 * 1024;
/** Open connections a server may hold, where it can be told (the slowloris attack opens this many). */
export const MAX_CONNECTIONS = Number(process.env.HOSTILE_MAX_CONNECTIONS ?? 1000);
/** Bytes all WebSockets together may hold, where a server has such a budget (simplenet). */
export const MEMORY_BUDGET = Number(process.env.HOSTILE_MEMORY_BUDGET ?? 64 * MIB);
export const MAX_PAYLOAD = 16 * MIB;
/** Bytes queued for one WebSocket before the server closes it, where it can (closeOnBackpressureLimit). */
export const MAX_BACKPRESSURE = 1 * MIB;
export const TOPIC = "hostile";
export const TINY = "Hi";
export const BIG = Buffer.alloc(1 * MIB, 0x62);

/** The routes for node:http (and for ws, which runs on node:http). */
export function nodeRoutes(req: IncomingMessage, res: ServerResponse): void {
  // writeHead fixes the head at once: Content-Length given, as the other servers send it (not chunked).
  if (req.url === "/tiny") res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": TINY.length }).end(TINY);
  else if (req.url === "/big") res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": BIG.length }).end(BIG);
  else res.writeHead(404).end("Not Found\n");
}
