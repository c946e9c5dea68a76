// Express gives req and res its own prototypes on every request
// (Object.setPrototypeOf(req, app.request)), then its router adds fields to
// them (req.res, req.next, req.baseUrl, req.originalUrl, req._parsedUrl,
// req.route, req.params, res.locals...). In V8, a field added after such a
// swap makes a new hidden class each time instead of following a cached
// transition, so every property access of the request then misses its
// inline cache: under callgrind about three quarters of Express's
// instructions per request, on node:http as on the face, were V8's
// LoadIC/StoreIC miss handlers and the new maps they build. The face
// learns, from the first responses of an app that swaps prototypes, which
// data fields it adds, and gives each later req and res those fields before
// the app runs (with the value they read then: undefined, or the prototype's
// plain value, such as statusCode's 200), so the app only overwrites them.
// A field that any prototype serves through a getter or setter is never
// made (that would hide the accessor), nor one the app's prototype holds with
// another value than node's (made before the swap, it would hide that value).

/**
 * The fields it may make: those Express (4 and 5, its router) assigns on
 * every request it routes before any handler can read them. Any other field
 * an app adds may be read first through a prototype the face has not seen
 * yet (a mounted sub-app's `app.request` with a default or a getter under
 * that name), where a field made in advance would hide it.
 */
const ROUTER_FIELDS = new Set<PropertyKey>(["res", "next", "baseUrl", "originalUrl", "_parsedUrl", "params", "route", "query", "locals", "statusCode", "statusMessage"]);
/** The router's own symbol for the matched route (router 2's lib/symbols.js). */
const MATCHED_ROUTE = "router.tracing.matchedRoute";

function routerField(key: PropertyKey): boolean {
  return typeof key === "symbol" ? key.description === MATCHED_ROUTE : ROUTER_FIELDS.has(key);
}

/** How many responses the face learns from. */
const LEARN_RESPONSES = 16;
/** Most fields made per req or res: an app that names fields per request (a request id as a key) must not make each later one carry them all. */
const MAX_FIELDS = 64;

type Fields = Record<PropertyKey, unknown>;

/** The own keys of `target` now, to compare with once the app is done. */
export type Snapshot = [request: PropertyKey[], response: PropertyKey[]];

/** True when no object on the prototype chain from `prototype` serves `key` through an accessor or holds it read-only. */
function plainFrom(prototype: object | null, key: PropertyKey): boolean {
  for (let at = prototype; at !== null; at = Object.getPrototypeOf(at)) {
    const descriptor = Object.getOwnPropertyDescriptor(at, key);
    if (descriptor !== undefined) return "value" in descriptor && descriptor.writable === true;
  }
  return true;
}

/** What an object with this prototype reads for `key` before it has its own (plain data: plainFrom holds). */
function readFrom(prototype: object | null, key: PropertyKey): unknown {
  return prototype === null ? undefined : Reflect.get(prototype, key);
}

/**
 * The keys `target` has now and did not have in `before`, if the app
 * replaced its prototype (`original`): fields made by plain assignment, with
 * nothing but plain data under the same name on either prototype chain.
 */
function added(target: object, before: PropertyKey[], original: object): PropertyKey[] {
  const prototype = Object.getPrototypeOf(target) as object | null;
  if (prototype === original) return [];
  const known = new Set(before);
  return Reflect.ownKeys(target).filter((key) => {
    if (known.has(key) || !routerField(key)) return false;
    const descriptor = Object.getOwnPropertyDescriptor(target, key)!;
    return "value" in descriptor && descriptor.writable === true && descriptor.enumerable === true && descriptor.configurable === true &&
      plainFrom(prototype, key) && plainFrom(original, key) && readFrom(prototype, key) === readFrom(original, key);
  });
}

function fill(target: Fields, keys: PropertyKey[]): void {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (!Object.hasOwn(target, key)) target[key] = target[key];
  }
}

function remember(keys: PropertyKey[], found: PropertyKey[]): void {
  for (const key of found) if (keys.length < MAX_FIELDS && !keys.includes(key)) keys.push(key);
}

export class AppFields {
  private learning = LEARN_RESPONSES;
  private requestKeys: PropertyKey[] = [];
  private responseKeys: PropertyKey[] = [];

  /** Before the app runs: the learned fields made; while still learning, what the instances have then. */
  prepare(req: object, res: object): Snapshot | null {
    fill(req as Fields, this.requestKeys);
    fill(res as Fields, this.responseKeys);
    return this.learning > 0 ? [Reflect.ownKeys(req), Reflect.ownKeys(res)] : null;
  }

  /** After a response finished: the fields the app added, if it gave req and res prototypes of its own (node:http's are `requestPrototype`, `responsePrototype`). */
  learn(req: object, res: object, snapshot: Snapshot, requestPrototype: object, responsePrototype: object): void {
    if (this.learning === 0) return;
    this.learning--;
    remember(this.requestKeys, added(req, snapshot[0], requestPrototype));
    remember(this.responseKeys, added(res, snapshot[1], responsePrototype));
  }
}
