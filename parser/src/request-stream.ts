// An incremental request parser for one byte stream, on a ParserInstance:
// heads, bodies (Content-Length or chunked) and trailers as they arrive, in
// any split; and the one-shot parse of a whole message built on it.
import { FRAMING, INCOMPLETE, SPAN } from "./abi.js";
import type { Fields } from "./fields.js";
import { describeError, type ParseErrorInfo, type RequestHead } from "./heads.js";
import type { ParserInstance } from "./instance.js";
import { MessageStream, parseThrough, type MessageHandlers } from "./message-stream.js";

export type StreamHandlers = MessageHandlers<RequestHead>;

/**
 * An incremental request parser for one byte stream (one connection).
 * Bytes go into the instance's receive region: either the caller reads into
 * it directly (`prepare`, then write at `writeAt`, then `commit`), or calls
 * `push`. Only the bytes of a head or chunk line that straddles two inputs
 * are copied and carried to the next call. `takeRest()` during a head()
 * callback hands over the bytes after that head (a protocol switch's).
 */
export class RequestStream extends MessageStream<RequestHead> {
  protected parseHeadAt(ptr: number, len: number, prevLen: number): number {
    return this.parser.parseHead(ptr, len, prevLen);
  }

  protected takeHeadAt(ptr: number, n: number): RequestHead {
    return this.parser.takeHead(ptr, n);
  }

  protected describe(code: number, offset: number): ParseErrorInfo {
    return describeError(code, offset);
  }
}

// ---- one-shot ------------------------------------------------------------

export interface ParsedRequest {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][];
  /** Bytes of the input this message used. */
  consumed: number;
  keepAlive: boolean;
}
export type ParseResult = ParsedRequest | { error: ParseErrorInfo } | { incomplete: true };

/** Parses the first whole request in `input`: head and decoded body. */
export function parseRequestWith(parser: ParserInstance, input: Uint8Array): ParseResult {
  if (input.length > parser.recvCapacity) return parseInPieces(parser, input);
  // The whole input fits the receive region: one parse of it, as the stream
  // would do in one pass, with no stream, handlers or intermediate arrays.
  parser.beginParse();
  try {
    parser.bytes.set(input, parser.recv);
    return parseWhole(parser, parser.recv, input.length);
  } finally {
    parser.endParse();
  }
}

function parseWhole(p: ParserInstance, base: number, len: number): ParseResult {
  const n = p.parseHead(base, len, 0);
  if (n === INCOMPLETE) return { incomplete: true };
  if (n < 0) return { error: describeError(n, p.errorOffset()) };
  const head = p.takeHead(base, n);
  let body: Uint8Array;
  let consumed = n;
  let trailers: [string, string][] = [];
  if (head.framing === FRAMING.CHUNKED) {
    const at = base + n;
    const r = p.decodeChunked(at, len - n, new Float64Array(3));
    if (r < 0) return { error: describeError(r, p.errorOffset() + n) };
    if (r !== 1) return { incomplete: true };
    const used = p.chunkConsumed();
    body = p.bytes.slice(at, at + p.chunkDataLength());
    const fields = p.takeTrailers(at, used);
    if (fields.length > 0) trailers = pairs(fields);
    consumed += used;
  } else if (head.contentLength > 0) {
    if (len - n < head.contentLength) return { incomplete: true };
    body = p.bytes.slice(base + n, base + n + head.contentLength);
    consumed += head.contentLength;
  } else {
    body = new Uint8Array(0);
  }
  return {
    method: head.method, target: head.target, version: head.version, headers: pairs(head.headers), body, trailers, consumed,
    keepAlive: head.keepAlive,
  };
}

/** [name, value] pairs, sliced straight from the section's text by the spans. */
function pairs(fields: Fields): [string, string][] {
  const { text, spans, length } = fields;
  const out: [string, string][] = new Array(length);
  for (let i = 0, s = 0; i < length; i++, s += SPAN.SLOTS) {
    const name = spans[s + SPAN.NAME_OFF], value = spans[s + SPAN.VALUE_OFF];
    out[i] = [text.slice(name, name + spans[s + SPAN.NAME_LEN]), text.slice(value, value + spans[s + SPAN.VALUE_LEN])];
  }
  return out;
}

/** The general case: the input goes through a RequestStream in pieces the receive region holds. */
function parseInPieces(parser: ParserInstance, input: Uint8Array): ParseResult {
  return parseThrough<RequestHead, RequestStream, ParsedRequest>((on) => new RequestStream(parser, on), input, (h, body, trailers, consumed) => ({
    method: h.method, target: h.target, version: h.version, headers: h.headers.toArray(), body, trailers, consumed, keepAlive: h.keepAlive,
  }));
}
