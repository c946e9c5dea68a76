// The module's exports: the whole ABI a host sees (its constants are in
// abi.ts, generated from parser/src/abi.ts). No imports, no allocation; every
// argument is checked against the region it names.
import { RECV, OUT, STAGE, STAGE_TABLE, RESULT, CHUNK_STATE, FRAME_TABLE } from "./layout";
import { ABI_HASH, E_BAD_ARGUMENT } from "./abi";
import { configureRequestLimits } from "./limits";
import { configureChunkLimits, validChunkLimits } from "./chunked";

export { parseRequest } from "./request";
export { parseResponse } from "./response-head";
export { decodeChunked, resetChunked } from "./chunked";
export { serializeHead, beginHead, addFields, endHead, writeChunkHeader } from "./response";
export { parseFrameHeader, unmaskPayload, writeFrameHeader } from "./websocket";
export { validateUtf8 } from "./utf8";

export function recvBuffer(): usize { return RECV; }
export function outBuffer(): usize { return OUT; }
export function stageBuffer(): usize { return STAGE; }
export function stageTable(): usize { return STAGE_TABLE; }
export function resultTable(): usize { return RESULT; }
export function chunkState(): usize { return CHUNK_STATE; }
export function frameTable(): usize { return FRAME_TABLE; }
/** The hash of the ABI this module was built from; the host refuses a module whose hash is not its own. */
export function abiHash(): i32 { return ABI_HASH; }
/** Whether this build scans with v128. */
export function simd(): bool { return ASC_FEATURE_SIMD; }

/** Sets every limit, or (when one is out of range) none: 0, or BAD_ARGUMENT. */
export function setLimits(
  maxHead: i32, maxHeaders: i32, maxHeaderLine: i32, maxTarget: i32, maxBody: f64, maxChunkExtension: i32, maxMethod: i32,
): i32 {
  if (!validChunkLimits(maxChunkExtension)) return E_BAD_ARGUMENT;
  const r = configureRequestLimits(maxHead, maxHeaders, maxHeaderLine, maxTarget, maxBody, maxMethod);
  if (r < 0) return r;
  configureChunkLimits(maxChunkExtension);
  return 0;
}
