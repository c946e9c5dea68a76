// The routes of one host (or of every host), compiled as they are added: a
// tree with one node per path segment, and beside it the paths made only of
// literals with their routes, so that a request for such a path is found by
// comparing its path with a few strings (or by one Map lookup where there are
// many): no split, no regex, no string made. The tree is walked most
// specific first (a literal, then {name}, then {$}, then {name...} or a
// trailing slash; at each route's end, the request's own method, then GET for
// HEAD, then any method): since conflicting patterns are refused when added,
// the first route the walk finds is the most specific of those that match.
import { Rel, compare, decodeSegment, needsCleaning, type Route } from "./route-pattern.js";

/** The routes that end at one place of the tree, at most one per method; GET and HEAD, the usual ones, in fields of their own. */
class Leaf {
  private getRoute: Route | null = null;
  private headRoute: Route | null = null;
  private anyMethod: Route | null = null;
  private others: Map<string, Route> | null = null;

  add(route: Route): void {
    if (route.method === "") this.anyMethod = route;
    else if (route.method === "GET") this.getRoute = route;
    else if (route.method === "HEAD") this.headRoute = route;
    else (this.others ??= new Map()).set(route.method, route);
  }

  pick(method: string): Route | null {
    if (method === "GET") return this.getRoute ?? this.anyMethod;
    if (method === "HEAD") return this.headRoute ?? this.getRoute ?? this.anyMethod;
    return this.others?.get(method) ?? this.anyMethod;
  }

  addMethods(methods: Set<string>): void {
    if (this.getRoute !== null) methods.add("GET");
    if (this.headRoute !== null) methods.add("HEAD");
    for (const method of this.others?.keys() ?? []) methods.add(method);
    if (this.anyMethod !== null) methods.add("");
  }
}

/** Up to this many paths of literals are compared one by one: cheaper than hashing the string a request's path is made into. */
const SCAN_LIMIT = 8;

class RouteNode {
  literals: Map<string, RouteNode> | null = null;
  wild: RouteNode | null = null;
  /** Routes whose last segment is this node's. */
  here: Leaf | null = null;
  /** {$} in the segment after this node's. */
  end: Leaf | null = null;
  /** {name...} or a trailing slash from the segment after this node's on. */
  multi: Leaf | null = null;
}

export class RouteTable {
  /** In the order added, for the conflict check. */
  private readonly routes: Route[] = [];
  private readonly root = new RouteNode();
  /** Paths made only of literals, as a request spells them, and their leaves; past SCAN_LIMIT, a Map of them. */
  private readonly staticPaths: string[] = [];
  private readonly staticLeaves: Leaf[] = [];
  private staticMap: Map<string, Leaf> | null = null;

  /** Adds a route; throws if it conflicts with one already here. */
  add(route: Route): void {
    for (const other of this.routes) {
      const rel = compare(route, other);
      if (rel === Rel.Equivalent || rel === Rel.Overlaps) {
        const how = rel === Rel.Equivalent ? "matches the same requests as" : "overlaps with";
        throw new Error(`pattern "${route.pattern}" ${how} "${other.pattern}", and neither is more specific`);
      }
    }
    this.routes.push(route);
    let node = this.root;
    for (const segment of route.segments) {
      if (segment.kind === "end") return (node.end ??= new Leaf()).add(route);
      if (segment.kind === "multi") return (node.multi ??= new Leaf()).add(route);
      if (segment.kind === "wild") node = node.wild ??= new RouteNode();
      else {
        const literals = (node.literals ??= new Map());
        node = literals.get(segment.text) ?? literals.set(segment.text, new RouteNode()).get(segment.text)!;
      }
    }
    const leaf = (node.here ??= new Leaf());
    leaf.add(route);
    const path = staticPath(route);
    if (path === null || this.staticPaths.includes(path)) return;
    this.staticPaths.push(path);
    this.staticLeaves.push(leaf);
    if (this.staticPaths.length > SCAN_LIMIT) this.staticMap = new Map(this.staticPaths.map((p, i) => [p, this.staticLeaves[i]]));
  }

  /**
   * The route for a path made only of literals, found by the path as it is:
   * null when it has none for this method (find() then has the last word).
   * A path found here needs no cleaning and has no escapes.
   */
  findStatic(path: string, method: string): Route | null {
    if (this.staticMap !== null) {
      const leaf = this.staticMap.get(path);
      return leaf === undefined ? null : leaf.pick(method);
    }
    const paths = this.staticPaths;
    for (let i = 0; i < paths.length; i++) {
      if (paths[i] === path) return this.staticLeaves[i].pick(method);
    }
    return null;
  }

  /** The most specific route for a clean path (beginning with "/"), or null. */
  find(path: string, method: string): Route | null {
    return walk(this.root, path, 1, method, path.includes("%"));
  }

  /** Adds the methods of the routes whose path matches ("" for a route of every method). */
  addAllowed(path: string, methods: Set<string>): void {
    collect(this.root, path, 1, path.includes("%"), methods);
  }
}

/** The path a request spells for a route of literals only, or null where no request could spell it with no escape. */
function staticPath(route: Route): string | null {
  let path = "";
  for (const segment of route.segments) {
    const text = segment.text;
    if (segment.kind !== "literal" || text.includes("/") || text.includes("%")) return null;
    path += `/${text}`;
  }
  // A literal decoded to "." or "..": a request that spells it so is redirected to its clean form.
  return needsCleaning(path) ? null : path;
}

/** The segment of `path` that begins at `start`, as the patterns' literals are kept: decoded. */
function segmentKey(path: string, start: number, end: number, escaped: boolean): string {
  const text = path.slice(start, end);
  return escaped ? decodeSegment(text) : text;
}

function walk(node: RouteNode, path: string, start: number, method: string, escaped: boolean): Route | null {
  let end = path.indexOf("/", start);
  const last = end < 0;
  if (last) end = path.length;
  if (node.literals !== null) {
    const child = node.literals.get(segmentKey(path, start, end, escaped));
    const found = child === undefined ? null : last ? (child.here?.pick(method) ?? null) : walk(child, path, end + 1, method, escaped);
    if (found !== null) return found;
  }
  if (node.wild !== null && end > start) {
    const found = last ? (node.wild.here?.pick(method) ?? null) : walk(node.wild, path, end + 1, method, escaped);
    if (found !== null) return found;
  }
  if (node.end !== null && last && end === start) {
    const found = node.end.pick(method);
    if (found !== null) return found;
  }
  return node.multi === null ? null : node.multi.pick(method);
}

/** walk() without a method and without stopping at the first route: every route whose path matches. */
function collect(node: RouteNode, path: string, start: number, escaped: boolean, methods: Set<string>): void {
  let end = path.indexOf("/", start);
  const last = end < 0;
  if (last) end = path.length;
  const child = node.literals?.get(segmentKey(path, start, end, escaped));
  const next = end > start && node.wild !== null ? [child, node.wild] : [child];
  for (const n of next) {
    if (n === undefined) continue;
    if (last) n.here?.addMethods(methods);
    else collect(n, path, end + 1, escaped, methods);
  }
  if (node.end !== null && last && end === start) node.end.addMethods(methods);
  node.multi?.addMethods(methods);
}
