// nginx (the system's, Debian's package) for the multi-core scenario: GET /hi
// answered with `return 200 "Hi"` and the same Content-Type, access log off,
// `worker_processes auto`, `reuseport` (a listener per worker, as simplenet's
// and uWS.js's workers have). This file only writes the configuration into a
// temporary folder, starts nginx in the foreground (`daemon off;`), says when
// it listens, and stops it by its PID on SIGTERM; the harness counts nginx's
// processes as this one's descendants.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOST, KEEP_ALIVE_MS, freePort, listening, note, unsupported } from "./common.js";

function nginxVersion(): string | null {
  try {
    // nginx -v prints to stderr.
    const out = execFileSync("nginx", ["-v"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return /nginx\/(\S+)/.exec(out)?.[1] ?? "?";
  } catch (error) {
    const e = error as { code?: string; stderr?: string };
    if (e.code === "ENOENT") return null;
    return /nginx\/(\S+)/.exec(String(e.stderr ?? ""))?.[1] ?? "?";
  }
}

const version = nginxVersion();
if (version === null) unsupported("nginx is not installed (apt-get install nginx)");

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), "simplenet-bench-nginx-"));
const conf = join(dir, "nginx.conf");
writeFileSync(conf, `daemon off;
worker_processes auto;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events {
  worker_connections 8192;
}
http {
  access_log off;
  server_tokens off;
  keepalive_timeout ${Math.ceil(KEEP_ALIVE_MS / 1000)}s;
  keepalive_requests 1000000000;
  client_body_temp_path ${join(dir, "body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  server {
    listen ${HOST}:${port} reuseport;
    location = /hi {
      default_type text/plain;
      return 200 "Hi";
    }
    location / {
      return 404;
    }
  }
}
`);

const child = spawn("nginx", ["-p", dir, "-e", join(dir, "error.log"), "-c", conf], { stdio: ["ignore", "inherit", "inherit"] });
const cleanup = () => rmSync(dir, { recursive: true, force: true });
child.once("exit", (code, signal) => {
  if (!stopping) {
    let log = "";
    try {
      log = readFileSync(join(dir, "error.log"), "utf8");
    } catch {
      // nothing logged
    }
    cleanup();
    process.stderr.write(`nginx exited (${code ?? signal}) ${log}\n`);
    process.exit(1);
  }
  cleanup();
  process.exit(0);
});

let stopping = false;
// common.ts exits on SIGTERM; this one first stops nginx by its PID (SIGQUIT: its graceful shutdown) and waits for it.
process.removeAllListeners("SIGTERM");
process.once("SIGTERM", () => {
  stopping = true;
  if (child.exitCode !== null || child.signalCode !== null) process.exit(0);
  process.kill(child.pid!, "SIGQUIT");
  setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, "SIGKILL"), 3000).unref();
});

/** Waits until a connection to the port succeeds. */
async function ready(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, HOST);
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("nginx did not listen within 5 s");
}

await ready();
note(`nginx ${version}: worker_processes auto, reuseport, access log off, \`location = /hi { return 200 "Hi"; }\``);
listening(port);
