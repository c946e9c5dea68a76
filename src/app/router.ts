// A request router with the patterns of Go 1.22's ServeMux (route-pattern.ts
// says what they are). The routes are compiled as they are added
// (route-table.ts), so the usual request, for a path made only of literals,
// costs a comparison of its path with a few strings (or one Map lookup): no
// split, regex, case folding or string made.
// Patterns with a host are tried first, for the host whose Host field's bytes
// they match, compared in place.
import { SPAN } from "simplenet-parser/abi";
import type { Request } from "../http/request.js";
import type { Response } from "../http/response.js";
import type { Handler } from "../http/handler.js";
import { cleanPath, decodeSegment, parsePattern, type Route } from "./route-pattern.js";
import { RouteTable } from "./route-table.js";

export class Router {
  private readonly anyHost = new RouteTable();
  /** The tables of patterns with a host, by host (lower case): one array each, so a lookup makes no iterator. */
  private readonly hostNames: string[] = [];
  private readonly hostTables: RouteTable[] = [];

  /** The function to give serve(): `serve({ handler: router.handler })`. */
  readonly handler: Handler = (req, res) => this.serve(req, res);

  /** Registers `handler` for `pattern`; throws if the pattern is invalid or conflicts with one already registered. */
  handle(pattern: string, handler: Handler): this {
    const route = parsePattern(pattern, handler);
    if (route.host === "") {
      this.anyHost.add(route);
      return this;
    }
    let at = this.hostNames.indexOf(route.host);
    if (at < 0) at = this.hostNames.push(route.host) - 1;
    (this.hostTables[at] ??= new RouteTable()).add(route);
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
    const method = req.method;
    const host = this.hostTables.length === 0 ? null : this.hostTable(req);
    const route = (host ?? this.anyHost).findStatic(path, method);
    if (route === null) return this.serveOther(req, res, path, method, host);
    req.clearParams();
    return route.handler(req, res);
  }

  /** Every request findStatic() does not answer: wildcards, escapes, paths to clean or redirect, 404 and 405. */
  private serveOther(req: Request, res: Response, path: string, method: string, host: RouteTable | null): void | Promise<void> {
    if (path.charCodeAt(0) !== 0x2f) return notFound(res); // CONNECT's authority: no pattern matches it
    const clean = cleanPath(path);
    if (clean !== path) return redirect(res, clean + queryOf(req.target));
    const route = this.find(host, path, method);
    if ((route === null || !isExact(route, path)) && !path.endsWith("/")) {
      // "/dir" when "/dir/" is a subtree: send the client there (Go's rule).
      const slashed = this.find(host, `${path}/`, method);
      if (slashed !== null && isExact(slashed, `${path}/`)) return redirect(res, `${path}/${queryOf(req.target)}`);
    }
    if (route === null) {
      const allowed = new Set<string>();
      host?.addAllowed(path, allowed);
      this.anyHost.addAllowed(path, allowed);
      if (allowed.size === 0) return notFound(res);
      if (allowed.has("GET")) allowed.add("HEAD");
      res.reset(405);
      res.setHeader("Allow", [...allowed].sort().join(", "));
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      return res.end("Method Not Allowed\n");
    }
    req.params = paramsOf(route, path);
    return route.handler(req, res);
  }

  private find(host: RouteTable | null, path: string, method: string): Route | null {
    return (host === null ? null : host.find(path, method)) ?? this.anyHost.find(path, method);
  }

  /** The table of the patterns for the request's host, or null: the Host field's bytes compared in place, without its port and case. */
  private hostTable(req: Request): RouteTable | null {
    const fields = req.headers;
    const at = fields.indexOf("host");
    if (req.target.charCodeAt(0) !== 0x2f || (at >= 0 && fields.indexOf("host", at + 1) >= 0)) {
      // An absolute-form target's authority, or repeated Host fields: the host as a string.
      const index = this.hostNames.indexOf(requestHost(req));
      return index < 0 ? null : this.hostTables[index];
    }
    if (at < 0) return null;
    const text = fields.text;
    const start = fields.spans[at * SPAN.SLOTS + SPAN.VALUE_OFF];
    let end = start + fields.spans[at * SPAN.SLOTS + SPAN.VALUE_LEN];
    // Without the port: a ":" after any "]" of an IPv6 literal.
    for (let i = end - 1; i >= start; i--) {
      const c = text.charCodeAt(i);
      if (c === 0x5d) break;
      if (c === 0x3a) {
        end = i;
        break;
      }
    }
    for (let i = 0; i < this.hostNames.length; i++) {
      if (sameHost(this.hostNames[i], text, start, end)) return this.hostTables[i];
    }
    return null;
  }
}

/** `text` from start to end, lower-cased as String.prototype.toLowerCase does one character per byte, equals `name`. */
function sameHost(name: string, text: string, start: number, end: number): boolean {
  if (end - start !== name.length) return false;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    // A-Z, and Latin-1's À-Þ but for ×
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0xc0 && c <= 0xde && c !== 0xd7)) c += 0x20;
    if (c !== name.charCodeAt(i - start)) return false;
  }
  return true;
}

/** Where the path's segment `index` begins (segment 0 right after the leading "/"). */
function segmentStart(path: string, index: number): number {
  let at = 0;
  for (let i = 0; i < index; i++) at = path.indexOf("/", at + 1);
  return at + 1;
}

/** False when the route's {name...} or trailing slash took more than an empty last segment. */
function isExact(route: Route, path: string): boolean {
  const last = route.segments.length - 1;
  return route.segments[last].kind !== "multi" || segmentStart(path, last) === path.length;
}

/** The wildcards' values in a path the route matched, percent-decoded. */
function paramsOf(route: Route, path: string): Record<string, string> {
  const params: Record<string, string> = {};
  if (!route.hasParams) return params;
  let start = 1;
  for (const segment of route.segments) {
    if (segment.kind === "multi") {
      const rest = path.slice(start);
      // Each segment decoded alone, so a malformed escape spoils only its own.
      if (segment.text !== "") params[segment.text] = rest.includes("%") ? rest.split("/").map(decodeSegment).join("/") : rest;
      break;
    }
    let end = path.indexOf("/", start);
    if (end < 0) end = path.length;
    if (segment.kind === "wild") params[segment.text] = decodeSegment(path.slice(start, end));
    start = end + 1;
  }
  return params;
}

/** The request's host, lower case and without a port, as a string: for the rare requests hostTable() cannot read in place. */
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
