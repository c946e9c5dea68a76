// node:http, the baseline every ratio is measured against. The static file
// is served from a Buffer read once at start (node-http-stream.ts serves it
// with fs.createReadStream instead).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HOST, KEEP_ALIVE_MS, listening } from "./common.js";
import { handler } from "./node-http-app.js";

const server = createServer(handler);
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.listen(0, HOST, () => listening((server.address() as AddressInfo).port));
