// A route's pattern, Go 1.22 ServeMux style: "[METHOD ][HOST]/[PATH]", where a
// path segment may be a wildcard {name}, the last one may be {name...} (the
// rest of the path) or {$} (the end), and a trailing slash makes the pattern
// match the whole subtree. Parsing, and how two patterns relate (which one is
// more specific, or whether they conflict): work done once, when a route is added.
import type { Handler } from "../http/handler.js";

export const enum Rel { Equivalent, MoreGeneral, MoreSpecific, Overlaps, Disjoint }

/** A path segment of a pattern. */
export interface Segment {
  /** literal: a decoded segment; end: {$}; multi: {name...}, or the empty segment after a trailing slash. */
  kind: "literal" | "wild" | "multi" | "end";
  /** The literal's text, or the wildcard's name ("" for a trailing slash). */
  text: string;
}

export interface Route {
  pattern: string;
  /** "" matches every method. */
  method: string;
  /** Lower case; "" matches every host. */
  host: string;
  segments: Segment[];
  /** Some segment is a named wildcard: the match has params to fill in. */
  hasParams: boolean;
  handler: Handler;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const IDENTIFIER = /^[\p{L}_][\p{L}\p{Nd}_]*$/u;

export function parsePattern(pattern: string, handler: Handler): Route {
  const fail = (why: string): never => {
    throw new Error(`invalid pattern "${pattern}": ${why}`);
  };
  let rest = pattern;
  let method = "";
  const space = rest.search(/[ \t]/);
  if (space >= 0) {
    method = rest.slice(0, space);
    rest = rest.slice(space).trimStart();
    if (!TOKEN.test(method)) fail(`bad method "${method}"`);
  }
  const slash = rest.indexOf("/");
  if (slash < 0) fail("the path must begin with /");
  const host = rest.slice(0, slash).toLowerCase();
  if (host.includes("{")) fail("the host cannot have wildcards");
  const path = rest.slice(slash);
  if (cleanPath(path) !== path) fail("the path is not clean (no //, /./ or /../)");
  const parts = path.slice(1).split("/");
  const segments: Segment[] = [];
  const names = new Set<string>();
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (part === "") {
      if (!last) fail("empty segment");
      segments.push({ kind: "multi", text: "" }); // a trailing slash: the whole subtree
      return;
    }
    if (!part.includes("{") && !part.includes("}")) {
      segments.push({ kind: "literal", text: decodeSegment(part) });
      return;
    }
    if (!part.startsWith("{") || !part.endsWith("}") || part.indexOf("}") !== part.length - 1) {
      fail(`a wildcard must be a whole segment: "${part}"`);
    }
    let name = part.slice(1, -1);
    if (name === "$") {
      if (!last) fail("{$} must be the last segment");
      segments.push({ kind: "end", text: "" });
      return;
    }
    const multi = name.endsWith("...");
    if (multi) {
      if (!last) fail(`{${name}} must be the last segment`);
      name = name.slice(0, -3);
    }
    if (!IDENTIFIER.test(name)) fail(`bad wildcard name "${name}"`);
    if (names.has(name)) fail(`duplicate wildcard name "${name}"`);
    names.add(name);
    segments.push({ kind: multi ? "multi" : "wild", text: name });
  });
  return { pattern, method, host, segments, hasParams: names.size > 0, handler };
}

/** How the requests p1 matches relate to those p2 matches (hosts aside). */
export function compare(p1: Route, p2: Route): Rel {
  const methods = compareMethods(p1.method, p2.method);
  if (methods === Rel.Disjoint) return Rel.Disjoint;
  return combine(methods, comparePaths(p1.segments, p2.segments));
}

function compareMethods(m1: string, m2: string): Rel {
  if (m1 === m2) return Rel.Equivalent;
  if (m1 === "") return Rel.MoreGeneral;
  if (m2 === "") return Rel.MoreSpecific;
  if (m1 === "GET" && m2 === "HEAD") return Rel.MoreGeneral; // GET also matches HEAD
  if (m1 === "HEAD" && m2 === "GET") return Rel.MoreSpecific;
  return Rel.Disjoint;
}

function comparePaths(s1: Segment[], s2: Segment[]): Rel {
  const multi1 = s1[s1.length - 1].kind === "multi";
  const multi2 = s2[s2.length - 1].kind === "multi";
  if (s1.length !== s2.length && !multi1 && !multi2) return Rel.Disjoint;
  const common = Math.min(s1.length, s2.length);
  let rel = Rel.Equivalent;
  for (let i = 0; i < common; i++) {
    rel = combine(rel, compareSegments(s1[i], s2[i]));
    if (rel === Rel.Disjoint) return rel;
  }
  if (s1.length === s2.length) return rel;
  // Only a shorter pattern ending in a multi wildcard can match the longer one's paths.
  if (s1.length < s2.length && multi1) return combine(rel, Rel.MoreGeneral);
  if (s2.length < s1.length && multi2) return combine(rel, Rel.MoreSpecific);
  return Rel.Disjoint;
}

function compareSegments(a: Segment, b: Segment): Rel {
  if (a.kind === "multi" && b.kind === "multi") return Rel.Equivalent;
  if (a.kind === "multi") return Rel.MoreGeneral;
  if (b.kind === "multi") return Rel.MoreSpecific;
  if (a.kind === "wild" && b.kind === "wild") return Rel.Equivalent;
  // A single wildcard never matches the empty segment that {$} stands for.
  if (a.kind === "wild") return b.kind === "end" ? Rel.Disjoint : Rel.MoreGeneral;
  if (b.kind === "wild") return a.kind === "end" ? Rel.Disjoint : Rel.MoreSpecific;
  return a.kind === b.kind && a.text === b.text ? Rel.Equivalent : Rel.Disjoint;
}

function combine(r1: Rel, r2: Rel): Rel {
  switch (r1) {
    case Rel.Equivalent:
      return r2;
    case Rel.Disjoint:
      return Rel.Disjoint;
    case Rel.Overlaps:
      return r2 === Rel.Disjoint ? Rel.Disjoint : Rel.Overlaps;
    default:
      if (r2 === Rel.Equivalent) return r1;
      if (r2 === inverse(r1)) return Rel.Overlaps;
      return r2;
  }
}

function inverse(rel: Rel): Rel {
  return rel === Rel.MoreGeneral ? Rel.MoreSpecific : rel === Rel.MoreSpecific ? Rel.MoreGeneral : rel;
}

/** The path with "//", "." and ".." segments resolved; a trailing slash is kept. */
export function cleanPath(path: string): string {
  if (!needsCleaning(path)) return path;
  const out: string[] = [];
  const parts = path.split("/");
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  const last = parts[parts.length - 1];
  const trailing = path.length > 1 && (last === "" || last === "." || last === "..");
  const clean = `/${out.join("/")}`;
  return trailing && clean !== "/" ? `${clean}/` : clean;
}

/** The path has "//", or a "." or ".." segment: a scan of its characters, no regex. */
export function needsCleaning(path: string): boolean {
  const n = path.length;
  for (let i = path.indexOf("/"); i >= 0 && i < n; i = path.indexOf("/", i + 1)) {
    const next = path.charCodeAt(i + 1);
    if (next === 0x2f) return true;
    if (next !== 0x2e) continue;
    // "/." or "/.." ending the path or followed by "/"
    const after = path.charCodeAt(i + 2);
    if (i + 2 === n || after === 0x2f) return true;
    if (after === 0x2e && (i + 3 === n || path.charCodeAt(i + 3) === 0x2f)) return true;
  }
  return false;
}

/** A path segment percent-decoded; malformed escapes stay as they are. */
export function decodeSegment(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
