// The names and signatures of the module's HTTP exports (frames.ts declares
// its WebSocket ones): bound by instance.ts, called by it and by the head
// serializer it owns.

/** The module's HTTP exports (frames.ts declares its WebSocket ones). */
export interface HttpExports {
  memory: WebAssembly.Memory;
  parseRequest(ptr: number, len: number, prevLen: number): number;
  parseResponse(ptr: number, len: number, prevLen: number, requestMethod: number): number;
  decodeChunked(ptr: number, len: number): number;
  resetChunked(): void;
  serializeHead(
    status: number, reasonLen: number, count: number, framing: number, contentLength: number, flags: number,
    nowSeconds: number, at: number,
  ): number;
  beginHead(status: number, reasonLen: number, at: number): number;
  addFields(count: number): number;
  endHead(framing: number, contentLength: number, flags: number, nowSeconds: number): number;
  writeChunkHeader(ptr: number, size: number): number;
  setLimits(head: number, headers: number, line: number, target: number, body: number, chunkExt: number, method: number): number;
  recvBuffer(): number;
  outBuffer(): number;
  stageBuffer(): number;
  stageTable(): number;
  resultTable(): number;
  chunkState(): number;
  abiHash(): number;
  simd(): number;
}
