// The Fastify app on simplenet's node:http face, through Fastify's serverFactory.
// The sources through tsx, as the other bench servers load their own code: dist/ has the face only after `npm run build`.
import { createServer } from "../../src/node/index.js";
import { HOST, listening } from "./common.js";
import { fastifyApp } from "./fastify-app.js";

const app = fastifyApp((handler) => createServer(handler) as never);
await app.listen({ host: HOST, port: 0 });
listening((app.server.address() as { port: number }).port);
