// serve({ fetch }): handlers written against the web-standard Request and
// Response (Hono, itty-router, the handlers of Bun and Deno) run unchanged.
import type { Request } from "./request.js";
import { madeOf, type Made } from "./web-response.js";
import type { Response } from "./response.js";

export interface FetchInfo {
  remoteAddress: string;
  remotePort: number;
}

export type FetchHandler = (
  request: globalThis.Request, info: FetchInfo,
) => globalThis.Response | undefined | Promise<globalThis.Response | undefined>;

const materialize = Symbol("materialize");

/** The server's request and response behind a fetch handler's Request, for server.upgrade(). */
const origins = new WeakMap<object, { req: Request; res: Response }>();

export function originOf(request: globalThis.Request): { req: Request; res: Response } | undefined {
  return origins.get(request);
}

/**
 * A WHATWG Request whose method, URL and headers are made from the parsed
 * head only when read. Anything else (the body, clone, signal, ...) builds
 * the real Request once and delegates to it.
 */
class LazyRequest {
  #req: Request;
  #url: string | undefined;
  #headers: Headers | undefined;
  #real: globalThis.Request | undefined;

  constructor(req: Request) {
    this.#req = req;
  }

  get method(): string {
    return this.#req.method;
  }

  get url(): string {
    return (this.#url ??= absoluteUrl(this.#req));
  }

  get headers(): Headers {
    return (this.#headers ??= new Headers(this.#req.headers.toArray()));
  }

  [materialize](): globalThis.Request {
    if (this.#real === undefined) {
      const req = this.#req;
      const body = req.head.hasBody ? streamFrom(req.body) : null;
      this.#real = new globalThis.Request(this.url, { method: req.method, headers: this.headers, body, duplex: "half" } as RequestInit);
    }
    return this.#real;
  }
}

for (const key of Object.getOwnPropertyNames(globalThis.Request.prototype)) {
  if (key === "constructor" || Object.hasOwn(LazyRequest.prototype, key)) continue;
  const descriptor = Object.getOwnPropertyDescriptor(globalThis.Request.prototype, key)!;
  if (typeof descriptor.value === "function") {
    Object.defineProperty(LazyRequest.prototype, key, {
      value(this: LazyRequest, ...args: unknown[]) {
        const real = this[materialize]() as unknown as Record<string, (...a: unknown[]) => unknown>;
        return real[key](...args);
      },
    });
  } else if (descriptor.get !== undefined) {
    Object.defineProperty(LazyRequest.prototype, key, {
      get(this: LazyRequest) {
        return (this[materialize]() as unknown as Record<string, unknown>)[key];
      },
    });
  }
}
// `instanceof Request` holds, as frameworks expect.
Object.setPrototypeOf(LazyRequest.prototype, globalThis.Request.prototype);

function streamFrom(body: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  return (ReadableStream as unknown as { from(it: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> }).from(body);
}

function absoluteUrl(req: Request): string {
  const target = req.target;
  if (target.charCodeAt(0) !== 0x2f && target !== "*" && req.method !== "CONNECT") return target; // absolute-form
  const host = req.headers.get("host") ?? "localhost";
  return `http://${host}${target.charCodeAt(0) === 0x2f ? target : "/"}`;
}

/** The client's address, looked up only if the handler asks. */
class ClientInfo implements FetchInfo {
  constructor(private readonly req: Request) {}
  get remoteAddress(): string {
    return this.req.remote.address;
  }
  get remotePort(): number {
    return this.req.remote.port;
  }
}

/** A light response with a string or bytes body: its parts go out as they are, in one write. */
function sendMade(made: Made, res: Response): void {
  res.status = made.status;
  if (made.statusText !== "") res.statusMessage = made.statusText;
  const headers = made.headers;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      if (name !== "set-cookie") res.appendHeader(name, value);
    });
    for (const cookie of headers.getSetCookie()) res.appendHeader("set-cookie", cookie);
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers) res.appendHeader(name, value);
  } else if (headers !== undefined) {
    for (const name of Object.keys(headers)) res.appendHeader(name, (headers as Record<string, string>)[name]);
  }
  // What the real Response would have added for a string body.
  if (typeof made.body === "string" && !res.hasHeader("content-type")) res.setHeader("content-type", "text/plain;charset=UTF-8");
  res.end(made.body ?? undefined);
}

/** A simplenet handler that runs a fetch-style one. */
export function fromFetch(fetch: FetchHandler): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const request = new LazyRequest(req) as unknown as globalThis.Request;
    origins.set(request, { req, res });
    const response = await fetch(request, new ClientInfo(req));
    // server.upgrade() answered 101: the fetch handler returns nothing (as in Bun).
    if (response === undefined || response === null) {
      if (res.headersSent) return;
      throw new TypeError("the fetch handler returned no Response");
    }
    await send(response, res);
  };
}

async function send(response: globalThis.Response, res: Response): Promise<void> {
  const made = madeOf(response);
  if (made !== null) return sendMade(made, res);
  res.status = response.status;
  if (response.statusText !== "") res.statusMessage = response.statusText;
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") res.appendHeader(name, value);
  });
  for (const cookie of response.headers.getSetCookie()) res.appendHeader("set-cookie", cookie);
  if (response.body === null) return res.end();

  const reader = response.body.getReader();
  try {
    const first = await reader.read();
    if (first.done) return res.end();
    let next = await reader.read();
    // One chunk in all (a string or bytes body): one write, with Content-Length.
    if (next.done) return res.end(first.value);
    res.write(first.value);
    while (!next.done) {
      if (!res.write(next.value)) await res.drained();
      next = await reader.read();
    }
    res.end();
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
}
