// A lighter global Response for fetch handlers. Building a real Response for
// every request costs streams machinery the server does not need when the
// body is a string or bytes: this one keeps what it was made from, and the
// server sends that directly. Anything else a caller asks of it (the body as
// a stream, text(), clone(), ...) builds the real Response once and
// delegates. @hono/node-server does the same, for the same reason.
const NativeResponse = globalThis.Response;
const made = Symbol("made");

type Direct = string | Uint8Array | null;

/** What a light response was made from, when the server can send it directly; null otherwise. */
export interface Made {
  status: number;
  statusText: string;
  /** The headers as given, or the Headers object a caller has asked for (and may have changed). */
  headers: HeadersInit | undefined;
  body: Direct;
}

class LightResponse {
  #body: BodyInit | null | undefined;
  #init: ResponseInit | undefined;
  #headers: Headers | undefined;
  #real: Response | undefined;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    this.#body = body;
    this.#init = init;
  }

  get status(): number {
    return this.#real?.status ?? this.#init?.status ?? 200;
  }
  get statusText(): string {
    return this.#real?.statusText ?? this.#init?.statusText ?? "";
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  get headers(): Headers {
    if (this.#real !== undefined) return this.#real.headers;
    return (this.#headers ??= new Headers(this.#init?.headers));
  }

  /** For the server: the parts of a response it can send without building the real one. */
  get [made](): Made | null {
    const body = this.#body;
    if (this.#real !== undefined) return null;
    if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) return null;
    return {
      status: this.status, statusText: this.statusText, headers: this.#headers ?? this.#init?.headers, body: body ?? null,
    };
  }

  /** The real Response: made once, with whatever headers were set on this one meanwhile. */
  #materialize(): Response {
    if (this.#real === undefined) {
      const init = this.#headers === undefined ? this.#init : { ...this.#init, headers: this.#headers };
      this.#real = new NativeResponse(this.#body, init);
    }
    return this.#real;
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

/** What `response` was made from, when it is a light one the server can send directly. */
export function madeOf(response: Response): Made | null {
  return (response as unknown as { [made]?: Made | null })[made] ?? null;
}

/** Makes `new Response(...)` build light responses, in this thread, from now on. */
export function installLightResponse(): void {
  globalThis.Response = LightResponse as unknown as typeof Response;
}
