// simplenet with a plain handler: the routes every peer serves.
import { serve, type Handler } from "../../src/index.js";
import { HOST, KEEP_ALIVE_MS, PAYLOAD, STATIC_PATH, STATIC_ROOT, listening, note, readStatic } from "./common.js";

const staticHandler = await loadStaticHandler();

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
  if (path === STATIC_PATH) {
    if (staticHandler !== null) return staticHandler(req, res);
    res.setHeader("Content-Type", "application/octet-stream");
    return res.end(await readStatic());
  }
  res.status = 404;
  res.end("Not Found\n");
};

/** src/static.ts's serveStatic(root) when it exists; until then the file is read per request. */
async function loadStaticHandler(): Promise<Handler | null> {
  const modulePath = "../../src/static.js"; // a variable, so that its absence is no compile error
  try {
    const { serveStatic } = (await import(modulePath)) as { serveStatic(root: string): Handler };
    note("static-64k: simplenet served the file with serveStatic() from src/static.ts (sendfile); the peers read it per request");
    return serveStatic(STATIC_ROOT);
  } catch {
    note("static-64k: simplenet has no src/static.ts yet, so its handler reads the file per request (fs.readFile, res.end(buffer)), like the peers");
    return null;
  }
}

const server = await serve({
  host: HOST,
  port: 0,
  handler,
  limits: { maxConnections: 100_000 },
  timeouts: { keepAlive: KEEP_ALIVE_MS },
});
listening(server.port);
