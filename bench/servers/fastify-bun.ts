// The Fastify app on Bun: Bun runs node:http apps unchanged (its own node:http).
import { HOST, listening } from "./common.js";
import { fastifyApp } from "./fastify-app.js";

const app = fastifyApp();
await app.listen({ host: HOST, port: 0 });
listening((app.server.address() as { port: number }).port);
