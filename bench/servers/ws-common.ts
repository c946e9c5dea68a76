// What the WebSocket benchmark servers share (bench/ws.ts drives them with
// bench/ws-client.c). Each serves the same three roles, chosen by the path of
// the handshake:
//   /echo  sends every message back as it came (binary stays binary);
//   /sub   is subscribed to the topic "bench" when it opens;
//   /pub   publishes every message it sends to "bench";
//   anything else (/idle) is only held open.
export { HOST, listening, note, peerRequire, unsupported } from "./common.js";

export const TOPIC = "bench";
/** Largest message each server accepts: far above what the benchmark sends. */
export const MAX_PAYLOAD = 16 * 1024 * 1024;
/** Seconds without traffic before a server closes a socket (and half of it before it pings): longer than any run. */
export const IDLE_TIMEOUT_S = 900;

// Under --expose-gc, SIGUSR2 runs a full garbage collection: the idle
// scenario reads RSS both before and after one, to tell live memory from garbage.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc !== undefined) process.on("SIGUSR2", () => gc());
