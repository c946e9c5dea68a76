// The compiled router: the answers that pin Go 1.22's semantics where the
// compiled table could drift from the list it replaced (precedence by method
// and segment, escapes, host patterns with ports and case), and the cost of a
// path made only of literals: no split, regex, case folding or decoding.
import { suite, assert } from "./support/uvu.ts";
import { Router, serve, type Handler } from "../src/index.ts";
import { exchange } from "./helpers.ts";

const test = suite("router-table");

const reporting = (pattern: string): Handler => (req, res) => {
  res.setHeader("X-Route", encodeURIComponent(pattern));
  res.setHeader("X-Params", encodeURIComponent(JSON.stringify(req.params)));
  res.end();
};

/** Sends every request on one connection, pipelined, and returns the responses in order. */
async function send(handler: Handler, requests: string[]) {
  const server = await serve({ port: 0, host: "127.0.0.1", handler });
  try {
    const heads = requests.map((r, i) => `${r}\r\n${i === requests.length - 1 ? "Connection: close\r\n" : ""}\r\n`);
    const { responses } = await exchange(server.port, [heads.join("")], { gapMs: 0 });
    assert.is(responses.length, requests.length);
    return responses;
  } finally {
    await server.close();
  }
}

test("precedence, escapes and hosts: each request's route, params, redirect or refusal", async () => {
  const patterns = [
    "/", "/{$}", "GET /hi", "/x/{id}", "GET /x/{id}", "/items/", "/items/{id}", "/items/new", "POST /items/new",
    "/files/{path...}", "example.com/", "Example.COM/hi", "/h%69dden", "/a%2Fb", "DELETE /only",
  ];
  const router = new Router();
  for (const pattern of patterns) router.handle(pattern, reporting(pattern));
  // [request line and Host field, the route that answers and its params, or the status and its Location or Allow]
  const table: [string, string, string?][] = [
    ["GET /hi HTTP/1.1\r\nHost: a", "GET /hi"],
    ["HEAD /hi HTTP/1.1\r\nHost: a", "GET /hi"],
    ["POST /hi HTTP/1.1\r\nHost: a\r\nContent-Length: 0", "/"],
    ["GET / HTTP/1.1\r\nHost: a", "/{$}"],
    ["GET /x/1 HTTP/1.1\r\nHost: a", "GET /x/{id}", '{"id":"1"}'],
    ["HEAD /x/1 HTTP/1.1\r\nHost: a", "GET /x/{id}", '{"id":"1"}'],
    ["DELETE /x/1 HTTP/1.1\r\nHost: a", "/x/{id}", '{"id":"1"}'],
    ["GET /items/new HTTP/1.1\r\nHost: a", "/items/new"],
    ["POST /items/new HTTP/1.1\r\nHost: a\r\nContent-Length: 0", "POST /items/new"],
    ["GET /items/%6Eew HTTP/1.1\r\nHost: a", "/items/new"],
    ["GET /items/a%20b HTTP/1.1\r\nHost: a", "/items/{id}", '{"id":"a b"}'],
    ["GET /items/a/b HTTP/1.1\r\nHost: a", "/items/"],
    ["GET /items?v=1 HTTP/1.1\r\nHost: a", "301", "/items/?v=1"],
    ["GET /files/x/%zz/y%20 HTTP/1.1\r\nHost: a", "/files/{path...}", '{"path":"x/%zz/y "}'],
    ["GET /files HTTP/1.1\r\nHost: a", "301", "/files/"],
    ["GET /hidden HTTP/1.1\r\nHost: a", "/h%69dden"],
    ["GET /h%69dden HTTP/1.1\r\nHost: a", "/h%69dden"],
    ["GET /a%2Fb HTTP/1.1\r\nHost: a", "/a%2Fb"],
    ["GET /a/b HTTP/1.1\r\nHost: a", "/"],
    ["GET /./hi HTTP/1.1\r\nHost: a", "301", "/hi"],
    ["GET /only HTTP/1.1\r\nHost: a", "/"],
    ["GET /hi HTTP/1.1\r\nHost: EXAMPLE.com:8080", "Example.COM/hi"],
    ["GET /other HTTP/1.1\r\nHost: example.com", "example.com/"],
    ["GET /hi HTTP/1.1\r\nHost: example.com.", "GET /hi"],
    ["GET /hi HTTP/1.1\r\nHost: [::1]:8080", "GET /hi"],
    ["GET /hi HTTP/1.1\r\nHost: example.com:", "Example.COM/hi"],
    ["GET http://Example.com/hi HTTP/1.1\r\nHost: other", "Example.COM/hi"],
    ["GET http://other/hi HTTP/1.1\r\nHost: example.com", "GET /hi"],
  ];
  const responses = await send(router.handler, table.map(([request]) => request));
  table.forEach(([request, expected, detail], i) => {
    const r = responses[i];
    if (/^\d+$/.test(expected)) {
      assert.is(r.status, Number(expected), request);
      assert.is(r.headers.location ?? r.headers.allow, detail, request);
      return;
    }
    assert.is(decodeURIComponent(r.headers["x-route"] ?? ""), expected, request);
    assert.is(decodeURIComponent(r.headers["x-params"] ?? ""), detail ?? "{}", request);
  });
});

test("a path only other methods' patterns match: 405 with each of their methods, HEAD beside GET", async () => {
  const router = new Router();
  for (const pattern of ["GET /r/{id}", "DELETE /r/{id}", "PUT /r/7", "POST example.com/r/{id}"]) router.handle(pattern, reporting(pattern));
  const [other, host] = await send(router.handler, ["PATCH /r/7 HTTP/1.1\r\nHost: a\r\nContent-Length: 0", "PATCH /r/7 HTTP/1.1\r\nHost: Example.com\r\nContent-Length: 0"]);
  assert.is(other.status, 405);
  assert.is(other.headers.allow, "DELETE, GET, HEAD, PUT");
  assert.is(host.headers.allow, "DELETE, GET, HEAD, POST, PUT");
});

test("many paths of literals (looked up by a Map rather than compared one by one): each its own route, methods apart", async () => {
  const router = new Router().handle("/{x}", reporting("/{x}"));
  for (let i = 0; i < 20; i++) router.get(`/p${i}`, reporting(`GET /p${i}`));
  router.post("/p3", reporting("POST /p3"));
  const requests = ["GET /p0", "GET /p19", "HEAD /p7", "POST /p3", "POST /p4", "GET /p20", "GET /p%31"].map((r) => `${r} HTTP/1.1\r\nHost: a\r\nContent-Length: 0`);
  const responses = await send(router.handler, requests);
  assert.equal(responses.map((r) => decodeURIComponent(r.headers["x-route"] ?? "")), ["GET /p0", "GET /p19", "GET /p7", "POST /p3", "/{x}", "/{x}", "GET /p1"]);
});

/** Counts calls of the string and regex work a static route needs none of, while `body` runs. */
function counting(): { calls: () => number; during: (fn: () => unknown) => unknown; restore: () => void } {
  let calls = 0;
  let on = false;
  const spied: [object, string, (...args: unknown[]) => unknown][] = [
    [String.prototype, "split", String.prototype.split],
    [String.prototype, "toLowerCase", String.prototype.toLowerCase],
    [String.prototype, "toUpperCase", String.prototype.toUpperCase],
    [RegExp.prototype, "exec", RegExp.prototype.exec],
    [globalThis, "decodeURIComponent", decodeURIComponent],
  ];
  for (const [owner, name, original] of spied) {
    Object.defineProperty(owner, name, {
      configurable: true, writable: true,
      value: function (this: unknown, ...args: unknown[]) {
        if (on) calls++;
        return original.apply(this, args);
      },
    });
  }
  return {
    calls: () => calls,
    during(fn) {
      on = true;
      try {
        return fn();
      } finally {
        on = false;
      }
    },
    restore() {
      for (const [owner, name, original] of spied) Object.defineProperty(owner, name, { configurable: true, writable: true, value: original });
    },
  };
}

test("a path of literals is routed with no split, regex, case folding or decoding, with host patterns too", async () => {
  const hi: Handler = (_req, res) => res.end("Hi");
  const router = new Router().get("/hi", hi).handle("/items/{id}", hi).handle("example.com/admin/", hi);
  const spy = counting();
  try {
    const routed = (req: Parameters<Handler>[0], res: Parameters<Handler>[1]) => spy.during(() => router.handler(req, res)) as void;
    const requests = ["GET /hi HTTP/1.1\r\nHost: a", "HEAD /hi HTTP/1.1\r\nHost: Example.COM:80", "GET /hi?x=1 HTTP/1.1\r\nHost: example.org"];
    const responses = await send(routed, requests);
    assert.equal(responses.map((r) => r.status), [200, 200, 200]);
    assert.is(spy.calls(), 0);
  } finally {
    spy.restore();
  }
});

test.run();
