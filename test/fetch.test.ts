// serve({ fetch }): a Hono app runs unchanged over real sockets.
import { suite, assert } from "./support/uvu.ts";
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { serve } from "../src/index.ts";
import { connect } from "node:net";
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

test("every kind of body, status text, Set-Cookie fields, HEAD, and the native checks", async () => {
  const hono = new Hono();
  hono.get("/text", (c) => c.text("Hi"));
  hono.get("/cookies", (c) => {
    c.header("Set-Cookie", "a=1; Path=/", { append: true });
    c.header("Set-Cookie", "b=2", { append: true });
    c.header("X-Two", "x");
    return c.body("ok", 200);
  });
  const server = await serve({
    host: "127.0.0.1", port: 0, onError: () => {},
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      const encoder = new TextEncoder();
      switch (path) {
        case "/stream":
          return new Response(new ReadableStream({
            start(controller) {
              controller.enqueue(encoder.encode("ab"));
              controller.enqueue(encoder.encode("cd"));
              controller.close();
            },
          }));
        case "/iterable":
          return new Response((async function* () {
            yield encoder.encode("it");
            yield encoder.encode("er");
          })() as unknown as BodyInit);
        case "/blob": return new Response(new Blob(["bl", "ob"], { type: "text/x-blob" }));
        case "/form": {
          const form = new FormData();
          form.set("k", "v");
          return new Response(form);
        }
        case "/params": return new Response(new URLSearchParams({ a: "1", b: "2" }));
        case "/arraybuffer": return new Response(encoder.encode("buf").buffer as ArrayBuffer);
        case "/view": return new Response(new DataView(encoder.encode("xviewx").buffer, 1, 4));
        case "/status": return new Response("made", { status: 201, statusText: "Made It" });
        case "/cookies": {
          const headers = new Headers([["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"], ["X-Y", "1"], ["x-y", "2"]]);
          return new Response(null, { status: 200, headers });
        }
        case "/headers": {
          const response = new Response("h", { headers: { "X-A": "1" } });
          response.headers.set("X-B", "2");
          response.headers.append("Set-Cookie", "c=3");
          return response;
        }
        case "/checks": {
          const errors: string[] = [];
          for (const make of [
            () => new Response("x", { status: 99 }),
            () => new Response("x", { status: 600 }),
            () => new Response("x", { status: 204 }),
            () => new Response("x", { statusText: "bad\n" }),
          ]) {
            try {
              make();
              errors.push("none");
            } catch (error) {
              errors.push((error as Error).name);
            }
          }
          const light = new Response("abc", { status: 202 });
          const copy = new Response(null, light);
          return Response.json({
            errors,
            type: light.headers.get("content-type"),
            bytesType: new Response(new Uint8Array(1)).headers.get("content-type"),
            blobType: new Response(new Blob(["x"], { type: "a/b" })).headers.get("content-type"),
            copy: [copy.status, copy.headers.get("content-type")],
            ok: [light.ok, new Response(null, { status: 404 }).ok],
            used: [light.bodyUsed, await light.text(), light.bodyUsed],
            isResponse: light instanceof Response,
          });
        }
      }
      return new Response("?", { status: 404 });
    },
  });
  const honoServer = await serve({ host: "127.0.0.1", port: 0, fetch: hono.fetch });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const got = async (path: string) => {
      const response = await fetch(base + path);
      return [response.status, response.headers.get("content-type"), await response.text()];
    };
    assert.equal(await got("/stream"), [200, null, "abcd"]);
    assert.equal(await got("/iterable"), [200, null, "iter"]);
    assert.equal(await got("/blob"), [200, "text/x-blob", "blob"]);
    const form = await got("/form");
    assert.ok(String(form[1]).startsWith("multipart/form-data; boundary="));
    assert.match(String(form[2]), /name="k"\r\n\r\nv\r\n/);
    assert.equal(await got("/params"), [200, "application/x-www-form-urlencoded;charset=UTF-8", "a=1&b=2"]);
    assert.equal(await got("/arraybuffer"), [200, null, "buf"]);
    assert.equal(await got("/view"), [200, null, "view"]);

    const { text } = await exchange(server.port, ["GET /status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    assert.match(text, /^HTTP\/1.1 201 Made It\r\n/);
    assert.is(parseResponses(text)[0].body, "made");

    const cookies = await fetch(`${base}/cookies`);
    assert.equal(cookies.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.is(cookies.headers.get("x-y"), "1, 2");

    const headers = await fetch(`${base}/headers`);
    assert.equal([headers.headers.get("x-a"), headers.headers.get("x-b"), headers.headers.getSetCookie(), headers.headers.get("content-type"), await headers.text()],
      ["1", "2", ["c=3"], "text/plain;charset=UTF-8", "h"]);

    assert.equal(await (await fetch(`${base}/checks`)).json(), {
      errors: ["RangeError", "RangeError", "TypeError", "TypeError"],
      type: "text/plain;charset=UTF-8",
      bytesType: null,
      blobType: "a/b",
      copy: [202, "text/plain;charset=UTF-8"],
      ok: [true, false],
      used: [false, "abc", true],
      isResponse: true,
    });

    const honoBase = `http://127.0.0.1:${honoServer.port}`;
    const head = await fetch(`${honoBase}/text`, { method: "HEAD" });
    assert.equal([head.status, head.headers.get("content-type"), await head.text()], [200, "text/plain;charset=UTF-8", ""]);
    const honoCookies = await fetch(`${honoBase}/cookies`);
    assert.equal([honoCookies.headers.getSetCookie(), honoCookies.headers.get("x-two"), await honoCookies.text()], [["a=1; Path=/", "b=2"], "x", "ok"]);
  } finally {
    await server.close();
    await honoServer.close();
  }
});

test("request.signal: aborted when the response ends other than by the handler's answer (here the request timed out), not after an answer", async () => {
  let kept: AbortSignal | null = null;
  let abortedWhileWaiting: Promise<string> | null = null;
  const server = await serve({
    host: "127.0.0.1", port: 0, onError: () => {}, timeouts: { request: 300 },
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/keep") {
        kept = request.signal;
        return new Response("kept");
      }
      if (path === "/kept") return new Response(String(kept?.aborted));
      if (path === "/wait") {
        const signal = request.signal;
        abortedWhileWaiting = new Promise((resolve) => signal.addEventListener("abort", () => resolve((signal.reason as Error).name)));
        await abortedWhileWaiting;
        return new Response("late");
      }
      return new Response("?", { status: 404 });
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    assert.is(await (await fetch(`${base}/keep`)).text(), "kept");
    assert.is(await (await fetch(`${base}/kept`)).text(), "false");

    const socket = connect(server.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write("GET /wait HTTP/1.1\r\nHost: a\r\n\r\n");
    while (abortedWhileWaiting === null) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.is(await abortedWhileWaiting, "AbortError");
    socket.destroy();
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
