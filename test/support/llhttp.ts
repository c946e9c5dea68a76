// Node's own HTTP parser, llhttp, driven as node:http drives it
// (process.binding("http_parser"), strict: no leniency flags). The one place
// that knows its binding and callbacks: the differential test, the fuzzer's
// oracle and the parser benchmark all go through `Llhttp`.
import { createRequire } from "node:module";
import { latin1 } from "../../parser/src/fields.ts";
import type { Message } from "./stream.ts";
import type { ResponseMessage } from "./response-stream.ts";

interface NodeParser {
  [callback: number]: (...args: never[]) => unknown;
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Uint8Array): number | (Error & { code: string; reason: string; bytesParsed: number });
  finish(): number | undefined | (Error & { code: string; reason: string; bytesParsed: number });
}
interface Binding {
  HTTPParser: {
    new (): NodeParser;
    REQUEST: number;
    RESPONSE: number;
    kOnMessageBegin: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number;
    kOnMessageComplete: number; kOnExecute: number; kLenientNone: number;
  };
  /** Method names by llhttp's method number. */
  allMethods: string[];
  /** The HTTP methods (its RTSP and ICE methods are not for HTTP/1.x). */
  methods: string[];
}

function loadBinding(): Binding {
  const quiet = process.noDeprecation;
  process.noDeprecation = true; // process.binding is deprecated (DEP0111); this is the parser node:http uses, on purpose
  try {
    return (process as unknown as { binding(name: string): Binding }).binding("http_parser");
  } catch {
    return fromHttpCommon();
  } finally {
    process.noDeprecation = quiet;
  }
}

/**
 * Node 24 took http_parser out of process.binding; node:http's own module
 * _http_common still hands out the same parser and method list. The method
 * numbers llhttp reports are learned from the parser itself.
 */
function fromHttpCommon(): Binding {
  const { HTTPParser, methods } = createRequire(import.meta.url)("_http_common") as Pick<Binding, "HTTPParser" | "methods">;
  const allMethods: string[] = [];
  const parser = new HTTPParser();
  for (const name of methods) {
    parser[HTTPParser.kOnHeadersComplete] = ((_major: number, _minor: number, _headers: unknown, method: number) => {
      allMethods[method] = name;
      return 0;
    }) as never;
    parser.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
    parser.execute(Buffer.from(`${name} / HTTP/1.1\r\nHost: a\r\n\r\n`));
  }
  return { HTTPParser, methods, allMethods };
}

const binding = loadBinding();
const { HTTPParser } = binding;

/** The HTTP methods llhttp knows. */
export const LLHTTP_METHODS: ReadonlySet<string> = new Set(binding.methods);

export interface LlhttpHead {
  method: string;
  target: string;
  major: number;
  minor: number;
  /** Name, value, name, value, ... as node:http receives them. */
  headers: string[];
  upgrade: boolean;
  keepAlive: boolean;
}

export interface LlhttpHandlers {
  /** A message begins (its first byte after the CR and LF llhttp skips between requests). */
  begin?(): void;
  head(head: LlhttpHead): void;
  body(chunk: Buffer): void;
  /** Trailers as a flat list, like the head's. */
  end(trailers: string[]): void;
}

export interface LlhttpError {
  /** HPE_*, e.g. "HPE_INVALID_METHOD". */
  code: string;
  reason: string;
  /** Bytes it parsed before the fault. */
  offset: number;
}

/** One llhttp request parser: `reset()` starts a connection, `execute()` feeds it bytes. */
export class Llhttp {
  private readonly parser = new HTTPParser();
  /** Header (or trailer) strings and URL pieces llhttp flushed before the head or message ended. */
  private fields: string[] = [];
  private url = "";
  private inHead = false;

  constructor(on: LlhttpHandlers) {
    const p = this.parser;
    p[HTTPParser.kOnMessageBegin] = () => {
      on.begin?.();
      this.fields = [];
      this.url = "";
      this.inHead = true;
    };
    // Called when llhttp flushes a long header list before the head ends, and for trailers.
    p[HTTPParser.kOnHeaders] = ((headers: string[], url: string) => {
      for (const h of headers) this.fields.push(h);
      if (this.inHead) this.url += url;
    }) as never;
    p[HTTPParser.kOnHeadersComplete] = ((
      major: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined,
      _status: unknown, _message: unknown, upgrade: boolean, keepAlive: boolean,
    ) => {
      const flushed = this.fields;
      this.fields = [];
      this.inHead = false;
      on.head({
        method: binding.allMethods[method], target: this.url + (url ?? ""), major, minor,
        headers: headers === undefined ? flushed : flushed.length === 0 ? headers : flushed.concat(headers), upgrade, keepAlive,
      });
      return 0;
    }) as never;
    p[HTTPParser.kOnBody] = on.body as never;
    p[HTTPParser.kOnMessageComplete] = () => {
      const trailers = this.fields;
      this.fields = [];
      on.end(trailers);
    };
    p[HTTPParser.kOnExecute] = () => {};
    this.reset();
  }

  /** A fresh connection. */
  reset(): void {
    this.parser.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
    this.fields = [];
    this.url = "";
    this.inHead = false;
  }

  /** Parses the bytes; the error, or the number of bytes parsed (less than given after an upgrade). */
  execute(data: Uint8Array): number | LlhttpError {
    if (data.length === 0) return 0; // node's binding returns nothing for no bytes
    const r = this.parser.execute(data);
    return typeof r === "number" ? r : { code: r.code, reason: r.reason, offset: r.bytesParsed };
  }
}

/** What llhttp made of an input: requests or responses. */
export interface LlhttpRunOf<M> {
  messages: M[];
  /** A message whose head was taken and which had not ended. */
  partial: M | null;
  error: LlhttpError | null;
  /** The input ended inside a message. */
  pending: boolean;
  /**
   * It stopped at a message that switches protocols (a request with CONNECT
   * or Upgrade; a 101 with Upgrade, or a 2xx to CONNECT): what follows is
   * not HTTP to it. Node's binding reports no error after such a head
   * either: a fault in its body ends the parse the same way.
   */
  upgraded: boolean;
}

export type LlhttpRun = LlhttpRunOf<Message>;

const pairs = (flat: readonly string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let k = 0; k < flat.length; k += 2) out.push([flat[k], flat[k + 1]]);
  return out;
};

/** The messages of one llhttp run as its callbacks report them, requests or responses. */
class Recording<M extends { body: string; trailers: [string, string][] }> {
  messages: M[] = [];
  current: M | null = null;
  private body: string[] = [];
  /** A message has begun and not completed. */
  begun = false;

  begin(): void {
    this.begun = true;
  }

  head(m: M): void {
    this.current = m;
    this.body = [];
  }

  data(chunk: Buffer): void {
    this.body.push(latin1(chunk, 0, chunk.length));
  }

  end(trailers: readonly string[]): void {
    const m = this.current!;
    m.body = this.body.join("");
    m.trailers = pairs(trailers);
    this.messages.push(m);
    this.current = null;
    this.begun = false;
  }

  result(error: LlhttpError | null, upgraded: boolean): LlhttpRunOf<M> {
    const partial = this.current;
    if (partial !== null) partial.body = this.body.join("");
    return { messages: this.messages, partial, error, pending: error === null && !upgraded && this.begun, upgraded };
  }
}

let run = new Recording<Message>();
const recorder = new Llhttp({
  begin() {
    run.begin();
  },
  head(h) {
    run.head({
      method: h.method, target: h.target, version: `${h.major}.${h.minor}`, headers: pairs(h.headers), body: "",
      trailers: [], keepAlive: h.keepAlive, upgrade: h.upgrade, end: -1,
    });
  },
  body(chunk) {
    run.data(chunk);
  },
  end(trailers) {
    run.end(trailers);
  },
});

/** llhttp's reading of a whole input, on a fresh connection. (Its messages' `end` is not known: -1.) */
export function llhttpParse(input: Uint8Array): LlhttpRun {
  run = new Recording<Message>();
  recorder.reset();
  const r = recorder.execute(Buffer.from(input.buffer, input.byteOffset, input.length));
  const error = typeof r === "number" ? null : r;
  return run.result(error, error === null && typeof r === "number" && r < input.length);
}

// ---- responses ------------------------------------------------------------------

/** A response as llhttp reads it: the stream driver's ResponseMessage, less what llhttp does not report. */
export type LlhttpResponse = Omit<ResponseMessage, "framing" | "end">;

export type LlhttpResponseRun = LlhttpRunOf<LlhttpResponse>;

/**
 * llhttp in response mode, driven as node:http's client drives it: the head
 * callback answers 1 (no body) for a response to HEAD and 2 (no body, then
 * the connection is no longer HTTP) for a 2xx to CONNECT, as
 * parserOnIncomingClient does. `finish()` is llhttp_finish: the connection
 * closed, which ends a body read until the close.
 */
export class LlhttpResponses {
  private readonly parser = new HTTPParser();
  private fields: string[] = [];
  private inHead = false;
  private run = new Recording<LlhttpResponse>();
  /** The method of each request, in order (pipelined requests), or one for every response. */
  private methods: string | undefined | readonly (string | undefined)[] = undefined;
  /** Final (non-1xx, or 101) responses read so far: the next one answers methods[finals]. */
  private finals = 0;

  /** The method of the request the response now being read answers. */
  get requestMethod(): string | undefined {
    return typeof this.methods === "object" ? this.methods[this.finals] : this.methods;
  }

  /** `maxHeaderSize`: bytes of a head it reads, 0 for Node's default (16 KiB). */
  constructor(private readonly maxHeaderSize = 0) {
    const p = this.parser;
    p[HTTPParser.kOnMessageBegin] = () => {
      this.fields = [];
      this.inHead = true;
      this.run.begin();
    };
    p[HTTPParser.kOnHeaders] = ((headers: string[]) => {
      for (const h of headers) this.fields.push(h);
    }) as never;
    p[HTTPParser.kOnHeadersComplete] = ((
      major: number, minor: number, headers: string[] | undefined, _method: unknown, _url: unknown,
      status: number, reason: string | undefined, upgrade: boolean, keepAlive: boolean,
    ) => {
      const flushed = this.fields;
      this.fields = [];
      this.inHead = false;
      this.run.head({
        status, reason: reason ?? "", version: `${major}.${minor}`,
        headers: pairs(headers === undefined ? flushed : flushed.length === 0 ? headers : flushed.concat(headers)), body: "",
        trailers: [], keepAlive, upgrade,
      });
      const method = this.requestMethod;
      if (status >= 200 || status === 101) this.finals++;
      if (method === "HEAD") return 1;
      if (method === "CONNECT" && status >= 200 && status < 300) return 2;
      return 0;
    }) as never;
    p[HTTPParser.kOnBody] = ((chunk: Buffer) => {
      this.run.data(chunk);
    }) as never;
    p[HTTPParser.kOnMessageComplete] = () => {
      this.run.end(this.fields);
      this.fields = [];
    };
    p[HTTPParser.kOnExecute] = () => {};
  }

  /**
   * llhttp's reading of a whole input on a fresh connection; `endOfInput`:
   * then the connection closed. `requestMethod`: the method every response
   * answers, or a list, one per final response (pipelined requests).
   */
  parse(input: Uint8Array, requestMethod: string | undefined | readonly (string | undefined)[], endOfInput = false): LlhttpResponseRun {
    this.methods = requestMethod;
    this.finals = 0;
    this.run = new Recording<LlhttpResponse>();
    this.parser.initialize(HTTPParser.RESPONSE, {}, this.maxHeaderSize, HTTPParser.kLenientNone);
    this.fields = [];
    this.inHead = false;
    let error: LlhttpError | null = null;
    let upgraded = false;
    if (input.length > 0) {
      const r = this.parser.execute(Buffer.from(input.buffer, input.byteOffset, input.length));
      if (typeof r !== "number") error = { code: r.code, reason: r.reason, offset: r.bytesParsed };
      else upgraded = r < input.length;
    }
    // An upgrade that used the whole input: the last message switched protocols, with nothing after it.
    const last = this.run.messages.at(-1);
    if (error === null && !upgraded && last !== undefined && this.run.current === null && !this.run.begun) {
      const lastMethod = typeof requestMethod === "object" ? requestMethod[this.finals - 1] : requestMethod;
      upgraded = (last.upgrade && last.status === 101) || (lastMethod === "CONNECT" && last.status >= 200 && last.status < 300);
    }
    if (endOfInput && error === null && !upgraded) {
      const r = this.parser.finish();
      if (r !== undefined && typeof r !== "number") error = { code: r.code, reason: r.reason, offset: r.bytesParsed };
    }
    return this.run.result(error, upgraded);
  }
}
