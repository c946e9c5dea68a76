// simplenet with a plain handler: the routes every peer serves, from the
// compiled build (dist/) that users run.
// With BENCH_WORKERS=N (the multi-core scenario) it is serve({ workers: N }):
// N worker threads run this file, each with its own SO_REUSEPORT listener.
import { isMainThread } from "node:worker_threads";
import { serve, serveStatic, type Handler } from "../../dist/index.js";
import { HOST, KEEP_ALIVE_MS, PAYLOAD, STATIC_PATH, STATIC_ROOT, WORKERS, listening, note } from "./common.js";

if (isMainThread) process.env.BENCH_WORKER_ENTRY = import.meta.url;
const staticHandler = serveStatic(STATIC_ROOT);
if (isMainThread) note("static-64k: simplenet serves the file with serveStatic(), which holds files up to 256 KiB in memory and reads them again once a second");

const handler: Handler = async (req, res) => {
  const path = req.path;
  if (path === "/hi") {
    res.setHeader("Content-Type", "text/plain");
    return res.end("Hi");
  }
  if (path === "/json") return res.json(PAYLOAD);
  if (path === "/upload" && req.method === "POST") {
    const body = await req.bytes();
    res.setHeader("Content-Type", "text/plain");
    return res.end(String(body.length));
  }
  if (path === STATIC_PATH) return staticHandler(req, res);
  res.status = 404;
  res.end("Not Found\n");
};

const server = await serve({
  host: HOST,
  port: 0,
  handler,
  limits: { maxConnections: 100_000 },
  timeouts: { keepAlive: KEEP_ALIVE_MS },
  // The workers run this file too, through tsx-worker.mjs (Node 20 does not pass `--import tsx` on to worker threads).
  ...(WORKERS > 1 ? { workers: WORKERS, entry: new URL("./tsx-worker.mjs", import.meta.url) } : {}),
});
// A worker's serve() resolves too: only the main thread speaks for the pool.
if (isMainThread) {
  if (WORKERS > 1) note(`simplenet with workers: serve({ workers: ${WORKERS} }), worker threads with a SO_REUSEPORT listener each`);
  listening(server.port);
}
