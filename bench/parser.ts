// npm run bench:parser [-- --time 100 --rounds 50 --write]
// (--write: into bench/RESULTS.md; by default into bench/.results/)
// simplenet's wasm parser (SIMD and scalar) against Node's built-in llhttp
// and undici's llhttp wasm, on a 703-byte browser GET and a chunked POST.
// The two wasm parsers are measured alike: with the message already in their
// memory, and with it copied in before every parse.
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RESULT, SPAN } from "../parser/src/abi.js";
import { createParser, wasmUrl, type Build, type ParserInstance } from "../parser/src/parser-node.js";
import { Llhttp } from "../test/support/llhttp.js";
import { command, machine, writeSection } from "./results.js";

const { values: args } = parseArgs({
  options: { time: { type: "string", default: "100" }, rounds: { type: "string", default: "50" }, row: { type: "string" }, write: { type: "boolean", default: false } },
});
const ROUND_MS = Number(args.time);
const ROUNDS = Number(args.rounds);
const encoder = new TextEncoder();

/** A browser's GET with nine headers, padded by its cookie to 703 bytes: the shape of picohttpparser's classic bench request. */
function browserGet(): Uint8Array {
  const head = (cookie: string) =>
    "GET /images/2024/05/grumpy-cat-astronaut-poster-large.jpg HTTP/1.1\r\n" +
    "Host: www.catpictures.example\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n" +
    "Accept: image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5\r\n" +
    "Accept-Language: en-GB,en;q=0.7,de;q=0.3\r\n" +
    "Accept-Encoding: gzip, deflate, br\r\n" +
    "Accept-Charset: utf-8,iso-8859-1;q=0.7,*;q=0.5\r\n" +
    "Keep-Alive: 115\r\n" +
    "Connection: keep-alive\r\n" +
    `Cookie: ${cookie}\r\n\r\n`;
  const base = "visits=7; last_visit=1715000000; _ga=GA1.2.1234567890.1715000000; theme=dark; utm=(referral)|source=feeds.example|medium=referral; pad=";
  const text = head(base + "z".repeat(703 - head(base).length));
  if (text.length !== 703) throw new Error(`browser GET is ${text.length} bytes`);
  return encoder.encode(text);
}

/** A POST with a 4 KiB body in eight 512-byte chunks. */
function chunkedPost(): Uint8Array {
  let text = "POST /api/upload HTTP/1.1\r\nHost: api.example\r\nUser-Agent: bench/1.0\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (let i = 0; i < 8; i++) text += `200\r\n${String.fromCharCode(97 + i).repeat(512)}\r\n`;
  return encoder.encode(text + "0\r\n\r\n");
}

const MESSAGES = { "browser GET (703 B)": browserGet(), "chunked POST (4 KiB body)": chunkedPost() };
type MessageName = keyof typeof MESSAGES;

/** Parses one whole message; returns a number that depends on what it read, so nothing is optimized away. */
type ParseOnce = () => number;
/**
 * Where the message is when the parser starts: already in the parser's wasm
 * memory (where simplenet's server reads it), copied into that memory before
 * every parse (as undici's client does), or in a JS Buffer the parser reads
 * in place (Node's built-in parser).
 */
type Bytes = "in memory" | "copied in" | "JS Buffer";
interface Case {
  parser: string;
  mode: "spans only" | "with strings";
  bytes: Bytes;
  setup(message: Uint8Array, chunked: boolean): ParseOnce;
}

let sink = 0;

// ---- simplenet ---------------------------------------------------------

/** The parser as the server gets it under Node (parser-node.ts: Node's native latin1 decoder for strings), and its result table. */
function simplenet(build: Build): { parser: ParserInstance; table: number } {
  // ParserInstance keeps its view of the result table private. The module's layout is static, so any instance of
  // it tells where the table is; its slots are the ABI's (parser/src/abi.ts).
  const probe = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmUrl(build))), {});
  const table = (probe.exports.resultTable as () => number)() >> 2;
  return { parser: createParser({}, build), table };
}

function simplenetCase(build: Build, mode: Case["mode"], bytes: "in memory" | "copied in"): Case {
  return {
    parser: `simplenet ${build}`,
    mode,
    bytes,
    setup(message, chunked) {
      const { parser, table } = simplenet(build);
      const i32 = new Int32Array(parser.bytes.buffer);
      const ptr = parser.recv;
      const state = new Float64Array(3);
      // The decoder moves chunk data in place, so a chunked message is copied in before every pass in both modes.
      const copy = bytes === "copied in" || chunked;
      parser.bytes.set(message, ptr);
      const parseHead = (): number => {
        if (copy) parser.bytes.set(message, ptr);
        const n = parser.parseHead(ptr, message.length, 0);
        if (n <= 0) throw new Error(`simplenet ${build}: parseHead returned ${n}`);
        return n;
      };
      const readHead = (n: number): number => {
        if (mode === "with strings") {
          const h = parser.takeHead(ptr, n);
          let chars = h.method.length + h.target.length;
          for (let i = 0; i < h.headers.length; i++) chars += h.headers.name(i).length + h.headers.value(i).length;
          return chars;
        }
        let spans = i32[table + RESULT.METHOD_OFF] + i32[table + RESULT.TARGET_OFF] + i32[table + RESULT.TARGET_LEN];
        const count = i32[table + RESULT.HEADER_COUNT];
        for (let i = table + RESULT.FIELDS, end = i + count * SPAN.SLOTS; i < end; i += SPAN.SLOTS) {
          spans += i32[i + SPAN.NAME_OFF] + i32[i + SPAN.NAME_LEN] + i32[i + SPAN.VALUE_OFF] + i32[i + SPAN.VALUE_LEN];
        }
        return spans;
      };
      if (!chunked) return () => readHead(parseHead());
      return () => {
        const n = parseHead();
        const sum = readHead(n);
        state.fill(0);
        const r = parser.decodeChunked(ptr + n, message.length - n, state);
        if (r !== 1) throw new Error(`simplenet ${build}: decodeChunked returned ${r}`);
        const data = parser.chunkDataLength();
        return sum + (mode === "with strings" ? parser.bytes.subarray(ptr + n, ptr + n + data).length : data);
      };
    },
  };
}

// ---- Node's built-in llhttp ----------------------------------------------

/** Node's own parser (test/support/llhttp.ts drives it as node:http does), with the strings it hands node:http (headers as a flat array, the URL). */
const nodeCase: Case = {
  parser: "node llhttp (built-in)",
  mode: "with strings",
  bytes: "JS Buffer",
  setup(message) {
    let sum = 0;
    let complete = 0;
    const parser = new Llhttp({
      head(h) {
        for (const field of h.headers) sum += field.length;
        sum += h.target.length;
      },
      body(chunk) {
        sum += chunk.length;
      },
      end() {
        complete++;
      },
    });
    const buffer = Buffer.from(message);
    return () => {
      const before = complete;
      const n = parser.execute(buffer);
      if (n !== buffer.length || complete !== before + 1) throw new Error(`node llhttp: execute returned ${JSON.stringify(n)}`);
      return sum;
    };
  },
};

// ---- undici's llhttp wasm ------------------------------------------------

interface Llhttp {
  memory: WebAssembly.Memory;
  llhttp_alloc(type: number): number;
  llhttp_execute(parser: number, ptr: number, len: number): number;
  malloc(size: number): number;
}

/** Driven as undici's client does (copied in: the bytes go into its memory before each llhttp_execute); callbacks that only add up the spans. */
function undiciCase(file: string, label: string, bytes: "in memory" | "copied in"): Case {
  return {
    parser: label,
    mode: "spans only",
    bytes,
    setup(message) {
      const require = createRequire(import.meta.url);
      const bytes = require(`../node_modules/undici/lib/llhttp/${file}`) as Uint8Array<ArrayBuffer>;
      const { TYPE, ERROR } = require("../node_modules/undici/lib/llhttp/constants.js") as { TYPE: { REQUEST: number }; ERROR: { OK: number } };
      let spans = 0;
      let complete = 0;
      const span = (_p: number, at: number, len: number) => ((spans += at + len), 0);
      const env = {
        wasm_on_message_begin: () => 0,
        wasm_on_url: span,
        wasm_on_status: span,
        wasm_on_header_field: span,
        wasm_on_header_value: span,
        wasm_on_headers_complete: () => 0,
        wasm_on_body: span,
        wasm_on_message_complete: () => ((complete++), 0),
      };
      const llhttp = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env }).exports as unknown as Llhttp;
      const parser = llhttp.llhttp_alloc(TYPE.REQUEST);
      const ptr = llhttp.malloc(message.length);
      const view = new Uint8Array(llhttp.memory.buffer, ptr, message.length);
      view.set(message);
      const copy = bytes === "copied in";
      return () => {
        if (copy) view.set(message);
        const before = complete;
        const rc = llhttp.llhttp_execute(parser, ptr, message.length);
        if (rc !== ERROR.OK || complete !== before + 1) throw new Error(`${label}: llhttp_execute returned ${rc}`);
        return spans;
      };
    },
  };
}

// ---- measuring -----------------------------------------------------------

const CASES: Case[] = [];
for (const bytes of ["in memory", "copied in"] as const) {
  CASES.push(
    simplenetCase("simd", "spans only", bytes),
    simplenetCase("scalar", "spans only", bytes),
    undiciCase("llhttp_simd-wasm.js", "undici llhttp wasm (SIMD)", bytes),
    undiciCase("llhttp-wasm.js", "undici llhttp wasm (scalar)", bytes),
  );
}
CASES.push(simplenetCase("simd", "with strings", "in memory"), simplenetCase("scalar", "with strings", "in memory"));
CASES.push(simplenetCase("simd", "with strings", "copied in"), simplenetCase("scalar", "with strings", "copied in"), nodeCase);

/**
 * Messages per second of this process's CPU time over one round of ROUND_MS
 * of it: the machine is shared, and wall time would count the spells another
 * process held the core.
 */
function round(once: ParseOnce): number {
  let count = 0;
  const started = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let i = 0; i < 1000; i++) sink += once();
    count += 1000;
    const used = process.cpuUsage(started);
    elapsed = (used.user + used.system) / 1000;
  }
  return (count * 1000) / elapsed;
}

const ROWS = (Object.entries(MESSAGES) as [MessageName, Uint8Array][]).flatMap(([message, bytes]) => CASES.map((c) => ({ message, bytes, c })));

interface Result {
  c: Case;
  message: MessageName;
  rps: number;
  mbps: number;
}

/** The next message from a row's process. */
const reply = (child: ChildProcess) => new Promise<number>((resolve) => child.once("message", (m) => resolve(m as number)));

/** Messages per second for every row: the best of ROUNDS rounds, after one warm-up round. */
async function measure(): Promise<void> {
  const children = ROWS.map((_, k) => fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), "--row", String(k)]));
  await Promise.all(children.map(reply));
  const best = ROWS.map(() => 0);
  for (let r = 0; r <= ROUNDS; r++) {
    for (const [k, child] of children.entries()) {
      const answer = reply(child);
      child.send("round");
      const rps = await answer;
      if (r > 0) best[k] = Math.max(best[k], rps);
    }
  }
  for (const child of children) child.disconnect();

  const results: Result[] = ROWS.map(({ message, bytes, c }, k) => ({ c, message, rps: best[k], mbps: (best[k] * bytes.length) / 1e6 }));
  for (const { message, c, rps, mbps } of results) {
    console.log(`${message.padEnd(26)} ${c.parser.padEnd(28)} ${c.mode.padEnd(13)} ${c.bytes.padEnd(10)} ${fmt(rps).padStart(11)} req/s ${fmt(mbps).padStart(6)} MB/s`);
  }
  writeResults(results);
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function writeResults(results: Result[]): void {
  const find = (message: MessageName, parser: string, mode: Case["mode"], bytes: Bytes) =>
    results.find((r) => r.message === message && r.c.parser === parser && r.c.mode === mode && r.c.bytes === bytes)!.rps;
  /** Spans-only rows compare with undici's SIMD build with its bytes where theirs are; rows with strings with Node's built-in parser. */
  const reference = (r: Result) =>
    r.c.mode === "spans only" ? find(r.message, "undici llhttp wasm (SIMD)", "spans only", r.c.bytes)
    : find(r.message, "node llhttp (built-in)", "with strings", "JS Buffer");

  const lines = [
    "## Parser (`npm run bench:parser`)",
    "",
    machine(command("bench:parser"), [
      `- Best of ${ROUNDS} rounds of ${ROUND_MS} ms per row, after a warm-up round; one message parsed per call; each row in a process of its own, the rows taking turns round by round; rates per second of the row's CPU time`,
    ]),
    "",
    "Spans-only rows are compared with undici's llhttp SIMD wasm given its bytes the same way (already in its memory, or copied in before every parse); rows with strings with Node's built-in llhttp.",
    "",
    "| message | parser | mode | bytes | req/s | MB/s | ratio |",
    "| --- | --- | --- | --- | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    lines.push(`| ${r.message} | ${r.c.parser} | ${r.c.mode} | ${r.c.bytes} | ${fmt(r.rps)} | ${fmt(r.mbps)} | ${fmt(r.rps / reference(r), 2)}× |`);
  }
  lines.push(
    "",
    "- bytes \"in memory\": the message is already in the parser's wasm memory (where simplenet's server `read()`s it); \"copied in\": it is copied there before every parse (as undici's client does). The chunked POST is copied in on every pass in both modes for simplenet, because its decoder moves chunk data in place.",
    "- simplenet, spans only: `parseRequest`, then the result table is read (slots from parser/src/abi.ts).",
    "- simplenet, with strings: the same, then method, target and every header name and value become JS strings through `ParserInstance.takeHead` (parser/src/parser.ts), as a handler reading them all would.",
    "- undici: `llhttp_execute`, with `wasm_on_*` callbacks that only add up the spans.",
    "- node: `process.binding('http_parser')`, the parser node:http uses, driven as node:http drives it (test/support/llhttp.ts), with the header strings and URL it delivers; it reads the JS Buffer in place.",
    "",
    "Targets: spans only ≥ 2.5× undici's SIMD wasm; with strings ≥ 2× Node's built-in parser.",
  );
  writeSection("parser", lines.join("\n"));
}

// Each row runs in a process of its own (`--row k`), which measures a round
// whenever asked. In one process every simplenet row called the same
// parseHead and every undici row the same closure, so the JIT's feedback from
// earlier rows made a row's calls into wasm polymorphic: a row ran slower the
// later it came. The rows take turns round by round, so a spell of load on
// this shared machine falls on every row alike instead of on a few.
if (args.row !== undefined) {
  const { message, bytes, c } = ROWS[Number(args.row)];
  const once = c.setup(bytes, message.startsWith("chunked"));
  process.on("message", () => process.send!(round(once)));
  process.on("disconnect", () => {
    if (sink === 42) console.log(""); // keeps every result alive
  });
  process.send!(0); // ready
} else {
  await measure();
}
