// `node --import simplenet/node/register app.js`: Express's, Koa's and
// Fastify's own listen() make simplenet's server, and the apps answer their
// routes through it.
import { suite, assert } from "./support/uvu.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { exchange } from "./helpers.ts";
import { routeRequests } from "./fixtures/node-apps/routes.ts";

const test = suite("simplenet/node/register");
const root = new URL("../", import.meta.url).pathname;

/** Starts the fixture app; resolves with what it reports once listening. */
function start(app: string, register: boolean): Promise<{ child: ChildProcess; port: number; simplenet: boolean }> {
  const imports = ["--import", "tsx", ...(register ? ["--import", "./register/index.js"] : [])];
  const child = spawn(process.execPath, [...imports, "test/fixtures/node-apps/listen.ts", app], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${app} exited with ${code}`)));
    createInterface({ input: child.stdout! }).once("line", (line) => resolve({ child, ...JSON.parse(line) }));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners("exit");
    child.once("exit", () => resolve());
    child.kill();
  });
}

for (const app of ["express", "koa", "fastify"]) {
  test(`${app}'s own listen() serves on simplenet under the register hook`, async () => {
    const { child, port, simplenet } = await start(app, true);
    try {
      assert.is(simplenet, true);
      const requests = routeRequests();
      for (const route of ["params", "json body", "sent file", "404"] as const) {
        const { responses } = await exchange(port, [requests[route]], { idleMs: 300 });
        assert.is(responses[0].status, { params: 200, "json body": 201, "sent file": 200, "404": 404 }[route], `${app} ${route}`);
      }
    } finally {
      await stop(child);
    }
  });
}

test("without the hook the same app is on node:http", async () => {
  const { child, simplenet } = await start("express", false);
  await stop(child);
  assert.is(simplenet, false);
});

test.run();
