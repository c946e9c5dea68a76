// npm run bench:idle [-- --connections 10000 --servers simplenet,uws,node-http --write]
// (--write: into bench/RESULTS.md; by default into bench/.results/)
// What an idle keep-alive connection costs each server: RSS per connection
// and the time to open them all, each after one request and response.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { ensurePeers } from "./peers.js";
import { memoryKiB, startServer } from "./process.js";
import { command, machine, writeSection } from "./results.js";

const { values: args } = parseArgs({
  options: {
    write: { type: "boolean", default: false },
    connections: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "200" },
    servers: { type: "string", default: "simplenet,uws,node-http" },
  },
});
const N = Number(args.connections);
const SETTLE_MS = 1000;
const LABELS: Record<string, string> = { simplenet: "simplenet", uws: "uWS.js", "node-http": "node:http", fastify: "fastify" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The client process on core 1; resolves with the time it took to open every connection, and a way to end it. */
function openConnections(port: number): Promise<{ ms: number; close(): void }> {
  const file = new URL("./idle-client.ts", import.meta.url).pathname;
  const script = `(ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)") && exec taskset -c 1 "$0" --import tsx "$1" ${port} ${N} ${args.concurrency}`;
  const child = spawn("bash", ["-c", script, process.execPath, file], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const [word, ms] = line.split(" ");
      if (word === "open") resolve({ ms: Number(ms), close: () => child.kill("SIGTERM") });
    });
    child.once("exit", (code) => reject(new Error(`idle client exited (${code}) before opening ${N} connections`)));
  });
}

interface Row {
  server: string;
  beforeMiB: number;
  afterMiB: number;
  perConnectionKiB: number;
  openMs: number;
}

const rows: Row[] = [];
for (const name of args.servers.split(",")) {
  if (name !== "simplenet" && name !== "node-http" && name !== "fastify") ensurePeers();
  const server = await startServer(name, 0, { BENCH_KEEPALIVE_MS: "600000" });
  try {
    await sleep(SETTLE_MS);
    const before = memoryKiB(server.pid, "VmRSS");
    const client = await openConnections(server.port);
    await sleep(SETTLE_MS);
    const after = memoryKiB(server.pid, "VmRSS");
    client.close();
    const row = { server: LABELS[name] ?? name, beforeMiB: before / 1024, afterMiB: after / 1024, perConnectionKiB: (after - before) / N, openMs: client.ms };
    rows.push(row);
    console.log(`${row.server.padEnd(10)} RSS ${row.beforeMiB.toFixed(1)} -> ${row.afterMiB.toFixed(1)} MiB: ${row.perConnectionKiB.toFixed(2)} KiB per connection; ${N} opened in ${row.openMs} ms`);
  } finally {
    await server.stop();
  }
}

writeSection("idle", [
  "## Idle keep-alive connections (`npm run bench:idle`)",
  "",
  machine(command("bench:idle"), [
    `- ${N} connections from one node:net client process on core 1, ${args.concurrency} opening at a time, each after one GET /hi and its response; server on core 0`,
  ]),
  "",
  "| server | RSS before MiB | RSS after MiB | RSS per connection | time to open all |",
  "| --- | ---: | ---: | ---: | ---: |",
  ...rows.map((r) => `| ${r.server} | ${r.beforeMiB.toFixed(1)} | ${r.afterMiB.toFixed(1)} | ${r.perConnectionKiB.toFixed(2)} KiB | ${r.openMs} ms |`),
  "",
  `RSS is VmRSS from /proc, ${SETTLE_MS} ms after the last connection opened; no garbage collection is forced, so garbage not yet collected counts too. simplenet, quiet for 250 ms after the burst, has given the C heap's free pages back by then (\`trimWhenQuiet\`, on by default: glibc's malloc_trim, 4 MiB here); the peers keep theirs.`,
].join("\n"));
