// node:http's handler of node-http.ts on simplenet's node:http face: what
// the face costs with no framework on top.
import { createServer } from "../../dist/node/index.js";
import { HOST, KEEP_ALIVE_MS, listening } from "./common.js";
import { handler } from "./node-http-app.js";

const server = createServer(handler);
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.listen(0, HOST, () => listening((server.address() as { port: number }).port));
