// serve({ fetch }): a Hono app runs unchanged over real sockets.
import { suite, assert } from "./support/uvu.ts";
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { serve } from "../src/index.ts";
import { exchange, parseResponses } from "./helpers.ts";

const test = suite("fetch handlers");

function app(): Hono {
  const hono = new Hono();
  hono.use("*", async (c, next) => {
    await next();
    c.header("X-Middleware", "ran");
  });
  hono.get("/hi", (c) => c.text("Hi"));
  hono.get("/items/:id", (c) => c.json({ id: c.req.param("id"), q: c.req.query("q") ?? null }));
  hono.post("/echo", async (c) => {
    const body = await c.req.json<{ n: number }>();
    return c.json({ doubled: body.n * 2, type: c.req.header("content-type") }, 201);
  });
  hono.get("/stream", (c) =>
    stream(c, async (s) => {
      for (const part of ["one ", "two ", "three"]) {
        await s.write(part);
        await s.sleep(5);
      }
    }));
  hono.get("/cookies", (c) => {
    c.header("Set-Cookie", "a=1", { append: true });
    c.header("Set-Cookie", "b=2", { append: true });
    return c.body(null, 204);
  });
  hono.get("/boom", () => {
    throw new Error("boom");
  });
  hono.get("/info", (c) => c.text(c.req.url));
  return hono;
}

test("a Hono app: routes with params, middleware, JSON in and out, streaming, errors", async () => {
  const hono = app();
  const server = await serve({ host: "127.0.0.1", port: 0, fetch: hono.fetch, onError: () => {} });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const hi = await fetch(`${base}/hi`);
    assert.is(await hi.text(), "Hi");
    assert.is(hi.headers.get("x-middleware"), "ran");
    assert.is(hi.headers.get("content-length"), "2");

    assert.equal(await (await fetch(`${base}/items/42?q=x`)).json(), { id: "42", q: "x" });

    const posted = await fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: 21 }) });
    assert.is(posted.status, 201);
    assert.equal(await posted.json(), { doubled: 42, type: "application/json" });

    const streamed = await fetch(`${base}/stream`);
    assert.is(streamed.headers.get("transfer-encoding"), "chunked");
    assert.is(await streamed.text(), "one two three");

    const cookies = await fetch(`${base}/cookies`);
    assert.is(cookies.status, 204);
    assert.equal(cookies.headers.getSetCookie(), ["a=1", "b=2"]);

    const boom = await fetch(`${base}/boom`);
    assert.is(boom.status, 500);
    assert.is((await fetch(`${base}/nope`)).status, 404);

    assert.is(await (await fetch(`${base}/info?x=1`)).text(), `${base}/info?x=1`);
  } finally {
    await server.close();
  }
});

test("a request body streams into the web Request; info has the client address", async () => {
  const server = await serve({
    host: "127.0.0.1", port: 0,
    fetch: async (request, info) => {
      let size = 0;
      for await (const chunk of request.body!) size += chunk.length;
      return Response.json({ size, from: info.remoteAddress, isRequest: request instanceof Request });
    },
  });
  try {
    const { text } = await exchange(server.port, [
      "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
      "400\r\n" + "x".repeat(1024) + "\r\n", "400\r\n" + "y".repeat(1024) + "\r\n", "0\r\n\r\n",
    ]);
    assert.equal(JSON.parse(parseResponses(text)[0].body), { size: 2048, from: "127.0.0.1", isRequest: true });
  } finally {
    await server.close();
  }
});

test("light responses: bytes bodies, header lists, reading a response, and the real Response when asked for", async () => {
  const server = await serve({
    host: "127.0.0.1", port: 0,
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/bytes") return new Response(new Uint8Array([104, 105]), { status: 202, headers: [["X-A", "1"]] });
      if (path === "/read") {
        const inner = new Response("abc", { headers: { "X-B": "2" } });
        return new Response(`${await inner.text()}!${inner.headers.get("x-b")}`);
      }
      if (path === "/record") return new Response("rec", { headers: { "Content-Type": "text/x-rec" } });
      return new Response(null, { status: 204 });
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const bytes = await fetch(`${base}/bytes`);
    assert.equal([bytes.status, await bytes.text(), bytes.headers.get("x-a"), bytes.headers.get("content-type")], [202, "hi", "1", null]);
    const read = await fetch(`${base}/read`);
    assert.equal([await read.text(), read.headers.get("content-type")], ["abc!2", "text/plain;charset=UTF-8"]);
    assert.is((await fetch(`${base}/record`)).headers.get("content-type"), "text/x-rec");
    assert.is((await fetch(`${base}/none`)).status, 204);
    assert.ok(new Response("x") instanceof Response);
  } finally {
    await server.close();
  }
});

test("a fetch handler that throws gets a 500", async () => {
  const server = await serve({ host: "127.0.0.1", port: 0, onError: () => {}, fetch: () => { throw new Error("no"); } });
  try {
    assert.is((await fetch(`http://127.0.0.1:${server.port}/`)).status, 500);
  } finally {
    await server.close();
  }
});

test.run();
