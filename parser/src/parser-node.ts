// simplenet-parser under Node: the embeddable parser (parser.ts), loaded
// synchronously from the package's .wasm files, with Node's native latin1
// decoder for head text.
import { readFileSync } from "node:fs";
import {
  ParserInstance, parseRequestWith, parseResponseWith, wasmUrl, type Build, type ParseResult, type ParserLimits,
  type ResponseOptions, type ResponseParseResult,
} from "./parser.js";

export * from "./parser.js";

const modules = new Map<Build, WebAssembly.Module>();

function compileSync(build: Build): WebAssembly.Module {
  let module = modules.get(build);
  if (module === undefined) {
    module = new WebAssembly.Module(readFileSync(wasmUrl(build)));
    modules.set(build, module);
  }
  return module;
}

/** Reads linear memory straight into a string with Buffer's native latin1 decoder. */
function nodeLatin1(bytes: Uint8Array): (start: number, end: number) => string {
  // latin1Slice is Buffer's native decoder behind toString("latin1"), minus the argument checks.
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length) as Buffer & { latin1Slice?(s: number, e: number): string };
  // Taken once: optimized code looked latin1Slice up on the view through the
  // generic LoadIC at every call (about 70 instructions a head, in callgrind).
  const latin1Slice = view.latin1Slice;
  if (typeof latin1Slice === "function") return (start, end) => latin1Slice.call(view, start, end);
  return (start, end) => view.toString("latin1", start, end);
}

/**
 * A parser instance, loaded synchronously. `latin1`, given the memory's
 * bytes, may offer a faster decoder of them (null: Buffer's is used).
 */
export function createParser(
  limits: ParserLimits = {}, build: Build = "simd", latin1?: (bytes: Uint8Array) => ((start: number, end: number) => string) | null,
): ParserInstance {
  const decoder = latin1 === undefined ? nodeLatin1 : (bytes: Uint8Array) => latin1(bytes) ?? nodeLatin1(bytes);
  return new ParserInstance(new WebAssembly.Instance(compileSync(build), {}), { limits, latin1: decoder });
}

let shared: ParserInstance | null = null;

/** One-shot parse with a shared instance. */
export function parseRequest(input: Uint8Array): ParseResult {
  shared ??= createParser();
  return parseRequestWith(shared, input);
}

/** One-shot parse of a response with the shared instance (see parseResponseWith). */
export function parseResponse(input: Uint8Array, options: ResponseOptions & { endOfInput?: boolean } = {}): ResponseParseResult {
  shared ??= createParser();
  return parseResponseWith(shared, input, options);
}
