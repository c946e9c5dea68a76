// npm run bench:floor [-- --connections 50,256 --repeat 5 --duration 3]
// The kernel's floor: what a keep-alive request costs the server's core when
// the server does nothing but the system calls (floor.c, in C: epoll with one
// recv and one send per request, as simplenet does; or io_uring, one
// io_uring_enter per loop turn), against simplenet and uWebSockets.js in the
// same run. It says how much of simplenet's core time is the kernel's, how
// much is above it, and what an io_uring backend could save at most.
// Writes the "floor" section of bench/RESULTS.md with --write (else a file in bench/.results/).
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { ensurePeers, PEER_DIR } from "./peers.js";
import {
  Unsupported, aptInstall, buildSimplenet, busyTicks, coreTicks, startProcess, startServer, ticksBetween, totalTicks, TICK_SECONDS,
  type CoreTicks, type ServerProcess,
} from "./process.js";
import { command, machine, writeSection } from "./results.js";
import { median } from "./stats.js";
import { ensureWrk, parseWrk, runWrk, wrkLine, type Load } from "./wrk.js";

const { values: args } = parseArgs({
  options: {
    write: { type: "boolean", default: false },
    connections: { type: "string", default: "50,256" },
    repeat: { type: "string", default: "5" },
    duration: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
  },
});
const SERVER_CPU = 0;
const LOAD_CPU = 1;
const SOURCE = new URL("./floor.c", import.meta.url).pathname;
const BINARY = `${PEER_DIR}floor`;

interface Server { name: string; label: string; start(): Promise<ServerProcess> }
const SERVERS: Server[] = [
  { name: "epoll", label: "C, epoll + recv/send (floor.c epoll)", start: () => startProcess("epoll", [BINARY, "epoll"], SERVER_CPU) },
  { name: "uring", label: "C, io_uring (floor.c uring)", start: () => startProcess("uring", [BINARY, "uring"], SERVER_CPU) },
  { name: "simplenet", label: "simplenet", start: () => startServer("simplenet", SERVER_CPU) },
  { name: "uws", label: "uWebSockets.js", start: () => startServer("uws", SERVER_CPU) },
];

interface Run { rps: number; us: number; user: number; system: number; irq: number; steal: number; loadBusy: number }

/** floor.c built into bench/.peers (liburing's headers from apt-get where missing), again whenever the source is newer. */
function buildFloor(): void {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return;
  if (!existsSync("/usr/include/liburing.h")) aptInstall("liburing-dev");
  execFileSync("gcc", ["-O2", "-Wall", "-o", BINARY, SOURCE, "-luring"], { stdio: "inherit" });
}

async function measure(proc: ServerProcess, connections: number): Promise<Run> {
  const load: Load = { path: "/hi", connections, threads: 1, cpus: String(LOAD_CPU) };
  await runWrk(load, proc.port, Number(args.warmup));
  const before = coreTicks([SERVER_CPU, LOAD_CPU]);
  const w = parseWrk(await runWrk(load, proc.port, Number(args.duration)));
  const [server, loader] = coreTicks([SERVER_CPU, LOAD_CPU]).map((t, i) => ticksBetween(before[i], t));
  if (w.errors > 0) throw new Error(`${w.errors} errors under load`);
  const perRequest = (ticks: number) => (ticks * TICK_SECONDS * 1e6) / w.requests;
  return {
    rps: w.rps,
    // The core's own work; time the hypervisor gave to others (steal) is shown apart.
    us: perRequest(busyTicks(server) - server.steal),
    user: perRequest(server.user + server.nice),
    system: perRequest(server.system),
    irq: perRequest(server.irq + server.softirq),
    steal: perRequest(server.steal),
    loadBusy: busyTicks(loader) / Math.max(1, totalTicks(loader)),
  };
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–");

async function main(): Promise<void> {
  ensureWrk();
  ensurePeers();
  buildSimplenet();
  buildFloor();
  const counts = args.connections.split(",").map(Number);
  const repeat = Number(args.repeat);
  const runs = new Map<string, Run[]>();
  const notes: string[] = [];
  const skipped = new Set<string>();
  for (let rep = 0; rep < repeat; rep++) {
    for (const connections of counts) {
      // The order rotates from one repetition to the next, so that no server always runs first.
      for (let k = 0; k < SERVERS.length; k++) {
        const server = SERVERS[(k + rep) % SERVERS.length];
        if (skipped.has(server.name)) continue;
        let proc: ServerProcess;
        try {
          proc = await server.start();
        } catch (error) {
          if (!(error instanceof Unsupported)) throw error;
          skipped.add(server.name);
          notes.push(`${server.label}: skipped, ${error.message}.`);
          continue;
        }
        try {
          const run = await measure(proc, connections);
          const key = `${server.name}/${connections}`;
          runs.set(key, [...(runs.get(key) ?? []), run]);
          console.log(`${server.label}, ${connections} connections (run ${rep + 1}): ${fmt(run.rps, 0)} req/s, core ${fmt(run.us)} µs per request`);
        } finally {
          await proc.stop();
        }
      }
    }
  }

  const lines = [
    `## The kernel's floor (\`npm run bench:floor\`)`,
    "",
    machine(command("bench:floor"), [`- Load: \`${wrkLine({ threads: 1, connections: counts[0], cpus: String(LOAD_CPU) }, Number(args.duration))}\` (and ${counts.slice(1).map((c) => `-c${c}`).join(", ") || "no other count"}), GET /hi, after a ${args.warmup} s warm-up; every server alone on core ${SERVER_CPU}, in a fresh process per run; ${repeat} runs each, the order rotating`]),
    "",
    `Core ${SERVER_CPU}'s busy µs per request (medians, with the range over the runs; user, system and irq+softirq from /proc/stat; steal, the time the hypervisor ran something else, is not counted in and is shown apart), and how far each server sits above the C epoll server, which makes the same system calls as simplenet and nothing else.`,
  ];
  for (const connections of counts) {
    const floor = median((runs.get(`epoll/${connections}`) ?? []).map((r) => r.us));
    lines.push("", `### ${connections} connections`, "", "| server | req/s | core µs per request | user | system | irq+softirq | steal | above the epoll floor | wrk's core busy |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const server of SERVERS) {
      const rs = runs.get(`${server.name}/${connections}`) ?? [];
      if (rs.length === 0) continue;
      const us = rs.map((r) => r.us);
      const m = (key: keyof Run) => median(rs.map((r) => r[key]));
      const spread = `${fmt(Math.min(...us))}–${fmt(Math.max(...us))}`;
      lines.push(`| ${server.label} | ${fmt(m("rps"), 0)} | ${fmt(m("us"))} (${spread}) | ${fmt(m("user"))} | ${fmt(m("system"))} | ${fmt(m("irq"))} | ${fmt(m("steal"))} | ${server.name === "epoll" ? "–" : `${fmt(m("us") - floor)} µs`} | ${fmt(100 * m("loadBusy"), 0)}% |`);
    }
  }
  if (notes.length > 0) lines.push("", ...notes.map((n) => `- ${n}`));
  writeSection("floor", lines.join("\n"));
}

await main();
