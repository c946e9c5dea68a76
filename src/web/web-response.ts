// A lighter global Response for fetch handlers. Building a real Response for
// every request costs streams machinery the server does not need when the
// body is a string or bytes: this one keeps what it was made from, and the
// server sends that directly. Anything else a caller asks of it (the body as
// a stream, text(), clone(), ...) builds the real Response once and
// delegates. @hono/node-server does the same, for the same reason.
import type { Response as ServerResponse } from "../http/response.js";
import { appendFetchFields } from "./fetch-fields.js";

const NativeResponse = globalThis.Response;

/** Statuses whose response may not have a body (Fetch, "null body status"). */
function isNullBodyStatus(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}

/** A reason phrase the Fetch standard accepts: HTAB, SP, VCHAR and obs-text only. */
function isReasonPhrase(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7f || c > 0xff || (c < 0x20 && c !== 0x09)) return false;
  }
  return true;
}

let send: (response: unknown, res: ServerResponse) => boolean;

class LightResponse {
  #body: BodyInit | null | undefined;
  #init: ResponseInit | undefined;
  #headers: Headers | undefined;
  #real: Response | undefined;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    this.#body = body;
    this.#init = init;
    if (init !== undefined && init !== null) {
      const status = init.status;
      const statusText = init.statusText;
      // Anything the real constructor would refuse (or check further) goes to it
      // now, so the errors are the native ones, thrown where they would be.
      if ((status !== undefined && (!Number.isInteger(status) || status < 200 || status > 599 ||
        (body !== undefined && body !== null && isNullBodyStatus(status)))) ||
        (statusText !== undefined && (typeof statusText !== "string" || !isReasonPhrase(statusText)))) {
        this.#real = new NativeResponse(body, init);
      }
    }
  }

  get status(): number {
    return this.#real?.status ?? this.#init?.status ?? 200;
  }
  get statusText(): string {
    return this.#real?.statusText ?? this.#init?.statusText ?? "";
  }
  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status < 300;
  }
  get headers(): Headers {
    if (this.#headers !== undefined) return this.#headers;
    if (this.#real !== undefined) return this.#real.headers;
    const body = this.#body;
    // Bodies whose Content-Type the real Response works out (Blob, FormData, URLSearchParams): ask it.
    if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)) {
      return this.#materialize().headers;
    }
    const headers = new Headers(this.#init?.headers);
    if (typeof body === "string" && !headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
    return (this.#headers = headers);
  }
  get bodyUsed(): boolean {
    return this.#real?.bodyUsed ?? false;
  }
  get redirected(): boolean {
    return this.#real?.redirected ?? false;
  }
  get type(): ResponseType {
    return this.#real?.type ?? "default";
  }
  get url(): string {
    return this.#real?.url ?? "";
  }

  /** The real Response: made once, with whatever headers were set on this one meanwhile. */
  #materialize(): Response {
    if (this.#real === undefined) {
      // init may be another Response (new Response(body, response)): its getters, not a spread.
      const init = this.#init;
      this.#real = new NativeResponse(this.#body, init === undefined || init === null ? init : {
        status: init.status, statusText: init.statusText, headers: this.#headers ?? init.headers,
      });
    }
    return this.#real;
  }

  static {
    send = (response, res) => {
      if (typeof response !== "object" || response === null || !(#body in response)) return false;
      const light = response as LightResponse;
      if (light.#real !== undefined) return false;
      const body = light.#body;
      let direct: string | Uint8Array | undefined;
      if (body === undefined || body === null) direct = undefined;
      else if (typeof body === "string" || body instanceof Uint8Array) direct = body;
      else if (body instanceof ArrayBuffer) direct = new Uint8Array(body);
      else if (ArrayBuffer.isView(body)) direct = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      else return false;
      const init = light.#init;
      if (init !== undefined && init !== null) {
        const status = init.status;
        if (status !== undefined) res.status = status;
        const statusText = init.statusText;
        if (statusText !== undefined && statusText !== "") res.statusMessage = statusText;
      }
      const headers = light.#headers ?? init?.headers;
      if (headers !== undefined && headers !== null) {
        // Headers iterate Set-Cookie fields one by one, the others combined.
        const fields = typeof (headers as Iterable<unknown>)[Symbol.iterator] === "function"
          ? headers as Iterable<[string, string]>
          : Object.entries(headers as Record<string, string>);
        appendFetchFields(fields, res, direct === undefined);
      }
      // What the real Response would have added for a string body.
      if (typeof body === "string" && !res.hasHeader("content-type")) res.setHeader("content-type", "text/plain;charset=UTF-8");
      res.end(direct);
      return true;
    };
  }

  static {
    for (const key of Object.getOwnPropertyNames(NativeResponse.prototype)) {
      if (key === "constructor" || Object.hasOwn(LightResponse.prototype, key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(NativeResponse.prototype, key)!;
      if (typeof descriptor.value === "function") {
        Object.defineProperty(LightResponse.prototype, key, {
          value(this: LightResponse, ...args: unknown[]) {
            const real = this.#materialize() as unknown as Record<string, (...a: unknown[]) => unknown>;
            return real[key](...args);
          },
        });
      } else if (descriptor.get !== undefined) {
        Object.defineProperty(LightResponse.prototype, key, {
          get(this: LightResponse) {
            return (this.#materialize() as unknown as Record<string, unknown>)[key];
          },
        });
      }
    }
    // `instanceof Response` holds; the static helpers (json, redirect, error) are the native ones.
    Object.setPrototypeOf(LightResponse.prototype, NativeResponse.prototype);
    Object.setPrototypeOf(LightResponse, NativeResponse);
  }
}

/**
 * Sends `response` directly when it is a light one with a string, bytes or
 * no body (true); false, with nothing sent, when the real Response is needed.
 */
export function sendLight(response: unknown, res: ServerResponse): boolean {
  return send(response, res);
}

/** Makes `new Response(...)` build light responses, in this thread, from now on. */
export function installLightResponse(): void {
  globalThis.Response = LightResponse as unknown as typeof Response;
}
