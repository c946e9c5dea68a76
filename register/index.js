// simplenet/node/register: `node --import simplenet/node/register app.js`
// makes node:http's createServer and Server simplenet's, so an app's own
// http.createServer(handler).listen(port) — Express's and Koa's app.listen(),
// Fastify's server — serves on simplenet without an edit. Clients
// (http.request, fetch) and node:https stay Node's.
//
// It lives outside src/ on purpose: the server takes nothing of node:http but
// the classes req and res are (node-http/classes.js); this hook's one job is
// to replace two names on node:http's module object for the app's sake, and it
// reaches the server only through the package's public entry, simplenet/node
// (the sources' under tsx, through tsconfig.json's paths).
import http from "node:http";
import { syncBuiltinESMExports } from "node:module";
import { Server, createServer } from "simplenet/node";

// CommonJS require("node:http") sees the module object; ESM named imports see it once synced.
Object.assign(http, { createServer, Server });
syncBuiltinESMExports();
