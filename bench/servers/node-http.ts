// node:http, the baseline every ratio is measured against. The static file
// is served from a Buffer read once at start (node-http-stream.ts serves it
// with fs.createReadStream instead).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HOST, KEEP_ALIVE_MS, PAYLOAD, STATIC_PATH, cachedStatic, listening, note } from "./common.js";

const file = cachedStatic();
note("static-64k: node:http sends the file from a Buffer read once at start");

const server = createServer(async (req, res) => {
  const url = req.url ?? "/";
  if (url === "/hi") {
    res.setHeader("Content-Type", "text/plain");
    return res.end("Hi");
  }
  if (url === "/json") {
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    return res.end(JSON.stringify(PAYLOAD));
  }
  if (url === "/upload" && req.method === "POST") {
    let length = 0;
    for await (const chunk of req) length += (chunk as Buffer).length;
    res.setHeader("Content-Type", "text/plain");
    return res.end(String(length));
  }
  if (url === STATIC_PATH) {
    res.setHeader("Content-Type", "application/octet-stream");
    return res.end(file);
  }
  res.statusCode = 404;
  res.end("Not Found\n");
});
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.listen(0, HOST, () => listening((server.address() as AddressInfo).port));
