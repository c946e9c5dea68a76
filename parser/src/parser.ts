// The embeddable parser's entry: everything a host uses, and loading the
// module in any runtime (`instantiate(bytes)`); parser-node.ts adds
// synchronous loading for Node. The instance (instance.ts) is the only code
// that knows the wasm exports; the layout, codes and flags come from abi.ts,
// the ABI's one source.
import { ParserInstance, type ParserLimits } from "./instance.js";

export { FRAMING, HEAD, ERRORS } from "./abi.js";
export { Fields, latin1 } from "./fields.js";
export { ParserInstance, type HttpExports, type ParserLimits, type ParserOptions } from "./instance.js";
export { RequestHead, ResponseHead, HeadError, describeError, methodId, type ParseErrorInfo } from "./heads.js";

// ---- loading -------------------------------------------------------------

export type Build = "simd" | "scalar";
const FILES: Record<Build, string> = { simd: "../wasm/simplenet.wasm", scalar: "../wasm/simplenet-scalar.wasm" };

/** The URL of a build's .wasm file, for hosts that fetch it themselves. */
export function wasmUrl(build: Build = "simd"): URL {
  return new URL(FILES[build], import.meta.url);
}

/** A parser instance from the module's bytes or a compiled module (any runtime). */
export async function instantiate(
  source: BufferSource | WebAssembly.Module, limits: ParserLimits = {},
): Promise<ParserInstance> {
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  return new ParserInstance(await WebAssembly.instantiate(module, {}), { limits });
}

export { concat } from "./message-stream.js";
export { RequestStream, parseRequestWith, type StreamHandlers, type ParsedRequest, type ParseResult } from "./request-stream.js";
export {
  ResponseStream, parseResponseWith, type ResponseHandlers, type ResponseOptions, type ParsedResponse, type ResponseParseResult,
  type InterimResponse, type ResponseFraming,
} from "./response-stream.js";
