// fastify with its defaults (no schemas): the routes every peer serves; the
// static file from a Buffer read once at start.
import Fastify from "fastify";
import type { AddressInfo } from "node:net";
import { HOST, KEEP_ALIVE_MS, PAYLOAD, STATIC_PATH, cachedStatic, listening, note } from "./common.js";

const file = cachedStatic();
note("static-64k: fastify sends the file from a Buffer read once at start");

const app = Fastify({ logger: false, keepAliveTimeout: KEEP_ALIVE_MS, bodyLimit: 1 << 20 });
app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
app.get("/hi", (_req, reply) => reply.type("text/plain").send("Hi"));
app.get("/json", () => PAYLOAD);
app.post("/upload", (req, reply) => reply.type("text/plain").send(String((req.body as Buffer).length)));
app.get(STATIC_PATH, (_req, reply) => reply.type("application/octet-stream").send(file));

await app.listen({ host: HOST, port: 0 });
listening((app.server.address() as AddressInfo).port);
