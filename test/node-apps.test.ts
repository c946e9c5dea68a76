// Real apps — Express 4 and 5, Koa 3 with @koa/router and @koa/bodyparser,
// Fastify 5 with plugins (through its serverFactory) — each served on
// node:http and on simplenet's node:http face: every response must be the
// same bytes, Date aside, and each is read by the strict client.
import { suite, assert } from "./support/uvu.ts";
import express4 from "express4";
import express5 from "express";
import { both } from "./fixtures/node-apps/compare.ts";
import { keepAliveRequests, routeRequests } from "./fixtures/node-apps/routes.ts";
import { expressApp } from "./fixtures/node-apps/express-app.ts";
import { koaApp } from "./fixtures/node-apps/koa-app.ts";
import { fastifyApp } from "./fixtures/node-apps/fastify-app.ts";

const test = suite("node:http apps on simplenet");

/** What each route must answer on node:http, so that two empty answers cannot pass for the same. */
const STATUS: Record<string, RegExp> = {
  "params": /^HTTP\/1\.1 200 /,
  "json body": /^HTTP\/1\.1 201 /,
  "chunked json body": /^HTTP\/1\.1 201 /,
  "bad json": /^HTTP\/1\.1 (400|500) /,
  "streamed file": /^HTTP\/1\.1 200 [^]*Its second line/,
  "sent file": /^HTTP\/1\.1 200 [^]*Its second line/,
  "conditional file": /^HTTP\/1\.1 200 /,
  "redirect": /^HTTP\/1\.1 301 [^]*\r\nLocation: \/users\/1\r\n/i,
  "cookies": /^HTTP\/1\.1 200 [^]*Set-Cookie: visits=2[^]*theme dark/i,
  "error": /^HTTP\/1\.1 500 /,
  "404": /^HTTP\/1\.1 404 /,
  "HEAD": /^HTTP\/1\.1 200 /,
  "HTTP/1.0": /^HTTP\/1\.1 200 /,
};

type Pair = Awaited<ReturnType<typeof both>>;

/** Every route, `rounds` times over: an app that swaps prototypes (Express) is served, after its first 16 responses, with the fields it adds made in advance (src/node/app-fields.ts). */
async function sameAnswers(pair: Pair, rounds = 1): Promise<void> {
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [route, request] of Object.entries(routeRequests())) {
        const [onNode, onSimplenet] = await pair.send(request);
        assert.match(onNode, STATUS[route], `node:http's answer to ${route}: ${onNode}`);
        assert.is(onSimplenet, onNode, `${route}, round ${round}`);
      }
    }
    const [onNode, onSimplenet] = await pair.send(keepAliveRequests());
    assert.is(onNode.match(/HTTP\/1\.1 \d{3} /g)?.length, 3);
    assert.is(onSimplenet, onNode, "three requests on one connection");
  } finally {
    await pair.close();
  }
}

test("Express 4", async () => {
  await sameAnswers(await both((create) => create(expressApp(express4 as never))), 3);
});

test("Express 5", async () => {
  await sameAnswers(await both((create) => create(expressApp(express5))), 3);
});

for (const [name, express] of [["Express 4", express4], ["Express 5", express5]] as const) {
  test(`${name}: a mounted app whose request prototype has a default and a getter reads them, after the main app's routes set those names on its first requests`, async () => {
    const pair = await both((create) => {
      const app = express();
      const sub = express();
      sub.request.role = "guest";
      Object.defineProperty(sub.request, "user", { get: () => "from the getter", configurable: true, enumerable: true });
      sub.get("/", (req, res) => { res.send(`${(req as unknown as { role: string }).role}, ${(req as unknown as { user: string }).user}`); });
      app.get("/admin", (req, res) => { Object.assign(req, { role: "admin", user: "alice" }); res.send("admin"); });
      app.use("/sub", sub);
      return create(app);
    });
    // One after another, past the responses the face learns its fields from.
    for (let i = 0; i < 20; i++) await pair.send("GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const [onNode, onSimplenet] = await pair.send("GET /sub HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await pair.close();
    assert.match(onNode, /\r\n\r\nguest, from the getter$/);
    assert.is(onSimplenet, onNode);
  });
}

test("Koa 3 with @koa/router and @koa/bodyparser", async () => {
  await sameAnswers(await both((create) => create(koaApp().callback())));
});

test("Fastify 5 with plugins, through serverFactory", async () => {
  await sameAnswers(
    await both(async (create) => {
      const app = fastifyApp((handler) => create(handler) as never);
      await app.ready();
      return app.server;
    }),
  );
});

test.run();
