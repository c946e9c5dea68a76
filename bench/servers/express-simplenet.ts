// The Express app on simplenet's node:http face, the app unchanged.
import { createServer } from "../../dist/node/index.js";
import { HOST, KEEP_ALIVE_MS, listening } from "./common.js";
import { app } from "./express-app.js";

const server = createServer(app);
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.listen(0, HOST, () => listening((server.address() as { port: number }).port));
