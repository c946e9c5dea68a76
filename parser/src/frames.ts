// The WebSocket wire codec (RFC 6455 §5): frame headers, unmasking, UTF-8
// validation and server frame headers, done by the wasm module on the same
// instance and memory as the HTTP parser. This is the only file besides
// parser.ts that knows the module's exports; the protocol (fragmentation,
// control frames, closing) is the caller's. Like parser.ts it uses no Node API.
import { CLOSE, E, ERRORS, FRAME, OPCODE, RSV, UTF8_INVALID, WEBSOCKET } from "./abi.js";
import type { ParserInstance } from "./parser.js";

export { CLOSE, OPCODE, RSV, UTF8_INVALID, WEBSOCKET };

/** The module's WebSocket exports (assembly/websocket.ts, assembly/utf8.ts). */
export interface FrameExports {
  parseFrameHeader(ptr: number, len: number, requireMask: number, allowedRsv: number): number;
  unmaskPayload(ptr: number, len: number, mask: number, phase: number): number;
  validateUtf8(ptr: number, len: number, state: number): number;
  writeFrameHeader(ptr: number, fin: number, opcode: number, rsv: number, length: number): number;
  frameTable(): number;
}

/** The WebSocket face of one module instance. Every method takes byte addresses in the instance's memory (`parser.bytes`). */
export class FrameCodec {
  private readonly x: FrameExports;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly table: number; // byte offset of the frame table

  constructor(parser: ParserInstance) {
    this.x = parser.wasmExports as unknown as FrameExports;
    const buffer = parser.bytes.buffer;
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.table = this.x.frameTable();
  }

  /**
   * Parses a frame header at [ptr, ptr+len) of the receive region: its length
   * (2 to 14), INCOMPLETE (-1), or a negative WS_* error code (closeCodeOf
   * gives the close code), returned as soon as the bytes that show it are
   * there. `allowedRsv`: the RSV bits (RSV.RSV1 = 4, RSV2 = 2, RSV3 = 1) the
   * negotiated extensions allow on data frames; control frames may carry none.
   * Whether RSV1 may appear on a continuation frame is the extension's rule
   * (permessage-deflate: no), so the caller's. `requireMask`: refuse unmasked
   * frames (a server must). A range outside the receive region throws.
   */
  parseHeader(ptr: number, len: number, requireMask: boolean, allowedRsv: number): number {
    return checked(this.x.parseFrameHeader(ptr, len, requireMask ? 1 : 0, allowedRsv), "parseHeader");
  }

  // The fields of the header the last successful parseHeader read.
  get fin(): boolean {
    return this.i32[(this.table >> 2) + FRAME.FIN] !== 0;
  }
  /** RSV.RSV1 = 4, RSV2 = 2, RSV3 = 1. */
  get rsv(): number {
    return this.i32[(this.table >> 2) + FRAME.RSV];
  }
  get opcode(): number {
    return this.i32[(this.table >> 2) + FRAME.OPCODE];
  }
  get masked(): boolean {
    return this.i32[(this.table >> 2) + FRAME.MASKED] !== 0;
  }
  /** The 4 key bytes as a little-endian u32, as they appear on the wire (0 when unmasked). */
  get mask(): number {
    return this.i32[(this.table >> 2) + FRAME.MASK] >>> 0;
  }
  /** 0 to 2^53 - 1. */
  get payloadLength(): number {
    return this.f64[(this.table >> 3) + FRAME.LENGTH_F64];
  }

  /**
   * Unmasks [ptr, ptr+len) of the receive region in place with the key `mask`
   * rotated by `phase`: the bytes of this frame's payload already unmasked
   * (taken mod 4), so a payload may be unmasked in pieces as it arrives.
   */
  unmask(ptr: number, len: number, mask: number, phase: number): void {
    checked(this.x.unmaskPayload(ptr, len, mask | 0, phase & 3), "unmask");
  }

  /**
   * Validates the UTF-8 at [ptr, ptr+len) (receive or output region),
   * continuing from `state` (0 at a message's start; else what the last call
   * returned). Returns the new state: 0 on a character boundary, > 0 inside a
   * character (invalid if the message ends there), or UTF8_INVALID (-1) as
   * soon as a byte shows that no continuation can be valid.
   */
  utf8(ptr: number, len: number, state: number): number {
    return checked(this.x.validateUtf8(ptr, len, state), "utf8");
  }

  /**
   * Writes an unmasked frame header at ptr in the output region: returns its
   * length (2, 4 or 10). `rsv` as parseHeader reports it (RSV.RSV1 for a
   * compressed message). Throws for an unknown opcode, a fragmented, RSV or
   * over-125-byte control frame, a length that is not a whole number up to
   * 2^53 - 1, or too little room left in the output region.
   */
  writeHeader(ptr: number, fin: boolean, opcode: number, rsv: number, length: number): number {
    return checked(this.x.writeFrameHeader(ptr, fin ? 1 : 0, opcode, rsv, length), "writeHeader");
  }
}

function checked(r: number, what: string): number {
  if (r === E.BAD_ARGUMENT) throw new RangeError(`FrameCodec.${what}: an argument is outside the region or range it names`);
  return r;
}

const CLOSE_CODE_BY_ERROR = new Map<number, number>(ERRORS.filter(([, name]) => name.startsWith("WS_")).map(([code, , close]) => [code, close]));

/** The close code a parseHeader error calls for (CLOSE.PROTOCOL_ERROR or CLOSE.MESSAGE_TOO_BIG); invalid UTF-8 is CLOSE.INVALID_PAYLOAD. */
export function closeCodeOf(error: number): number {
  return error === UTF8_INVALID ? CLOSE.INVALID_PAYLOAD : CLOSE_CODE_BY_ERROR.get(error) ?? CLOSE.PROTOCOL_ERROR;
}

/**
 * Whether a close frame may carry this code (RFC 6455 §7.4, IANA registry):
 * 1000-1003 and 1007-1014 (1004 is reserved; 1005, 1006 and 1015 are never
 * sent), and 3000-4999 (libraries and applications). Anything else in a
 * received close frame is a protocol error (1002).
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
