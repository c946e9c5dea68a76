// serveStatic()'s memory of small files (src/file-cache.ts): what it serves
// while an entry is valid, when it looks at the disk again, what it never
// holds, and what it drops when full — over real sockets.
import { suite, assert } from "./support/uvu.ts";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, serveStatic, type Handler } from "../src/index.ts";
import { exchange, parseResponses, sleep } from "./helpers.ts";

const test = suite("static-cache");
const root = mkdtempSync(join(tmpdir(), "simplenet-cache-"));

test.after(() => rmSync(root, { recursive: true, force: true }));

async function withServer(handler: Handler, body: (get: (path: string, headers?: string) => Promise<ReturnType<typeof parseResponses>[0]>) => Promise<void>): Promise<void> {
  const server = await serve({ port: 0, host: "127.0.0.1", handler });
  const get = async (path: string, headers = "") => {
    const { text } = await exchange(server.port, [`GET ${path} HTTP/1.1\r\nHost: a\r\n${headers}Connection: close\r\n\r\n`], { idleMs: 500 });
    return parseResponses(text)[0];
  };
  try {
    await body(get);
  } finally {
    await server.close();
  }
}

test("an entry is served as read until validMs has passed, then the file is read again with a new ETag", async () => {
  writeFileSync(join(root, "page.txt"), "first");
  await withServer(serveStatic(root, { cache: { validMs: 300 } }), async (get) => {
    const first = await get("/page.txt");
    assert.is(first.body, "first");
    writeFileSync(join(root, "page.txt"), "second, longer");
    const held = await get("/page.txt");
    assert.is(held.body, "first", "within validMs the held bytes go out");
    assert.is(held.headers.etag, first.headers.etag);
    await sleep(350);
    const fresh = await get("/page.txt");
    assert.is(fresh.body, "second, longer");
    assert.is(fresh.headers["content-length"], "14");
    assert.is.not(fresh.headers.etag, first.headers.etag);
    unlinkSync(join(root, "page.txt"));
    await sleep(350);
    assert.is((await get("/page.txt")).status, 404, "a file deleted is gone once the entry is no longer valid");
  });
});

test("cache: false reads the disk on every request", async () => {
  writeFileSync(join(root, "live.txt"), "one");
  await withServer(serveStatic(root, { cache: false }), async (get) => {
    assert.is((await get("/live.txt")).body, "one");
    writeFileSync(join(root, "live.txt"), "two");
    assert.is((await get("/live.txt")).body, "two");
  });
});

test("a held file answers conditional and range requests as one read from disk does", async () => {
  writeFileSync(join(root, "digits.txt"), "0123456789");
  await withServer(serveStatic(root), async (get) => {
    const whole = await get("/digits.txt");
    assert.is(whole.headers["content-type"], "text/plain; charset=utf-8");
    assert.is(whole.headers["accept-ranges"], "bytes");
    const etag = whole.headers.etag;
    assert.is((await get("/digits.txt", `If-None-Match: ${etag}\r\n`)).status, 304);
    assert.is((await get("/digits.txt", `If-Modified-Since: ${whole.headers["last-modified"]}\r\n`)).status, 304);
    const part = await get("/digits.txt", "Range: bytes=2-4\r\n");
    assert.is(part.status, 206);
    assert.is(part.body, "234");
    assert.is(part.headers["content-range"], "bytes 2-4/10");
    assert.is((await get("/digits.txt", "Range: bytes=-3\r\n")).body, "789");
    assert.is((await get("/digits.txt", `Range: bytes=5-\r\nIf-Range: "other"\r\n`)).body, "0123456789");
    const past = await get("/digits.txt", "Range: bytes=10-\r\n");
    assert.is(past.status, 416);
    assert.is(past.headers["content-range"], "bytes */10");
  });
});

test("HEAD of a held file: the headers of GET, Content-Length included, and no body", async () => {
  writeFileSync(join(root, "head.txt"), "twelve bytes");
  const server = await serve({ port: 0, host: "127.0.0.1", handler: serveStatic(root) });
  try {
    // The GET reads the file and holds it; the HEAD behind it is answered from memory.
    const { text, responses } = await exchange(server.port, ["GET /head.txt HTTP/1.1\r\nHost: a\r\n\r\nHEAD /head.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"], { idleMs: 500 });
    const [got, head] = responses;
    assert.is(got.body, "twelve bytes");
    assert.is(head.status, 200);
    assert.is(head.headers["content-length"], "12");
    assert.is(head.headers.etag, got.headers.etag);
    assert.ok(text.endsWith("\r\n\r\n"), "nothing after the HEAD response's head");
  } finally {
    await server.close();
  }
});

test("files over maxFileBytes are never held; a full cache drops its oldest entry", async () => {
  writeFileSync(join(root, "large.txt"), "a file of twenty-four b");
  writeFileSync(join(root, "a.txt"), "aaaaaaaaaa");
  writeFileSync(join(root, "b.txt"), "bbbbbbbbbb");
  const options = { cache: { maxFileBytes: 16, maxBytes: 20, validMs: 60_000 } };
  await withServer(serveStatic(root, options), async (get) => {
    assert.is((await get("/large.txt")).body, "a file of twenty-four b");
    writeFileSync(join(root, "large.txt"), "changed");
    assert.is((await get("/large.txt")).body, "changed", "too large to hold: read from disk each time");

    assert.is((await get("/a.txt")).body, "aaaaaaaaaa");
    assert.is((await get("/b.txt")).body, "bbbbbbbbbb");
    writeFileSync(join(root, "a.txt"), "AAAAAAAAAA");
    writeFileSync(join(root, "b.txt"), "BBBBBBBBBB");
    assert.is((await get("/a.txt")).body, "aaaaaaaaaa", "both fit in 20 bytes: a is held");
    writeFileSync(join(root, "c.txt"), "cc");
    assert.is((await get("/c.txt")).body, "cc");
    assert.is((await get("/b.txt")).body, "bbbbbbbbbb", "b is still held");
    assert.is((await get("/a.txt")).body, "AAAAAAAAAA", "holding c dropped a, the oldest");
  });
});

test("one entry per file however its path is spelled: doubled slashes and percent-escapes find the held bytes", async () => {
  writeFileSync(join(root, "spelled.txt"), "held");
  mkdirSync(join(root, "dir"), { recursive: true });
  writeFileSync(join(root, "dir", "index.html"), "index");
  // One entry at most: a spelling that made an entry of its own would drop the file's.
  await withServer(serveStatic(root, { cache: { maxEntries: 1, validMs: 60_000 } }), async (get) => {
    assert.is((await get("/spelled.txt")).body, "held");
    writeFileSync(join(root, "spelled.txt"), "changed on disk");
    for (const path of ["//spelled.txt", "///spelled.txt", "/%73pelled.txt", "/spelled%2Etxt", "//%73pelled.txt?x=1", "/spelled.txt"]) {
      assert.is((await get(path)).body, "held", path);
    }
    assert.is((await get("/dir/")).body, "index");
    writeFileSync(join(root, "dir", "index.html"), "changed");
    assert.is((await get("//dir//")).body, "index", "a directory's index is held once too");
    assert.is((await get("/spelled.txt")).body, "changed on disk", "holding the index dropped the file: one entry in all");
  });
});

test("maxEntries bounds the files held, however small: the oldest goes", async () => {
  for (const name of ["e1", "e2", "e3"]) writeFileSync(join(root, `${name}.txt`), name);
  await withServer(serveStatic(root, { cache: { maxEntries: 2, validMs: 60_000 } }), async (get) => {
    for (const name of ["e1", "e2", "e3"]) assert.is((await get(`/${name}.txt`)).body, name);
    for (const name of ["e1", "e2", "e3"]) writeFileSync(join(root, `${name}.txt`), name.toUpperCase());
    assert.is((await get("/e3.txt")).body, "e3", "the newest is held");
    assert.is((await get("/e2.txt")).body, "e2", "and the one before it");
    assert.is((await get("/e1.txt")).body, "E1", "the oldest went when the third came");
  });
});

test("paths that fail are never held: a file that appears later is served", async () => {
  await withServer(serveStatic(root, { cache: { validMs: 60_000 } }), async (get) => {
    assert.is((await get("/later.txt")).status, 404);
    writeFileSync(join(root, "later.txt"), "here now");
    assert.is((await get("/later.txt")).body, "here now");
    assert.is((await get("/.hidden")).status, 404);
    assert.is((await get("/../etc/passwd")).status, 403);
  });
});

test.run();
