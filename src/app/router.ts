// A request router with the patterns of Go 1.22's ServeMux:
// "[METHOD ][HOST]/[PATH]", where a path segment may be a wildcard {name},
// the last one may be {name...} (the rest of the path) or {$} (the end), and a
// trailing slash makes the pattern match the whole subtree. When several
// patterns match, the most specific one wins; two patterns that match some of
// the same requests with neither more specific than the other are refused.
import type { Request } from "../http/request.js";
import type { Response } from "../http/response.js";
import type { Handler } from "../http/handler.js";

const enum Rel { Equivalent, MoreGeneral, MoreSpecific, Overlaps, Disjoint }

/** A path segment of a pattern. */
interface Segment {
  /** literal: a decoded segment; end: {$}, the empty segment after a trailing slash. */
  kind: "literal" | "wild" | "multi" | "end";
  /** The literal's text, or the wildcard's name ("" for a trailing slash). */
  text: string;
}

interface Route {
  pattern: string;
  /** "" matches every method. */
  method: string;
  /** Lower case; "" matches every host. */
  host: string;
  segments: Segment[];
  handler: Handler;
}

interface Match {
  route: Route;
  params: Record<string, string>;
  /** False when a multi wildcard (or trailing slash) took a non-empty rest. */
  exact: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const IDENTIFIER = /^[\p{L}_][\p{L}\p{Nd}_]*$/u;

export class Router {
  /** Routes with a host are tried first; each list keeps more specific routes before more general ones. */
  private readonly hostRoutes: Route[] = [];
  private readonly routes: Route[] = [];

  /** The function to give serve(): `serve({ handler: router.handler })`. */
  readonly handler: Handler = (req, res) => this.serve(req, res);

  /** Registers `handler` for `pattern`; throws if the pattern is invalid or conflicts with one already registered. */
  handle(pattern: string, handler: Handler): this {
    const route = parsePattern(pattern, handler);
    const list = route.host === "" ? this.routes : this.hostRoutes;
    let at = 0;
    for (let i = 0; i < list.length; i++) {
      const other = list[i];
      if (other.host !== route.host) continue;
      const rel = compare(route, other);
      if (rel === Rel.Equivalent || rel === Rel.Overlaps) {
        const how = rel === Rel.Equivalent ? "matches the same requests as" : "overlaps with";
        throw new Error(`pattern "${pattern}" ${how} "${other.pattern}", and neither is more specific`);
      }
      if (rel === Rel.MoreGeneral) at = i + 1;
    }
    list.splice(at, 0, route);
    return this;
  }

  /** The name of Go's http.HandleFunc, for code that reads like the article's. */
  handleFunc(pattern: string, handler: Handler): this {
    return this.handle(pattern, handler);
  }

  get(path: string, handler: Handler): this {
    return this.handle(`GET ${path}`, handler);
  }
  post(path: string, handler: Handler): this {
    return this.handle(`POST ${path}`, handler);
  }
  put(path: string, handler: Handler): this {
    return this.handle(`PUT ${path}`, handler);
  }
  patch(path: string, handler: Handler): this {
    return this.handle(`PATCH ${path}`, handler);
  }
  delete(path: string, handler: Handler): this {
    return this.handle(`DELETE ${path}`, handler);
  }

  private serve(req: Request, res: Response): void | Promise<void> {
    const path = req.path;
    if (path.charCodeAt(0) !== 0x2f) return notFound(res); // CONNECT's authority: no pattern matches it
    const host = requestHost(req);
    const query = queryOf(req.target);
    const clean = cleanPath(path);
    if (clean !== path) return redirect(res, clean + query);
    const segments = path.slice(1).split("/");
    const match = this.find(host, req.method, segments);
    if (match === null || !match.exact) {
      // "/dir" when "/dir/" is a subtree: send the client there (Go's rule).
      if (!path.endsWith("/")) {
        const slashed = this.find(host, req.method, [...segments, ""]);
        if (slashed !== null && slashed.exact) return redirect(res, `${path}/${query}`);
      }
    }
    if (match === null) {
      const allowed = this.allowedMethods(host, segments);
      if (allowed.length === 0) return notFound(res);
      res.reset(405);
      res.setHeader("Allow", allowed.join(", "));
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      return res.end("Method Not Allowed\n");
    }
    req.params = match.params;
    return match.route.handler(req, res);
  }

  private find(host: string, method: string, segments: string[]): Match | null {
    if (host !== "") {
      for (const route of this.hostRoutes) {
        if (route.host === host && methodMatches(route.method, method)) {
          const match = matchPath(route, segments);
          if (match !== null) return match;
        }
      }
    }
    for (const route of this.routes) {
      if (methodMatches(route.method, method)) {
        const match = matchPath(route, segments);
        if (match !== null) return match;
      }
    }
    return null;
  }

  /** The methods of the patterns that match this path (none match its method). */
  private allowedMethods(host: string, segments: string[]): string[] {
    const methods = new Set<string>();
    for (const route of [...this.hostRoutes, ...this.routes]) {
      if ((route.host === "" || route.host === host) && matchPath(route, segments) !== null) methods.add(route.method);
    }
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  }
}

function parsePattern(pattern: string, handler: Handler): Route {
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
  return { pattern, method, host, segments, handler };
}

function methodMatches(pattern: string, method: string): boolean {
  return pattern === "" || pattern === method || (pattern === "GET" && method === "HEAD");
}

/** Matches the request path's segments (still percent-encoded) against a route. */
function matchPath(route: Route, segments: string[]): Match | null {
  const pattern = route.segments;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const seg = pattern[i];
    if (i >= segments.length) return null;
    const text = segments[i];
    switch (seg.kind) {
      case "literal":
        if (decodeSegment(text) !== seg.text) return null;
        break;
      case "wild":
        if (text === "") return null;
        params[seg.text] = decodeSegment(text);
        break;
      case "end":
        if (text !== "" || i !== segments.length - 1) return null;
        break;
      case "multi": {
        const rest = segments.slice(i);
        if (seg.text !== "") params[seg.text] = rest.map(decodeSegment).join("/");
        return { route, params, exact: rest.length === 1 && rest[0] === "" };
      }
    }
  }
  return segments.length === pattern.length ? { route, params, exact: true } : null;
}

/** How the requests p1 matches relate to those p2 matches (hosts aside). */
function compare(p1: Route, p2: Route): Rel {
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
function cleanPath(path: string): string {
  if (!path.includes("//") && !/\/\.\.?(\/|$)/.test(path)) return path;
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

function decodeSegment(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // malformed escapes stay as they are
  }
}

/** The request's host, lower case and without a port. */
function requestHost(req: Request): string {
  const target = req.target;
  let host = req.headers.get("host") ?? "";
  if (target.charCodeAt(0) !== 0x2f && target !== "*") {
    try {
      host = new URL(target).host;
    } catch {
      // keep the Host header
    }
  }
  const port = host.lastIndexOf(":");
  if (port >= 0 && port > host.lastIndexOf("]")) host = host.slice(0, port);
  return host.toLowerCase();
}

function queryOf(target: string): string {
  const q = target.indexOf("?");
  return q < 0 ? "" : target.slice(q);
}

function redirect(res: Response, location: string): void {
  res.reset(301);
  res.setHeader("Location", location);
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end("Moved Permanently\n");
}

function notFound(res: Response): void {
  res.reset(404);
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end("Not Found\n");
}
