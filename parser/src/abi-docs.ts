// The ABI in words, beside its one source (abi.ts), which re-exports it.
// Documentation as data, outside the hash (none of it changes what the module
// does): each export's signature and meaning, and what each result slot,
// framing value, flag and chunk phase means. The README's ABI section is
// generated from it; test/abi-exports.test.ts checks EXPORTS against the
// module's own export section (names and parameter types) and that every
// value of abi.ts has its meaning here.

/** One export: `params` as "name: type" pairs, types i32 or f64 (pointers are i32); `result` "" for none. */
export interface ExportDoc {
  readonly name: string;
  readonly params: string;
  readonly result: "i32" | "f64" | "";
  readonly does: string;
  readonly writes: string;
}

/** Every function the module exports (it also exports `memory`, which never grows). */
export const EXPORTS: readonly ExportDoc[] = [
  {
    name: "parseRequest", params: "ptr: i32, len: i32, prevLen: i32", result: "i32",
    does: "Parses the request head at `[ptr, ptr+len)`, which must lie in the receive region. Returns the head's length " +
      "(the body starts right after it), `INCOMPLETE` (-1) when the head has not ended yet, or an error code (< -1) with the " +
      "fault's offset from `ptr` in `ERROR_OFFSET`. After `INCOMPLETE`, call again from the same `ptr` with more bytes and " +
      "`prevLen` = the `len` of the last attempt (0 the first time): the retry skips the bytes already seen until the empty line arrives",
    writes: "result table",
  },
  {
    name: "parseResponse", params: "ptr: i32, len: i32, prevLen: i32, requestMethod: i32", result: "i32",
    does: "Parses a response head at `[ptr, ptr+len)` in the receive region, as `parseRequest` does a request's (the same " +
      "returns, `prevLen` and field rules): status line `HTTP/1.x <3 digits> <reason>`, then the fields. `requestMethod` is the " +
      "`METHOD` id of the request it answers (`HEAD` and `CONNECT` change the framing; `OTHER` for any other). Writes `STATUS`, " +
      "`REASON_OFF`/`REASON_LEN`, `VERSION`, the fields, `FLAGS` (`KEEP_ALIVE`, `UPGRADE`) and `FRAMING` by RFC 9112 §6.3: " +
      "`NONE` for a response to HEAD and a 1xx (but 101), 204 or 304; `TUNNEL` for a 101 or a 2xx to CONNECT; else `CHUNKED`, " +
      "`LENGTH` (`CONTENT_LENGTH_F64`) or `UNTIL_CLOSE`",
    writes: "result table",
  },
  {
    name: "decodeChunked", params: "ptr: i32, len: i32", result: "i32",
    does: "Decodes a chunked body from `[ptr, ptr+len)` in the receive region, in place, with the state at `chunkState()`: `1` when the " +
      "body and its trailer section are complete, `0` when it needs more input, or an error code (`ERROR_OFFSET` from `ptr`). " +
      "`CONSUMED` input bytes were used and `DATA_LEN` decoded bytes now sit at `ptr`; keep the unconsumed rest (a size line or " +
      "trailer section not complete yet) and call again with it in front of the next input. After `1`, `HEADER_COUNT` and the " +
      "field spans (offsets from `ptr`) are the trailer fields",
    writes: "the range, result table, chunk state",
  },
  {
    name: "resetChunked", params: "", result: "",
    does: "Sets the chunk state to a body's start (phase `SIZE`, both counts 0). A host parsing several streams saves the " +
      "state's bytes after each `decodeChunked` and writes them back before the next; the module checks them like an argument",
    writes: "chunk state, result table",
  },
  {
    name: "serializeHead", params: "status: i32, reasonLen: i32, count: i32, framing: i32, contentLength: f64, flags: i32, nowSeconds: f64, at: i32",
    result: "i32",
    does: "Writes a whole response head at `outBuffer() + at`: `HTTP/1.1 <status> <reason>` (the reason phrase is the first " +
      "`reasonLen` bytes of the staging region; 0: the standard one for the status), the first `count` fields of the staging " +
      "table, then what `framing` and the `HEAD` flags add (`Date` from `nowSeconds`, Unix time; `Content-Length: <contentLength>` " +
      "or `Transfer-Encoding: chunked`; `Connection`) and the empty line. Returns the head's length, or an error code with the " +
      "refused field's index (or -1) in `ERROR_OFFSET`. It is `beginHead`, `addFields(count)`, `endHead` in one call",
    writes: "output region, result table",
  },
  {
    name: "beginHead", params: "status: i32, reasonLen: i32, at: i32", result: "i32",
    does: "Starts a head in passes, for more fields than the staging table holds: the status line at `outBuffer() + at`. " +
      "Returns the bytes written so far, or an error code",
    writes: "output region, result table",
  },
  {
    name: "addFields", params: "count: i32", result: "i32",
    does: "Appends the first `count` fields of the staging table to the head begun; then stage the next batch (the staging " +
      "region and table may be reused) and call again. Returns the bytes written so far, or an error code with the refused " +
      "field's index in this batch in `ERROR_OFFSET` (an error ends the head)",
    writes: "output region, result table",
  },
  {
    name: "endHead", params: "framing: i32, contentLength: f64, flags: i32, nowSeconds: f64", result: "i32",
    does: "Ends the head begun, as `serializeHead` does: returns the whole head's length, or an error code",
    writes: "output region, result table",
  },
  {
    name: "writeChunkHeader", params: "ptr: i32, size: f64", result: "i32",
    does: "Writes a chunk's size line, `<hex size>\\r\\n`, at `ptr`, which must leave 16 bytes in the output region: its length, " +
      "or `BAD_ARGUMENT`",
    writes: "those bytes",
  },
  {
    name: "setLimits", params: "head: i32, headers: i32, line: i32, target: i32, body: f64, chunkExt: i32, method: i32", result: "i32",
    does: "Sets every limit (`LIMITS` below has the defaults and caps): head bytes, header count, bytes per field line, " +
      "target bytes, decoded body bytes, chunk extension bytes, method bytes. Returns `0`, or `BAD_ARGUMENT` with no limit " +
      "changed when one is out of range",
    writes: "nothing",
  },
  {
    name: "parseFrameHeader", params: "ptr: i32, len: i32, requireMask: i32, allowedRsv: i32", result: "i32",
    does: "Parses a WebSocket frame header in the receive region: its length (2-14), `INCOMPLETE`, or a `WS_` error as soon " +
      "as its byte is seen. `allowedRsv`: the RSV bits (`RSV`) data frames may carry, control frames none; `requireMask` " +
      "nonzero refuses unmasked frames",
    writes: "frame table (on success)",
  },
  {
    name: "unmaskPayload", params: "ptr: i32, len: i32, mask: i32, phase: i32", result: "i32",
    does: "XORs `[ptr, ptr+len)` (receive region) with the masking key `mask` (as the frame table holds it) rotated by " +
      "`phase` (0-3: payload bytes unmasked before): `0`",
    writes: "the range",
  },
  {
    name: "validateUtf8", params: "ptr: i32, len: i32, state: i32", result: "i32",
    does: "Checks UTF-8 over a range of the receive or output region, from `state` (0 at a message's start, else the last " +
      "call's result): `0` on a character boundary, `> 0` inside a character, `UTF8_INVALID` as soon as it can never be valid",
    writes: "nothing",
  },
  {
    name: "writeFrameHeader", params: "ptr: i32, fin: i32, opcode: i32, rsv: i32, length: f64", result: "i32",
    does: "Writes an unmasked WebSocket frame header at `ptr` in the output region: its length (2, 4 or 10), or " +
      "`BAD_ARGUMENT`; control frames must be final, RSV-free and at most 125 bytes",
    writes: "those bytes",
  },
  { name: "recvBuffer", params: "", result: "i32", does: "The receive region's address", writes: "nothing" },
  { name: "outBuffer", params: "", result: "i32", does: "The output region's address", writes: "nothing" },
  { name: "stageBuffer", params: "", result: "i32", does: "The staging region's address", writes: "nothing" },
  { name: "stageTable", params: "", result: "i32", does: "The staging table's address", writes: "nothing" },
  { name: "resultTable", params: "", result: "i32", does: "The result table's address", writes: "nothing" },
  { name: "chunkState", params: "", result: "i32", does: "The chunk state's address", writes: "nothing" },
  { name: "frameTable", params: "", result: "i32", does: "The WebSocket frame table's address", writes: "nothing" },
  {
    name: "abiHash", params: "", result: "i32",
    does: "The hash of the ABI the module was built from (FNV-1a of `parser/src/abi.ts`'s constants): a host built from " +
      "another ABI refuses the module",
    writes: "nothing",
  },
  { name: "simd", params: "", result: "i32", does: "1 when this build scans with v128 (the SIMD build), 0 for the scalar one", writes: "nothing" },
];

/** The groups whose values MEANING explains. */
export type MeaningGroup = "RESULT" | "FRAMING" | "FLAG" | "HEAD" | "CHUNK_PHASE";

/** What each value of a group above means: the README's tables say it, and a test checks that none is missing. */
export const MEANING: { readonly [G in MeaningGroup]: Readonly<Record<string, string>> } = {
  RESULT: {
    METHOD_OFF: "requests: the method's offset",
    METHOD_LEN: "requests: the method's length",
    TARGET_OFF: "requests: the target's offset",
    TARGET_LEN: "requests: the target's length",
    REASON_OFF: "responses: the reason phrase's offset (the slot a request's target offset takes)",
    REASON_LEN: "responses: the reason phrase's length, 0 when it is empty",
    VERSION: "the minor HTTP version: 0 or 1",
    HEADER_COUNT: "field spans that follow from slot `FIELDS`: the head's fields, or the trailers after `decodeChunked` returns 1",
    FRAMING: "how the body is framed: a `FRAMING` value",
    FLAGS: "`FLAG` bits",
    ERROR_OFFSET: "after an error: the fault's byte offset, or the index of the field a serializer call refused (-1: none)",
    METHOD_ID: "requests: a `METHOD` id (`OTHER`: read the method's span)",
    CONSUMED: "`decodeChunked`: input bytes used",
    DATA_LEN: "`decodeChunked`: decoded bytes now at the start of its input",
    STATUS: "responses: the status code, 100-999",
    CONTENT_LENGTH_F64: "an f64 slot (byte offset 8 x this): the Content-Length when `FRAMING` is `LENGTH`, -1 when `CHUNKED`, else 0",
    FIELDS: "the first field span: `SPAN.SLOTS` slots per field, `HEADER_COUNT` fields, offsets from the parsed input's start",
    SIZE: "i32 slots in all",
  },
  FRAMING: {
    NONE: "no body (a request without one; a response to HEAD, a 1xx but 101, a 204 or 304) / no framing field (serializeHead)",
    LENGTH: "a body of Content-Length bytes (the f64 slot `CONTENT_LENGTH_F64`)",
    CHUNKED: "a chunked body: run it through `decodeChunked`",
    UNTIL_CLOSE: "responses: the body is every byte until the connection closes",
    TUNNEL: "responses: no body, and the bytes after the head are no longer HTTP (a 101, or a 2xx to CONNECT)",
  },
  FLAG: {
    KEEP_ALIVE: "the connection stays open after this message",
    EXPECT_CONTINUE: "`Expect: 100-continue`",
    EXPECT_OTHER: "an `Expect` other than 100-continue (a server answers 417)",
    UPGRADE: "`Upgrade` with `Connection: upgrade`: a request that asks to switch, or a 101 that switches (elsewhere a response's Upgrade only advertises)",
  },
  HEAD: {
    DATE: "add a `Date` field from `nowSeconds`",
    CLOSE: "add `Connection: close`",
    KEEP_ALIVE: "add `Connection: keep-alive` (for HTTP/1.0 clients)",
  },
  CHUNK_PHASE: {
    SIZE: "before a chunk-size line (a body's start)",
    DATA: "inside a chunk's data",
    DATA_END: "after a chunk's data, before its CRLF",
    TRAILERS: "after the last chunk, in the trailer section",
    DONE: "the body is complete",
  },
};
