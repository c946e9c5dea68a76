// serveStatic(): files under one directory, small ones from memory (see
// file-cache.ts) and the rest by sendfile(2), with conditional requests
// (ETag, Last-Modified), single byte ranges, and no way out of the root.
import { closeSync, constants, fstatSync, openSync, realpathSync, statSync, type Stats } from "node:fs";
import { extname, join, sep } from "node:path";
import type { Request } from "../http/request.js";
import type { Response } from "../http/response.js";
import type { Handler } from "../http/handler.js";
import { describe, FileCache, type CachedFile, type FileCacheOptions, type FileMeta } from "./file-cache.js";

export interface StaticOptions {
  /** The file served for a directory. Default "index.html". */
  index?: string;
  /** A path prefix to remove before looking up the file, e.g. "/static/". Default none. */
  prefix?: string;
  /** Small files held in memory (see FileCacheOptions), or false to read every file from disk per request. Default {}. */
  cache?: FileCacheOptions | false;
}

/** Content-Type by file extension (lower case, without the dot). */
const TYPES = new Map<string, string>([
  ["html", "text/html; charset=utf-8"],
  ["htm", "text/html; charset=utf-8"],
  ["css", "text/css; charset=utf-8"],
  ["js", "text/javascript; charset=utf-8"],
  ["mjs", "text/javascript; charset=utf-8"],
  ["json", "application/json"],
  ["map", "application/json"],
  ["txt", "text/plain; charset=utf-8"],
  ["md", "text/markdown; charset=utf-8"],
  ["csv", "text/csv; charset=utf-8"],
  ["xml", "application/xml"],
  ["svg", "image/svg+xml"],
  ["png", "image/png"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["webp", "image/webp"],
  ["avif", "image/avif"],
  ["ico", "image/x-icon"],
  ["woff", "font/woff"],
  ["woff2", "font/woff2"],
  ["ttf", "font/ttf"],
  ["otf", "font/otf"],
  ["wasm", "application/wasm"],
  ["pdf", "application/pdf"],
  ["zip", "application/zip"],
  ["gz", "application/gzip"],
  ["mp3", "audio/mpeg"],
  ["mp4", "video/mp4"],
  ["webm", "video/webm"],
]);

// Non-blocking, so that opening a FIFO does not hang the event loop; no
// symlink as the last component, since the path was resolved already
// (libuv adds O_CLOEXEC itself).
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** A handler that serves the files under `root` to GET and HEAD requests. */
export function serveStatic(root: string, options: StaticOptions = {}): Handler {
  const base = realpathSync(root);
  if (!statSync(base).isDirectory()) throw new Error(`serveStatic: ${root} is not a directory`);
  const index = options.index ?? "index.html";
  const prefix = options.prefix ?? "";
  // The path after the prefix keeps its leading "/" when the prefix ends with one.
  const cut = prefix.endsWith("/") ? prefix.length - 1 : prefix.length;
  const cache = options.cache === false ? null : new FileCache(options.cache);
  const inside = (path: string): boolean => path === base || path.startsWith(base.endsWith(sep) ? base : base + sep);

  /** The real path of `path` if it exists under the root, null if it does not exist, "outside" if it escapes. */
  const resolve = (path: string): string | null | "outside" => {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return null;
    }
    return inside(real) ? real : "outside";
  };

  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return fail(res, 405, "Method Not Allowed");
    }
    const path = req.path;
    if (!path.startsWith(prefix) || path.charCodeAt(0) !== 0x2f) return fail(res, 404, "Not Found");
    const rest = path.slice(cut);
    const now = cache === null ? 0 : performance.now();
    // A path already in its one spelling is its own key: a hit decodes nothing.
    const cached = cache !== null && isCanonical(rest) ? cache.get(rest, now) : undefined;
    if (cached !== undefined) return serveCached(req, res, cached);
    const names = decodePath(rest);
    if (names === null) return fail(res, 400, "Bad Request");
    if (names === "forbidden") return fail(res, 403, "Forbidden");
    // Dotfiles (.env, .git, ...) are not served.
    if (names.some((name) => name.startsWith("."))) return fail(res, 404, "Not Found");
    const key = keyOf(names, rest.endsWith("/"));
    if (cache !== null && key !== rest) {
      const held = cache.get(key, now);
      if (held !== undefined) return serveCached(req, res, held);
    }

    let real = resolve(join(base, ...names));
    if (real === "outside") return fail(res, 403, "Forbidden");
    if (real === null) return fail(res, 404, "Not Found");
    let fd = openFile(real);
    if (fd === null) return fail(res, 404, "Not Found");
    let stats = fstatSync(fd);
    const isDirectory = stats.isDirectory();
    if (isDirectory) {
      closeSync(fd);
      if (!path.endsWith("/")) return redirect(res, `${collapse(path)}/${queryOf(req.target)}`);
      real = resolve(join(real, index));
      if (real === "outside") return fail(res, 403, "Forbidden");
      if (real === null || (fd = openFile(real)) === null) return fail(res, 404, "Not Found");
      stats = fstatSync(fd);
    }
    if (!stats.isFile()) {
      closeSync(fd);
      return fail(res, 404, "Not Found");
    }
    const type = typeOf(real);
    // A file is held under its names, whatever the path's trailing slash; a directory's index under the directory's key.
    const entry = cache?.store(isDirectory ? key : keyOf(names, false), fd, stats, type, now);
    if (entry === undefined) return serveFile(req, res, fd, stats, type);
    closeSync(fd);
    serveCached(req, res, entry);
  };
}

function typeOf(path: string): string {
  return TYPES.get(extname(path).slice(1).toLowerCase()) ?? "application/octet-stream";
}

/** Sends a file held in memory, answering conditional and range requests. */
function serveCached(req: Request, res: Response, file: CachedFile): void {
  const span = prepare(req, res, file.meta);
  if (span === null) return;
  const [first, last] = span;
  res.end(last - first + 1 === file.body.length ? file.body : file.body.subarray(first, last + 1));
}

/** Sends the open regular file `fd`, answering conditional and range requests; takes fd. */
function serveFile(req: Request, res: Response, fd: number, stats: Stats, type: string): void {
  const span = prepare(req, res, describe(stats, type));
  if (span === null) return closeSync(fd);
  const [first, last] = span;
  res.sendFile(fd, first, last - first + 1);
}

/**
 * Says what the response needs of the file (validators, type) and answers
 * a request that gets no body from it (304, 416) itself, returning null; else
 * returns the first and last byte to send, with 206 and Content-Range set
 * when that is a range.
 */
function prepare(req: Request, res: Response, meta: FileMeta): [number, number] | null {
  const { size, etag, modifiedMs } = meta;
  res.setHeader("ETag", etag);
  res.setHeader("Last-Modified", meta.lastModified);
  res.setHeader("Accept-Ranges", "bytes");
  if (notModified(req, etag, modifiedMs)) {
    res.status = 304;
    res.end();
    return null;
  }
  res.setHeader("Content-Type", meta.type);
  const header = req.headers.get("range");
  const range = header !== null && ifRangeHolds(req, etag, modifiedMs) ? parseRange(header, size) : null;
  if (range === "unsatisfiable") {
    res.status = 416;
    res.setHeader("Content-Range", `bytes */${size}`);
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.end("Range Not Satisfiable\n");
    return null;
  }
  if (range === null) return [0, size - 1];
  res.status = 206;
  res.setHeader("Content-Range", `bytes ${range[0]}-${range[1]}/${size}`);
  return range;
}

/**
 * The decoded names of the path's segments, "forbidden" for anything that
 * could step outside the root (dot segments, encoded slashes, backslashes,
 * NUL), or null for malformed percent-escapes.
 */
function decodePath(path: string): string[] | "forbidden" | null {
  const names: string[] = [];
  for (const raw of path.split("/")) {
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (name === "." || name === ".." || /[/\\\0]/.test(name)) return "forbidden";
    if (name !== "") names.push(name);
  }
  return names;
}

/**
 * The one spelling of a path under the root: "/" and its decoded names
 * joined by "/", with a "/" at the end for a directory's index. Every
 * spelling of a file (doubled slashes, percent-escapes) has the same key,
 * so the cache holds it once.
 */
function keyOf(names: readonly string[], directory: boolean): string {
  const joined = "/" + names.join("/");
  return directory && names.length > 0 ? joined + "/" : joined;
}

/**
 * Whether `rest` is already its own key (see keyOf): it starts with "/",
 * has no empty segment, no percent-escape, no backslash or NUL, and no
 * segment that starts with a dot.
 */
function isCanonical(rest: string): boolean {
  if (rest.charCodeAt(0) !== 0x2f) return false;
  for (let i = 1; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 0x25 || c === 0x5c || c === 0) return false;
    if (rest.charCodeAt(i - 1) === 0x2f && (c === 0x2f || c === 0x2e)) return false;
  }
  return true;
}

/**
 * The path with its empty segments dropped: "/" and a path of this origin,
 * never "//host" or "/\\host", which a browser would take for another origin.
 */
function collapse(path: string): string {
  return "/" + path.split("/").filter((segment) => segment !== "").join("/");
}

function openFile(path: string): number | null {
  try {
    return openSync(path, OPEN_FLAGS);
  } catch {
    return null;
  }
}

/** If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2). */
function notModified(req: Request, etag: string, modifiedMs: number): boolean {
  const ifNoneMatch = req.headers.get("if-none-match");
  if (ifNoneMatch !== null) {
    if (ifNoneMatch.trim() === "*") return true;
    const weak = (tag: string): string => tag.trim().replace(/^W\//, "");
    return ifNoneMatch.split(",").some((tag) => weak(tag) === etag);
  }
  const since = req.headers.get("if-modified-since");
  if (since === null) return false;
  const time = Date.parse(since);
  return !Number.isNaN(time) && modifiedMs <= time;
}

/** If-Range: the range applies only to the representation the client already has part of. */
function ifRangeHolds(req: Request, etag: string, modifiedMs: number): boolean {
  const ifRange = req.headers.get("if-range");
  if (ifRange === null) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return value === etag; // strong comparison
  return Date.parse(value) === modifiedMs;
}

/**
 * A single "bytes=" range as [first, last] byte, "unsatisfiable", or null
 * when the whole file goes out instead (no range, a syntax we ignore, or
 * several ranges, which we answer with the whole file rather than multipart).
 */
function parseRange(header: string, size: number): [number, number] | "unsatisfiable" | null {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return null;
  const [, first, last] = m;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(first);
  const end = last === "" ? Infinity : Number(last);
  if (end < start) return null;
  if (start >= size) return "unsatisfiable";
  return [start, Math.min(end, size - 1)];
}

function queryOf(target: string): string {
  const q = target.indexOf("?");
  return q < 0 ? "" : target.slice(q);
}

function redirect(res: Response, location: string): void {
  res.status = 301;
  res.setHeader("Location", location);
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end("Moved Permanently\n");
}

function fail(res: Response, status: number, reason: string): void {
  res.status = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end(`${reason}\n`);
}
