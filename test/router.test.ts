// Router: Go 1.22 ServeMux patterns, over real sockets.
import { suite, assert } from "./support/uvu.ts";
import { Router, serve, type Handler } from "../src/index.ts";
import { exchange } from "./helpers.ts";

const test = suite("router");

async function withRouter(router: Router, body: (base: string, port: number) => Promise<void>): Promise<void> {
  const server = await serve({ port: 0, host: "127.0.0.1", handler: router.handler });
  try {
    await body(`http://127.0.0.1:${server.port}`, server.port);
  } finally {
    await server.close();
  }
}

/** A handler that answers with its name and the params it got. */
const named = (name: string): Handler => (req, res) => res.json({ name, params: req.params });

async function hit(base: string, path: string, init: RequestInit = {}): Promise<{ status: number; name?: string; params?: Record<string, string>; res: globalThis.Response }> {
  const res = await fetch(base + path, { redirect: "manual", ...init });
  const type = res.headers.get("content-type") ?? "";
  const json = type.startsWith("application/json") ? await res.json() : (await res.text(), {});
  return { status: res.status, ...json, res };
}

/** Sends one raw request and returns its parsed response. */
async function raw(port: number, head: string) {
  const { responses } = await exchange(port, [head], { idleMs: 300 });
  return responses[0];
}

test("handleFunc(\"/hi\") answers like the article; anything else is 404", async () => {
  const router = new Router();
  router.handleFunc("/hi", (_req, res) => res.end("Hi"));
  await withRouter(router, async (base) => {
    const hi = await fetch(`${base}/hi`);
    assert.is(hi.status, 200);
    assert.is(await hi.text(), "Hi");
    const other = await fetch(`${base}/hi/there`);
    assert.is(other.status, 404);
    assert.is(await other.text(), "Not Found\n");
  });
});

test("method patterns: GET also matches HEAD; a path with other methods only gets 405 and Allow", async () => {
  const router = new Router()
    .get("/items/{id}", named("get"))
    .delete("/items/{id}", named("delete"))
    .post("/items", named("create"));
  await withRouter(router, async (base, port) => {
    assert.is((await hit(base, "/items/7")).name, "get");
    assert.is((await hit(base, "/items/7", { method: "DELETE" })).name, "delete");
    assert.is((await hit(base, "/items", { method: "POST", body: "x" })).name, "create");
    const put = await hit(base, "/items/7", { method: "PUT", body: "x" });
    assert.is(put.status, 405);
    assert.is(put.res.headers.get("allow"), "DELETE, GET, HEAD");
    assert.is((await hit(base, "/items")).res.headers.get("allow"), "POST");
    const head = await raw(port, "HEAD /items/7 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert.is(head.status, 200);
    assert.is(head.body, "");
    assert.is((await hit(base, "/nothing")).status, 404);
  });
});

test("wildcards are percent-decoded into req.params; {path...} takes the rest, even empty", async () => {
  const router = new Router()
    .handle("/items/{id}", named("item"))
    .handle("/files/{path...}", named("files"))
    .handle("/users/{user}/repos/{repo}", named("repo"));
  await withRouter(router, async (base) => {
    assert.equal((await hit(base, "/items/a%20b%2Fc")).params, { id: "a b/c" });
    assert.equal((await hit(base, "/files/x/y%20z/w.txt")).params, { path: "x/y z/w.txt" });
    assert.equal((await hit(base, "/files/")).params, { path: "" });
    assert.equal((await hit(base, "/users/ana/repos/simplenet")).params, { user: "ana", repo: "simplenet" });
    assert.is((await hit(base, "/items/")).status, 404, "a wildcard never matches an empty segment");
    assert.is((await hit(base, "/items/a/b")).status, 404);
  });
});

test("{$} matches only the path ending in a slash; the slashless path redirects to it", async () => {
  const router = new Router().handle("/exact/{$}", named("exact"));
  await withRouter(router, async (base) => {
    assert.is((await hit(base, "/exact/")).name, "exact");
    assert.is((await hit(base, "/exact/more")).status, 404);
    const moved = await hit(base, "/exact?x=1");
    assert.is(moved.status, 301);
    assert.is(moved.res.headers.get("location"), "/exact/?x=1");
  });
});

test("the most specific pattern wins, whatever the order of registration", async () => {
  const router = new Router()
    .handle("/", named("root"))
    .handle("/items/{id}", named("item"))
    .handle("/items/", named("items-subtree"))
    .handle("/items/new", named("new"))
    .handle("/{$}", named("home"))
    .handle("/x/{id}", named("x-any"))
    .handle("HEAD /x/{id}", named("x-head"))
    .handle("GET /x/{id}", named("x-get"));
  await withRouter(router, async (base, port) => {
    assert.is((await hit(base, "/")).name, "home");
    assert.is((await hit(base, "/anything/else")).name, "root");
    assert.is((await hit(base, "/items/new")).name, "new");
    assert.is((await hit(base, "/items/42")).name, "item");
    assert.is((await hit(base, "/items/42/parts")).name, "items-subtree");
    assert.is((await hit(base, "/items/")).name, "items-subtree");
    assert.is((await hit(base, "/x/1")).name, "x-get");
    assert.is((await hit(base, "/x/1", { method: "PATCH", body: "x" })).name, "x-any");
    const head = await raw(port, "HEAD /x/1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert.is(head.headers["content-length"], String(JSON.stringify({ name: "x-head", params: { id: "1" } }).length));
  });
});

test("a pattern with a host wins over one without, for that host only (port and case ignored)", async () => {
  const router = new Router().handle("/", named("any")).handle("Example.com/", named("example"));
  await withRouter(router, async (_base, port) => {
    const example = await raw(port, "GET /page HTTP/1.1\r\nHost: EXAMPLE.com:8080\r\nConnection: close\r\n\r\n");
    assert.is(JSON.parse(example.body).name, "example");
    const other = await raw(port, "GET /page HTTP/1.1\r\nHost: other.org\r\nConnection: close\r\n\r\n");
    assert.is(JSON.parse(other.body).name, "any");
  });
});

test("a subtree pattern redirects its root without the slash, keeping the query", async () => {
  const router = new Router().handle("/static/", named("static")).handle("/", named("root"));
  await withRouter(router, async (base) => {
    const moved = await hit(base, "/static?v=2");
    assert.is(moved.status, 301);
    assert.is(moved.res.headers.get("location"), "/static/?v=2");
    assert.is((await hit(base, "/static/app.js")).name, "static");
    assert.is((await hit(base, "/staticky")).name, "root");
  });
});

test("paths with //, /./ or /../ redirect to their clean form", async () => {
  const router = new Router().handle("/", named("root"));
  await withRouter(router, async (_base, port) => {
    for (const [path, clean] of [["/a/../b", "/b"], ["//x", "/x"], ["/a/./b/", "/a/b/"], ["/a/b/..", "/a/"]]) {
      const r = await raw(port, `GET ${path}?q HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      assert.is(r.status, 301, path);
      assert.is(r.headers.location, `${clean}?q`, path);
    }
  });
});

test("conflicting or invalid patterns throw at registration", () => {
  const conflicts: [string, string][] = [
    ["/a", "/a"],
    ["/{x}", "/{y}"],
    ["/a/{x}", "/{x}/b"],
    ["GET /", "/foo"],
    ["GET /foo", "HEAD /"],
    ["/", "/{rest...}"],
    ["/a/{x}/", "/a/{y}/{z...}"],
    ["GET /items/{id}", "/items/new"],
    ["/users/{u}/x", "/users/a/{y...}"],
  ];
  for (const [first, second] of conflicts) {
    const router = new Router().handle(first, named("1"));
    assert.throws(() => router.handle(second, named("2")), /neither is more specific/, `${first} vs ${second}`);
  }
  const fine: [string, string][] = [["/{x}", "/a"], ["/", "GET /"], ["GET /", "GET /foo"], ["a.com/", "/"], ["/{x}/{y}", "/{x}/a/{$}"]];
  for (const [first, second] of fine) new Router().handle(first, named("1")).handle(second, named("2"));
  for (const bad of ["items", "/a/{x}b", "/{x...}/a", "/{$}/a", "/{a}/{a}", "/{1x}", "G(T /", "/a//b", "/a/../b", "host{x}/"]) {
    assert.throws(() => new Router().handle(bad, named("bad")), /invalid pattern/, bad);
  }
});

test.run();
