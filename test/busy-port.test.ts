// serve() on an address another listener holds: the error says which
// address, as Node's own listen() does, so a log line is enough to act on.
import { suite, assert } from "./support/uvu.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../src/index.ts";

const test = suite("busy-port");
const hi = (_req: unknown, res: { end(body: string): void }): void => res.end("Hi");

test("a busy TCP port: EADDRINUSE from bind, naming host:port", async () => {
  const first = await serve({ host: "127.0.0.1", port: 0, handler: hi });
  try {
    const error = await serve({ host: "127.0.0.1", port: first.port, handler: hi }).then(() => null, (e: Error & { code: string; syscall: string; address: string }) => e);
    assert.ok(error !== null, "the second serve() failed");
    assert.equal([error!.code, error!.syscall, error!.address], ["EADDRINUSE", "bind", `127.0.0.1:${first.port}`]);
    assert.is(error!.message, `bind failed: EADDRINUSE 127.0.0.1:${first.port}`);
  } finally {
    await first.close();
  }
});

test("an IPv6 address is bracketed", async () => {
  const first = await serve({ host: "::1", port: 0, handler: hi });
  try {
    const error = await serve({ host: "::1", port: first.port, handler: hi }).then(() => null, (e: Error) => e);
    assert.is(error?.message, `bind failed: EADDRINUSE [::1]:${first.port}`);
  } finally {
    await first.close();
  }
});

test("a Unix socket path another server listens on: the error names the path", async () => {
  const dir = mkdtempSync(join(tmpdir(), "simplenet-busy-"));
  try {
    const path = join(dir, "taken");
    const first = await serve({ path, handler: hi });
    try {
      // A live listener's file is not stale, so it is not replaced.
      const error = await serve({ path, handler: hi }).then(() => null, (e: Error) => e);
      assert.is(error?.message, `bind failed: EADDRINUSE ${path}`);
    } finally {
      await first.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
