// The binary message being handed to the application now, when it is a view
// of the receive region (reader.ts makes it, link.ts hands it over), and what
// a send may do with a view of that region: echo the message in place, send
// it (or part of it) framed the ordinary way, or — a view kept past its
// callback, whose bytes are another read's by now — nothing.
import type { ParserInstance } from "simplenet-parser";

/** Every loop memory a message view was made on (a wasm memory of fixed size never detaches its ArrayBuffer). */
const memories = new WeakSet<ArrayBuffer>();
/** The memory whose ArrayBuffer memoryOf() keeps, and that buffer: reading it is a call into V8's runtime. */
let known: Uint8Array | null = null;
let knownBuffer = new ArrayBuffer(0);

/** The ArrayBuffer of `bytes`, a whole loop memory (parser.bytes), read once per memory. */
export function memoryOf(bytes: Uint8Array): ArrayBuffer {
  if (bytes !== known) {
    known = bytes;
    knownBuffer = bytes.buffer as ArrayBuffer;
    memories.add(knownBuffer);
  }
  return knownBuffer;
}

// The message being delivered, its parser (whose memory it is in) and its range; none while `message` is null.
let message: Uint8Array | null = null;
let parser: ParserInstance | null = null;
let start = 0;
let end = 0;
/**
 * Whether the bytes of the head the message came with are still unused: it
 * lies right after them, and they are at least 4 more than the head a server
 * writes for the same payload (the client's has a mask), so sending it back
 * (an echo) writes its new head there and both leave from where they are,
 * copied nowhere. False once an echo took them.
 */
let echoable = false;

/**
 * `view`, of `from`'s memory at [at, at + view.length), is the message being
 * delivered until delivered() (called in a finally: a view kept past a
 * callback that threw must not find it open).
 */
export function delivering(from: ParserInstance, view: Uint8Array, at: number): void {
  message = view;
  parser = from;
  start = at;
  end = at + view.length;
  echoable = true;
}

/** The message callback has returned (or thrown). */
export function delivered(): void {
  message = null;
}

/**
 * Writes the frame head of an echo of `bytes` by a socket whose loop is `to`
 * over the message's head bytes, and returns where it begins (the frame runs
 * to the message's end), or -1: `bytes` is not the message being delivered
 * with its head bytes unused, not in `to`'s memory (a socket of another
 * server has a receive region of its own at the same offsets), or not under
 * 64 KiB (a head of 2 or 4 bytes).
 */
export function echoHead(bytes: Uint8Array, to: ParserInstance, opcode: number): number {
  const length = bytes.length;
  if (bytes !== message || !echoable || parser !== to || length >= 65536) return -1;
  echoable = false; // another send of it is framed the ordinary way
  const memory = to.bytes;
  const at = start - (length < 126 ? 2 : 4);
  memory[at] = 0x80 | opcode; // FIN, no RSV
  if (length < 126) {
    memory[at + 1] = length;
  } else {
    memory[at + 1] = 126;
    memory[at + 2] = length >> 8;
    memory[at + 3] = length & 0xff;
  }
  return at;
}

/**
 * Refuses a view of a loop's receive region that is not the message being
 * delivered now or a part of it: a message view kept past its callback,
 * whose bytes are whatever was read since, someone else's maybe. (Messages
 * land at the same offsets read after read, so a view with exactly the
 * message's range that is not the message itself is taken for a kept one;
 * a kept view that lies strictly inside the message is not told apart from
 * a part of it.)
 */
export function checkView(bytes: Uint8Array, to: ParserInstance): void {
  if (bytes === message) return;
  const offset = bytes.byteOffset;
  // A number compare first: an application's own buffer seldom lies at those offsets (every loop memory has the same layout).
  if (offset < to.recv || offset >= to.recv + to.recvCapacity) return;
  const of = bytes.buffer as ArrayBuffer;
  if (!memories.has(of)) return;
  const length = bytes.length;
  const current = message !== null && of === memoryOf(parser!.bytes);
  if (current && offset >= start && offset + length <= end && length < end - start) return;
  throw new TypeError(
    "send() of a view of the server's receive region that is not the message being delivered now: a message view " +
      "kept past its callback holds other bytes by then (copy what you keep: message.slice())",
  );
}
