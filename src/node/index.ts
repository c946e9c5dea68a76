// simplenet/node: node:http's server API on simplenet (see README, "Your
// node:http app on simplenet"). Requests and responses are node:http's own
// classes, so apps written for node:http run unchanged.
export { Server, createServer } from "./server.js";
export type { ListenArguments, ServerOptions } from "./server.js";
export { IncomingMessage, ServerResponse } from "../../node-http/classes.js";
