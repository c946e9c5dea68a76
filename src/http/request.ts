// What a handler receives. Strings are made from the head's bytes only when
// a property is read.
import { BodyError, BodyStream } from "./body.js";
import type { Fields, RequestHead } from "simplenet-parser";

export class Request implements AsyncIterable<Uint8Array> {
  private paramValues: Record<string, string> | null = null;
  /** Trailer fields of a chunked body, once the body has been read. */
  trailers: Fields | null = null;
  private methodText: string | undefined;
  private targetText: string | undefined;
  /** Where the query begins in the target: -1 none, undefined not looked for yet. */
  private queryIndex: number | undefined;

  /**
   * bodyStream: the body's stream, or null for a request without a body (an
   * empty one is made if the handler asks for it).
   */
  constructor(
    readonly head: RequestHead,
    private bodyStream: BodyStream | null,
    private readonly client: { readonly remote: { address: string; port: number }; destroy(): void },
  ) {}

  /** Path parameters filled in by the Router. */
  get params(): Record<string, string> {
    return (this.paramValues ??= {});
  }
  set params(params: Record<string, string>) {
    this.paramValues = params;
  }
  /** @internal The Router's, for a route without parameters: none (an empty object is made if they are read). */
  clearParams(): void {
    this.paramValues = null;
  }

  get body(): BodyStream {
    return (this.bodyStream ??= BodyStream.empty());
  }

  /** @internal The body's stream if the request has one (or one was asked for), else null. */
  get openBody(): BodyStream | null {
    return this.bodyStream;
  }

  /**
   * The connection the request came on: one object for all its requests (the
   * node:http face keeps a socket for each by it); destroy() closes it now.
   */
  get connection(): { destroy(): void } {
    return this.client;
  }

  /** The client's address and port (from the PROXY header when the listener expects one). */
  get remote(): { address: string; port: number } {
    return this.client.remote;
  }

  get method(): string {
    return (this.methodText ??= this.head.method);
  }
  /** The request-target as sent: "/path?query", an absolute URI, "*" or an authority. */
  get target(): string {
    return (this.targetText ??= this.head.target);
  }
  /** "1.0" or "1.1" */
  get version(): string {
    return this.head.version;
  }
  get headers(): Fields {
    return this.head.headers;
  }
  /**
   * The host the request is for: an absolute-form target's authority, which
   * wins over the Host field (RFC 9112 §3.2.2), else the Host field ("" when absent).
   */
  get host(): string {
    const target = this.target;
    const first = target.charCodeAt(0);
    if (first !== 0x2f && first !== 0x2a && this.method !== "CONNECT") {
      const start = target.indexOf("//");
      if (start > 0) {
        let end = start + 2;
        while (end < target.length && !"/?#".includes(target[end])) end++;
        const authority = target.slice(start + 2, end);
        return authority.slice(authority.lastIndexOf("@") + 1);
      }
    }
    return this.headers.get("host") ?? "";
  }

  /** The target's path, without the query (for absolute-form, the URI's path). */
  get path(): string {
    const target = this.target;
    if (target.charCodeAt(0) !== 0x2f) {
      if (target === "*" || this.method === "CONNECT") return target;
      try {
        return new URL(target).pathname;
      } catch {
        return target;
      }
    }
    const q = this.queryStart();
    return q < 0 ? target : target.slice(0, q);
  }
  get query(): URLSearchParams {
    const q = this.queryStart();
    return new URLSearchParams(q < 0 ? "" : this.target.slice(q + 1));
  }

  bytes(): Promise<Uint8Array> {
    return this.body.bytes();
  }
  async text(): Promise<string> {
    return new TextDecoder().decode(await this.body.bytes());
  }
  /** The body parsed as JSON; a body that is not JSON is the client's fault, a BodyError (400). */
  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new BodyError(`Request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.body[Symbol.asyncIterator]();
  }

  private queryStart(): number {
    return (this.queryIndex ??= queryIndexOf(this.target));
  }
}

/** Targets up to this long are scanned in a loop: for them a call of the indexOf builtin costs more than the scan. */
const SHORT_TARGET = 32;

/** Where the query begins in `target` (its "?"), or -1: none, or only after a "#". */
function queryIndexOf(target: string): number {
  if (target.length > SHORT_TARGET) {
    const q = target.indexOf("?");
    return q >= 0 && !target.slice(0, q).includes("#") ? q : -1;
  }
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f) return i; // "?"
    if (c === 0x23) return -1; // "#"
  }
  return -1;
}
