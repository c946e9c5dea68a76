// The simplenet command, run as a child process.
import { suite, assert } from "./support/uvu.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exchange, parseResponses, sleep } from "./helpers.ts";

const test = suite("cli");
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

function start(args: string[]): { child: ChildProcess; url: Promise<string>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (chunk) => (err += chunk));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error("no URL printed in 10 s")), 10_000).unref();
  });
  return { child, url, stdout: () => out, stderr: () => err };
}

/** Runs the command to its end: exit code and output. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c) => (stdout += c));
  child.stderr!.on("data", (c) => (stderr += c));
  const [code] = await once(child, "exit");
  return { code, stdout, stderr };
}

async function stop(child: ChildProcess): Promise<number> {
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = await exited;
  return code;
}

test("serves /hi, 404s the rest, and exits 0 on SIGTERM", async () => {
  const { child, url } = start(["--port", "0", "--host", "127.0.0.1"]);
  try {
    const base = await url;
    const hi = await fetch(new URL("/hi", base));
    assert.is(hi.status, 200);
    assert.is(await hi.text(), "Hi");
    assert.is((await fetch(new URL("/other", base))).status, 404);
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = await once(child, "exit");
  assert.is(code, 0);
});

test("SIGINT closes it too", async () => {
  const { child, url } = start(["-p", "0", "-H", "127.0.0.1"]);
  await url;
  child.kill("SIGINT");
  const [code] = await once(child, "exit");
  assert.is(code, 0);
});

test("a port in use is a clear error and exit code 1", async () => {
  const first = start(["--port", "0", "--host", "127.0.0.1"]);
  const port = new URL(await first.url).port;
  try {
    const second = spawn(process.execPath, ["--import", "tsx", cli, "--port", port, "--host", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    second.stderr!.on("data", (c) => (err += c));
    const [code] = await once(second, "exit");
    assert.is(code, 1);
    assert.match(err, /EADDRINUSE/);
  } finally {
    first.child.kill("SIGTERM");
    await once(first.child, "exit");
  }
});

test("--help prints the options and exits 0", async () => {
  const { code, stdout } = await run(["--help"]);
  assert.is(code, 0);
  for (const flag of ["--port", "--host", "--root", "--echo", "--max-body", "--workers", "--trace", "--quiet"]) assert.ok(stdout.includes(flag), flag);
});

test("--help states what the default server answers, and it does: 200 for GET /hi, 405 for POST /hi, 404 elsewhere", async () => {
  const { stdout } = await run(["--help"]);
  assert.match(stdout, /GET \/hi -> "Hi" \(405 for another method on \/hi, 404 for any other\s+path\)/);
  const { child, url } = start(["-p", "0", "-H", "127.0.0.1", "-q"]);
  try {
    const base = await url;
    assert.is((await fetch(new URL("/hi", base))).status, 200);
    assert.is((await fetch(new URL("/hi", base), { method: "POST", body: "x" })).status, 405);
    assert.is((await fetch(new URL("/other", base))).status, 404);
  } finally {
    await stop(child);
  }
});

test("bad flags are usage errors with exit code 2", async () => {
  for (const args of [["--root", ".", "--echo"], ["--workers", "0"], ["--port", "70000"], ["--bogus"], ["--max-body", "1.5"], ["--max-body", "-1"], ["--max-body", "lots"]]) {
    const { code, stderr } = await run(args);
    assert.is(code, 2, args.join(" "));
    assert.ok(stderr.length > 0);
  }
  const missing = await run(["--root", join(tmpdir(), "simplenet-no-such-dir"), "-p", "0"]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /ENOENT|no such/i);
});

test("--echo answers with the request as JSON, the body one character per byte", async () => {
  const { child, url } = start(["-p", "0", "-H", "127.0.0.1", "--echo", "--quiet"]);
  try {
    const port = Number(new URL(await url).port);
    const head = "POST /x?y=1 HTTP/1.1\r\nHost: a\r\nX-Custom: b c\r\nContent-Length: 4\r\nConnection: close\r\n\r\n";
    const { text } = await exchange(port, [Buffer.concat([Buffer.from(head), Buffer.from([0x41, 0xe9, 0xff, 0x00])])]);
    const [r] = parseResponses(text);
    assert.is(r.status, 200);
    assert.match(r.headers["content-type"], /^application\/json/);
    assert.equal(JSON.parse(Buffer.from(r.body, "latin1").toString("utf8")), {
      method: "POST",
      target: "/x?y=1",
      version: "1.1",
      headers: [["Host", "a"], ["X-Custom", "b c"], ["Content-Length", "4"], ["Connection", "close"]],
      body: "A\u00e9\u00ff\u0000",
    });
    const get = await fetch(new URL("/hi", await url));
    assert.is((await get.json()).method, "GET", "every path is echoed, /hi too");
    const over = await exchange(port, [`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${(1 << 20) + 1}\r\n\r\n`]);
    assert.equal(parseResponses(over.text).map((r) => r.status), [413], "the default limit, 1 MiB");
  } finally {
    assert.is(await stop(child), 0);
  }
});

test("--echo of a binary body within --max-body is byte-exact JSON, made as bytes; over it, 413", async () => {
  const limit = 3 << 20;
  const { child, url } = start(["-p", "0", "-H", "127.0.0.1", "--echo", "--quiet", "--max-body", String(limit)]);
  try {
    const port = Number(new URL(await url).port);
    // Every byte value, NUL and the ones JSON escapes most, over 2 MiB.
    const body = Buffer.alloc(2 << 20, Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)));
    const head = `PUT /bin HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const { text } = await exchange(port, [Buffer.concat([Buffer.from(head), body])]);
    const [r] = parseResponses(text);
    assert.is(r.status, 200);
    const expected = JSON.stringify({
      method: "PUT", target: "/bin", version: "1.1",
      headers: [["Host", "a"], ["Content-Length", String(body.length)], ["Connection", "close"]],
      body: body.toString("latin1"),
    });
    assert.ok(Buffer.from(r.body, "latin1").equals(Buffer.from(expected)), "the bytes JSON.stringify would send");
    const over = await exchange(port, [`PUT /bin HTTP/1.1\r\nHost: a\r\nContent-Length: ${limit + 1}\r\n\r\n`]);
    assert.equal(parseResponses(over.text).map((r) => r.status), [413]);
  } finally {
    assert.is(await stop(child), 0);
  }
});

test("--root serves a folder: files, Range, 304, and a log line per request", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-cli-"));
  const html = "<p>0123456789</p>";
  writeFileSync(join(dir, "page.html"), html);
  const { child, url, stdout } = start(["-p", "0", "-H", "127.0.0.1", "--root", dir]);
  try {
    const base = await url;
    const page = await fetch(new URL("/page.html", base));
    assert.is(await page.text(), html);
    assert.is(page.headers.get("content-type"), "text/html; charset=utf-8");
    const part = await fetch(new URL("/page.html", base), { headers: { Range: "bytes=3-6" } });
    assert.is(part.status, 206);
    assert.is(await part.text(), "0123");
    const cached = await fetch(new URL("/page.html", base), { headers: { "If-None-Match": page.headers.get("etag")! } });
    assert.is(cached.status, 304);
    assert.is((await fetch(new URL("/hi", base))).status, 404, "only the folder is served");
    for (let i = 0; i < 50 && !stdout().includes("GET /hi 404"); i++) await sleep(20);
    const lines = stdout().split("\n").filter((line) => line.startsWith("GET "));
    assert.equal(lines.map((line) => line.replace(/ \d+ms$/, "")), [
      `GET /page.html 200 ${html.length}`, "GET /page.html 206 4", "GET /page.html 304 0", "GET /hi 404 10",
    ]);
    assert.ok(lines.every((line) => / \d+ms$/.test(line)), "each line ends with the time taken");
  } finally {
    assert.is(await stop(child), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the access log has the server's own answers too: a malformed head (400), a body over --max-body (413), a 417", async () => {
  const { child, url, stdout } = start(["-p", "0", "-H", "127.0.0.1", "--echo", "--max-body", "16"]);
  try {
    const port = Number(new URL(await url).port);
    const sent = [
      "GET /bad HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
      "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n",
      "POST /expect HTTP/1.1\r\nHost: a\r\nExpect: 102-processing\r\nContent-Length: 1\r\n\r\n",
    ];
    const statuses: number[] = [];
    for (const request of sent) statuses.push(...parseResponses((await exchange(port, [request])).text).map((r) => r.status));
    assert.equal(statuses, [400, 413, 417]);
    const logged = (): string[] => stdout().split("\n").filter((line) => / \d+ms$/.test(line)).map((line) => line.replace(/ \d+ \d+ms$/, ""));
    for (let i = 0; i < 50 && logged().length < 3; i++) await sleep(20);
    assert.equal(logged(), ["- - 400", "- - 413", "POST /expect 417"]);
  } finally {
    assert.is(await stop(child), 0);
  }
});

test("--quiet: no access log", async () => {
  const { child, url, stdout } = start(["-p", "0", "-H", "127.0.0.1", "-q"]);
  const base = await url;
  assert.is(await (await fetch(new URL("/hi", base))).text(), "Hi");
  assert.is(await stop(child), 0);
  assert.equal(stdout().trim().split("\n"), [`simplenet listening on ${base}`]);
});

test("--workers 2 (the installed command, dist/cli.js): two SO_REUSEPORT listeners on one port, both serving", async () => {
  // Node 20 does not carry tsx into worker threads, so this runs the build that npm install made.
  const built = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
  const child = spawn(process.execPath, [built, "--workers", "2", "--port", "0", "--host", "127.0.0.1", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk) => {
        out += chunk;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}`)));
    });
    const port = Number(new URL(base).port);
    // The kernel's own view: listening sockets (state 0A) on this port.
    const hex = port.toString(16).toUpperCase().padStart(4, "0");
    const listeners = readFileSync("/proc/net/tcp", "utf8").split("\n").filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1]?.endsWith(`:${hex}`) && fields[3] === "0A";
    });
    assert.is(listeners.length, 2, "one listening socket per worker");
    for (let i = 0; i < 10; i++) {
      const r = await fetch(new URL("/hi", base), { headers: { connection: "close" } });
      assert.is(await r.text(), "Hi");
    }
  } finally {
    assert.is(await stop(child), 0);
  }
});

test("--workers auto (dist/cli.js) says how many worker threads it started: one per core", async () => {
  const built = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
  const child = spawn(process.execPath, [built, "--workers", "auto", "--port", "0", "--host", "127.0.0.1", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk) => {
        out += chunk;
        if (out.includes("\n")) resolve(out.trim());
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}`)));
    });
    const cores = availableParallelism();
    assert.match(line, new RegExp(`^simplenet listening on http://127\\.0\\.0\\.1:\\d+/ \\(${cores} worker threads?\\)$`));
  } finally {
    assert.is(await stop(child), 0);
  }
});

test("--trace prints the system calls to stderr", async () => {
  const { child, url, stderr } = start(["-p", "0", "-H", "127.0.0.1", "--trace", "-q"]);
  assert.is(await (await fetch(new URL("/hi", await url))).text(), "Hi");
  for (let i = 0; i < 50 && !/accept4\(/.test(stderr()); i++) await sleep(20);
  assert.is(await stop(child), 0);
  assert.match(stderr(), /bind\(/);
  assert.match(stderr(), /accept4\(/);
});

test.run();
