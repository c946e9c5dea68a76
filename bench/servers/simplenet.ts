// simplenet with a plain handler: the routes every peer serves, from the
// compiled build (dist/) that users run.
import { serve, serveStatic, type Handler } from "../../dist/index.js";
import { HOST, KEEP_ALIVE_MS, PAYLOAD, STATIC_PATH, STATIC_ROOT, listening, note } from "./common.js";

const staticHandler = serveStatic(STATIC_ROOT);
note("static-64k: simplenet serves the file with serveStatic() (sendfile from the file on every request)");

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
});
listening(server.port);
