// serveStatic(): files sent by sendfile(2), conditional and range requests,
// and no way out of the root — over real sockets.
import { suite, assert } from "./support/uvu.ts";
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Router, serve, serveStatic, type Handler, type Server } from "../src/index.ts";
import { exchange, open, parseResponses, sleep } from "./helpers.ts";

const test = suite("static");

const root = mkdtempSync(join(tmpdir(), "simplenet-static-"));
const outside = mkdtempSync(join(tmpdir(), "simplenet-outside-"));
const big = randomBytes(16 << 20);
writeFileSync(join(root, "hello.txt"), "hello, world\n");
writeFileSync(join(root, "big.bin"), big);
writeFileSync(join(root, "empty.txt"), "");
writeFileSync(join(root, "style.CSS"), "body{}");
writeFileSync(join(root, ".env"), "SECRET=1");
mkdirSync(join(root, "docs"));
writeFileSync(join(root, "docs", "index.html"), "<h1>docs</h1>");
mkdirSync(join(root, "bare"));
mkdirSync(join(root, "evil.example"));
writeFileSync(join(outside, "secret.txt"), "outside secret");
symlinkSync(join(outside, "secret.txt"), join(root, "leak.txt"));
symlinkSync(outside, join(root, "leakdir"));
symlinkSync(join(root, "hello.txt"), join(root, "alias.txt"));
execFileSync("mkfifo", [join(root, "pipe")]);

async function withStatic(handler: Handler, body: (port: number, server: Server) => Promise<void>): Promise<void> {
  const server = await serve({ port: 0, host: "127.0.0.1", handler });
  try {
    await body(server.port, server);
  } finally {
    await server.close();
  }
}

/** One raw request on its own connection; `head` without the final blank line. */
async function get(port: number, head: string, { headOnly = false } = {}) {
  const { text } = await exchange(port, [`${head}\r\nHost: a\r\nConnection: close\r\n\r\n`], { idleMs: 500 });
  return parseResponses(text, { head: headOnly })[0];
}

const sha = (data: Uint8Array | string): string => createHash("sha256").update(data).digest("hex");

/** The descriptors of this process open on `path`. */
function openOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

test.after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

test("a file: body, Content-Type by extension, Content-Length, ETag, Last-Modified", async () => {
  await withStatic(serveStatic(root), async (port) => {
    const r = await fetch(`http://127.0.0.1:${port}/hello.txt`);
    assert.is(r.status, 200);
    assert.is(await r.text(), "hello, world\n");
    assert.is(r.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.is(r.headers.get("content-length"), "13");
    assert.is(r.headers.get("accept-ranges"), "bytes");
    assert.match(r.headers.get("etag")!, /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.ok(Date.parse(r.headers.get("last-modified")!) > 0);
    assert.is((await fetch(`http://127.0.0.1:${port}/style.CSS`)).headers.get("content-type"), "text/css; charset=utf-8");
    assert.is((await fetch(`http://127.0.0.1:${port}/big.bin`, { method: "HEAD" })).headers.get("content-type"), "application/octet-stream");
    const empty = await fetch(`http://127.0.0.1:${port}/empty.txt`);
    assert.is(empty.headers.get("content-length"), "0");
    assert.is(await empty.text(), "");
  });
});

test("a 16 MiB file reaches a reader that pauses, intact (sendfile resumes on EPOLLOUT)", async () => {
  await withStatic(serveStatic(root), async (port) => {
    const socket = await open(port);
    const chunks: Buffer[] = [];
    socket.pause();
    socket.on("data", (c) => chunks.push(c));
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.write("GET /big.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await sleep(200);
    socket.resume();
    await closed;
    const [r] = parseResponses(Buffer.concat(chunks).toString("latin1"));
    assert.is(r.headers["content-length"], "16777216");
    assert.is(r.body.length, big.length);
    assert.is(sha(Buffer.from(r.body, "latin1")), sha(big));
  });
});

test("HEAD gets the headers of GET and no body", async () => {
  await withStatic(serveStatic(root), async (port) => {
    const { text } = await exchange(port, ["HEAD /big.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"], { idleMs: 500 });
    assert.match(text, /^HTTP\/1.1 200 OK\r\n/);
    assert.match(text, /Content-Length: 16777216\r\n/);
    assert.ok(text.endsWith("\r\n\r\n"), "nothing after the head");
  });
});

test("If-None-Match and If-Modified-Since answer 304; a changed ETag gets the file", async () => {
  await withStatic(serveStatic(root), async (port) => {
    const first = await get(port, "GET /hello.txt HTTP/1.1");
    const etag = first.headers.etag;
    const modified = first.headers["last-modified"];
    const same = await get(port, `GET /hello.txt HTTP/1.1\r\nIf-None-Match: "x", W/${etag}`);
    assert.is(same.status, 304);
    assert.is(same.body, "");
    assert.is(same.headers.etag, etag);
    assert.is((await get(port, `GET /hello.txt HTTP/1.1\r\nIf-Modified-Since: ${modified}`)).status, 304);
    assert.is((await get(port, `GET /hello.txt HTTP/1.1\r\nIf-None-Match: "stale"`)).status, 200);
    // If-None-Match takes precedence over If-Modified-Since.
    const both = await get(port, `GET /hello.txt HTTP/1.1\r\nIf-None-Match: "stale"\r\nIf-Modified-Since: ${modified}`);
    assert.is(both.status, 200);
    assert.is(both.body, "hello, world\n");
    assert.is((await get(port, "GET /hello.txt HTTP/1.1\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT")).status, 200);
  });
});

test("Range: 206 with Content-Range, suffix and open ranges, 416 when unsatisfiable, multi-range sends it all", async () => {
  await withStatic(serveStatic(root), async (port) => {
    const part = await get(port, "GET /big.bin HTTP/1.1\r\nRange: bytes=1000-1999");
    assert.is(part.status, 206);
    assert.is(part.headers["content-range"], `bytes 1000-1999/${big.length}`);
    assert.is(part.headers["content-length"], "1000");
    assert.is(sha(Buffer.from(part.body, "latin1")), sha(big.subarray(1000, 2000)));
    const suffix = await get(port, "GET /hello.txt HTTP/1.1\r\nRange: bytes=-6");
    assert.is(suffix.status, 206);
    assert.is(suffix.body, "world\n");
    assert.is(suffix.headers["content-range"], "bytes 7-12/13");
    const open = await get(port, "GET /hello.txt HTTP/1.1\r\nRange: bytes=7-");
    assert.is(open.body, "world\n");
    const clamped = await get(port, "GET /hello.txt HTTP/1.1\r\nRange: bytes=0-999");
    assert.is(clamped.headers["content-range"], "bytes 0-12/13");
    const beyond = await get(port, "GET /hello.txt HTTP/1.1\r\nRange: bytes=13-20");
    assert.is(beyond.status, 416);
    assert.is(beyond.headers["content-range"], "bytes */13");
    assert.is((await get(port, "GET /empty.txt HTTP/1.1\r\nRange: bytes=0-")).status, 416);
    const multi = await get(port, "GET /hello.txt HTTP/1.1\r\nRange: bytes=0-1,3-4");
    assert.is(multi.status, 200);
    assert.is(multi.body, "hello, world\n");
    const staleIfRange = await get(port, 'GET /hello.txt HTTP/1.1\r\nRange: bytes=0-1\r\nIf-Range: "old"');
    assert.is(staleIfRange.status, 200);
    const etag = (await get(port, "GET /hello.txt HTTP/1.1")).headers.etag;
    const freshIfRange = await get(port, `GET /hello.txt HTTP/1.1\r\nRange: bytes=0-1\r\nIf-Range: ${etag}`);
    assert.is(freshIfRange.status, 206);
    assert.is(freshIfRange.body, "he");
  });
});

test("directories: /docs redirects to /docs/, which serves index.html; no index is 404", async () => {
  await withStatic(serveStatic(root), async (port) => {
    const moved = await get(port, "GET /docs?x=1 HTTP/1.1");
    assert.is(moved.status, 301);
    assert.is(moved.headers.location, "/docs/?x=1");
    const index = await get(port, "GET /docs/ HTTP/1.1");
    assert.is(index.status, 200);
    assert.is(index.body, "<h1>docs</h1>");
    assert.is(index.headers["content-type"], "text/html; charset=utf-8");
    assert.is((await get(port, "GET /bare/ HTTP/1.1")).status, 404);
    assert.is((await get(port, "GET /missing.txt HTTP/1.1")).status, 404);
    assert.is((await get(port, "GET /hello.txt/x HTTP/1.1")).status, 404);
  });
});

test("a directory's redirect stays on this origin: '/' and the collapsed path, never '//host' or '/\\host'", async () => {
  const sameOrigin = /^\/(?![/\\])/;
  await withStatic(serveStatic(root), async (port) => {
    const redirects: [string, string][] = [
      ["//evil.example", "/evil.example/"],
      ["///evil.example?q=1", "/evil.example/?q=1"],
      ["//evil.example//", ""],
      ["http://a//evil.example", "/evil.example/"],
      ["/%65vil.example", "/%65vil.example/"],
    ];
    for (const [target, location] of redirects) {
      const r = await get(port, `GET ${target} HTTP/1.1`);
      if (location === "") {
        assert.is(r.status, 404, target); // a directory without an index: no redirect
        continue;
      }
      assert.is(r.status, 301, target);
      assert.is(r.headers.location, location, target);
    }
    // Refused before any redirect: an escape that decodes to a slash or backslash.
    for (const target of ["/\\evil.example", "/%2F%2Fevil.example", "/%2f/evil.example", "/%5C%5Cevil.example", "/\\/evil.example"]) {
      const r = await get(port, `GET ${target} HTTP/1.1`);
      assert.ok(r.status === 403 || r.status === 400, `${target}: ${r.status}`);
      assert.is(r.headers.location, undefined, target);
    }
  });
  await withStatic(serveStatic(root, { prefix: "/static/" }), async (port) => {
    const r = await get(port, "GET /static//evil.example HTTP/1.1");
    assert.is(r.status, 301);
    assert.is(r.headers.location, "/static/evil.example/");
    assert.match(r.headers.location, sameOrigin);
  });
});

test("nothing outside the root: dot segments, encoded slashes, backslashes, NUL, symlinks out, dotfiles", async () => {
  await withStatic(serveStatic(root), async (port) => {
    const attempts = [
      "/../" + outside.split("/").pop() + "/secret.txt",
      "/docs/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/%2E%2E%2Fetc%2Fpasswd",
      "/docs%2f..%2f..%2fetc%2fpasswd",
      "/..%5c..%5cetc%5cpasswd",
      "/hello.txt%00.html",
      "/leak.txt",
      "/leakdir/secret.txt",
      "/.env",
      "/./hello.txt",
    ];
    for (const path of attempts) {
      const r = await get(port, `GET ${path} HTTP/1.1`);
      assert.ok(r.status === 403 || r.status === 404, `${path}: ${r.status}`);
      assert.not.match(r.body, /secret|root:/, path);
    }
    assert.is((await get(port, "GET /%zz HTTP/1.1")).status, 400);
    const alias = await get(port, "GET /alias.txt HTTP/1.1");
    assert.is(alias.body, "hello, world\n", "a symlink that stays inside is served");
  });
});

test("a FIFO is not opened for reading (the loop never blocks) and is 404", async () => {
  await withStatic(serveStatic(root), async (port) => {
    assert.is((await get(port, "GET /pipe HTTP/1.1")).status, 404);
    assert.is((await get(port, "GET /hello.txt HTTP/1.1")).status, 200);
  });
});

test("only GET and HEAD: other methods get 405 with Allow", async () => {
  await withStatic(serveStatic(root), async (port) => {
    const r = await fetch(`http://127.0.0.1:${port}/hello.txt`, { method: "POST", body: "x" });
    assert.is(r.status, 405);
    assert.is(r.headers.get("allow"), "GET, HEAD");
  });
});

test("mounted under a prefix in a Router; pipelined files keep their order behind a slow response", async () => {
  const router = new Router()
    .get("/static/", serveStatic(root, { prefix: "/static/" }))
    .get("/slow", async (_req, res) => {
      await sleep(50);
      res.end("slow");
    });
  await withStatic(router.handler, async (port) => {
    const raw = ["/slow", "/static/big.bin", "/static/hello.txt", "/slow", "/static/docs/"]
      .map((path, i, all) => `GET ${path} HTTP/1.1\r\nHost: a\r\n${i === all.length - 1 ? "Connection: close\r\n" : ""}\r\n`)
      .join("");
    const { text } = await exchange(port, [raw], { idleMs: 1000 });
    const rs = parseResponses(text);
    assert.equal(rs.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.is(rs[0].body, "slow");
    assert.is(sha(Buffer.from(rs[1].body, "latin1")), sha(big));
    assert.is(rs[2].body, "hello, world\n");
    assert.is(rs[3].body, "slow");
    assert.is(rs[4].body, "<h1>docs</h1>");
  });
});

test("clients that reset mid-file: each file descriptor is closed, and the server keeps serving", async () => {
  const path = join(root, "big.bin");
  const router = new Router()
    .get("/wait", async (_req, res) => {
      await sleep(100);
      res.end("late"); // the client is gone by now: ignored
    })
    .get("/", serveStatic(root));
  await withStatic(router.handler, async (port, server) => {
    const resets = Array.from({ length: 4 }, async (_, i) => {
      const socket = await open(port);
      socket.on("error", () => {});
      if (i % 2 === 0) {
        // One file being sent, the next queued behind it.
        const gotSome = new Promise<void>((resolve) => socket.once("data", () => resolve()));
        socket.write("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
        await gotSome;
        socket.pause();
        await sleep(10 * i);
      } else {
        // The file waits behind a response that has not ended.
        socket.write("GET /wait HTTP/1.1\r\nHost: a\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
        await sleep(30);
        assert.ok(openOn(path) >= 1, "the waiting file is open");
      }
      socket.resetAndDestroy();
    });
    await Promise.all(resets);
    for (let i = 0; i < 100 && server.connectionCount > 0; i++) await sleep(20);
    assert.is(server.connectionCount, 0, "the server noticed every reset");
    assert.is(openOn(path), 0, "no descriptor left open on the file");
    await sleep(100); // the /wait handlers end their dropped responses
    const r = await fetch(`http://127.0.0.1:${port}/hello.txt`);
    assert.is(await r.text(), "hello, world\n");
    assert.is(openOn(path), 0);
  });
});

test("serveStatic refuses a root that does not exist", () => {
  assert.throws(() => serveStatic(join(root, "nope")));
  assert.throws(() => serveStatic(join(root, "hello.txt")), /not a directory/);
});

test.run();
