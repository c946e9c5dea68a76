// npm run bench:hostile [-- --quick --attacks ws-fragments,http-slowloris --servers simplenet,uws --write]
// The hostile clients of issue 26 against simplenet, ws, uWebSockets.js and
// node:http. Each attack runs against each server in a fresh process (pinned
// to core 0); while it goes on, a well-behaved client connects afresh about
// once a second and times its answer. Per attack and server it prints the
// server's peak RSS, the CPU seconds it spent, the worst answer the fresh
// client got, who the server closed, and whether it still answers after.
// Writes bench/.results/hostile-<time>.md; with --write, the "hostile"
// section of bench/RESULTS.md instead.
import { parseArgs } from "node:util";
import { pick } from "./args.ts";
import type { Closures } from "./hostile/crowd.ts";
import { Meter, alive } from "./hostile/meter.ts";
import { httpProbe, wsProbe, type ProbeResult } from "./hostile/probe.ts";
import * as attacks from "./hostile/attacks.ts";
import { ensurePeers } from "./peers.ts";
import { Unsupported, buildSimplenet, startServer, type ServerProcess } from "./process.ts";
import { command, machine, writeSection } from "./results.ts";
import { sleep } from "./hostile/wire.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    attacks: { type: "string" },
    servers: { type: "string" },
    write: { type: "boolean", default: false },
  },
});
const quick = args.quick;

type Protocol = "http" | "ws";

const SERVERS = pick<{ name: string; label: string; protocols: Protocol[] }>([
  { name: "simplenet", label: "simplenet", protocols: ["http", "ws"] },
  { name: "ws", label: "ws", protocols: ["ws"] },
  { name: "uws", label: "uWS.js", protocols: ["http", "ws"] },
  { name: "node", label: "node:http", protocols: ["http"] },
], args.servers, "server");

/** The sizes, full and --quick: large enough that what a server holds per attacker shows, bounded in time. */
const SIZE = quick
  ? { sendMs: 4000, holdMs: 3000, probeEveryMs: 500, probeTimeoutMs: 2000, settleMs: 1500, many: 200 }
  : { sendMs: 15_000, holdMs: 8000, probeEveryMs: 1000, probeTimeoutMs: 5000, settleMs: 2000, many: 1000 };
const scale = (full: number) => (quick ? full / 10 : full);

interface Attack {
  name: string;
  protocol: Protocol;
  what: string;
  start(port: number, deadline: number): Promise<attacks.RunningAttack>;
}

const ATTACKS = pick<Attack>([
  {
    name: "ws-fragments", protocol: "ws", what: `one message as ${scale(1_000_000).toLocaleString("en")} 1-byte continuation frames, never finished`,
    start: (port, deadline) => attacks.wsFragments(port, { frames: scale(1_000_000), deadline }),
  },
  {
    name: "ws-backlog", protocol: "ws", what: `${scale(1_000_000).toLocaleString("en")} 16-byte messages to /echo from a client that never reads`,
    start: (port, deadline) => attacks.wsEchoBacklog(port, { messages: scale(1_000_000), deadline }),
  },
  {
    name: "ws-ping-flood", protocol: "ws", what: `${scale(200_000).toLocaleString("en")} 125-byte pings from a client that never reads`,
    start: (port, deadline) => attacks.wsPingFlood(port, { pings: scale(200_000), deadline }),
  },
  {
    name: "ws-slow-subscribers", protocol: "ws", what: `${quick ? 5 : 20} subscribers that never read, one publisher publishing ${scale(1000).toLocaleString("en")} messages of 64 KiB`,
    start: (port, deadline) => attacks.wsSlowSubscribers(port, { subscribers: quick ? 5 : 20, publishes: scale(1000), deadline }),
  },
  {
    name: "ws-deflate", protocol: "ws", what: `${scale(2000).toLocaleString("en")} pairs of a compressed message (1 MiB inflated) and a 64 KiB uncompressed one, from a client that never reads`,
    start: (port, deadline) => attacks.wsDeflate(port, { pairs: scale(2000), deadline }),
  },
  {
    name: "http-pipeline-tiny", protocol: "http", what: `${scale(2_000_000).toLocaleString("en")} pipelined GET /tiny from a client that never reads`,
    start: (port, deadline) => attacks.httpPipeline(port, { path: "/tiny", requests: scale(2_000_000), deadline }),
  },
  {
    name: "http-pipeline-big", protocol: "http", what: `${scale(1000).toLocaleString("en")} pipelined GET /big (1 MiB each) from a client that never reads`,
    start: (port, deadline) => attacks.httpPipeline(port, { path: "/big", requests: scale(1000), deadline }),
  },
  {
    name: "http-slowloris", protocol: "http", what: `${SIZE.many.toLocaleString("en")} sockets (the servers' maxConnections) sending a request head one byte every ${quick ? 1 : 3} s`,
    start: (port, deadline) => attacks.slowloris(port, { sockets: SIZE.many, everyMs: quick ? 1000 : 3000, deadline }),
  },
  {
    name: "ws-half-sent", protocol: "ws", what: `${(SIZE.many * 0.9).toLocaleString("en")} WebSockets each sending 1 KiB of a 1 MiB message, never the rest`,
    start: (port) => attacks.wsHalfSent(port, { sockets: SIZE.many * 0.9 }),
  },
], args.attacks, "attack");

interface Row {
  server: string;
  /** Bytes the attackers wrote (the kernel took them: a server that stops reading stops this). */
  sent: number;
  startMiB: number;
  peakMiB: number;
  cpu: number;
  fresh: ProbeResult[];
  closures: Closures[];
  after: string;
}

const probeFor = (protocol: Protocol) => (protocol === "http" ? httpProbe : wsProbe);

/** One attack against one fresh server process (`name`: its entry in SERVERS). */
async function run(attack: Attack, name: string, server: ServerProcess): Promise<Row | string> {
  const probe = probeFor(attack.protocol);
  // Once before the attack, unmeasured: the first answer of a fresh process is its slowest (code not compiled yet).
  await probe(server.port, SIZE.probeTimeoutMs);
  const meter = new Meter(server.pid);
  const started = Date.now();
  let running: attacks.RunningAttack;
  const fresh: ProbeResult[] = [];
  let attacking = true;
  // The fresh client starts with the attack (the sockets of slowloris and half-sent open first).
  const probing = (async () => {
    while (attacking) {
      const at = Date.now();
      fresh.push(await probe(server.port, SIZE.probeTimeoutMs));
      await sleep(Math.max(0, SIZE.probeEveryMs - (Date.now() - at)));
    }
  })();
  try {
    running = await attack.start(server.port, started + SIZE.sendMs);
  } catch (error) {
    attacking = false;
    await probing;
    meter.stop();
    return `could not attack: ${(error as Error).message}`;
  }
  const sent = await running.sent;
  await sleep(Math.max(0, started + SIZE.holdMs - Date.now()));
  attacking = false;
  await probing;
  running.stop();
  const cpu = meter.stop();
  const closures = await running.crowd.settle(SIZE.settleMs);
  running.crowd.destroy();
  return {
    server: name, sent, startMiB: meter.startKiB / 1024, peakMiB: meter.peakKiB / 1024, cpu, fresh, closures,
    after: await afterwards(server, attack.protocol),
  };
}

/** Whether the server lives and answers a fresh client once the attackers are gone. */
async function afterwards(server: ServerProcess, protocol: Protocol): Promise<string> {
  if (!alive(server.pid)) return "died";
  const answer = await probeFor(protocol)(server.port, 5000);
  if (!alive(server.pid)) return "died";
  return typeof answer === "number" ? "yes" : `alive, ${answer === "timeout" ? "does not answer" : "refuses"}`;
}

/** The worst answer of the fresh client: its slowest time when all were served, else how many failed and how. */
function freshCell(results: ProbeResult[]): string {
  if (results.length === 0) return "—";
  const failed = results.filter((r) => typeof r !== "number");
  if (failed.length === 0) return `${Math.round(Math.max(...(results as number[])))} ms (${results.length} ok)`;
  const kinds = [...new Set(failed)].join("/");
  return `${kinds} ${failed.length}/${results.length}`;
}

function closedCell(closures: Closures[]): string {
  return closures.map((c) => {
    const codes = [...c.codes].map(([code, n]) => (c.closed > 1 ? `${code}×${n}` : String(code))).join(", ");
    const refused = c.refused > 0 ? `, ${c.refused} refused` : "";
    return `${c.role} ${c.closed}/${c.total}${codes === "" ? "" : ` (${codes})`}${refused}`;
  }).join("; ");
}

const mib = (n: number) => `${Math.round(n)} MiB`;
const bytes = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} B`);

function table(rows: (Row | { server: string; skipped: string })[]): string {
  const lines = [
    "| server | attackers sent | peak RSS (at start) | CPU s | fresh client, worst | closed by the server | alive after |",
    "| --- | ---: | ---: | ---: | --- | --- | --- |",
  ];
  for (const r of rows) {
    const label = SERVERS.find((s) => s.name === r.server)?.label ?? r.server;
    if ("skipped" in r) lines.push(`| ${label} | ${r.skipped} | | | | | |`);
    else lines.push(`| ${label} | ${bytes(r.sent)} | ${mib(r.peakMiB)} (${mib(r.startMiB)}) | ${r.cpu.toFixed(2)} | ${freshCell(r.fresh)} | ${closedCell(r.closures) || "—"} | ${r.after} |`);
  }
  return lines.join("\n");
}

ensurePeers();
buildSimplenet();
const env = { HOSTILE_MAX_CONNECTIONS: String(SIZE.many) };
// The same heap limit for every server that runs on Node: a server that holds without bound dies of it, and the table says so.
const NODE_FLAGS = ["--max-old-space-size=512"];
const notes = new Set<string>();
const sections: string[] = [];
for (const attack of ATTACKS) {
  console.log(`\n### ${attack.name}: ${attack.what}\n`);
  const rows: (Row | { server: string; skipped: string })[] = [];
  for (const s of SERVERS.filter((s) => s.protocols.includes(attack.protocol))) {
    let server: ServerProcess;
    try {
      server = await startServer(`hostile-${s.name}`, 0, env, NODE_FLAGS);
    } catch (error) {
      if (!(error instanceof Unsupported)) throw error;
      rows.push({ server: s.name, skipped: `unsupported: ${error.message}` });
      continue;
    }
    for (const n of server.notes) notes.add(n);
    try {
      const row = await run(attack, s.name, server);
      rows.push(typeof row === "string" ? { server: s.name, skipped: row } : row);
    } finally {
      await server.stop();
    }
  }
  const section = `### ${attack.name}\n\n${attack.what}.\n\n${table(rows)}`;
  console.log(table(rows));
  sections.push(section);
}

const markdown = [
  "## Hostile clients (`npm run bench:hostile`)",
  "",
  machine(command("bench:hostile"), [
    `- ${quick ? "--quick: " : ""}sending stops after ${SIZE.sendMs / 1000} s; each attack lasts at least ${SIZE.holdMs / 1000} s; a fresh client every ${SIZE.probeEveryMs} ms, ${SIZE.probeTimeoutMs / 1000} s to answer; every Node server under --max-old-space-size=512`,
    ...[...notes].map((n) => `- ${n}`),
  ]),
  "",
  ...sections.flatMap((s) => [s, ""]),
].join("\n");
writeSection("hostile", markdown);
