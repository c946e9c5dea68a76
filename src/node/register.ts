// simplenet/node/register: `node --import simplenet/node/register app.js`
// makes node:http's createServer and Server simplenet's, so an app's own
// http.createServer(handler).listen(port) — Express's and Koa's app.listen(),
// Fastify's server — serves on simplenet without an edit. Clients
// (http.request, fetch) and node:https stay Node's.
import { nodeHttp as http } from "./node-http.js";
import { syncBuiltinESMExports } from "node:module";
import { Server, createServer } from "./server.js";

// CommonJS require("node:http") sees the module object; ESM named imports see it once synced.
Object.assign(http, { createServer, Server });
syncBuiltinESMExports();
