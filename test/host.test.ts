// Host names for serve({ host }) and --host: resolved as the system resolves
// names (dns.lookup), literals as they are, and a clear error for a name
// that resolves to nothing.
import { suite, assert } from "./support/uvu.ts";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { fileURLToPath } from "node:url";
import { serve, type Handler } from "../src/index.ts";

const test = suite("host names");
const ok: Handler = (_req, res) => res.end("ok");
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1)$/;
/** A name under .invalid never resolves (RFC 6761). */
const NOWHERE = "no-such-host.invalid";

function get(host: string, port: number, path = "/"): Promise<string> {
  return new Promise((resolve, reject) => {
    httpRequest({ host, port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("latin1").on("data", (c) => (body += c)).on("end", () => resolve(body));
    }).on("error", reject).end();
  });
}

/** A name /etc/hosts maps to a loopback address, other than localhost where there is one. */
function hostsName(): string {
  let text = "";
  try {
    text = readFileSync("/etc/hosts", "utf8");
  } catch {
    return "localhost";
  }
  for (const line of text.split("\n")) {
    const [address, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (address === undefined || !LOOPBACK.test(address)) continue;
    const name = names.find((n) => n !== "localhost" && !n.startsWith("localhost") && !n.startsWith("ip6-"));
    if (name !== undefined) return name;
  }
  return "localhost";
}

test('serve({ host: "localhost" }) listens on a loopback address and serves', async () => {
  const server = await serve({ host: "localhost", port: 0, handler: ok });
  try {
    assert.match(server.host, LOOPBACK, `localhost resolved to ${server.host}`);
    assert.is(await get(server.host, server.port), "ok");
    assert.is(await get("localhost", server.port), "ok");
  } finally {
    await server.close();
  }
});

test("a name from /etc/hosts resolves", async () => {
  const name = hostsName();
  const server = await serve({ host: name, port: 0, handler: ok });
  try {
    assert.match(server.host, LOOPBACK, `${name} resolved to ${server.host}`);
    assert.is(await get(server.host, server.port), "ok");
  } finally {
    await server.close();
  }
});

test('"0.0.0.0", "::" and "[::1]" are taken as they are', async () => {
  for (const [host, bound, reach] of [["0.0.0.0", "0.0.0.0", "127.0.0.1"], ["::", "::", "127.0.0.1"], ["[::1]", "::1", "::1"]]) {
    const server = await serve({ host, port: 0, handler: ok });
    try {
      assert.is(server.host, bound, host);
      assert.is(await get(reach, server.port), "ok", host);
    } finally {
      await server.close();
    }
  }
});

test("a name that resolves to nothing: an error that names it", async () => {
  try {
    await serve({ host: NOWHERE, port: 0, handler: ok });
    assert.unreachable("listened on a name that does not resolve");
  } catch (error) {
    const e = error as Error & { code?: string; hostname?: string };
    assert.match(e.message, NOWHERE);
    assert.match(String(e.code), /^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|ENODATA)$/);
    assert.is(e.hostname, NOWHERE);
  }
});

test("simplenet --host localhost serves; --host with an unknown name exits 1 naming it", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", cli, "--port", "0", "--host", "localhost", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (c) => {
        out += c;
        const m = /listening on (http:\/\/\S+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}`)));
    });
    const { hostname, port } = new URL(url);
    assert.match(hostname.replace(/^\[|\]$/g, ""), LOOPBACK);
    assert.is(await get(hostname.replace(/^\[|\]$/g, ""), Number(port), "/hi"), "Hi");
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
  const bad = spawn(process.execPath, ["--import", "tsx", cli, "--port", "0", "--host", NOWHERE], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  bad.stderr!.on("data", (c) => (err += c));
  const [code] = await once(bad, "exit");
  assert.is(code, 1);
  assert.match(err, `cannot resolve host "${NOWHERE}"`);
});

test.run();
