// The WebSocket server against real clients: the `ws` package's client,
// Debian's python3-websockets (test/fixtures/ws-client.py) and headless
// Chromium's WebSocket (through playwright-core). Each sends text, binary,
// fragmented (where the client can), and compressed messages
// (permessage-deflate, negotiated with the client's own offer), and closes
// with a code both ways.
import { suite, assert } from "./support/uvu.ts";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromiumMissing, resultOfPage } from "./support/chromium.ts";
import WebSocketClient from "ws";
import { serve, type Server } from "../src/index.ts";
import { command, requires } from "./support/requires.ts";

const test = suite("websocket interop");

/** An echo server that records what its sockets saw; "close-me" makes it close with 4002. */
async function echoServer(page?: string): Promise<{ server: Server; closes: [number, string][]; extensions: string[]; origins: (string | null)[] }> {
  const closes: [number, string][] = [];
  const extensions: string[] = [];
  const origins: (string | null)[] = [];
  const server = await serve({
    host: "127.0.0.1", port: 0,
    handler: (_req, res) => {
      res.setHeader("Content-Type", "text/html");
      res.end(page ?? "no page");
    },
    websocket: {
      perMessageDeflate: true,
      upgrade: (req) => {
        origins.push(req.headers.get("origin"));
        return {};
      },
      open: (ws) => void extensions.push(ws.extensions),
      message: (ws, message, isBinary) => {
        if (message === "close-me") return ws.end(4002, "server says bye");
        ws.send(message, { binary: isBinary });
      },
      close: (_ws, code, reason) => void closes.push([code, reason]),
    },
  });
  return { server, closes, extensions, origins };
}

async function waitFor(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < ms; await new Promise((r) => setTimeout(r, 10))) if (check()) return true;
  return check();
}

// ---- ws --------------------------------------------------------------------

test("ws client: text, binary, fragmented, compressed, ping, close codes both ways", async () => {
  const { server, closes, extensions } = await echoServer();
  try {
    const client = new WebSocketClient(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: { threshold: 0 } });
    const inbox: { data: Buffer | string; isBinary: boolean }[] = [];
    client.on("message", (data: Buffer, isBinary: boolean) => void inbox.push({ data: isBinary ? data : data.toString("utf8"), isBinary }));
    await new Promise<void>((resolve, reject) => {
      client.once("open", () => resolve());
      client.once("error", reject);
    });
    assert.match(client.extensions, /permessage-deflate/, "the ws client's offer was accepted");
    const next = async (): Promise<{ data: Buffer | string; isBinary: boolean }> => {
      assert.ok(await waitFor(() => inbox.length > 0), "an echo came back");
      return inbox.shift()!;
    };
    client.send("hello from ws");
    assert.equal(await next(), { data: "hello from ws", isBinary: false });
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    client.send(bytes);
    const echoed = await next();
    assert.ok(echoed.isBinary && Buffer.compare(echoed.data as Buffer, bytes) === 0, "binary echoed");
    // Fragmented: fin false, then the last fragment (compressed as one message).
    client.send("frag", { fin: false });
    client.send("men", { fin: false });
    client.send("ted", { fin: true });
    assert.equal(await next(), { data: "fragmented", isBinary: false });
    client.send("uncompressed", { compress: false });
    assert.equal(await next(), { data: "uncompressed", isBinary: false });
    const big = "compress me, ".repeat(5000);
    client.send(big);
    assert.equal(await next(), { data: big, isBinary: false }, "a big message, compressed both ways");
    const pong = new Promise<Buffer>((resolve) => client.once("pong", resolve));
    client.ping("ws-ping");
    assert.is((await pong).toString(), "ws-ping");
    const closed = new Promise<[number, string]>((resolve) => client.once("close", (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    client.close(4001, "ws bye");
    assert.equal(await closed, [4001, ""], "the server echoes the code");
    assert.ok(await waitFor(() => closes.length === 1));
    assert.equal(closes[0], [4001, "ws bye"], "the server saw the client's code and reason");

    // The server closes.
    const second = new WebSocketClient(`ws://127.0.0.1:${server.port}/`);
    await new Promise((resolve) => second.once("open", resolve));
    const secondClosed = new Promise<[number, string]>((resolve) => second.once("close", (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    second.send("close-me");
    assert.equal(await secondClosed, [4002, "server says bye"]);
    assert.ok(await waitFor(() => closes.length === 2));
    assert.equal(closes[1], [4002, "server says bye"]);
    assert.match(extensions[0], /^permessage-deflate/);
  } finally {
    await server.close();
  }
});

test("ws client with context takeover both ways (dedicated compressor and decompressor)", async () => {
  const server = await serve({
    host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("no"),
    websocket: {
      perMessageDeflate: { compressor: "dedicated", decompressor: "dedicated", threshold: 0 },
      message: (ws, message, isBinary) => void ws.send(message, { binary: isBinary }),
    },
  });
  try {
    const client = new WebSocketClient(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: { threshold: 0 } });
    const inbox: string[] = [];
    client.on("message", (data: Buffer) => void inbox.push(data.toString("utf8")));
    await new Promise<void>((resolve, reject) => {
      client.once("open", () => resolve());
      client.once("error", reject);
    });
    assert.match(client.extensions, /^permessage-deflate/);
    assert.not.match(client.extensions, /no_context_takeover/, "contexts are kept both ways");
    const messages = Array.from({ length: 8 }, (_, i) => `the same words, again and again, round ${i % 3}. `.repeat(100));
    for (const m of messages) client.send(m);
    assert.ok(await waitFor(() => inbox.length === messages.length), `${inbox.length} echoes`);
    assert.equal(inbox, messages);
    const closed = new Promise<number>((resolve) => client.once("close", (code: number) => resolve(code)));
    client.close(1000);
    assert.is(await closed, 1000);
  } finally {
    await server.close();
  }
});

// ---- python3-websockets ------------------------------------------------------

/** A python3 on PATH that can import websockets (Debian's package installs it for the system's python3). */
function pythonWithWebsockets(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const python = join(dir, "python3");
    if (dir === "" || !existsSync(python)) continue;
    if (spawnSync(python, ["-c", "import websockets"], { stdio: "ignore", timeout: 10_000 }).status === 0) return python;
  }
  return "";
}
const python = pythonWithWebsockets();

requires(test, python === "" ? "needs python3 with the websockets module: run scripts/test-deps.sh as root (Debian's python3-websockets package)" : null,
  "python3-websockets client: text, binary, fragmented, compressed, ping, close codes both ways", async () => {
    const { server, closes, extensions } = await echoServer();
    try {
      const script = fileURLToPath(new URL("fixtures/ws-client.py", import.meta.url));
      const child = spawn(python, [script, `ws://127.0.0.1:${server.port}/`], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c) => (stdout += c));
      child.stderr.on("data", (c) => (stderr += c));
      const timer = setTimeout(() => child.kill(), 20_000);
      const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
      clearTimeout(timer);
      assert.is(status, 0, `the client ran: ${stderr}`);
      const out = JSON.parse(stdout);
      assert.match(out.extensions, /^permessage-deflate/, "compression negotiated");
      assert.is(out.text, "hello from python");
      assert.is(out.binary, true);
      assert.is(out.fragmented, "fragmented κόσμε");
      assert.is(out.compressed, true);
      assert.is(out.pong, true);
      assert.is(out.closeCode, 4003);
      assert.equal(out.serverClose, [4002, "server says bye"]);
      assert.ok(await waitFor(() => closes.length === 2));
      assert.equal(closes[0], [4003, "python bye"]);
      assert.match(extensions[0], /^permessage-deflate/);
    } finally {
      await server.close();
    }
  });

// ---- Chromium ----------------------------------------------------------------

const page = `<!doctype html><script type="module">
const url = "ws://" + location.host + "/socket";
const open = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => resolve(ws);
  ws.onerror = () => reject(new Error("error"));
});
const next = (ws) => new Promise((resolve) => (ws.onmessage = (e) => resolve(e.data)));
const closed = (ws) => new Promise((resolve) => (ws.onclose = (e) => resolve([e.code, e.reason, e.wasClean])));
const result = {};
try {
  const ws = await open();
  result.extensions = ws.extensions;
  ws.send("hello from chromium");
  result.text = await next(ws);
  ws.send(new Uint8Array([0, 1, 2, 253, 254, 255]).buffer);
  result.binary = Array.from(new Uint8Array(await next(ws)));
  const big = "compress me, ".repeat(5000) + "κόσμε";
  ws.send(big);
  result.compressed = (await next(ws)) === big;
  const bigBinary = new Uint8Array(100000).fill(7);
  ws.send(bigBinary);
  const back = new Uint8Array(await next(ws));
  result.compressedBinary = back.length === 100000 && back.every((b) => b === 7);
  const done = closed(ws);
  ws.close(4004, "chromium bye");
  result.clientClose = await done;
  const ws2 = await open();
  const done2 = closed(ws2);
  ws2.send("close-me");
  result.serverClose = await done2;
} catch (e) {
  result.error = String(e);
}
window.result = result;
</script>`;

requires(test, chromiumMissing,
  "Chromium's WebSocket: text, binary, compressed, close codes both ways (a browser cannot fragment)", async () => {
    const { server, closes, extensions, origins } = await echoServer(page);
    try {
      const result = await resultOfPage<Record<string, unknown>>(`http://127.0.0.1:${server.port}/`, 15_000);
      assert.is(result.error, undefined, String(result.error));
      assert.match(String(result.extensions), /^permessage-deflate/, "Chromium's offer accepted");
      assert.is(result.text, "hello from chromium");
      assert.equal(result.binary, [0, 1, 2, 253, 254, 255]);
      assert.is(result.compressed, true);
      assert.is(result.compressedBinary, true);
      assert.equal(result.clientClose, [4004, "", true], "the server echoes the code (not the reason); a clean close");
      assert.equal(result.serverClose, [4002, "server says bye", true]);
      assert.ok(await waitFor(() => closes.length === 2));
      assert.equal(closes[0], [4004, "chromium bye"]);
      assert.equal(origins[0], `http://127.0.0.1:${server.port}`, "the upgrade hook sees the page's Origin");
      assert.match(extensions[0], /^permessage-deflate/);
    } finally {
      await server.close();
    }
  });

test.run();
