// The simplenet command, run as a child process.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const test = suite("cli");
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

function start(args: string[]): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const url = new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}`)));
    setTimeout(() => reject(new Error("no URL printed in 10 s")), 10_000).unref();
  });
  return { child, url };
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

test.run();
