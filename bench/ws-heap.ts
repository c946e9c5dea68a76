// node --expose-gc --import tsx bench/ws-heap.ts [-- --connections 10000]
// What one idle WebSocket holds on the JS heap, object by object: a server
// like bench:ws's (serve({ websocket }) with the same options and upgrade
// hook) takes a heap snapshot after a full GC, a child process opens
// CONNECTIONS idle WebSockets to it over 127.0.0.1, and a second snapshot is
// taken; the table is the difference, per connection, by kind of object
// (class name, or V8's name for arrays, strings, closures and hidden
// internals), largest first. Self sizes: they add up to the heap's growth.
// bench:ws's idle row measures RSS, which adds what lies outside the JS heap.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";

const { values: args } = parseArgs({
  options: {
    connections: { type: "string", default: "10000" },
    client: { type: "string" },
    top: { type: "string", default: "25" },
    keep: { type: "boolean", default: false },
  },
});
const N = Number(args.connections);
const CONCURRENCY = 200;
const HANDSHAKE = "GET /idle HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** The child: opens N WebSockets to the port, prints "open", holds them until its parent ends it. */
async function client(port: number): Promise<void> {
  const held: unknown[] = [];
  const openOne = (): Promise<void> => new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" }, () => socket.write(HANDSHAKE));
    let head = "";
    socket.setEncoding("latin1");
    socket.on("data", function onData(text: string) {
      head += text;
      if (!head.includes("\r\n\r\n")) return;
      if (!head.startsWith("HTTP/1.1 101")) return reject(new Error(head.split("\r\n")[0]));
      socket.off("data", onData);
      held.push(socket);
      resolve();
    });
    socket.once("error", reject);
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      next++;
      await openOne();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  process.stdout.write("open\n");
  process.stdin.resume(); // until the parent closes it
  process.stdin.once("end", () => process.exit(0));
}

interface Kind { count: number; bytes: number }

/** Objects of a snapshot by kind: "type name" → count and self size. */
function kinds(file: string): Map<string, Kind> {
  const snapshot = JSON.parse(readFileSync(file, "utf8"));
  const { node_fields: fields, node_types: types } = snapshot.snapshot.meta;
  const typeNames: string[] = types[0];
  const width = fields.length;
  const at = (name: string): number => fields.indexOf(name);
  const TYPE = at("type"), NAME = at("name"), SIZE = at("self_size");
  const nodes: number[] = snapshot.nodes;
  const strings: string[] = snapshot.strings;
  const out = new Map<string, Kind>();
  for (let i = 0; i < nodes.length; i += width) {
    const type = typeNames[nodes[i + TYPE]];
    // Strings by type only: their text is not a kind.
    const name = type === "string" || type === "concatenated string" || type === "sliced string" || type === "number" ? "" : strings[nodes[i + NAME]];
    const key = `${type} ${name}`.trim();
    const kind = out.get(key) ?? { count: 0, bytes: 0 };
    kind.count++;
    kind.bytes += nodes[i + SIZE];
    out.set(key, kind);
  }
  return out;
}

async function server(): Promise<void> {
  const { serve } = await import("../src/index.js");
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  const srv = await serve({
    host: "127.0.0.1",
    port: 0,
    handler: (_req, res) => res.end("Not Found\n"),
    limits: { maxConnections: 100_000 },
    websocket: {
      upgrade: (req) => ({ data: { path: req.path } }),
      message: (ws, message, isBinary) => void ws.send(message, { binary: isBinary }),
      maxPayloadLength: 16 * 1024 * 1024,
      idleTimeout: 900,
      perMessageDeflate: false,
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "ws-heap-"));
  const snap = async (name: string): Promise<string> => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    gc();
    gc();
    return writeHeapSnapshot(join(dir, name));
  };
  try {
    const before = kinds(await snap("before.heapsnapshot"));
    const child = spawn(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "--client", String(srv.port), "--connections", String(N)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("open") && resolve());
      child.once("exit", (code) => reject(new Error(`client exited (${code}) before opening ${N} WebSockets`)));
    });
    const after = kinds(await snap("after.heapsnapshot"));
    child.stdin.end();
    const rows: { key: string; count: number; bytes: number }[] = [];
    for (const [key, kind] of after) {
      const was = before.get(key) ?? { count: 0, bytes: 0 };
      rows.push({ key, count: (kind.count - was.count) / N, bytes: (kind.bytes - was.bytes) / N });
    }
    rows.sort((a, b) => b.bytes - a.bytes);
    const total = rows.reduce((sum, r) => sum + r.bytes, 0);
    console.log(`${N} idle WebSockets: JS heap +${total.toFixed(1)} bytes per socket (self sizes, after a full GC)\n`);
    console.log("| object | per socket | bytes per socket |");
    console.log("| --- | ---: | ---: |");
    const top = Number(args.top);
    for (const r of rows.slice(0, top)) console.log(`| ${r.key} | ${r.count.toFixed(2)} | ${r.bytes.toFixed(1)} |`);
    const rest = rows.slice(top).reduce((sum, r) => sum + r.bytes, 0);
    console.log(`| (the rest) | | ${rest.toFixed(1)} |`);
  } finally {
    if (args.keep) console.log(`\nsnapshots kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    await srv.close();
  }
}

if (args.client !== undefined) await client(Number(args.client));
else await server();
