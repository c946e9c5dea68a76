// The Fastify app of the node:http-face rows: the routes every app row
// serves (/hi, /json), on the server its serverFactory makes (node:http's
// when none is given).
import Fastify, { type FastifyServerFactory } from "fastify";
import { KEEP_ALIVE_MS, PAYLOAD } from "./common.js";

export function fastifyApp(serverFactory?: FastifyServerFactory) {
  const app = Fastify({ logger: false, keepAliveTimeout: KEEP_ALIVE_MS, serverFactory });
  app.get("/hi", (_req, reply) => reply.type("text/plain").send("Hi"));
  app.get("/json", () => PAYLOAD);
  return app;
}
