// The parser builds one fuzz run executes: the instrumented one that gives
// coverage (and the ABI target on its instance), and the release builds,
// SIMD and scalar, compared against it. Its own file so that targets.ts and
// the targets it lists (websocket.ts) both read it without importing each other.
import { ParserInstance, createParser } from "../parser/src/parser-node.ts";
import type { ParserBuild } from "./build.ts";
import type { SpanCheck } from "../test/support/stream.ts";
import { AbiTarget } from "./abi.ts";

export interface Builds {
  /** The instrumented build: coverage comes from its runs. */
  instrumented: ParserInstance;
  spans: SpanCheck;
  counters: Uint8Array;
  simd: ParserInstance;
  scalar: ParserInstance;
  /** The ABI target, on the instrumented instance (see abi.ts). */
  abi: AbiTarget;
}

export function loadBuilds(build: ParserBuild): Builds {
  const instance = new WebAssembly.Instance(build.module, {});
  const exports = instance.exports as { memory: WebAssembly.Memory; resultTable(): number };
  const buffer = exports.memory.buffer;
  return {
    instrumented: new ParserInstance(instance),
    spans: { i32: new Int32Array(buffer), table: exports.resultTable() >> 2 },
    counters: new Uint8Array(buffer, build.counterBase, build.probes),
    simd: createParser({}, "simd"),
    scalar: createParser({}, "scalar"),
    abi: new AbiTarget(instance, build.counterBase),
  };
}
