// npm run bench:idle [-- --connections 10000 --servers simplenet,uws,node-http]
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
  /** RSS when started, after the first N, after they closed, after the second N; MiB. */
  rss: [number, number, number, number];
  openMs: number;
}

const perConnectionKiB = (fromMiB: number, toMiB: number): number => ((toMiB - fromMiB) * 1024) / N;

// Twice N connections, one batch after the other: the first batch's figure
// is what a fresh process pays, one-off growth included (V8 doubling its young
// generation, the JIT's compiler zones left in malloc's heap); the second
// batch, opened once the first has closed, is what each further idle
// connection costs a process that has run a while.
const rows: Row[] = [];
for (const name of args.servers.split(",")) {
  if (name !== "simplenet" && name !== "node-http" && name !== "fastify") ensurePeers();
  const server = await startServer(name, 0, { BENCH_KEEPALIVE_MS: "600000" });
  const rss = () => memoryKiB(server.pid, "VmRSS") / 1024;
  try {
    await sleep(SETTLE_MS);
    const started = rss();
    const first = await openConnections(server.port);
    await sleep(SETTLE_MS);
    const afterFirst = rss();
    first.close();
    await sleep(2 * SETTLE_MS);
    const between = rss();
    const second = await openConnections(server.port);
    await sleep(SETTLE_MS);
    const afterSecond = rss();
    second.close();
    const row: Row = { server: LABELS[name] ?? name, rss: [started, afterFirst, between, afterSecond], openMs: first.ms };
    rows.push(row);
    console.log(
      `${row.server.padEnd(10)} first ${N}: RSS ${started.toFixed(1)} -> ${afterFirst.toFixed(1)} MiB, ${perConnectionKiB(started, afterFirst).toFixed(2)} KiB each (opened in ${first.ms} ms); ` +
        `second ${N}: ${between.toFixed(1)} -> ${afterSecond.toFixed(1)} MiB, ${perConnectionKiB(between, afterSecond).toFixed(2)} KiB each`,
    );
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
  "| server | RSS at start MiB | after the first | per connection | after they closed | after the second | per connection | time to open the first |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map(({ server, rss: [a, b, c, d], openMs }) => `| ${server} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${perConnectionKiB(a, b).toFixed(2)} KiB | ${c.toFixed(1)} | ${d.toFixed(1)} | ${perConnectionKiB(c, d).toFixed(2)} KiB | ${openMs} ms |`),
  "",
  `RSS is VmRSS from /proc, ${SETTLE_MS} ms after the last connection of a batch opened (${2 * SETTLE_MS} ms after the first batch was closed); no garbage collection is forced, so garbage not yet collected counts too. The first batch's figure includes what a fresh process grows by once (V8's young generation doubling, the JIT's compiler memory); the second batch, opened after the first closed, is the cost of each further idle connection.`,
].join("\n"));
console.log("wrote bench/RESULTS.md");
