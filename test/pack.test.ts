// The package as a user gets it: scripts/prebuild.sh (what `prepack` runs:
// the prebuilt linux-x64 and linux-arm64 addons, cached by the shim's hash in
// node_modules/.cache/, so only a changed shim costs its ~30 s of compiling),
// `npm pack` of both packages, then `npm install <tarballs>` in an empty
// folder with CC=false CXX=false (no compiler: the prebuilt binary must load),
// then `npx simplenet` and an `import { serve } from "simplenet"` script, each
// answering real requests on 127.0.0.1 and stopped by PID. The same script
// runs under an arm64 Node in qemu-user, and a second install compiles the
// addon from source (--build-from-source), the fallback where no binary fits.
//
// The installs run with --prefer-offline: the dependencies come from npm's
// cache when they are there, as they are after the project's own install.
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
/** Packing and installing take seconds; the prebuild and the install from source compile (tens of seconds on a slow machine). */
const PACK_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 240_000;
/** What a user downloads and unpacks, with room to grow; over it, something that should not ship is in a package. */
const BUDGET = {
  server: { packed: 320_000, unpacked: 1_000_000 },
  parser: { packed: 80_000, unpacked: 300_000 },
};

function run(cmd: string, args: string[], cwd: string, timeout: number, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, timeout, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false", ...env } });
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
const qemu = command("qemu-aarch64");
const armNode = join(root, "node_modules/.cache/simplenet-node/node_modules/node-arm64/bin/node");
/** The arm64 system libraries Debian's cross-compiler brings (libc6-arm64-cross): qemu-user's -L. */
const armSysroot = "/usr/aarch64-linux-gnu";

const SERVER_SCRIPT = `
  import { serve } from "simplenet";
  import { parseRequest } from "simplenet-parser";
  const parsed = parseRequest(new TextEncoder().encode("GET /x HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"));
  const server = await serve({ host: "127.0.0.1", port: 0, handler: (req, res) => res.json({ path: req.path, parsed: parsed.target, arch: process.arch }) });
  process.once("SIGTERM", () => server.close().then(() => process.exit(0)));
  console.log("ready " + server.port);
`;

/** Runs server.mjs in app (with node, or a command line before it), asks it one request, stops it: its answer. */
async function serveOnce(app: string, argv: string[]): Promise<{ path: string; parsed: string; arch: string }> {
  const script = spawn(argv[0], [...argv.slice(1), "server.mjs"], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
  try {
    const [, port] = await waitFor(script, /ready (\d+)/);
    const r = await get(Number(port), "/from-the-package");
    assert.is(r.status, 200);
    return JSON.parse(r.body);
  } finally {
    await stop(script);
    assert.is(script.exitCode, 0, "the script closed its server and exited on SIGTERM");
  }
}

/** Tarballs made once for the tests below. */
let packed: { dir: string; server: string; parser: string } | undefined;

test.after(() => {
  if (packed !== undefined) rmSync(packed.dir, { recursive: true, force: true });
});

/** A fresh folder with both tarballs installed in it, with env added to npm's. */
function install(name: string, env: Record<string, string>, flags: string[] = []): { app: string; stderr: string; stdout: string } {
  const app = join(packed!.dir, name);
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  writeFileSync(join(app, "server.mjs"), SERVER_SCRIPT);
  // Both tarballs in one install: the server's dependency on simplenet-parser is met by the packed one.
  const installed = run(npm, ["install", packed!.parser, packed!.server, "--prefer-offline", "--no-audit", "--no-fund", "--foreground-scripts", ...flags], app, INSTALL_TIMEOUT_MS, env);
  assert.is(installed.status, 0, `npm install <tarballs>: ${installed.stderr.slice(-2000)} ${installed.stdout.slice(-2000)}`);
  assert.not.match(installed.stderr, /EBADENGINE/, "no engine warnings");
  return { app, stderr: installed.stderr, stdout: installed.stdout };
}

requires(test, npm && npx ? null : "npm and npx on PATH", "prebuild, npm pack: what each package carries (no test, bench, fuzz, source or debug build), within its size budget", () => {
  const started = performance.now();
  const prebuilt = run("bash", [join(root, "scripts/prebuild.sh")], root, INSTALL_TIMEOUT_MS);
  assert.is(prebuilt.status, 0, `scripts/prebuild.sh: ${prebuilt.stderr.slice(-2000)}`);
  console.log(`  scripts/prebuild.sh: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const dir = mkdtempSync(join(tmpdir(), "simplenet-pack-"));
  packed = { dir, server: "", parser: "" };
  // --ignore-scripts: pack what the build made (dist/, prebuilds/, parser/dist/, parser/wasm/) without `prepare` rebuilding them.
  const pack = (cwd: string): { filename: string; paths: string[]; size: number; unpackedSize: number } => {
    const out = run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], cwd, PACK_TIMEOUT_MS);
    assert.is(out.status, 0, `npm pack: ${out.stderr}`);
    const [{ filename, files, size, unpackedSize }] = JSON.parse(out.stdout) as { filename: string; files: { path: string }[]; size: number; unpackedSize: number }[];
    return { filename, paths: files.map((f) => f.path), size, unpackedSize };
  };
  const server = pack(root);
  for (const needed of ["dist/index.js", "dist/cli.js", "prebuilds/linux-x64/simplenet.glibc.node", "prebuilds/linux-arm64/simplenet.glibc.node",
    "binding.gyp", "shim/syscalls.cc", "scripts/install.js", "scripts/build-addon.js"]) {
    assert.ok(server.paths.includes(needed), `the package carries ${needed}`);
  }
  const unwanted = /debug|\.map$|^test\/|^src\/|^bench\/|^fuzz\/|^build\/|^parser\/|^assembly\/|\.wasm$|^scripts\/(?!install\.js$|build-addon\.js$)/;
  assert.equal(server.paths.filter((p) => unwanted.test(p)), [], "no debug build, source map, sources, tests, benchmarks, fuzzing, local build or parser files");
  const parser = pack(join(root, "parser"));
  for (const needed of ["dist/parser.js", "dist/parser-node.js", "wasm/simplenet.wasm", "wasm/simplenet-scalar.wasm"]) {
    assert.ok(parser.paths.includes(needed), `the parser package carries ${needed}`);
  }
  assert.equal(parser.paths.filter((p) => /debug|\.map$|^test\/|^src\/|^bench\/|^fuzz\/|\.wat$/.test(p)), [], "no debug build, source map, sources or tests in the parser package");
  console.log(`  packed: simplenet ${server.size} bytes (${server.unpackedSize} unpacked), simplenet-parser ${parser.size} (${parser.unpackedSize})`);
  assert.ok(server.size <= BUDGET.server.packed && server.unpackedSize <= BUDGET.server.unpacked, `simplenet: ${server.size} / ${server.unpackedSize} bytes over ${JSON.stringify(BUDGET.server)}`);
  assert.ok(parser.size <= BUDGET.parser.packed && parser.unpackedSize <= BUDGET.parser.unpacked, `simplenet-parser: ${parser.size} / ${parser.unpackedSize} bytes over ${JSON.stringify(BUDGET.parser)}`);
  packed = { dir, server: join(dir, server.filename), parser: join(dir, parser.filename) };
});

/** The app folder the tarballs were installed into without a compiler. */
let installedApp: string | undefined;

requires(test, npm && npx ? null : "npm and npx on PATH", "npm install <tarballs> with CC=false CXX=false: the prebuilt addon loads, npx simplenet and import { serve } answer", async () => {
  assert.ok(packed?.server, "packed by the test before");
  const { app } = install("app", { CC: "false", CXX: "false" });
  assert.not.ok(existsSync(join(app, "node_modules/simplenet/build")), "nothing was compiled");

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
  assert.equal(await serveOnce(app, [process.execPath]), { path: "/from-the-package", parsed: "/x", arch: process.arch });

  installedApp = app;
});

const armReady = process.arch !== "x64" ? "an x64 machine (arm64 runs under qemu-user there)"
  : qemu !== "" && existsSync(armNode) && existsSync(armSysroot) ? null
  : "qemu-aarch64, the arm64 Node and the arm64 libraries: run scripts/test-deps.sh";
requires(test, armReady, "the same install on arm64: an arm64 Node under qemu-user loads prebuilds/linux-arm64/", async () => {
  assert.ok(installedApp, "installed by the test before");
  assert.equal(await serveOnce(installedApp!, [qemu, "-L", armSysroot, armNode]), { path: "/from-the-package", parsed: "/x", arch: "arm64" });
});

requires(test, npm && command("c++") && command("make") ? null : "npm, a C++ compiler and make", "npm install --build-from-source: the fallback compiles the addon and it serves", async () => {
  assert.ok(packed?.server, "packed by the test before");
  const { app, stdout } = install("from-source", {}, ["--build-from-source"]);
  assert.match(stdout, /compiling it from source/);
  assert.ok(existsSync(join(app, "node_modules/simplenet/build/Release/simplenet.node")), "the install built the addon");
  assert.equal(await serveOnce(app, [process.execPath]), { path: "/from-the-package", parsed: "/x", arch: process.arch });
});

test.run();
