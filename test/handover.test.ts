// Restarts that lose nothing: `simplenet --upgrade-from PATH` takes the
// listening socket of the running simplenet over a Unix socket (SCM_RIGHTS);
// the old one stops accepting only once the new one accepts, then drains and
// exits. Real processes, a real client loop on 127.0.0.1 during every restart.
import { suite, assert } from "./support/uvu.ts";
import { requires } from "./support/requires.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, type Server } from "../src/index.ts";
import { sleep } from "./helpers.ts";

const test = suite("handover");
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const srcDir = fileURLToPath(new URL("../src/", import.meta.url));
const built = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/**
 * How to run the simplenet command: the built dist/cli.js (what users run,
 * and quick to start) when it is newer than every source file, else the
 * sources through tsx.
 */
function simplenet(): string[] {
  try {
    const newest = Math.max(...readdirSync(srcDir).map((f) => statSync(join(srcDir, f)).mtimeMs));
    if (statSync(built).mtimeMs >= newest) return [built];
  } catch {
    // no build
  }
  return ["--import", "tsx", cli];
}
const childScript = fileURLToPath(new URL("./fixtures/serve-child.mts", import.meta.url));

interface Instance {
  child: ChildProcess;
  pid: number;
  /** Resolves with the port once the process listens (after taking over, when it did). */
  listening: Promise<number>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** A real `simplenet` process (the CLI, through tsx) with --upgrade-from sock. */
function start(sock: string, extra: string[] = []): Instance {
  const child = spawn(process.execPath, [...simplenet(), "--port", "0", "--host", "127.0.0.1", "--upgrade-from", sock, ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (c) => (err += c));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (c) => {
      out += c;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`simplenet exited (${code}) before listening: ${err}`)));
  });
  listening.catch(() => {});
  return { child, pid: child.pid!, listening, stdout: () => out, stderr: () => err, exited };
}

/** GET path on 127.0.0.1:port with the given agent (false: a new connection, closed after). */
function get(port: number, agent: Agent | false, path = "/hi"): Promise<{ status: number; body: string; pid?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, agent, headers: agent === false ? { connection: "close" } : {} }, (res) => {
      let body = "";
      res.setEncoding("latin1").on("data", (c) => (body += c)).on("end", () => resolve({ status: res.statusCode!, body, pid: res.headers["x-pid"] as string | undefined }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("timed out")));
    req.end();
  });
}

/** Clients that keep requesting until stopped: half on keep-alive connections, half on a new connection each. */
function load(port: number, { keepAlive = 4, fresh = 4, path = "/hi", expect = "Hi" } = {}) {
  let running = true;
  const counts = { requests: 0, keepAlive: 0, fresh: 0 };
  const failures: string[] = [];
  const servedBy = new Map<string, number>();
  const loop = async (agent: Agent | false): Promise<void> => {
    while (running) {
      try {
        const r = await get(port, agent, path);
        if (r.status !== 200 || r.body !== expect) failures.push(`${r.status} ${r.body}`);
        if (r.pid !== undefined) servedBy.set(r.pid, (servedBy.get(r.pid) ?? 0) + 1);
      } catch (error) {
        failures.push(`${agent === false ? "new connection" : "keep-alive"}: ${(error as Error).message}`);
      }
      counts.requests++;
      if (agent === false) counts.fresh++;
      else counts.keepAlive++;
    }
  };
  const agents = Array.from({ length: keepAlive }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const done = Promise.all([...agents.map(loop), ...Array.from({ length: fresh }, () => loop(false))]);
  return {
    counts,
    failures,
    servedBy,
    async stop(): Promise<void> {
      running = false;
      await done;
      for (const agent of agents) agent.destroy();
    },
  };
}

test("20 restarts in a row under load (--upgrade-from): the port never closes and not one request fails", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-handover-"));
  const sock = join(dir, "handover.sock");
  const began = Date.now();
  const instances: Instance[] = [start(sock)];
  const stopAll = (): void => {
    for (const i of instances) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill("SIGKILL");
  };
  try {
    const port = await instances[0].listening;
    const clients = load(port, { keepAlive: 3, fresh: 3 });
    const RESTARTS = 20;
    for (let n = 1; n <= RESTARTS; n++) {
      const before = clients.counts.requests;
      const next = start(sock);
      instances.push(next);
      assert.is(await next.listening, port, `restart ${n}: the successor serves the same port`);
      assert.ok(clients.counts.requests > before, `restart ${n}: requests were made during the restart`);
    }
    // Each old one stopped accepting once its successor accepted, answered what was in flight, and exited 0.
    for (let n = 0; n < RESTARTS; n++) {
      const old = instances[n];
      assert.is(await old.exited, 0, `process ${n} exited cleanly: ${old.stderr()}`);
      assert.match(old.stdout(), new RegExp(`simplenet handed over to pid ${instances[n + 1].pid}\\n`), `process ${n} handed over to the next`);
    }
    await sleep(100);
    await clients.stop();
    const last = instances[instances.length - 1];
    last.child.kill("SIGTERM");
    assert.is(await last.exited, 0);
    const seconds = ((Date.now() - began) / 1000).toFixed(1);
    // Every request, whichever process answered it, is in one access log.
    const logged = instances.map((i) => (i.stdout().match(/^GET \/hi 200 2 /gm) ?? []).length);
    console.log(
      `  handover (${simplenet()[0] === built ? "dist/cli.js" : "src/cli.ts through tsx"}): ${RESTARTS} restarts, ${clients.counts.requests} requests (${clients.counts.keepAlive} keep-alive, ${clients.counts.fresh} new connections),`,
      `${clients.failures.length} failed, ${seconds} s; per process: ${logged.join(" ")}`,
    );
    assert.equal(clients.failures.slice(0, 5), [], "no request failed");
    assert.is(logged.reduce((a, b) => a + b, 0), clients.counts.requests, "every request was answered by one of the processes");
    assert.ok(logged.filter((c) => c > 0).length >= RESTARTS / 2, `many processes served: ${logged.join(" ")}`);
    assert.not.ok(existsSync(sock), "the last process removed its handover socket");
  } finally {
    stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("serve({ handover }): the API takes the listener, onHandover tells the old server who took it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-handover-"));
  const sock = join(dir, "h.sock");
  const handedTo: number[] = [];
  const first = await serve({ host: "127.0.0.1", port: 0, handover: sock, handler: (_req, res) => res.end("first"), onHandover: (s) => handedTo.push(s.pid) });
  let second: Server | undefined;
  try {
    assert.is((await get(first.port, false)).body, "first");
    // In one process the successor is a second server; what matters is the socket it serves on.
    second = await serve({ host: "127.0.0.1", port: 0, handover: sock, handler: (_req, res) => res.end("second") });
    assert.is(second.port, first.port, "the successor took the listener (not a new port)");
    for (let i = 0; i < 50 && handedTo.length === 0; i++) await sleep(20);
    assert.equal(handedTo, [process.pid], "onHandover ran once the old server had closed");
    assert.is((await get(first.port, false)).body, "second");
  } finally {
    await first.close();
    await second?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("handover of a Unix socket listener: the file stays for the successor and goes with the last", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-handover-"));
  const sock = join(dir, "h.sock");
  const path = join(dir, "http.sock");
  let handedOver!: () => void;
  const done = new Promise<void>((resolve) => (handedOver = resolve));
  const first = await serve({ path, handover: sock, handler: (_req, res) => res.end("first"), onHandover: () => handedOver() });
  const second = await serve({ path, handover: sock, handler: (_req, res) => res.end("second") });
  try {
    await done;
    assert.ok(existsSync(path), "the old server left the socket file to its successor");
    const body = await new Promise<string>((resolve, reject) => {
      httpRequest({ socketPath: path, path: "/", agent: false }, (res) => {
        let b = "";
        res.setEncoding("latin1").on("data", (c) => (b += c)).on("end", () => resolve(b));
      }).on("error", reject).end();
    });
    assert.is(body, "second");
  } finally {
    await second.close();
  }
  assert.not.ok(existsSync(path), "the last server removed it");
  rmSync(dir, { recursive: true, force: true });
});

test("handover: nothing at PATH (no file, or one left by a dead process) means listening anew", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-handover-"));
  const sock = join(dir, "h.sock");
  try {
    const dead = start(sock);
    await dead.listening;
    dead.child.kill("SIGKILL"); // leaves its socket file behind
    await dead.exited;
    assert.ok(existsSync(sock), "a stale handover socket is there");
    const server = await serve({ host: "127.0.0.1", port: 0, handover: sock, handler: (_req, res) => res.end("fresh") });
    try {
      assert.is((await get(server.port, false)).body, "fresh");
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--upgrade-from with --workers is refused", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", cli, "--upgrade-from", "/nonexistent/h.sock", "--workers", "2"], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (c) => (err += c));
  const [code] = await once(child, "exit");
  assert.is(code, 2);
  assert.match(err, /--upgrade-from/);
});

// The other way to restart on one port: two SO_REUSEPORT listeners, the old
// one closing under load. Closing a listener resets the connections in its
// accept queue unless the kernel migrates them (net.ipv4.tcp_migrate_req,
// which serve() turns on for reusePort where it may): only then is it
// lossless, so it runs only where that is on or can be turned on.
const MIGRATE_REQ = "/proc/sys/net/ipv4/tcp_migrate_req";
function migrationAvailable(): boolean {
  try {
    if (readFileSync(MIGRATE_REQ, "utf8").trim() !== "0") return true;
    accessSync(MIGRATE_REQ, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function startChild(args: string[]): { child: ChildProcess; ready: Promise<number> } {
  const child = spawn(process.execPath, ["--import", "tsx", childScript, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const ready = new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c) => {
      out += c;
      const m = /ready (\d+) /.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`child exited ${code}`)));
  });
  return { child, ready };
}

requires(
  test,
  migrationAvailable() ? null : `needs ${MIGRATE_REQ} (Linux 5.14 or later) set to 1, or root to set it (sysctl -w net.ipv4.tcp_migrate_req=1)`,
  "SO_REUSEPORT restart with tcp_migrate_req: two instances share a port; one stops under load and no request fails",
  async () => {
    const a = startChild(["reuse", "0"]);
    const port = await a.ready;
    const b = startChild(["reuse", String(port)]);
    try {
      await b.ready;
      assert.is(readFileSync(MIGRATE_REQ, "utf8").trim(), "1", "serve({ reusePort }) turned request migration on");
      const clients = load(port, { keepAlive: 0, fresh: 8, path: "/?delay=10", expect: "ok" });
      while (clients.counts.requests < 100) await sleep(5);
      a.child.kill("SIGTERM");
      const [code] = await once(a.child, "exit");
      const at = clients.counts.requests;
      while (clients.counts.requests < at + 200) await sleep(5);
      await clients.stop();
      assert.is(code, 0, "the stopped instance exited cleanly");
      assert.equal(clients.failures, [], "no request failed");
      assert.is(clients.servedBy.size, 2, "both instances served");
    } finally {
      for (const c of [a.child, b.child]) if (c.exitCode === null) c.kill("SIGKILL");
    }
  },
);

test.run();
