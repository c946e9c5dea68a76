// The package as a user gets it: `npm pack`, then `npm install <tarball>` in
// an empty folder (which compiles the addon with node-gyp: the slow part, so
// the steps here have generous time limits), then `npx simplenet` and an
// `import { serve } from "simplenet"` script, each answering real requests
// on 127.0.0.1 and stopped by PID.
//
// The install runs with --prefer-offline: node-addon-api (the one
// dependency) comes from npm's cache when it is there, as it is after the
// project's own install, and from the registry only when it is not.
import { suite, assert } from "./support/uvu.ts";
import { requires, command } from "./support/requires.ts";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const test = suite("package");
const root = fileURLToPath(new URL("..", import.meta.url));
/** Packing takes seconds; installing compiles the addon (tens of seconds on a slow machine). */
const PACK_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 240_000;

function run(cmd: string, args: string[], cwd: string, timeout: number): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, timeout, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
  return { status: r.status, stdout: r.stdout ?? "", stderr: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("latin1").on("data", (c) => (body += c)).on("end", () => resolve({ status: res.statusCode!, body }));
    }).on("error", reject).end();
  });
}

/** Resolves with the first match of pattern in the child's stdout; rejects if it exits first or after 20 s. */
function waitFor(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in 20 s: ${out} ${err}`)), 20_000);
    child.stderr!.on("data", (c) => (err += c));
    child.stdout!.on("data", (c) => {
      out += c;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}): ${out} ${err}`));
    });
  });
}

/** The processes below pid (npx runs the bin through a shell), deepest first. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        walk(child);
        out.push(child);
      }
    }
  };
  walk(pid);
  return out;
}

/** Stops a process and everything it started, by PID, with SIGTERM (SIGKILL after 5 s). */
async function stop(child: ChildProcess): Promise<void> {
  const pids = [...descendants(child.pid!), child.pid!];
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const timer = setTimeout(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }, 5000);
  if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
  for (let i = 0; i < 100 && pids.some((p) => existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, "utf8").includes(") Z ")); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  clearTimeout(timer);
}

const npm = command("npm");
const npx = command("npx");

requires(test, npm && npx ? null : "npm and npx on PATH", "npm pack → npm install <tarball> → npx simplenet and import { serve } from \"simplenet\"", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-pack-"));
  try {
    // --ignore-scripts: pack what the build made (dist/, parser/dist/, parser/wasm/) without running `prepare`, which rebuilds them.
    const pack = (cwd: string): { filename: string; paths: string[] } => {
      const packed = run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], cwd, PACK_TIMEOUT_MS);
      assert.is(packed.status, 0, `npm pack: ${packed.stderr}`);
      const [{ filename, files }] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
      return { filename, paths: files.map((f) => f.path) };
    };
    const server = pack(root);
    for (const needed of ["dist/index.js", "dist/cli.js", "binding.gyp", "shim/syscalls.cc", "scripts/build-addon.js"]) {
      assert.ok(server.paths.includes(needed), `the package carries ${needed}`);
    }
    assert.equal(server.paths.filter((p) => /debug|\.map$|^test\/|^src\/|^bench\/|^parser\/|\.wasm$/.test(p)), [], "no debug build, source map, sources, tests or parser files");
    const parser = pack(join(root, "parser"));
    for (const needed of ["dist/parser.js", "dist/parser-node.js", "wasm/simplenet.wasm", "wasm/simplenet-scalar.wasm"]) {
      assert.ok(parser.paths.includes(needed), `the parser package carries ${needed}`);
    }

    const app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    // Both tarballs in one install: the server's dependency on simplenet-parser is met by the packed one.
    const installed = run(npm, ["install", join(dir, parser.filename), join(dir, server.filename), "--prefer-offline", "--no-audit", "--no-fund"], app, INSTALL_TIMEOUT_MS);
    assert.is(installed.status, 0, `npm install <tarballs>: ${installed.stderr.slice(-2000)}`);
    assert.ok(existsSync(join(app, "node_modules/simplenet/build/Release/simplenet.node")), "the install built the addon");
    assert.not.match(installed.stderr, /EBADENGINE/, "no engine warnings");

    // The command, as the README runs it.
    const cli = spawn(npx, ["simplenet", "--port", "0", "--host", "127.0.0.1"], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const [, port] = await waitFor(cli, /listening on http:\/\/127\.0\.0\.1:(\d+)\//);
      assert.equal(await get(Number(port), "/hi"), { status: 200, body: "Hi" });
      assert.is((await get(Number(port), "/nope")).status, 404);
    } finally {
      await stop(cli);
    }

    // The API, and the parser entry point, imported by name.
    writeFileSync(join(app, "server.mjs"), `
      import { serve } from "simplenet";
      import { parseRequest } from "simplenet-parser";
      const parsed = parseRequest(new TextEncoder().encode("GET /x HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"));
      const server = await serve({ host: "127.0.0.1", port: 0, handler: (req, res) => res.json({ path: req.path, parsed: parsed.target }) });
      process.once("SIGTERM", () => server.close().then(() => process.exit(0)));
      console.log("ready " + server.port);
    `);
    const script = spawn(process.execPath, ["server.mjs"], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const [, port] = await waitFor(script, /ready (\d+)/);
      const r = await get(Number(port), "/from-the-package");
      assert.is(r.status, 200);
      assert.equal(JSON.parse(r.body), { path: "/from-the-package", parsed: "/x" });
    } finally {
      await stop(script);
    }
    assert.is(script.exitCode, 0, "the script closed its server and exited on SIGTERM");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
