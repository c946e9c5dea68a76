// The Fastify app on node:http (run by Node, or by Bun, whose node:http it is then).
import { HOST, listening } from "./common.js";
import { fastifyApp } from "./fastify-app.js";

const app = fastifyApp();
await app.listen({ host: HOST, port: 0 });
listening((app.server.address() as { port: number }).port);
