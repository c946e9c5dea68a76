// An upgraded connection on its own watcher (http/tunnel-connection.ts): the
// 101 hands the socket over once the responses before it have left, with the
// tunnel's writes of the meantime after them, and the server keeps counting,
// bounding and closing it as one of its sockets.
import { suite, assert } from "./support/uvu.ts";
import { serve, type ServeOptions, type Server, type Tunnel } from "../src/index.ts";
import { open, sleep } from "./helpers.ts";

const test = suite("tunnel");

const request = (line: string, ...fields: string[]): string => `${line}\r\n${["Host: a", ...fields].map((f) => `${f}\r\n`).join("")}\r\n`;
const UPGRADE = request("GET /up HTTP/1.1", "Connection: upgrade", "Upgrade: echo");

async function withServer(options: Partial<ServeOptions>, body: (server: Server) => Promise<void>): Promise<void> {
  const server = await serve({ port: 0, host: "127.0.0.1", handler: (_req, res) => res.end("plain"), ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

async function until(what: string, ready: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !ready(); await sleep(10)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

test("an upgrade pipelined behind a slow response: the 101 follows it, then what the tunnel wrote meanwhile, then the echo", async () => {
  let finishSlow = (): void => {};
  let tunnel: Tunnel | null = null;
  const drains: string[] = [];
  await withServer({
    handler: (_req, res) => {
      finishSlow = () => res.end("slow");
    },
    upgrade: (_req, res) => {
      tunnel = res.upgrade();
      const wrote = tunnel.write(new TextEncoder().encode("[hello]"));
      drains.push(`write returned ${wrote}`);
      tunnel.ondrain = () => drains.push("drain");
      tunnel.ondata = (bytes) => tunnel!.write(new TextEncoder().encode(`<${new TextDecoder().decode(bytes)}>`));
    },
  }, async (server) => {
    const client = await open(server.port);
    let text = "";
    client.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    client.write(request("GET /slow HTTP/1.1") + UPGRADE + "early");
    await until("the upgrade hook", () => tunnel !== null);
    await sleep(50);
    assert.is(text, "", "nothing goes before the slow response");
    assert.is(server.connectionCount, 1);
    finishSlow();
    client.write("later");
    await until("the echoes", () => text.includes("<later>"));
    const [slow, rest] = text.split("HTTP/1.1 101 Switching Protocols\r\n");
    assert.match(slow, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nslow$/);
    assert.ok(rest.endsWith("\r\n\r\n[hello]<early><later>"), JSON.stringify(rest));
    assert.equal(drains, ["write returned false", "drain"], "a write that waited for the 101 is followed by a drain");
    assert.is(server.connectionCount, 1, "the tunnel is still counted once");
    const closed = new Promise((resolve) => client.on("close", resolve));
    tunnel!.end();
    await closed;
    await until("the count", () => server.connectionCount === 0);
  });
});

test("a tunnel whose client stops reading: its bytes are held and counted, then the write deadline closes it", async () => {
  let closedAt = 0;
  let queued = 0;
  await withServer({
    timeouts: { write: 300 },
    upgrade: (_req, res) => {
      const tunnel = res.upgrade();
      tunnel.onclose = () => (closedAt = Date.now());
      const chunk = new Uint8Array(64 * 1024);
      while (tunnel.write(chunk)) if (tunnel.bufferedAmount > 64 << 20) break;
      queued = tunnel.bufferedAmount;
    },
  }, async (server) => {
    const client = await open(server.port);
    client.pause(); // never reads
    client.write(UPGRADE);
    await until("the tunnel's writes", () => queued > 0);
    const start = Date.now();
    assert.ok(server.heldBytes >= queued, `held ${server.heldBytes} of the ${queued} queued`);
    await until("the write deadline", () => closedAt !== 0, 3000);
    assert.ok(closedAt - start >= 250, `closed after ${closedAt - start} ms, before the deadline`);
    assert.is(server.heldBytes, 0, "nothing held once it is closed");
    await until("the count", () => server.connectionCount === 0);
    client.destroy();
  });
});

test("a tunnel that reads but has nothing waiting is not closed by the write deadline", async () => {
  let closed = false;
  await withServer({
    timeouts: { write: 100 },
    upgrade: (_req, res) => {
      const tunnel = res.upgrade();
      tunnel.onclose = () => (closed = true);
    },
  }, async (server) => {
    const client = await open(server.port);
    client.resume();
    client.write(UPGRADE);
    await sleep(400);
    assert.is(closed, false);
    assert.is(server.connectionCount, 1);
    client.destroy();
  });
});

test.run();
