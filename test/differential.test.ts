// Differential test against Node's own llhttp (process.binding("http_parser")):
// seeded generated requests, most of them mutated, parsed by both. Where
// both accept, every message must agree (method, target, version, headers,
// body, trailers, boundaries); where one accepts and the other rejects, the
// input must fall in a category of DISAGREEMENTS. Anything else fails and
// prints the input.
import { suite, assert } from "./support/uvu.ts";
import { createParser, type ParserInstance } from "../src/parser.ts";
import { projectStream, type Message, type Projection } from "./support/llhttp-corpus.ts";

const SEED = 0x5eed;
const INPUTS = 10000;
const BUDGET_MS = 8000;

// ---- llhttp, as Node's http module drives it ------------------------------

interface NodeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Uint8Array): number | (Error & { code: string });
  close(): void;
  [callback: number]: (...args: never[]) => unknown;
}
interface Binding {
  HTTPParser: { new (): NodeParser; REQUEST: number; kLenientNone: number } & Record<string, number>;
  methods: string[];
}

function loadBinding(): Binding {
  const quiet = process.noDeprecation;
  process.noDeprecation = true; // process.binding is deprecated (DEP0111); this test needs it on purpose
  try {
    return (process as unknown as { binding(name: string): Binding }).binding("http_parser");
  } finally {
    process.noDeprecation = quiet;
  }
}

const { HTTPParser, methods: LLHTTP_METHODS } = loadBinding();

/** llhttp's projection: the same shape as our parser's (see support/llhttp-corpus.ts). */
function projectLlhttp(input: Uint8Array): Projection & { llhttpCode?: string } {
  const parser = new HTTPParser();
  const messages: Message[] = [];
  let current: Message | null = null;
  let headersDone = false;
  let upgrade = false;
  let pending: string[] = [];
  let url = "";
  const pairs = (flat: string[]): [string, string][] => {
    const out: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
    return out;
  };
  parser[HTTPParser.kOnMessageBegin] = () => {
    current = { method: "", target: "", version: "", headers: [], body: "", trailers: [] };
    headersDone = false;
    pending = [];
    url = "";
  };
  parser[HTTPParser.kOnHeaders] = (headers: string[], part: string) => {
    if (headersDone) current!.trailers.push(...pairs(headers));
    else {
      pending.push(...headers);
      url += part;
    }
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    major: number, minor: number, headers: string[] | undefined, method: number, target: string | undefined,
    _status: unknown, _message: unknown, isUpgrade: boolean,
  ) => {
    const m = current!;
    m.version = `${major}.${minor}`;
    m.method = LLHTTP_METHODS[method];
    m.target = url + (target ?? "");
    m.headers = pairs([...pending, ...(headers ?? [])]);
    headersDone = true;
    upgrade = isUpgrade;
  };
  parser[HTTPParser.kOnBody] = (chunk: Uint8Array) => {
    current!.body += String.fromCharCode(...chunk);
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    messages.push(current!);
    current = null;
  };
  parser.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
  const r = parser.execute(input);
  parser.close();
  if (typeof r !== "number") {
    const outcome = r.code === "HPE_CLOSED_CONNECTION" ? "closed" : "error";
    return { messages, outcome, llhttpCode: r.code };
  }
  if (upgrade && current === null) return { messages, outcome: "upgrade" };
  return { messages, outcome: current !== null ? "incomplete" : "end" };
}

// ---- inputs ---------------------------------------------------------------

/** mulberry32: small, seeded, good enough to pick test inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly random: () => number) {}
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  text(n: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 -_.\r\n\0\xff"): string {
    let s = "";
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

const METHODS = ["GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "M-SEARCH", "PROPFIND", "BREW"];
const TARGETS = ["/", "/a/b?c=d&e=f", "/%20x", "/p;q=1", "/~u/x.y", "http://h.example/x?y", "/a#frag", "/\"q\"", "/a|b"];
const FIELDS: [string, string][] = [
  ["User-Agent", "gen/1.0 (test)"], ["Accept", "*/*"], ["Accept-Encoding", "gzip, br"], ["Cookie", "a=b; c=d"],
  ["X-Empty", ""], ["X-Token", "abc123"], ["X-Spaced", "a  b\tc"], ["X-Obs", "caf\xe9"], ["Cache-Control", "no-cache"],
  ["Content-Type", "text/plain"], ["Expect", "100-continue"], ["Connection", "keep-alive"], ["Connection", "close"],
];

function message(g: Gen): string {
  const method = g.pick(METHODS);
  const version = g.chance(0.85) ? "1.1" : "1.0";
  const target = method === "OPTIONS" && g.chance(0.3) ? "*" : g.pick(TARGETS);
  const lines = [`${method} ${target} HTTP/${version}`];
  if (version === "1.1" || g.chance(0.5)) lines.push(`Host: ${g.pick(["h.example", "h.example:8080", "[::1]:80", "127.0.0.1"])}`);
  for (let n = g.int(4); n > 0; n--) {
    const [name, value] = g.pick(FIELDS);
    lines.push(`${name}:${g.pick(["", " ", "  ", "\t"])}${value}${g.pick(["", "", " "])}`);
  }
  let body = "";
  const framing = method === "GET" || method === "HEAD" ? g.int(4) === 0 ? 1 : 0 : g.int(3);
  if (framing === 1) {
    const data = g.text(g.int(20));
    lines.push(`Content-Length: ${g.chance(0.1) ? "0" : ""}${data.length}`);
    body = data;
  } else if (framing === 2 && version === "1.1") {
    lines.push("Transfer-Encoding: chunked");
    for (let n = g.int(3); n > 0; n--) {
      const data = g.text(1 + g.int(17));
      const size = data.length.toString(16);
      const ext = g.pick(["", "", ";a", ";a=b", ';a="q d"']);
      body += `${g.chance(0.2) ? size.toUpperCase().padStart(3, "0") : size}${ext}\r\n${data}\r\n`;
    }
    body += g.chance(0.2) ? "0\r\nX-Trailer: t\r\n\r\n" : "0\r\n\r\n";
  }
  return lines.join("\r\n") + "\r\n\r\n" + body;
}

const INSERTS = ["\r", "\n", " ", "\0", ":", "0", "9", "\t", "\r\n", "a", "\x7f", ";", "\""];

function mutate(g: Gen, s: string): string {
  const at = g.int(s.length + 1);
  switch (g.int(5)) {
    case 0: // flip a byte
      return s.slice(0, at) + String.fromCharCode(g.int(256)) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + g.pick(INSERTS) + s.slice(at);
    case 2:
      return s.slice(0, at) + s.slice(at + 1 + g.int(3));
    case 3: { // duplicate a header line
      const lines = s.split("\r\n");
      const head = lines.indexOf("");
      if (head < 2) return s;
      const k = 1 + g.int(head - 1);
      lines.splice(k, 0, lines[k]);
      return lines.join("\r\n");
    }
    default: // a byte from the edges of the classes
      return s.slice(0, at) + g.pick(["\x01", "\x1f", "\x80", "(", "@", "[", "{", "/", "?", "#", "%", "\\"]) + s.slice(at + 1);
  }
}

function* inputs(seed: number, count: number): Generator<string> {
  const g = new Gen(prng(seed));
  for (let i = 0; i < count; i++) {
    let s = message(g);
    if (g.chance(0.2)) s += (g.chance(0.3) ? "\r\n" : "") + message(g);
    const mutations = g.chance(0.15) ? 0 : 1 + g.int(2);
    for (let m = 0; m < mutations; m++) s = mutate(g, s);
    yield s;
  }
}

// ---- comparison -----------------------------------------------------------

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

interface Pair {
  input: string;
  ours: Projection;
  theirs: Projection & { llhttpCode?: string };
}

/** How many messages both completed before they part. */
const common = (p: Pair): number => Math.min(p.ours.messages.length, p.theirs.messages.length);

/** The input from the first message the two parsers do not both complete. */
function parting(p: Pair): string {
  const n = common(p);
  return p.input.slice(n > 0 ? p.ours.ends![n - 1] : 0);
}

/** Whether we took that message (completed it, or wait for more of it). */
const oursTakes = (p: Pair): boolean => p.ours.messages.length > common(p) || p.ours.outcome === "incomplete";

/** Its request line, so far. */
function requestLine(p: Pair): string {
  const rest = parting(p).replace(/^(\r\n)+/, "");
  return rest.slice(0, rest.search(/\r?\n|$/));
}

/** Its header section, so far. */
function headLines(p: Pair): string[] {
  const rest = parting(p).replace(/^(\r\n)+/, "");
  const end = rest.indexOf("\r\n\r\n");
  return (end < 0 ? rest : rest.slice(0, end)).split("\r\n").slice(1);
}

const isVchar = (s: string): boolean => /^[\x21-\x7e]+$/.test(s);

/**
 * Accept/reject disagreements, each with why. The same reasons as the
 * conformance table (test/conformance.test.ts) where they overlap.
 */
const DISAGREEMENTS: readonly { reason: string; applies(p: Pair): boolean }[] = [
  {
    reason: "RFC 9112 §3.2: Host missing in an HTTP/1.1 request (llhttp does not check)",
    applies: (p) => p.ours.code === "MISSING_HOST",
  },
  {
    reason: "RFC 9112 §3.2, RFC 9110 §7.2: Host repeated or not a valid uri-host[:port] (llhttp does not check)",
    applies: (p) => p.ours.code === "DUPLICATE_HOST" || p.ours.code === "BAD_HOST",
  },
  {
    reason: "a method is any token (RFC 9110 §9.1); llhttp knows a fixed list",
    applies: (p) => {
      const method = requestLine(p).split(" ")[0];
      return p.theirs.llhttpCode === "HPE_INVALID_METHOD" && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method) && !LLHTTP_METHODS.includes(method);
    },
  },
  {
    reason: "RFC 9112 §3.2: the target's form must fit the method (origin or absolute form; asterisk only for OPTIONS, authority only for CONNECT)",
    applies: (p) => p.ours.code === "BAD_TARGET" && isVchar(requestLine(p).split(" ")[1] ?? ""),
  },
  {
    reason: "RFC 9112 §3: one SP between the parts of the request line (llhttp takes several)",
    applies: (p) => / {2,}/.test(requestLine(p)) && ["BAD_TARGET", "BAD_VERSION"].includes(p.ours.code ?? ""),
  },
  {
    reason: "HTTP/0.9 (a request line without a version) is rejected; llhttp reads one",
    applies: (p) => p.ours.code === "HTTP09",
  },
  {
    reason: "RFC 9112 §2.2: lines end in CRLF; a lone CR or LF before a request line is not an empty line (llhttp skips it)",
    applies: (p) => ["BARE_CR", "BARE_LF"].includes(p.ours.code ?? "") && /^(\r\n)*(\r(?!\n)|\n)/.test(parting(p)),
  },
  {
    reason: "what framing fields mean (Content-Length, Transfer-Encoding) is checked once the head is complete; llhttp checks each as it arrives",
    applies: (p) => {
      if (p.ours.outcome !== "incomplete" || !/^HPE_(INVALID|UNEXPECTED)_(CONTENT_LENGTH|TRANSFER_ENCODING)$/.test(p.theirs.llhttpCode ?? "")) return false;
      // The head so far, ended: we reject it for the same field.
      const head = parting(p);
      const ended = projectStream(createParser(), [bytes(head.slice(0, head.lastIndexOf("\r\n") + 2) + "\r\n")]);
      return /CONTENT_LENGTH|TRANSFER_ENCODING|TRANSFER_CODING|LENGTH_AND_CHUNKED/.test(ended.code ?? "");
    },
  },
  {
    reason: "Transfer-Encoding in two field lines is refused (one field, ending in chunked); llhttp combines them",
    applies: (p) => p.ours.code === "BAD_TRANSFER_ENCODING" && headLines(p).filter((l) => /^transfer-encoding:/i.test(l)).length > 1,
  },
  {
    reason: "RFC 9112 §9.6: Connection: close closes, even beside keep-alive (llhttp lets keep-alive win in HTTP/1.0)",
    applies: (p) => p.ours.outcome === "closed" && p.ours.messages.at(-1)!.headers.some(([n, v]) => /^connection$/i.test(n) && /close/i.test(v)),
  },
  {
    reason: "a target may hold any VCHAR around its form's structure (fragment; | \" { } in path and query), as llhttp allows in origin-form; llhttp's absolute-form parser is narrower",
    applies: (p) => {
      const target = requestLine(p).split(" ")[1] ?? "";
      return p.theirs.llhttpCode === "HPE_INVALID_URL" && isVchar(target) && !target.startsWith("/");
    },
  },
  {
    reason: "RFC 9112 §7.1.1: a chunk extension needs a name, and a value after \"=\" (llhttp lets \";;\" and \"a=\" through)",
    applies: (p) => p.ours.code === "BAD_CHUNK_EXTENSION" && p.theirs.outcome !== "error",
  },
  {
    reason: "RFC 9112 §7.1.1: whitespace (BWS) around \";\" and \"=\" in a chunk extension is allowed; llhttp refuses it",
    applies: (p) => oursTakes(p) && /^HPE_(STRICT|INVALID_CHUNK_SIZE)$/.test(p.theirs.llhttpCode ?? "") &&
      /\r\n[0-9a-fA-F]+([ \t]+;|;[^\r\n]*[ \t])/.test(parting(p)),
  },
  {
    reason: "RFC 9112 §5: whitespace after a field value is not part of it; this Node's llhttp refuses a tab after Content-Length's or Transfer-Encoding's value (llhttp 9.4's corpus accepts it)",
    applies: (p) => oursTakes(p) && /^HPE_INVALID_(CONTENT_LENGTH|TRANSFER_ENCODING)$/.test(p.theirs.llhttpCode ?? "") &&
      headLines(p).some((l) => /^(content-length|transfer-encoding):.*\t[ \t]*$/i.test(l)),
  },
  {
    reason: "RFC 9112 §2.3: only HTTP/1.0 and HTTP/1.1 (505); llhttp also takes 0.9 and 2.0",
    applies: (p) => p.ours.code === "VERSION_NOT_SUPPORTED",
  },
  {
    reason: "RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is faulty framing",
    applies: (p) => p.ours.code === "BAD_TRANSFER_ENCODING" && / HTTP\/1\.0$/.test(requestLine(p)),
  },
];

function agreeing(a: Projection, b: Projection): boolean {
  return JSON.stringify([a.messages, a.outcome]) === JSON.stringify([b.messages, b.outcome]);
}

/** The messages both completed agree, and so does the outcome, up to the first rejection. */
function explain(p: Pair): string | null {
  if (agreeing(p.ours, p.theirs)) return "agree";
  const n = common(p);
  if (JSON.stringify(p.ours.messages.slice(0, n)) !== JSON.stringify(p.theirs.messages.slice(0, n))) return null;
  // Closing the connection refuses what follows, as an error does.
  const oursRejects = (p.ours.outcome === "error" || p.ours.outcome === "closed") && p.ours.messages.length === n;
  const theirsRejects = p.theirs.outcome === "error" && p.theirs.messages.length === n;
  if (!oursRejects && !theirsRejects) return null;
  return DISAGREEMENTS.find((d) => d.applies(p))?.reason ?? null;
}

const test = suite("differential: our parser and Node's llhttp");

test("generated and mutated requests: both-accept agree, disagreements are categorised", () => {
  const parser: ParserInstance = createParser();
  const started = performance.now();
  const counts = new Map<string, number>();
  const unexplained: string[] = [];
  let inputs_ = 0;
  let bothAccept = 0;
  let unfinishedHeads = 0;
  const pick = prng(SEED + 1);
  for (const input of inputs(SEED, INPUTS)) {
    if (performance.now() - started > BUDGET_MS) break;
    inputs_++;
    const data = bytes(input);
    const pair: Pair = { input, ours: projectStream(parser, [data]), theirs: projectLlhttp(data) };
    const cut = 1 + Math.floor(pick() * (data.length - 1));
    const pieces = [data.subarray(0, cut), data.subarray(cut)];
    const piecewise = projectStream(parser, pieces);
    if (!agreeing(piecewise, pair.ours)) {
      // A fault in a head that has not ended is found once it ends (see the conformance table).
      const unfinished = pair.ours.outcome === "error" && piecewise.outcome === "incomplete" &&
        projectStream(parser, [...pieces, bytes("\r\n\r\n")]).outcome === "error";
      if (!unfinished) unexplained.push(`split at ${cut}: ${JSON.stringify(input)}\n  whole  ${JSON.stringify(pair.ours)}\n  pieces ${JSON.stringify(piecewise)}`);
      else unfinishedHeads++;
    }
    const why = explain(pair);
    if (why === "agree" && pair.ours.outcome !== "error") bothAccept++;
    if (why === null) {
      if (unexplained.length < 10) {
        unexplained.push(`input  ${JSON.stringify(input)}\n  ours   ${JSON.stringify(pair.ours)}\n  llhttp ${JSON.stringify(pair.theirs)}`);
      }
      counts.set("unexplained", (counts.get("unexplained") ?? 0) + 1);
      continue;
    }
    counts.set(why, (counts.get(why) ?? 0) + 1);
  }
  console.log(`\n  differential: ${inputs_} inputs (seed ${SEED}), ${bothAccept} accepted by both and equal, ${counts.get("agree") ?? 0} agree in all; ` +
    `ours fed in two pieces: same as whole but for ${unfinishedHeads} heads that never end`);
  for (const [why, n] of counts) if (why !== "agree") console.log(`    ${String(n).padStart(5)}  ${why}`);
  assert.ok(inputs_ >= 1000, `only ${inputs_} inputs in the time budget`);
  assert.ok(bothAccept >= inputs_ / 10, `too few inputs both accept (${bothAccept}): the generator is off`);
  assert.is(unexplained.length, 0, `unexplained disagreements:\n  ${unexplained.join("\n  ")}`);
});

test.run();
