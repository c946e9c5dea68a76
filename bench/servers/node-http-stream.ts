// node:http serving the static file the streaming way: fs.createReadStream
// piped into the response, its length from one stat at start. Only the
// static route (the harness runs it for static-64k alone).
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HOST, KEEP_ALIVE_MS, STATIC_FILE, STATIC_PATH, listening, note } from "./common.js";

const size = statSync(STATIC_FILE).size;
note("static-64k: node:http (stream) pipes fs.createReadStream into the response on every request");

const server = createServer((req, res) => {
  if (req.url !== STATIC_PATH) {
    res.statusCode = 404;
    return res.end("Not Found\n");
  }
  res.setHeader("Content-Type", "application/octet-stream");
  res.setHeader("Content-Length", size);
  createReadStream(STATIC_FILE).pipe(res);
});
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.listen(0, HOST, () => listening((server.address() as AddressInfo).port));
