// The compiled router against the list-scanning router it replaced (kept here
// as the oracle, in outline: a list per host kept most specific first, each
// pattern's segments matched against the split path): the same answer (the
// handler and its params, a redirect, 404, or 405 with Allow) for generated
// route sets and requests, over real sockets.
import { suite, assert } from "./support/uvu.ts";
import { Router, serve, type Handler } from "../src/index.ts";
import { Rel, cleanPath, compare, decodeSegment, parsePattern, type Route } from "../src/app/route-pattern.ts";
import { exchange } from "./helpers.ts";

const test = suite("router-oracle");

interface Answer { status: number; route?: string; params?: string; location?: string; allow?: string }

/** The router before compilation, answering instead of responding. */
class ListRouter {
  private readonly hostRoutes: Route[] = [];
  private readonly routes: Route[] = [];

  handle(pattern: string): void {
    const route = parsePattern(pattern, () => {});
    const list = route.host === "" ? this.routes : this.hostRoutes;
    let at = 0;
    for (let i = 0; i < list.length; i++) {
      const other = list[i];
      if (other.host !== route.host) continue;
      const rel = compare(route, other);
      if (rel === Rel.Equivalent || rel === Rel.Overlaps) throw new Error(`conflict: ${pattern} with ${other.pattern}`);
      if (rel === Rel.MoreGeneral) at = i + 1;
    }
    list.splice(at, 0, route);
  }

  answer(method: string, target: string, hostField: string | null): Answer {
    const path = target.charCodeAt(0) === 0x2f ? target.split("?")[0] : new URL(target).pathname;
    const query = target.includes("?") ? target.slice(target.indexOf("?")) : "";
    let host = hostField ?? "";
    if (target.charCodeAt(0) !== 0x2f) host = new URL(target).host;
    const port = host.lastIndexOf(":");
    if (port >= 0 && port > host.lastIndexOf("]")) host = host.slice(0, port);
    host = host.toLowerCase();
    const clean = cleanPath(path);
    if (clean !== path) return { status: 301, location: clean + query };
    const segments = path.slice(1).split("/");
    const match = this.find(host, method, segments);
    if ((match === null || !match.exact) && !path.endsWith("/")) {
      const slashed = this.find(host, method, [...segments, ""]);
      if (slashed !== null && slashed.exact) return { status: 301, location: `${path}/${query}` };
    }
    if (match === null) {
      const methods = new Set<string>();
      for (const route of [...this.hostRoutes, ...this.routes]) {
        if ((route.host === "" || route.host === host) && matchPath(route, segments) !== null) methods.add(route.method);
      }
      if (methods.has("GET")) methods.add("HEAD");
      return methods.size === 0 ? { status: 404 } : { status: 405, allow: [...methods].sort().join(", ") };
    }
    return { status: 200, route: match.route.pattern, params: JSON.stringify(match.params) };
  }

  private find(host: string, method: string, segments: string[]) {
    const lists = host === "" ? [this.routes] : [this.hostRoutes.filter((r) => r.host === host), this.routes];
    for (const list of lists) {
      for (const route of list) {
        if (route.method !== "" && route.method !== method && !(route.method === "GET" && method === "HEAD")) continue;
        const match = matchPath(route, segments);
        if (match !== null) return match;
      }
    }
    return null;
  }
}

function matchPath(route: Route, segments: string[]): { route: Route; params: Record<string, string>; exact: boolean } | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const seg = route.segments[i];
    if (i >= segments.length) return null;
    const text = segments[i];
    if (seg.kind === "literal" && decodeSegment(text) !== seg.text) return null;
    if (seg.kind === "wild") {
      if (text === "") return null;
      params[seg.text] = decodeSegment(text);
    }
    if (seg.kind === "end" && (text !== "" || i !== segments.length - 1)) return null;
    if (seg.kind === "multi") {
      const rest = segments.slice(i);
      if (seg.text !== "") params[seg.text] = rest.map(decodeSegment).join("/");
      return { route, params, exact: rest.length === 1 && rest[0] === "" };
    }
  }
  return segments.length === route.segments.length ? { route, params, exact: true } : null;
}

/** A small deterministic generator (mulberry32), so a failure names a case that comes back. */
function random(seed: number): <T>(items: readonly T[]) => T {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (items) => items[Math.floor(next() * items.length)];
}

const PATTERN_METHODS = ["", "", "GET ", "GET ", "HEAD ", "POST "];
const PATTERN_HOSTS = ["", "", "", "example.com", "Ex.ORG"];
const PATTERN_SEGMENTS = ["a", "hi", "%61", "x%2Fy", "%2E", "{x}", "{y}"];
const PATTERN_ENDS = ["", "", "{$}", "{rest...}", "a", "{z}"];
const PATH_SEGMENTS = ["a", "a", "b", "b", "hi", "hi", "%61", "A", "x%2Fy", "x", "x", "%zz", "%2e", "", "", ".", ".."];
const METHODS = ["GET", "GET", "HEAD", "POST", "DELETE"];
const HOSTS = ["example.com", "EXAMPLE.com:8080", "ex.org", "other.net", "[::1]:8080", "exaMple.com."];

function generatedPattern(pick: ReturnType<typeof random>): string {
  const segments = Array.from({ length: pick([0, 1, 1, 2, 2, 3]) }, () => pick(PATTERN_SEGMENTS));
  return `${pick(PATTERN_METHODS)}${pick(PATTERN_HOSTS)}/${[...segments, pick(PATTERN_ENDS)].join("/")}`;
}

/** A pattern of literals only, from more words than generatedPattern's: enough for many such paths in one table. */
function literalPattern(pick: ReturnType<typeof random>): string {
  const segments = Array.from({ length: pick([2, 3, 3]) }, () => pick(["a", "b", "c", "d", "e", "hi", "%61", "x%2Fy", "%2E", "%25"]));
  return `${pick(PATTERN_METHODS)}${pick(["", "", "", "example.com"])}/${segments.join("/")}`;
}

/** A path one of the patterns matches, or nearly (a segment more, or the trailing slash left off). */
function pathFor(pattern: string, pick: ReturnType<typeof random>): string {
  const path = pattern.slice(pattern.indexOf("/"));
  const segments = path.split("/").slice(1).map((s) => (s === "{$}" ? "" : s.endsWith("...}") ? pick(["", "a/b", "%62"]) : s.startsWith("{") ? pick(["a", "hi", "x%2Fy"]) : s));
  const near = pick(["", "", "", "/a", "unslash"]);
  const spelled = `/${segments.join("/")}`;
  return near === "unslash" ? spelled.replace(/\/$/, "") || "/" : spelled + near;
}

function generatedRequest(pick: ReturnType<typeof random>, patterns: string[]): { method: string; target: string; host: string } {
  const path = patterns.length > 0 && pick([0, 1]) === 1
    ? pathFor(pick(patterns), pick)
    : `/${Array.from({ length: pick([1, 1, 2, 2, 3, 4]) }, () => pick(PATH_SEGMENTS)).join("/")}`;
  const target = `${path}${pick(["", "", "?q=1"])}`;
  const host = pick(HOSTS);
  // Now and then the absolute form, whose authority wins over the Host field.
  return { method: pick(METHODS), target: pick([0, 0, 0, 0, 1]) === 1 ? `http://${pick(HOSTS)}${target}` : target, host };
}

/** The handler of every route: says which pattern answered and with what params, in fields (HEAD has no body). */
const reporting = (pattern: string): Handler => (req, res) => {
  res.setHeader("X-Route", encodeURIComponent(pattern));
  res.setHeader("X-Params", encodeURIComponent(JSON.stringify(req.params)));
  res.end();
};

test("generated route sets and requests: the same answers as the list router, the same patterns refused", async () => {
  let compared = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const pick = random(seed);
    const oracle = new ListRouter();
    const router = new Router();
    const patterns: string[] = [];
    // Now and then many patterns, first of literals only: more such paths than the table compares one by one.
    const many = seed % 4 === 0;
    for (let i = 0; i < (many ? 50 : 8); i++) {
      const pattern = many && i < 36 ? literalPattern(pick) : generatedPattern(pick);
      let refused = "";
      try {
        oracle.handle(pattern);
      } catch (error) {
        refused = (error as Error).message;
      }
      let refusedNow = "";
      try {
        router.handle(pattern, reporting(pattern));
      } catch (error) {
        refusedNow = (error as Error).message;
      }
      assert.is(refusedNow !== "", refused !== "", `seed ${seed}: ${pattern} after ${patterns.join(", ")}: ${refused || refusedNow}`);
      if (refused === "") patterns.push(pattern);
    }
    const requests = Array.from({ length: 40 }, () => generatedRequest(pick, patterns));
    const server = await serve({ port: 0, host: "127.0.0.1", handler: router.handler });
    try {
      const heads = requests.map((r, i) => `${r.method} ${r.target} HTTP/1.1\r\nHost: ${r.host}\r\n${i === requests.length - 1 ? "Connection: close\r\n" : ""}\r\n`);
      const { responses } = await exchange(server.port, [heads.join("")], { gapMs: 0 });
      assert.is(responses.length, requests.length, `seed ${seed}: every request answered`);
      requests.forEach((r, i) => {
        const got = responses[i];
        const answer: Answer = { status: got.status };
        if (got.headers["x-route"] !== undefined) answer.route = decodeURIComponent(got.headers["x-route"]);
        if (got.headers["x-params"] !== undefined) answer.params = decodeURIComponent(got.headers["x-params"]);
        if (got.headers.location !== undefined) answer.location = got.headers.location;
        if (got.headers.allow !== undefined) answer.allow = got.headers.allow;
        const hostField = r.host;
        assert.equal(answer, oracle.answer(r.method, r.target, hostField), `seed ${seed}: ${r.method} ${r.target} Host: ${r.host}, routes ${patterns.join(", ")}`);
        compared++;
      });
    } finally {
      await server.close();
    }
  }
  assert.ok(compared >= 4000, `${compared} requests compared`);
});

test.run();
