// serve({ fetch }): handlers written against the web-standard Request and
// Response (Hono, itty-router, the handlers of Bun and Deno) run unchanged.
import type { Request } from "../http/request.js";
import { BodyError } from "../http/body.js";
import { sendLight } from "./web-response.js";
import { appendFetchFields } from "./fetch-fields.js";
import type { Response } from "../http/response.js";

export interface FetchInfo {
  remoteAddress: string;
  remotePort: number;
}

export type FetchHandler = (
  request: globalThis.Request, info: FetchInfo,
) => globalThis.Response | undefined | Promise<globalThis.Response | undefined>;

let materialize: (request: LazyRequest) => globalThis.Request;
/** The response being ended by the fetch handler's answer, so its request's signal is not aborted by that end. */
let ending: Response | null = null;

/** Ends `res` as the answer: whatever end() does, the request's signal stays as it is. */
function answer(res: Response, body?: Uint8Array): void {
  ending = res;
  try {
    res.end(body);
  } finally {
    ending = null;
  }
}
let origin: (request: unknown) => { req: Request; res: Response } | undefined;

/** The server's request and response behind a fetch handler's Request, for server.upgrade(). */
export function originOf(request: globalThis.Request): { req: Request; res: Response } | undefined {
  return origin(request);
}

/**
 * A WHATWG Request whose method, URL and headers are made from the parsed
 * head only when read. Anything else (the body, clone, signal, ...) builds
 * the real Request once and delegates to it.
 */
class LazyRequest {
  #req: Request;
  #res: Response;
  #url: string | undefined = undefined;
  #headers: Headers | undefined = undefined;
  #real: globalThis.Request | undefined = undefined;
  #signal: AbortSignal | undefined = undefined;

  constructor(req: Request, res: Response) {
    this.#req = req;
    this.#res = res;
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

  /**
   * The body parsed as JSON. A body that is not JSON is the client's fault:
   * a BodyError (400), as req.json() throws, where the web Request's
   * SyntaxError would be a 500.
   */
  async json(): Promise<unknown> {
    const text = await materialize(this).text();
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new BodyError(`Request body is not valid JSON: ${(error as Error).message}`);
    }
  }

  /** Aborted when the response ends other than by the handler's answer: the client went away, or the handler failed. */
  get signal(): AbortSignal {
    if (this.#signal === undefined) {
      const controller = new AbortController();
      const res = this.#res;
      this.#signal = controller.signal;
      res.onFinish(() => {
        if (ending !== res) controller.abort();
      });
    }
    return this.#signal;
  }

  static {
    materialize = (request) => {
      if (request.#real === undefined) {
        const req = request.#req;
        const body = req.head.hasBody ? streamFrom(req.body) : null;
        request.#real = new globalThis.Request(request.url, {
          method: req.method, headers: request.headers, body, duplex: "half", signal: request.signal,
        } as RequestInit);
      }
      return request.#real;
    };
    origin = (request) => {
      if (typeof request !== "object" || request === null || !(#req in request)) return undefined;
      const lazy = request as LazyRequest;
      return { req: lazy.#req, res: lazy.#res };
    };
  }
}

for (const key of Object.getOwnPropertyNames(globalThis.Request.prototype)) {
  if (key === "constructor" || Object.hasOwn(LazyRequest.prototype, key)) continue;
  const descriptor = Object.getOwnPropertyDescriptor(globalThis.Request.prototype, key)!;
  if (typeof descriptor.value === "function") {
    Object.defineProperty(LazyRequest.prototype, key, {
      value(this: LazyRequest, ...args: unknown[]) {
        const real = materialize(this) as unknown as Record<string, (...a: unknown[]) => unknown>;
        return real[key](...args);
      },
    });
  } else if (descriptor.get !== undefined) {
    Object.defineProperty(LazyRequest.prototype, key, {
      get(this: LazyRequest) {
        return (materialize(this) as unknown as Record<string, unknown>)[key];
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
  const first = target.charCodeAt(0);
  if (first !== 0x2f && target !== "*" && req.method !== "CONNECT") return target; // absolute-form
  const host = req.headers.get("host") ?? "localhost";
  return first === 0x2f ? "http://" + host + target : "http://" + host + "/";
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

/**
 * A simplenet handler that runs a fetch-style one. A handler that answers
 * at once with a light response is sent at once, with no promise made.
 */
export function fromFetch(fetch: FetchHandler): (req: Request, res: Response) => Promise<void> | undefined {
  return (req, res) => {
    const response = fetch(new LazyRequest(req, res) as unknown as globalThis.Request, new ClientInfo(req));
    if (response instanceof Promise || (response != null && typeof (response as { then?: unknown }).then === "function")) {
      return settle(response as Promise<globalThis.Response | undefined>, res);
    }
    return reply(response, res);
  };
}

async function settle(pending: Promise<globalThis.Response | undefined>, res: Response): Promise<void> {
  return reply(await pending, res);
}

function reply(response: globalThis.Response | undefined, res: Response): Promise<void> | undefined {
  // server.upgrade() answered 101: the fetch handler returns nothing (as in Bun).
  if (response === undefined || response === null) {
    if (res.headersSent) return;
    throw new TypeError("the fetch handler returned no Response");
  }
  ending = res;
  try {
    if (sendLight(response, res)) return;
  } finally {
    ending = null;
  }
  return send(response, res);
}

async function send(response: globalThis.Response, res: Response): Promise<void> {
  res.status = response.status;
  if (response.statusText !== "") res.statusMessage = response.statusText;
  appendFetchFields(response.headers, res, response.body === null);
  if (response.body === null) return answer(res);

  const reader = response.body.getReader();
  try {
    const first = await reader.read();
    if (first.done) return answer(res);
    let next = await reader.read();
    // One chunk in all (a string or bytes body): one write, with Content-Length.
    if (next.done) return answer(res, first.value);
    res.write(first.value);
    while (!next.done) {
      if (!res.write(next.value)) await res.drained();
      next = await reader.read();
    }
    answer(res);
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
}
