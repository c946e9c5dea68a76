// The Fastify app on simplenet's node:http face, through Fastify's serverFactory.
import { createServer } from "../../dist/node/index.js";
import { HOST, listening } from "./common.js";
import { fastifyApp } from "./fastify-app.js";

const app = fastifyApp((handler) => createServer(handler) as never);
await app.listen({ host: HOST, port: 0 });
listening((app.server.address() as { port: number }).port);
