// Behind a real proxy: Debian's nginx (installed by .ci/run) in front of
// simplenet over TCP and over a Unix socket with upstream keep-alive, and
// nginx's stream module speaking the PROXY protocol to us.
import { suite, assert } from "./support/uvu.ts";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest, Agent } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type Handler } from "../src/index.ts";
import { sleep } from "./helpers.ts";
import { command, requires } from "./support/requires.ts";

const test = suite("behind nginx");
const nginx = command("nginx");
const streamModule = spawnSync("sh", ["-c", "dpkg -L libnginx-mod-stream 2>/dev/null | grep 'ngx_stream_module.so$'"]).stdout.toString().trim();

/** A port that was free a moment ago (nginx cannot tell us one it picked). */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, "close");
  return port;
}

interface Seen { path: string; remote: string; forwardedFor: string | null; body: string }

function app(seen: Seen[]): Handler {
  return async (req, res) => {
    const body = await req.text();
    seen.push({ path: req.path, remote: `${req.remote.address}:${req.remote.port}`, forwardedFor: req.headers.get("x-forwarded-for"), body });
    if (req.path === "/chunked") {
      res.write("alpha-");
      await sleep(5);
      res.write("beta-");
      return res.end("gamma");
    }
    res.end(`${req.method} ${req.path} ${body}`);
  };
}

function get(port: number, path: string, agent: Agent, body?: string): Promise<{ status: number; text: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: "127.0.0.1", port, path, agent, method: body === undefined ? "GET" : "POST" }, (res) => {
      let text = "";
      res.setEncoding("latin1").on("data", (c) => (text += c)).on("end", () => resolve({ status: res.statusCode!, text, localPort: localPort! }));
    });
    let localPort: number | undefined;
    r.on("socket", (s) => {
      localPort = s.localPort;
      if (localPort === undefined) s.once("connect", () => (localPort = s.localPort));
    });
    r.on("error", reject);
    r.end(body);
  });
}

const missing = nginx === "" ? "needs nginx on PATH and its stream module: run scripts/test-deps.sh as root (Debian's nginx-light and libnginx-mod-stream)"
  : streamModule === "" ? "needs nginx's stream module: run scripts/test-deps.sh as root (Debian's libnginx-mod-stream)" : null;

requires(test, missing, "nginx proxies to simplenet over TCP, a Unix socket and the PROXY protocol", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-nginx-"));
  const seen: Seen[] = [];
  const tcp = await serve({ host: "127.0.0.1", port: 0, handler: app(seen) });
  const unix = await serve({ path: join(dir, "app.sock"), handler: app(seen) });
  const proxied = await serve({ host: "127.0.0.1", port: 0, proxyProtocol: true, handler: app(seen) });
  const [httpPort, unixPort, streamPort] = [await freePort(), await freePort(), await freePort()];
  const proxy = (name: string) => `proxy_pass http://${name}; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Forwarded-For $remote_addr;`;
  writeFileSync(join(dir, "nginx.conf"), `
load_module ${streamModule};
daemon off;
user root;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(dir, "body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  upstream tcp_app { server 127.0.0.1:${tcp.port}; keepalive 4; }
  upstream unix_app { server unix:${join(dir, "app.sock")}; keepalive 4; }
  server { listen 127.0.0.1:${httpPort}; location / { ${proxy("tcp_app")} } }
  server { listen 127.0.0.1:${unixPort}; location / { ${proxy("unix_app")} } }
}
stream {
  server { listen 127.0.0.1:${streamPort}; proxy_pass 127.0.0.1:${proxied.port}; proxy_protocol on; }
}
`);
  let child: ChildProcess | null = null;
  try {
    child = spawn(nginx, ["-c", join(dir, "nginx.conf"), "-p", dir, "-e", join(dir, "error.log")], { stdio: "ignore" });
    for (let i = 0; i < 100 && !existsSync(join(dir, "nginx.pid")); i++) await sleep(20);
    await sleep(100);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });

    for (const port of [httpPort, unixPort]) {
      seen.length = 0;
      const first = await get(port, "/a", agent);
      assert.equal([first.status, first.text], [200, "GET /a "]);
      const posted = await get(port, "/b", agent, "x".repeat(5000));
      assert.is(posted.text, `POST /b ${"x".repeat(5000)}`);
      const chunked = await get(port, "/chunked", agent);
      assert.is(chunked.text, "alpha-beta-gamma");
      assert.ok(seen.every((s) => s.forwardedFor === "127.0.0.1"), "X-Forwarded-For from nginx");
      assert.is(new Set(seen.map((s) => s.remote)).size, 1, `nginx kept one upstream connection alive: ${seen.map((s) => s.remote)}`);
    }

    seen.length = 0;
    const direct = await get(streamPort, "/real", new Agent({ keepAlive: false }));
    assert.is(direct.text, "GET /real ");
    assert.is(seen[0].remote, `127.0.0.1:${direct.localPort}`, "the PROXY header carried the real client's address and port");
    agent.destroy();
  } finally {
    if (child !== null) {
      child.kill("SIGQUIT");
      await once(child, "exit");
    }
    await Promise.all([tcp.close(), unix.close(), proxied.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
