// The module's exports: the whole ABI a host sees. No imports, no allocation.
import {
  RECV, RECV_CAPACITY, OUT, OUT_CAPACITY, STAGE, STAGE_CAPACITY, STAGE_TABLE, RESULT, CHUNK_STATE, MAX_HEADERS_CAP,
} from "./layout";
import { configureRequestLimits } from "./request";
import { configureChunkLimits } from "./chunked";

export { parseRequest } from "./request";
export { decodeChunked, resetChunked } from "./chunked";
export { serializeHead, writeChunkHeader } from "./response";

export function recvBuffer(): usize { return RECV; }
export function recvCapacity(): i32 { return RECV_CAPACITY; }
export function outBuffer(): usize { return OUT; }
export function outCapacity(): i32 { return OUT_CAPACITY; }
export function stageBuffer(): usize { return STAGE; }
export function stageCapacity(): i32 { return STAGE_CAPACITY; }
export function stageTable(): usize { return STAGE_TABLE; }
export function resultTable(): usize { return RESULT; }
export function chunkState(): usize { return CHUNK_STATE; }
export function headerCapacity(): i32 { return MAX_HEADERS_CAP; }
/** Whether this build scans with v128. */
export function simd(): bool { return ASC_FEATURE_SIMD; }

export function setLimits(
  maxHead: i32, maxHeaders: i32, maxHeaderLine: i32, maxTarget: i32, maxBody: f64, maxChunkExtension: i32,
): void {
  configureRequestLimits(maxHead, maxHeaders, maxHeaderLine, maxTarget, maxBody);
  configureChunkLimits(maxChunkExtension);
}
