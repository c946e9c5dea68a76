// The Express app on Bun: Bun runs node:http apps unchanged (its own node:http).
import { createServer } from "node:http";
import { HOST, KEEP_ALIVE_MS, listening, note } from "./common.js";
import { app } from "./express-app.js";

note("express: Express 5, its defaults");
const server = createServer(app);
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.listen(0, HOST, () => listening((server.address() as { port: number }).port));
