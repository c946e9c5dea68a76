// Reading a client's WebSocket frames as they arrive, split anywhere: frame
// heads parsed, payloads unmasked and text validated in place in the receive
// region by the wasm codec (fail fast, across fragments), messages assembled,
// and every protocol fault turned into its close code (RFC 6455 §5, §7.4).
import { CLOSE, OPCODE, RSV, WEBSOCKET, INCOMPLETE, UTF8_INVALID } from "simplenet-parser/abi";
import { describeError, type ParserInstance } from "simplenet-parser";
import { isValidCloseCode, type FrameCodec } from "simplenet-parser/frames";
import { memoryOf } from "./delivery.js";

/** What every reader of a server shares (one object per server, not one per socket: the hub). */
export interface ReaderSettings {
  readonly codec: FrameCodec;
  readonly parser: ParserInstance;
  readonly maxPayload: number;
}

const HEAD = 0, PAYLOAD = 1, STOPPED = 2;
/** Frames one message may come in (ws's limit too): more closes with 1008. */
export const MAX_FRAGMENTS = 16_384;
/** The smallest buffer a message is assembled in: it grows by doubling, so a message of many small fragments costs its bytes, not an object each. */
const MIN_ASSEMBLY = 1024;

/**
 * A view of bytes[at, at + n) (bytes: a whole wasm memory) made on its
 * ArrayBuffer, which costs about half what subarray() does (its species
 * lookup: some 230 instructions of 500 in callgrind); the buffer is read
 * once per memory (delivery.ts).
 */
function viewOf(bytes: Uint8Array, at: number, n: number): Uint8Array {
  return new Uint8Array(memoryOf(bytes), at, n);
}

/**
 * One connection's reading state; its events are the methods a subclass
 * (the socket's link) gives, so reader and link are one object per socket.
 */
export abstract class FrameReader<S extends ReaderSettings = ReaderSettings> {
  private phase = HEAD;
  /** The bytes of a frame head that straddles two reads (at most 13). */
  private carry: Uint8Array | null = null;
  // The frame being read.
  private fin = false;
  private opcode = 0;
  private mask = 0;
  private remaining = 0;
  private maskPhase = 0;
  // The message being assembled (text or binary, possibly fragmented).
  private messageOpcode = -1;
  private compressed = false;
  private fragments = 0;
  /** The message so far, in a buffer of its own (its whole length is reserved); null while nothing is kept. */
  private assembly: Uint8Array | null = null;
  private size = 0;
  private utf8 = 0;
  // A control frame's payload, which may arrive in pieces too.
  private controlPayload: Uint8Array | null = null;
  private closeUtf8 = 0;

  constructor(protected readonly settings: S) {}

  /** RSV1 allowed: permessage-deflate was negotiated. */
  protected abstract mayCompress(): boolean;

  /**
   * A whole message. `receivedAt` >= 0: `data` is a view valid during the
   * call, at parser.bytes[receivedAt] in the receive region right after its
   * frame's head; -1: the reader's own copy. `compressed`: RSV1 was set
   * (permessage-deflate), so it is not validated yet.
   */
  protected abstract message(data: Uint8Array, text: boolean, compressed: boolean, receivedAt: number): void;
  /** A control frame's payload (a view valid during the call), validated for close frames. */
  protected abstract control(opcode: number, payload: Uint8Array): void;
  /** A protocol fault: close with this code. */
  protected abstract fail(code: number, reason: string): void;
  /** May `bytes` more be buffered for a message (the memory budget)? */
  protected abstract reserve(bytes: number): boolean;
  protected abstract release(bytes: number): void;

  /** Whether a message (or a control frame) has begun and not ended: the peer owes its rest. */
  get midMessage(): boolean {
    return this.phase === PAYLOAD || this.carry !== null || this.messageOpcode !== -1;
  }

  /**
   * Feeds the bytes read with the upgrade request, copied through the receive region a region's worth at a time. One read after
   * a head over WEBSOCKET.MAX_HEADER bytes, they fit in one pass: a second would overwrite the echoes the first corked (delivery.ts).
   */
  feed(bytes: Uint8Array): void {
    const { parser } = this.settings;
    parser.claimReceiveRegion();
    for (let at = 0; at < bytes.length && this.phase !== STOPPED; ) {
      const n = Math.min(bytes.length - at, parser.recvCapacity - WEBSOCKET.MAX_HEADER);
      const to = parser.recv + WEBSOCKET.MAX_HEADER;
      parser.bytes.set(bytes.subarray(at, at + n), to);
      parser.beginParse();
      try {
        this.consume(to, n);
      } finally {
        parser.endParse();
      }
      at += n;
    }
  }

  /** Feeds parser.bytes[at, at + n), in the receive region after WEBSOCKET.MAX_HEADER free bytes: read in place. */
  feedReceived(at: number, n: number): void {
    this.consume(at, n);
  }

  get stopped(): boolean {
    return this.phase === STOPPED;
  }

  stop(): void {
    this.phase = STOPPED;
    this.releaseAssembly();
  }

  private consume(ptr: number, len: number): void {
    const { codec, parser } = this.settings;
    const bytes = parser.bytes;
    const rsv = this.mayCompress() ? RSV.RSV1 : 0;
    /** Where the payload of a frame whose head is in these bytes begins (a frame read whole goes out as a view). */
    let payloadStart = -1;
    while (len > 0 && this.phase !== STOPPED) {
      if (this.phase === HEAD) {
        const carry = this.carry;
        if (carry !== null) {
          // Room before ptr is ours (the read left it): put the carried head in front.
          ptr -= carry.length;
          len += carry.length;
          bytes.set(carry, ptr);
          this.carry = null;
        }
        const r = codec.parseHeader(ptr, len, true, rsv);
        if (r === INCOMPLETE) {
          this.carry = bytes.slice(ptr, ptr + len);
          return;
        }
        if (r < 0) {
          const { status, reason } = describeError(r, 0);
          this.fault(status, reason);
          return;
        }
        if (!this.startFrame()) return;
        this.phase = PAYLOAD;
        ptr += r;
        len -= r;
        payloadStart = ptr;
        if (this.remaining === 0) this.endFrame(ptr, 0);
        continue;
      }
      const n = Math.min(this.remaining, len);
      codec.unmask(ptr, n, this.mask, this.maskPhase);
      this.maskPhase = (this.maskPhase + n) & 3;
      this.remaining -= n;
      const whole = this.remaining === 0 && payloadStart === ptr;
      if (!this.payload(ptr, n, whole)) return;
      ptr += n;
      len -= n;
      if (this.remaining === 0) this.endFrame(ptr - n, n);
    }
  }

  /** Checks a new frame against the message in progress (RFC 6455 §5.4, §5.5). */
  private startFrame(): boolean {
    const { codec } = this.settings;
    this.fin = codec.fin;
    this.opcode = codec.opcode;
    this.mask = codec.mask;
    this.remaining = codec.payloadLength;
    this.maskPhase = 0;
    const opcode = this.opcode;
    const rsv1 = (codec.rsv & RSV.RSV1) !== 0;
    if (opcode >= OPCODE.CLOSE) {
      if (rsv1) return this.fault(CLOSE.PROTOCOL_ERROR, "RSV1 on a control frame");
      this.controlPayload = new Uint8Array(this.remaining);
      this.closeUtf8 = 0;
      return true;
    }
    if (opcode === OPCODE.CONTINUATION) {
      if (this.messageOpcode < 0) return this.fault(CLOSE.PROTOCOL_ERROR, "Continuation frame without a message");
      if (rsv1) return this.fault(CLOSE.PROTOCOL_ERROR, "RSV1 on a continuation frame");
      if (++this.fragments > MAX_FRAGMENTS) return this.fault(CLOSE.POLICY_VIOLATION, "Too many fragments");
    } else {
      if (this.messageOpcode >= 0) return this.fault(CLOSE.PROTOCOL_ERROR, "New message inside a fragmented one");
      this.messageOpcode = opcode;
      this.compressed = rsv1;
      this.utf8 = 0;
      this.fragments = 1;
    }
    // Compressed messages answer to the limit once inflated, and to it as they arrive too.
    if (this.size + this.remaining > this.settings.maxPayload) return this.fault(CLOSE.MESSAGE_TOO_BIG, "Message too big");
    return true;
  }

  /** n payload bytes at ptr, unmasked. */
  private payload(ptr: number, n: number, whole: boolean): boolean {
    const { codec, parser } = this.settings;
    const bytes = parser.bytes;
    if (this.opcode >= OPCODE.CLOSE) {
      // Where these bytes go in the payload (this.remaining no longer counts them).
      const controlAt = this.controlPayload!.length - this.remaining - n;
      if (this.opcode === OPCODE.CLOSE) {
        // The reason (after the 2-byte code) is validated as it arrives.
        const skip = Math.max(0, Math.min(n, 2 - controlAt));
        if (n > skip) {
          this.closeUtf8 = codec.utf8(ptr + skip, n - skip, this.closeUtf8);
          if (this.closeUtf8 === UTF8_INVALID) return this.fault(CLOSE.INVALID_PAYLOAD, "Close reason is not UTF-8");
        }
      }
      this.controlPayload!.set(bytes.subarray(ptr, ptr + n), controlAt);
      return true;
    }
    if (this.messageOpcode === OPCODE.TEXT && !this.compressed) {
      this.utf8 = codec.utf8(ptr, n, this.utf8);
      if (this.utf8 === UTF8_INVALID) return this.fault(CLOSE.INVALID_PAYLOAD, "Text is not UTF-8");
    }
    // A whole message in one read goes out as a view; anything else is kept.
    if (whole && this.fin && this.assembly === null) return true;
    if (n === 0) return true;
    if (!this.makeRoom(n)) return this.fault(CLOSE.TRY_AGAIN_LATER, "Server memory budget reached");
    this.assembly!.set(bytes.subarray(ptr, ptr + n), this.size);
    this.size += n;
    return true;
  }

  /** Grows the message's buffer (doubling, within maxPayload) so that n more bytes fit; false if the budget refuses. */
  private makeRoom(n: number): boolean {
    const old = this.assembly;
    const capacity = old === null ? 0 : old.length;
    if (this.size + n <= capacity) return true;
    // (size + n is within maxPayload: startFrame saw to that.)
    const grown = Math.min(Math.max(MIN_ASSEMBLY, capacity * 2, this.size + n), this.settings.maxPayload);
    if (!this.reserve(grown - capacity)) return false;
    const assembly = new Uint8Array(grown);
    if (old !== null) assembly.set(old.subarray(0, this.size));
    this.assembly = assembly;
    return true;
  }

  private endFrame(ptr: number, n: number): void {
    this.phase = HEAD;
    if (this.opcode >= OPCODE.CLOSE) {
      const payload = this.controlPayload!;
      this.controlPayload = null;
      if (this.opcode === OPCODE.CLOSE) {
        if (payload.length === 1) return void this.fault(CLOSE.PROTOCOL_ERROR, "Close payload of one byte");
        if (payload.length >= 2 && !isValidCloseCode((payload[0] << 8) | payload[1])) {
          return void this.fault(CLOSE.PROTOCOL_ERROR, "Invalid close code");
        }
        if (payload.length >= 2 && this.closeUtf8 !== 0) return void this.fault(CLOSE.INVALID_PAYLOAD, "Close reason is not UTF-8");
      }
      return this.control(this.opcode, payload);
    }
    if (!this.fin) return;
    const text = this.messageOpcode === OPCODE.TEXT;
    if (text && !this.compressed && this.utf8 !== 0) return void this.fault(CLOSE.INVALID_PAYLOAD, "Text ends inside a character");
    const compressed = this.compressed;
    const assembly = this.assembly;
    const size = this.size;
    this.messageOpcode = -1;
    this.assembly = null;
    this.size = 0;
    if (assembly === null) {
      // One frame read whole, after fragments that were all empty (if any): nothing was kept.
      this.message(viewOf(this.settings.parser.bytes, ptr, n), text, compressed, ptr);
      return;
    }
    this.release(assembly.length);
    this.message(assembly.subarray(0, size), text, compressed, -1);
  }

  private fault(code: number, reason: string): false {
    this.stop();
    this.fail(code, reason);
    return false;
  }

  /** Gives back the budget held by a message in progress. */
  private releaseAssembly(): void {
    if (this.assembly !== null) this.release(this.assembly.length);
    this.assembly = null;
    this.size = 0;
  }
}
