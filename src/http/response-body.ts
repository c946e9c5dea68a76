// A response's body on its way out: a piece written (chunked or counted
// against its length), the whole body given to end() — placed right behind
// the head in the output region when it fits, so a small response leaves as
// one range of it — or a file's range for sendfile(2). Free functions over
// the response's state, run while its connection owns the output region.
import { FRAMING } from "simplenet-parser/abi";
import { FileRegion } from "./output-part.js";
import { lengthMismatch } from "./response-fields.js";
import { serializeHead, type OutgoingState } from "./response-head.js";

export type Body = string | Uint8Array;

const encoder = new TextEncoder();
const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/** The line before a chunk of `size` bytes, made outside the output region, which may hold other responses' bytes. */
function chunkLine(size: number): Uint8Array {
  return encoder.encode(size.toString(16) + "\r\n");
}

/** A string short enough to copy byte by byte, faster than a call to the encoder; always fits the output region. */
function isShortAscii(s: string): boolean {
  if (s.length > 256) return false;
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) > 0x7f) return false;
  return true;
}

export function bodyBytes(body: Body): Uint8Array {
  return typeof body === "string" ? encoder.encode(body) : body;
}

/** Response.write(): the piece written while the response's connection owns the output region. */
export function writePiece(res: OutgoingState, bytes: Uint8Array): boolean {
  const sink = res.sink;
  if (!sink.holdCork()) return writeBody(res, bytes);
  let sent = false;
  try {
    sent = writeBody(res, bytes);
  } finally {
    sent = sink.releaseCork() && sent;
  }
  return sent;
}

/** Response.end(): the response finished while its connection owns the output region. */
export function finish(res: OutgoingState, body: Body | undefined): void {
  const sink = res.sink;
  if (!sink.holdCork()) return endBody(res, body);
  try {
    endBody(res, body);
  } finally {
    sink.releaseCork();
  }
}

/** Response.sendFile(): the response finished with the file's range while its connection owns the output region. */
export function finishWithFile(res: OutgoingState, region: FileRegion): void {
  if (res.finished) return region.close();
  if (res.headersSent) {
    region.close();
    throw new Error("sendFile() needs a response whose head has not been sent");
  }
  const sink = res.sink;
  const took = sink.holdCork();
  try {
    fileBody(res, region);
  } finally {
    if (took) sink.releaseCork();
  }
}

/** Response.sendRaw(): bytes the caller framed itself; `last` ends the response and `close` closes the connection after it. */
export function sendFramed(res: OutgoingState, parts: Uint8Array[], last: boolean, close: boolean): boolean {
  res.headersSent = true;
  if (close) res.closes = true;
  if (last) res.finished = true;
  const sink = res.sink;
  const took = sink.holdCork();
  let sent = false;
  try {
    sent = sink.output(res, parts, last);
  } finally {
    if (took) sent = sink.releaseCork() && sent;
  }
  if (last) res.notifyFinish();
  return sent;
}

/** Response.abort(): the response ends here, and its connection closes once the responses before it are sent. */
export function cutShort(res: OutgoingState & { cutShort: boolean }): void {
  res.finished = true;
  res.cutShort = true;
  res.closes = true;
  res.sink.output(res, [], true);
  res.notifyFinish();
}

/** Sends a piece of the body (the head first, if it has not gone yet); false when not all went out now. */
function writeBody(res: OutgoingState, bytes: Uint8Array): boolean {
  const sink = res.sink;
  let head: Uint8Array | null = null;
  if (!res.headersSent) {
    const n = serializeHead(res, -1, bytes.length);
    head = sink.parser.bytes.subarray(sink.headAt, sink.headAt + n);
  } else if (res.framing === FRAMING.LENGTH && !res.bodyless && res.bytesWritten + bytes.length > res.declaredLength) {
    throw lengthMismatch(res.bytesWritten + bytes.length, res.declaredLength);
  }
  if (res.bodyless || bytes.length === 0) return head === null || sink.output(res, [head], false);
  res.bytesWritten += bytes.length;
  const parts: Uint8Array[] = head === null ? [] : [head];
  if (res.framing === FRAMING.CHUNKED) parts.push(chunkLine(bytes.length), bytes, CRLF);
  else parts.push(bytes);
  return sink.output(res, parts, false);
}

/** Finishes the response with a last piece of body, if given. */
function endBody(res: OutgoingState, body: Body | undefined): void {
  const sink = res.sink;
  const parser = sink.parser;
  if (res.headersSent) {
    if (body !== undefined) writeBody(res, bodyBytes(body));
    res.finished = true;
    if (res.framing === FRAMING.LENGTH && !res.bodyless && res.bytesWritten < res.declaredLength) res.closes = true;
    sink.output(res, res.framing === FRAMING.CHUNKED && !res.bodyless ? [LAST_CHUNK] : [], true);
    return res.notifyFinish();
  }
  const isString = typeof body === "string";
  const ascii = isString && isShortAscii(body);
  const length = body === undefined ? 0 : ascii ? body.length : isString ? Buffer.byteLength(body) : body.length;
  const headLength = serializeHead(res, length);
  const out = sink.headAt;
  if (!res.bodyless) res.bytesWritten = length;
  res.finished = true;
  if (res.framing === FRAMING.CHUNKED && !res.bodyless) {
    // The handler's Transfer-Encoding: the body goes as one chunk and the last.
    const parts = [parser.bytes.subarray(out, out + headLength)];
    if (length > 0) parts.push(chunkLine(length), bodyBytes(body!), CRLF);
    parts.push(LAST_CHUNK);
    sink.output(res, parts, true);
    return res.notifyFinish();
  }
  const room = parser.out + parser.outCapacity - out;
  // The whole response in the output region when it fits: head and body leave as one range of it.
  let end = -1;
  if (res.bodyless || length === 0) {
    end = out + headLength;
  } else if (ascii && headLength + length <= room) {
    const bytes = parser.bytes;
    for (let k = 0, at = out + headLength; k < length; k++) bytes[at + k] = body.charCodeAt(k);
    end = out + headLength + length;
  } else if (isString && headLength + length <= room) {
    encoder.encodeInto(body, parser.bytes.subarray(out + headLength, out + room));
    end = out + headLength + length;
  }
  if (end >= 0) sink.outputRegion(res, out, end, true);
  else sink.output(res, [parser.bytes.subarray(out, out + headLength), bodyBytes(body!)], true);
  res.notifyFinish();
}

/** Finishes the response with a file's range as its body; the region is closed whatever happens. */
function fileBody(res: OutgoingState, region: FileRegion): void {
  const length = region.remaining;
  let headLength: number;
  try {
    headLength = serializeHead(res, length);
  } catch (error) {
    region.close();
    throw error;
  }
  const out = res.sink.headAt;
  const head = res.sink.parser.bytes.subarray(out, out + headLength);
  res.finished = true;
  if (res.bodyless || length === 0) {
    region.close();
    res.sink.output(res, [head], true);
  } else {
    res.bytesWritten = length;
    res.sink.output(res, [head, region], true);
  }
  res.notifyFinish();
}
