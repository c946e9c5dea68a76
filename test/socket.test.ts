// The socket layer: addresses, accept under descriptor exhaustion, fairness,
// descriptor lifecycle, worker threads, and the syscall trace.
import { suite, assert } from "./support/uvu.ts";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, type Handler } from "../src/index.ts";
import { closeListener, openListener } from "../src/socket/listener.ts";
import { exchange, methodsOf, open, parseResponses, sleep } from "./helpers.ts";

const test = suite("socket layer");
const ok: Handler = (_req, res) => res.end("ok");
const childScript = fileURLToPath(new URL("./fixtures/serve-child.mts", import.meta.url));

function get(options: { host?: string; port?: number; socketPath?: string; family?: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    httpRequest({ ...options, path: "/", agent: false }, (res) => {
      let body = "";
      res.setEncoding("latin1").on("data", (c) => (body += c)).on("end", () => resolve(body));
    }).on("error", reject).end();
  });
}

function startChild(args: string[]): { child: ChildProcess; ready: Promise<{ port: number; fds: number }>; stderr: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", childScript, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (c) => (err += c));
  const ready = new Promise<{ port: number; fds: number }>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c) => {
      out += c;
      const m = /ready (\d+) (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), fds: Number(m[2]) });
    });
    child.once("exit", (code) => reject(new Error(`child exited ${code}: ${err}`)));
  });
  return { child, ready, stderr: () => err };
}

/** CPU time (user + system) a process has used, in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

const openFds = (): number => readdirSync("/proc/self/fd").length;

test("IPv6 '::' is dual-stack by default; ipv6Only refuses IPv4", async () => {
  const dual = await serve({ host: "::", port: 0, handler: ok });
  try {
    assert.is(await get({ host: "::1", port: dual.port }), "ok");
    assert.is(await get({ host: "127.0.0.1", port: dual.port }), "ok");
  } finally {
    await dual.close();
  }
  const only = await serve({ host: "::1", port: 0, ipv6Only: true, handler: ok });
  try {
    assert.is(await get({ host: "::1", port: only.port }), "ok");
    await get({ host: "127.0.0.1", port: only.port }).then(
      () => assert.unreachable("IPv4 reached an IPv6-only listener"),
      (e: { code: string }) => assert.is(e.code, "ECONNREFUSED"),
    );
  } finally {
    await only.close();
  }
});

test("Unix domain socket: serves, removes its file on close, replaces a stale one, refuses a live one", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-"));
  const path = join(dir, "s.sock");
  try {
    const server = await serve({ path, handler: ok });
    assert.is(await get({ socketPath: path }), "ok");
    await serve({ path, handler: ok }).then(
      () => assert.unreachable("a second server bound a live socket path"),
      (e: { code: string; syscall: string }) => assert.equal([e.code, e.syscall], ["EADDRINUSE", "bind"]),
    );
    await server.close();
    assert.not.ok(existsSync(path), "socket file removed on close");

    // A server killed outright leaves its socket file behind.
    const { child, ready } = startChild(["unix", path]);
    await ready;
    child.kill("SIGKILL");
    await once(child, "exit");
    assert.ok(existsSync(path), "stale file left by the killed server");
    const again = await serve({ path, handler: ok });
    assert.is(await get({ socketPath: path }), "ok");
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the trace shows one request's system calls, strace-style", async () => {
  const lines: string[] = [];
  const server = await serve({ host: "127.0.0.1", port: 0, backlog: 17, trace: (l) => lines.push(l), handler: ok });
  const { text } = await exchange(server.port, ["GET /hi HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
  await server.close();
  assert.ok(text.startsWith("HTTP/1.1 200 OK"));
  const trace = lines.join("\n");
  const expected = [
    /^epoll_create1\(EPOLL_CLOEXEC\) = (\d+)$/m,
    /^socket\(AF_INET, SOCK_STREAM\|SOCK_NONBLOCK\|SOCK_CLOEXEC, 0\) = (\d+)$/m,
    /^setsockopt\(\d+, IPPROTO_TCP, TCP_NODELAY, \[1\], 4\) = 0$/m,
    new RegExp(`^bind\\(\\d+, \\{127\\.0\\.0\\.1:0\\}\\) = 0$`, "m"),
    /^listen\(\d+, 17\) = 0$/m,
    /^accept4\(\d+, NULL, NULL, SOCK_CLOEXEC\|SOCK_NONBLOCK\) = \d+$/m,
    /^read\(\d+, "GET \/hi HTTP\/1\.1\\r\\nHost: a\\r\\nConne"\.\.\., \d+\) = 48$/m,
    /^sendto\(\d+, "HTTP\/1\.1 200 OK\\r\\n.*"(\.\.\.)?, \d+, MSG_NOSIGNAL, NULL, 0\) = \d+$/m,
    // The client asked to close and sent nothing more: one look that nothing arrived since, then close.
    /^read\(\d+, \.\.\., 64\) = -1 EAGAIN/m,
    /^close\(\d+\) = 0$/m,
  ];
  // The accepted socket inherits TCP_NODELAY from the listener: no system call of its own for it.
  assert.is(trace.match(/TCP_NODELAY/g)?.length, 1, trace);
  let from = 0;
  for (const pattern of expected) {
    const rest = trace.slice(from);
    const m = pattern.exec(rest);
    assert.ok(m, `${pattern} after offset ${from} in:\n${trace}`);
    from += m!.index + m![0].length;
  }
  // And off means off: a server without the option prints nothing (`trace: true` prints to stderr).
  const quiet: string[] = [];
  const stderrWrite = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => quiet.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const plain = await serve({ host: "127.0.0.1", port: 0, handler: ok });
    await exchange(plain.port, ["GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    await plain.close();
  } finally {
    process.stderr.write = stderrWrite;
  }
  assert.equal(quiet, [], "nothing printed to stderr");
  assert.is(lines.filter((l) => l.startsWith("socket(")).length, 1, "tracing stopped with its server");
});

test("once quiet after a busy spell, the server gives the C heap's free pages back (malloc_trim), once per spell", async () => {
  const lines: string[] = [];
  const trims = () => lines.filter((l) => /^malloc_trim\(0\) = [01]$/.test(l)).length;
  const server = await serve({ host: "127.0.0.1", port: 0, trace: (l) => lines.push(l), handler: ok });
  const socket = await open(server.port);
  const ask = async () => {
    socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await once(socket, "data");
  };
  const untilTrims = async (count: number) => {
    for (let i = 0; i < 100 && trims() < count; i++) await sleep(20);
  };
  try {
    await ask();
    await untilTrims(1);
    assert.is(trims(), 1, lines.join("\n"));
    // The keep-alive connection stays open and idle: quiet goes on, with no second trim.
    await sleep(700);
    assert.is(trims(), 1);
    // Busy again, then quiet again: one more.
    await ask();
    await untilTrims(2);
    assert.is(trims(), 2);
  } finally {
    socket.destroy();
    await server.close();
  }

  const off: string[] = [];
  const plain = await serve({ host: "127.0.0.1", port: 0, trimWhenQuiet: false, trace: (l) => off.push(l), handler: ok });
  try {
    await exchange(plain.port, ["GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"], { idleMs: 700 });
    assert.ok(off.some((l) => l.startsWith("accept4(")));
    assert.not.ok(off.some((l) => l.startsWith("malloc_trim")), "trimWhenQuiet: false never trims");
  } finally {
    await plain.close();
  }
});

/** Sends `bytes` on a new connection that stays open for writing, and resolves with what came back once the server's FIN arrived. */
async function untilServerEnds(port: number, bytes: string): Promise<{ socket: Socket; text: string }> {
  const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  await once(socket, "connect");
  let text = "";
  socket.setEncoding("latin1").on("data", (c: string) => (text += c));
  socket.write(bytes);
  await once(socket, "end");
  parseResponses(text, { requestMethods: methodsOf([bytes]) }); // the strict client reads it before any test does
  return { socket, text };
}

test("closing: a client that asked to close and sent nothing more is closed at once; one that sent more gets a lingering close", async () => {
  const lines: string[] = [];
  const server = await serve({ host: "127.0.0.1", port: 0, trace: (l) => lines.push(l), handler: ok });
  const closed = async () => {
    for (let i = 0; i < 50 && server.connectionCount > 0; i++) await sleep(10);
    return server.connectionCount === 0;
  };
  try {
    const polite = await untilServerEnds(server.port, "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert.match(polite.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
    // Our side of the socket is still open, but the server has let go of its own.
    assert.ok(await closed(), "closed without waiting for the client's FIN");
    assert.not.match(lines.join("\n"), /shutdown\(/);
    polite.socket.destroy();

    // Another request right behind the closing one: the client may still be
    // sending, so the server shuts its side, reads and drops until the client's
    // FIN, and the client gets the first response whole rather than a reset.
    lines.length = 0;
    const eager = await untilServerEnds(server.port, "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.is(parseResponses(eager.text).length, 1);
    assert.match(lines.join("\n"), /^shutdown\(\d+, SHUT_WR\) = 0$/m);
    assert.is(server.connectionCount, 1, "lingering until the client closes");
    eager.socket.write("more bytes, dropped");
    eager.socket.end();
    assert.ok(await closed());
  } finally {
    await server.close();
  }
});

test("one flooding connection does not starve another", async () => {
  // Judged by order, not by time: how many of the flood's requests the server
  // had handled when it handled the other connection's one.
  const count = 20_000;
  let flooded = 0;
  let floodedBeforeOther = -1;
  const server = await serve({
    host: "127.0.0.1", port: 0,
    handler: (req, res) => {
      if (req.path === "/flood") flooded++;
      else floodedBeforeOther = flooded;
      res.end(req.path);
    },
  });
  try {
    const flood: Socket = connect({ port: server.port, host: "127.0.0.1" });
    await once(flood, "connect");
    flood.resume(); // read the flood's responses, so that it is never held back by its own output
    flood.write("GET /flood HTTP/1.1\r\nHost: a\r\n\r\n".repeat(count));
    while (flooded === 0) await sleep(1);
    const other = await get({ host: "127.0.0.1", port: server.port });
    assert.is(other, "/");
    assert.ok(floodedBeforeOther < count, `the other connection waited for all ${count} flood requests`);
    flood.destroy();
  } finally {
    await server.close();
  }
});

test("out of descriptors: accept pauses without spinning, logs once, and recovers", async () => {
  const { child, ready, stderr } = startChild([]);
  const sockets: Socket[] = [];
  try {
    const { port, fds } = await ready;
    const limit = fds + 8;
    const r = spawnSync("prlimit", ["--pid", String(child.pid), `--nofile=${limit}:${limit}`]);
    assert.is(r.status, 0, String(r.stderr));
    for (let i = 0; i < 40; i++) {
      const s = connect({ port, host: "127.0.0.1" });
      s.on("error", () => {});
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => once(s, "connect")));
    // Spinning is judged against a process that spins, measured over the same
    // second: what the scheduler gives a busy loop on this machine, now.
    const spinner = spawn(process.execPath, ["-e", "for (;;);"], { stdio: "ignore" });
    try {
      await sleep(300);
      const before = [cpuTicks(child.pid!), cpuTicks(spinner.pid!)];
      await sleep(1000);
      const [used, spun] = [cpuTicks(child.pid!) - before[0], cpuTicks(spinner.pid!) - before[1]];
      assert.ok(used * 4 < spun, `while out of descriptors the server used ${used} ticks of CPU, a busy loop ${spun}`);
    } finally {
      spinner.kill("SIGKILL");
      await once(spinner, "exit");
    }
    assert.is(stderr().match(/EMFILE/g)?.length ?? 0, 1, `logged once: ${stderr()}`);
    for (const s of sockets.splice(0)) s.destroy();
    await sleep(300);
    const { text } = await exchange(port, ["GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    assert.is(parseResponses(text)[0]?.body, "ok", "serving again");
  } finally {
    for (const s of sockets) s.destroy();
    child.kill("SIGTERM");
    await once(child, "exit");
  }
});

test("every descriptor is closed on every path: the fd count returns to its baseline", async () => {
  const big = "x".repeat(1 << 20);
  const server = await serve({
    host: "127.0.0.1", port: 0, timeouts: { keepAlive: 200, headers: 300 }, onError: () => {},
    handler: async (req, res) => {
      if (req.path === "/big") {
        await sleep(5);
        res.end(big);
      } else if (req.path === "/stream") {
        for (let i = 0; i < 50; i++) {
          if (!res.write(big.slice(0, 65536))) await res.drained().catch(() => {});
        }
        res.end();
      } else {
        res.end(await req.text());
      }
    },
  });
  const baseline = openFds();
  const port = server.port;
  const kinds: ((s: Socket) => Promise<void>)[] = [
    async (s) => void s.resetAndDestroy(), // reset before a byte
    async (s) => { s.write("GET / HTTP/1.1\r\nHost: a\r\nContent-Le"); await sleep(2); s.resetAndDestroy(); }, // reset mid-head
    async (s) => { s.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc"); await sleep(2); s.resetAndDestroy(); }, // reset mid-body
    async (s) => { s.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n"); await once(s, "data"); s.resetAndDestroy(); }, // reset mid-response
    async (s) => { s.write("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"); await once(s, "data"); s.destroy(); }, // close mid-stream
    async (s) => { s.end("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"); await once(s.resume(), "end"); s.destroy(); }, // half-close
    async (s) => { s.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n"); await once(s, "data"); }, // left idle: the server's keep-alive timeout closes it
    async (s) => { s.write("GET / HTTP/1.1\r\nHost: a\r\n"); }, // left mid-head: the headers timeout closes it
    async (s) => { s.write("GET / HTTP/1.1\r\nHost : a\r\n\r\n"); await once(s.resume(), "end"); s.destroy(); }, // bad request
  ];
  const total = 2000;
  const clients: Socket[] = [];
  let resets = 0;
  for (let i = 0; i < total; i += 100) {
    await Promise.all(Array.from({ length: 100 }, async (_, k) => {
      const s = connect({ port, host: "127.0.0.1" });
      s.on("error", () => {});
      clients.push(s);
      // A loaded machine may reset a connection as early as its connect: it counts as a reset too.
      await once(s, "connect").then(() => kinds[(i + k) % kinds.length](s)).catch((error: { code?: string }) => {
        // On a loaded machine the short timeouts above can cut a connection before
        // its request is read, and the client sees a reset: one more path to clean up.
        if (error.code !== "ECONNRESET") throw error;
        resets++;
      });
    }));
  }
  if (resets > 0) console.log(`  fd test: ${resets} of ${total} clients were reset by the server's timeouts`);
  // Timeouts and lingering closes (2 s) end the last ones. The deadline only
  // stops a hang: the loop ends as soon as they are gone, on any machine.
  const deadline = Date.now() + 30_000;
  while (server.connectionCount > 0 && Date.now() < deadline) await sleep(50);
  assert.is(server.connectionCount, 0, "the server forgot every connection");
  for (const s of clients) s.destroy();
  // The client sockets' descriptors close a turn or two of the event loop later; again a hang guard, not a measure.
  let fds = openFds();
  for (const until = Date.now() + 10_000; fds !== baseline && Date.now() < until;) {
    await sleep(50);
    fds = openFds();
  }
  assert.is(fds, baseline, "open descriptors back to the baseline");
  // Still serving.
  assert.is(parseResponses((await exchange(port, ["GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"])).text)[0].status, 200);
  await server.close();
});

test("socket activation: serves on the listening socket passed in as fd 3 (LISTEN_FDS, LISTEN_PID)", async () => {
  const listening = openListener({ host: "127.0.0.1", port: 0 });
  const child = spawn("bash", ["-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', process.execPath, "--import", "tsx", childScript],
    { stdio: ["ignore", "pipe", "pipe", listening.fd] });
  try {
    const ready = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (c) => {
        out += c;
        if (out.includes("\n")) resolve(out);
      });
      child.once("exit", (code) => reject(new Error(`child exited ${code}`)));
    });
    assert.match(ready, new RegExp(`^ready ${listening.port} `), "the child reports the inherited socket's port");
    const r = await fetch(`http://127.0.0.1:${listening.port}/`);
    assert.is(await r.text(), "ok");
    assert.is(r.headers.get("x-pid"), String(child.pid), "served by the child");
  } finally {
    closeListener(listening);
    child.kill("SIGTERM");
    await once(child, "exit");
  }
});

test("the process exits by itself once the server is closed", async () => {
  const { child, ready } = startChild(["once"]);
  await ready;
  // A hang guard, not a measure: a child that stays is the failure (killed, it exits with a signal).
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const [code, signal] = await once(child, "exit");
  clearTimeout(timer);
  assert.equal([code, signal], [0, null]);
});

test("workers: requests are served by more than one thread, on one port, and close() ends them all", async () => {
  const pool = await serve({
    host: "127.0.0.1", port: 0, workers: 2, handler: ok,
    entry: new URL("./fixtures/worker-boot.mjs", import.meta.url),
  });
  try {
    const threads = new Set<string>();
    for (let i = 0; i < 40 && threads.size < 2; i++) threads.add(await get({ host: "127.0.0.1", port: pool.port }));
    assert.is(threads.size, 2, `threads seen: ${[...threads]}`);
  } finally {
    await pool.close();
  }
  await get({ host: "127.0.0.1", port: pool.port }).then(
    () => assert.unreachable("still listening after close"),
    (e: { code: string }) => assert.is(e.code, "ECONNREFUSED"),
  );
});

test.run();
