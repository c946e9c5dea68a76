// RFC 6455 and RFC 7692 conformance of the WebSocket server, as tables of raw
// client frames and the outcome expected, with the Autobahn testsuite's
// categories as the outline (the suite itself cannot run here): 1 framing,
// 2 ping/pong, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8 (with
// fail-fast), 7 close handling, 9 limits, 10 auto-fragmentation, 12/13
// compression. Each case runs against an echo server (a message goes back
// with its type) over a real socket and is compared on the events the client
// sees (messages, pongs, the close code) and on the server closing TCP.
//
// Every case is fed twice: whole (one write), and split. Split: a case of at
// most SPLIT_EVERY_BYTE bytes is written one byte at a time; a larger one is
// cut at a sample of points (every byte of its first and last 16, each frame
// boundary and the bytes around it, and every 61st byte, or every 1/400th of
// the case when that is more than 61 bytes), to keep the time
// bounded. Each piece is written alone and the event loop turns twice before
// the next, so that the server (in this process) reads it by itself.
// After the tables, RANDOM_SEEDS sequences of valid traffic from a seeded
// generator are checked against a model of the echo server, whole and cut at
// random points.
import { suite, assert } from "./support/uvu.ts";
import { serve, type Server, type WebSocketOptions } from "../src/index.ts";
import {
  OP, frame, text, binary, ping, pong, close, fragments, concat, deflateAlone, KeptDeflater, ClientInflater,
  eventsOf, handshake, until, writeAlone, type Event,
} from "./support/ws-frames.ts";
import { random } from "./support/random.ts";

const test = suite("websocket conformance");
const SPLIT_EVERY_BYTE = 200;
const enc = new TextEncoder();
const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (h) => parseInt(h, 16));
const show = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const repeat = (s: string, n: number): string => s.repeat(Math.ceil(n / s.length)).slice(0, n);
const bytesN = (n: number, seed = 7): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

// ---- the servers ----------------------------------------------------------

type ServerName = "echo" | "limits" | "deflate" | "deflate-kept" | "deflate-small";
const LIMIT = 1024;
const configs: Record<ServerName, Partial<WebSocketOptions>> = {
  echo: {},
  limits: { maxPayloadLength: LIMIT },
  deflate: { perMessageDeflate: { threshold: 16 } },
  "deflate-kept": { perMessageDeflate: { threshold: 16, compressor: "dedicated", decompressor: "dedicated" } },
  "deflate-small": { perMessageDeflate: { threshold: 16 }, maxPayloadLength: 4096 },
};
const servers = new Map<ServerName, Server>();
const errors: unknown[] = [];

test.before(async () => {
  for (const [name, options] of Object.entries(configs) as [ServerName, Partial<WebSocketOptions>][]) {
    servers.set(name, await serve({
      host: "127.0.0.1", port: 0, handler: (_req, res) => res.end("no"),
      onError: (e) => errors.push(e),
      websocket: {
        memoryBudget: 64 * 1024 * 1024, // its own, to see that every case gives back what it held
        ...options,
        message: (ws, message, isBinary) => void ws.send(message, { binary: isBinary }),
      },
    }));
  }
});

test.after(async () => {
  await Promise.all([...servers.values()].map((s) => s.close()));
});

// ---- the cases -------------------------------------------------------------

interface Case {
  id: string;
  name: string;
  /** The client's bytes, as frames (their boundaries are split points too). */
  send: Uint8Array[] | (() => Promise<Uint8Array[]>);
  /** What the client must see, in order; the last is always the server's close. Close reasons are not compared. */
  expect: Event[];
  server?: ServerName;
  /** Sec-WebSocket-Extensions to offer. */
  extensions?: string;
  /** The Sec-WebSocket-Extensions answer expected (null: none). */
  negotiated?: string | null;
}

const T = (data: string): Event => ({ type: "text", data });
const B = (data: Uint8Array): Event => ({ type: "binary", data: show(data) });
const PONG = (data: string | Uint8Array = ""): Event => ({ type: "pong", data: show(typeof data === "string" ? enc.encode(data) : data) });
const CLOSE = (code: number | null): Event => ({ type: "close", code, reason: "" });
const BYE = close(1000);
const NORMAL = CLOSE(1000);

const categories: { id: string; title: string; cases: Case[] }[] = [];
function category(id: string, title: string, cases: Case[]): void {
  categories.push({ id, title, cases });
}

// 1. Framing: text and binary at every length encoding's edges.
{
  const cases: Case[] = [];
  const lengths = [0, 125, 126, 127, 128, 65535, 65536];
  lengths.forEach((n, i) => {
    const s = repeat("*", n);
    cases.push({ id: `1.1.${i + 1}`, name: `text, ${n} bytes`, send: [text(s), BYE], expect: [T(s), NORMAL] });
  });
  lengths.forEach((n, i) => {
    const b = bytesN(n);
    cases.push({ id: `1.2.${i + 1}`, name: `binary, ${n} bytes`, send: [binary(b), BYE], expect: [B(b), NORMAL] });
  });
  cases.push(
    { id: "1.3.1", name: "two messages in one write", send: [text("one"), binary(bytesN(3)), BYE], expect: [T("one"), B(bytesN(3)), NORMAL] },
    { id: "1.3.2", name: "an unmasked frame fails (§5.1)", send: [text("Hello", { unmasked: true }), BYE], expect: [CLOSE(1002)] },
    { id: "1.3.3", name: "an unmasked frame after a good one", send: [text("a"), text("b", { unmasked: true })], expect: [T("a"), CLOSE(1002)] },
    { id: "1.3.4", name: "an all-zero mask key is a mask", send: [text("zero", { key: new Uint8Array(4) }), BYE], expect: [T("zero"), NORMAL] },
  );
  category("1", "framing", cases);
}

// 2. Pings and pongs.
{
  const bin = hex("00fffefdfcfb00ff");
  const p125 = bytesN(125, 1);
  category("2", "ping/pong", [
    { id: "2.1", name: "ping, no payload", send: [ping(), BYE], expect: [PONG(), NORMAL] },
    { id: "2.2", name: "ping, text payload", send: [ping("Hello, world!"), BYE], expect: [PONG("Hello, world!"), NORMAL] },
    { id: "2.3", name: "ping, binary payload", send: [ping(bin), BYE], expect: [PONG(bin), NORMAL] },
    { id: "2.4", name: "ping, 125 bytes", send: [ping(p125), BYE], expect: [PONG(p125), NORMAL] },
    { id: "2.5", name: "ping, 126 bytes: too long for a control frame", send: [ping(bytesN(126)), BYE], expect: [CLOSE(1002)] },
    { id: "2.6", name: "ping, 125 bytes, a 16-bit length", send: [ping(p125, { lengthBits: 16 }), BYE], expect: [CLOSE(1002)] },
    { id: "2.7", name: "unsolicited pong, no payload", send: [pong(), BYE], expect: [NORMAL] },
    { id: "2.8", name: "unsolicited pong with payload", send: [pong("unsolicited"), BYE], expect: [NORMAL] },
    { id: "2.9", name: "unsolicited pong, then a ping", send: [pong("x"), ping("y"), BYE], expect: [PONG("y"), NORMAL] },
    {
      id: "2.10", name: "ten pings, ten pongs in order",
      send: [...Array.from({ length: 10 }, (_, i) => ping(`p${i}`)), BYE],
      expect: [...Array.from({ length: 10 }, (_, i) => PONG(`p${i}`)), NORMAL],
    },
    { id: "2.11", name: "ping with a 64-bit length encoding", send: [ping("x", { lengthBits: 64 }), BYE], expect: [CLOSE(1002)] },
  ]);
}

// 3. Reserved bits: none may be set without an extension that defines them.
{
  const cases: Case[] = [];
  const rows: [string, Uint8Array][] = [
    ["text, RSV1", text("Hello", { rsv: 4 })],
    ["text, RSV2", text("Hello", { rsv: 2 })],
    ["text, RSV3", text("Hello", { rsv: 1 })],
    ["text, RSV1+RSV3", text("Hello", { rsv: 5 })],
    ["binary, RSV2+RSV3", binary(bytesN(8), { rsv: 3 })],
    ["binary, all three", binary(bytesN(8), { rsv: 7 })],
    ["ping, RSV1", ping("Hello", { rsv: 4 })],
    ["ping, all three", ping("Hello", { rsv: 7 })],
    ["close, all three", close(1000, "", { rsv: 7 })],
    ["continuation, RSV2", concat([text("He", { fin: false }), frame({ opcode: OP.CONT, payload: "llo", rsv: 2 })])],
  ];
  rows.forEach(([name, bad], i) => {
    cases.push({ id: `3.${i + 1}`, name, send: [text("before"), bad, ping("after"), BYE], expect: [T("before"), CLOSE(1002)] });
  });
  category("3", "reserved bits", cases);
}

// 4. Reserved opcodes.
{
  const cases: Case[] = [];
  for (const op of [3, 4, 5, 6, 7]) {
    cases.push({ id: `4.1.${op - 2}`, name: `non-control opcode ${op}`, send: [text("before"), frame({ opcode: op, payload: "x" }), ping("after"), BYE], expect: [T("before"), CLOSE(1002)] });
  }
  for (const op of [11, 12, 13, 14, 15]) {
    cases.push({ id: `4.2.${op - 10}`, name: `control opcode ${op}`, send: [text("before"), frame({ opcode: op, payload: "x" }), ping("after"), BYE], expect: [T("before"), CLOSE(1002)] });
  }
  cases.push({ id: "4.3.1", name: "reserved opcode, empty payload, first", send: [frame({ opcode: 3 }), BYE], expect: [CLOSE(1002)] });
  cases.push({ id: "4.3.2", name: "reserved opcode inside a fragmented message", send: [text("a", { fin: false }), frame({ opcode: 5, payload: "b" })], expect: [CLOSE(1002)] });
  category("4", "opcodes", cases);
}

// 5. Fragmentation.
{
  const c = (payload: string, fin: boolean): Uint8Array => frame({ opcode: OP.CONT, payload, fin });
  category("5", "fragmentation", [
    { id: "5.1", name: "a fragmented ping", send: [ping("frag", { fin: false }), c("ment", true), BYE], expect: [CLOSE(1002)] },
    { id: "5.2", name: "a fragmented pong", send: [pong("frag", { fin: false }), c("ment", true), BYE], expect: [CLOSE(1002)] },
    { id: "5.3", name: "text in two fragments", send: [text("frag", { fin: false }), c("ment", true), BYE], expect: [T("fragment"), NORMAL] },
    { id: "5.4", name: "binary in three fragments", send: [binary(hex("0102"), { fin: false }), c("", false), frame({ opcode: OP.CONT, payload: hex("03") }), BYE], expect: [B(hex("010203")), NORMAL] },
    { id: "5.5", name: "a ping between fragments", send: [text("frag", { fin: false }), ping("p"), c("ment", true), BYE], expect: [PONG("p"), T("fragment"), NORMAL] },
    { id: "5.6", name: "a pong between fragments", send: [text("frag", { fin: false }), pong("p"), c("ment", true), BYE], expect: [T("fragment"), NORMAL] },
    {
      id: "5.7", name: "five fragments, two pings among them",
      send: [text("f1", { fin: false }), c("f2", false), ping("a"), c("f3", false), ping("b"), c("f4", false), c("f5", true), BYE],
      expect: [PONG("a"), PONG("b"), T("f1f2f3f4f5"), NORMAL],
    },
    { id: "5.8", name: "a continuation with FIN, no message", send: [c("x", true), text("never"), BYE], expect: [CLOSE(1002)] },
    { id: "5.9", name: "a continuation without FIN, no message", send: [c("x", false), text("never"), BYE], expect: [CLOSE(1002)] },
    { id: "5.10", name: "a continuation after a whole message", send: [text("whole"), c("x", true), BYE], expect: [T("whole"), CLOSE(1002)] },
    { id: "5.11", name: "a new text inside a fragmented one", send: [text("a", { fin: false }), text("b"), BYE], expect: [CLOSE(1002)] },
    { id: "5.12", name: "a new binary inside a fragmented text", send: [text("a", { fin: false }), binary(hex("00"), { fin: false }), BYE], expect: [CLOSE(1002)] },
    {
      id: "5.13", name: "fragmented, then more after it ends",
      send: [text("f1", { fin: false }), c("f2", true), c("f3", false), text("x"), BYE], expect: [T("f1f2"), CLOSE(1002)],
    },
    { id: "5.14", name: "empty fragments", send: [text("", { fin: false }), c("", false), c("", true), BYE], expect: [T(""), NORMAL] },
    { id: "5.15", name: "empty fragments around one with data", send: [text("", { fin: false }), c("middle", false), c("", true), BYE], expect: [T("middle"), NORMAL] },
    { id: "5.16", name: "a close between fragments ends it all", send: [text("frag", { fin: false }), BYE, c("ment", true)], expect: [NORMAL] },
    { id: "5.17", name: "two fragmented messages in a row", send: [text("a", { fin: false }), c("b", true), binary(hex("01"), { fin: false }), frame({ opcode: OP.CONT, payload: hex("02") }), BYE], expect: [T("ab"), B(hex("0102")), NORMAL] },
  ]);
}

// 6. UTF-8.
{
  const cases: Case[] = [];
  const valid: [string, Uint8Array][] = [
    ["Hello-µ@ßöäüàá-UTF-8!!", enc.encode("Hello-µ@ßöäüàá-UTF-8!!")],
    ["κόσμε", enc.encode("κόσμε")],
    ["U+0000", hex("00")],
    ["U+007F", hex("7f")],
    ["U+0080", hex("c280")],
    ["U+07FF", hex("dfbf")],
    ["U+0800", hex("e0a080")],
    ["U+D7FF (last before the surrogates)", hex("ed9fbf")],
    ["U+E000 (first after them)", hex("ee8080")],
    ["U+FFFD", hex("efbfbd")],
    ["U+FFFE (a noncharacter, still valid)", hex("efbfbe")],
    ["U+FFFF", hex("efbfbf")],
    ["U+10000", hex("f0908080")],
    ["U+10FFFF", hex("f48fbfbf")],
  ];
  valid.forEach(([name, bytes], i) => {
    const s = new TextDecoder().decode(bytes);
    cases.push({ id: `6.2.${i + 1}`, name: `valid: ${name}`, send: [text(bytes), BYE], expect: [T(s), NORMAL] });
  });
  // The same, fragmented one byte per frame: characters cut across frames.
  valid.slice(0, 2).forEach(([name, bytes], i) => {
    const s = new TextDecoder().decode(bytes);
    cases.push({ id: `6.3.${i + 1}`, name: `valid, a frame per byte: ${name}`, send: [...fragments(OP.TEXT, bytes, [1]), BYE], expect: [T(s), NORMAL] });
  });
  // Invalid sequences, and the index of the first byte that makes them so.
  const invalid: [string, string, number][] = [
    ["overlong '/' in 2 bytes", "c0af", 0],
    ["overlong '/' in 3 bytes", "e080af", 1],
    ["overlong '/' in 4 bytes", "f08080af", 1],
    ["largest overlong, 2 bytes", "c1bf", 0],
    ["largest overlong, 3 bytes", "e09fbf", 1],
    ["largest overlong, 4 bytes", "f08fbfbf", 1],
    ["5-byte sequence", "f888808080", 0],
    ["6-byte sequence", "fc8480808080", 0],
    ["surrogate U+D800", "eda080", 1],
    ["surrogate U+DFFF", "edbfbf", 1],
    ["surrogate pair", "eda080edb080", 1],
    ["U+110000", "f4908080", 1],
    ["F5 lead", "f5808080", 0],
    ["byte FE", "fe", 0],
    ["byte FF", "ff", 0],
    ["lone continuation 80", "80", 0],
    ["lone continuation BF", "bf", 0],
    ["2-byte lead, then ASCII", "c241", 1],
    ["3-byte lead and one, then ASCII", "e18041", 2],
    ["4-byte lead and two, then ASCII", "f1808041", 3],
  ];
  const prefix = enc.encode("κόσμε");
  invalid.forEach(([name, seq, at], i) => {
    const bad = concat([prefix, hex(seq), enc.encode("edited")]);
    cases.push({ id: `6.4.${i + 1}`, name: `invalid: ${name}`, send: [text(bad), BYE], expect: [CLOSE(1007)] });
  });
  // Fail-fast: the message (and the frame) stop right after the first invalid byte and the rest never comes.
  invalid.forEach(([name, seq, at], i) => {
    const cut = concat([prefix, hex(seq).subarray(0, at + 1)]);
    cases.push({ id: `6.5.${i + 1}`, name: `fail-fast, fragmented, nothing after the byte: ${name}`, send: [text(cut, { fin: false })], expect: [CLOSE(1007)] });
  });
  invalid.slice(0, 12).forEach(([name, seq, at], i) => {
    const cut = concat([prefix, hex(seq).subarray(0, at + 1)]);
    // The frame announces 100 more bytes than are sent.
    const head = text(cut, { length: cut.length + 100, key: new Uint8Array(4) });
    cases.push({ id: `6.6.${i + 1}`, name: `fail-fast inside a frame that never ends: ${name}`, send: [head], expect: [CLOSE(1007)] });
  });
  invalid.slice(0, 6).forEach(([name, seq, at], i) => {
    const cut = concat([prefix, hex(seq).subarray(0, at + 1)]);
    cases.push({ id: `6.7.${i + 1}`, name: `fail-fast, a frame per byte: ${name}`, send: Array.from(cut, (byte, j) => frame({ opcode: j === 0 ? OP.TEXT : OP.CONT, payload: Uint8Array.of(byte), fin: false })), expect: [CLOSE(1007)] });
  });
  cases.push(
    { id: "6.8.1", name: "text ends inside a character", send: [text(hex("ceba e1bd b9 cf83 ce")), BYE], expect: [CLOSE(1007)] },
    { id: "6.8.2", name: "fragmented text ends inside a character", send: [text(hex("ce"), { fin: false }), frame({ opcode: OP.CONT, payload: "" }), BYE], expect: [CLOSE(1007)] },
    { id: "6.8.3", name: "binary is not checked", send: [binary(hex("c0af ff")), BYE], expect: [B(hex("c0afff")), NORMAL] },
    { id: "6.8.4", name: "empty text", send: [text(""), BYE], expect: [T(""), NORMAL] },
  );
  category("6", "UTF-8", cases);
}

// 7. Close handling.
{
  const cases: Case[] = [
    { id: "7.1.1", name: "a text, then close", send: [text("Hello World!"), BYE], expect: [T("Hello World!"), NORMAL] },
    { id: "7.1.2", name: "close, then close again", send: [BYE, BYE], expect: [NORMAL] },
    { id: "7.1.3", name: "close, then a ping", send: [BYE, ping("late")], expect: [NORMAL] },
    { id: "7.1.4", name: "close, then a text", send: [BYE, text("late")], expect: [NORMAL] },
    { id: "7.1.6", name: "a 256 KiB message, then close: the echo goes out before the close", send: [binary(bytesN(256 * 1024)), BYE], expect: [B(bytesN(256 * 1024)), NORMAL] },
    { id: "7.1.5", name: "a fragment, close, the continuation", send: [text("frag", { fin: false }), BYE, frame({ opcode: OP.CONT, payload: "ment" })], expect: [NORMAL] },
    { id: "7.3.1", name: "close with no payload", send: [close()], expect: [CLOSE(null)] },
    { id: "7.3.2", name: "close with a 1-byte payload", send: [frame({ opcode: OP.CLOSE, payload: hex("03") })], expect: [CLOSE(1002)] },
    { id: "7.3.3", name: "close 1000, no reason", send: [close(1000)], expect: [NORMAL] },
    { id: "7.3.4", name: "close 1000 with a reason", send: [close(1000, "Hello World!")], expect: [NORMAL] },
    { id: "7.3.5", name: "close with a 123-byte reason", send: [close(1000, repeat("*", 123))], expect: [NORMAL] },
    { id: "7.3.6", name: "close with a 124-byte reason (a 126-byte control frame)", send: [close(1000, repeat("*", 124))], expect: [CLOSE(1002)] },
    { id: "7.5.1", name: "close reason not UTF-8", send: [close(1000, hex("cebae1bdb9cf83cebcceb5eda080656469746564"))], expect: [CLOSE(1007)] },
    { id: "7.5.2", name: "close reason ends inside a character", send: [close(1000, hex("41ce"))], expect: [CLOSE(1007)] },
    { id: "7.5.3", name: "close reason, valid UTF-8", send: [close(1000, "κόσμε")], expect: [NORMAL] },
  ];
  const validCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  validCodes.forEach((code, i) => cases.push({ id: `7.7.${i + 1}`, name: `close ${code} is echoed`, send: [close(code)], expect: [CLOSE(code)] }));
  const invalidCodes = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
  invalidCodes.forEach((code, i) => cases.push({ id: `7.9.${i + 1}`, name: `close ${code} is a protocol error`, send: [close(code)], expect: [CLOSE(1002)] }));
  category("7", "close handling", cases);
}

// 9. Limits (a server with maxPayloadLength = 1024).
{
  const s = (n: number): string => repeat("abcdefghij", n);
  const L = (n: number | bigint): Uint8Array => frame({ opcode: OP.BINARY, length: n, lengthBits: 64 });
  category("9", "limits", [
    { id: "9.1.1", name: "text of maxPayloadLength", server: "limits", send: [text(s(LIMIT)), BYE], expect: [T(s(LIMIT)), NORMAL] },
    { id: "9.1.2", name: "text of maxPayloadLength + 1", server: "limits", send: [text(s(LIMIT + 1)), BYE], expect: [CLOSE(1009)] },
    { id: "9.1.3", name: "binary of maxPayloadLength", server: "limits", send: [binary(bytesN(LIMIT)), BYE], expect: [B(bytesN(LIMIT)), NORMAL] },
    { id: "9.1.4", name: "binary of maxPayloadLength + 1", server: "limits", send: [binary(bytesN(LIMIT + 1)), BYE], expect: [CLOSE(1009)] },
    { id: "9.2.1", name: "fragmented, maxPayloadLength in all", server: "limits", send: [...fragments(OP.TEXT, s(LIMIT), [256]), BYE], expect: [T(s(LIMIT)), NORMAL] },
    { id: "9.2.2", name: "fragmented, one byte over in all", server: "limits", send: [...fragments(OP.TEXT, s(LIMIT + 1), [256]), BYE], expect: [CLOSE(1009)] },
    { id: "9.2.3", name: "over the limit: closed at the head of the frame that passes it, before its payload", server: "limits", send: [text(s(1000), { fin: false }), frame({ opcode: OP.CONT, length: 25 })], expect: [CLOSE(1009)] },
    { id: "9.3.1", name: "64-bit length 2^53 - 1 (over the limit)", server: "limits", send: [L(2n ** 53n - 1n)], expect: [CLOSE(1009)] },
    { id: "9.3.2", name: "64-bit length 2^53", send: [L(2n ** 53n)], expect: [CLOSE(1009)] },
    { id: "9.3.3", name: "64-bit length 2^63", send: [L(2n ** 63n)], expect: [CLOSE(1009)] },
    { id: "9.3.4", name: "64-bit length 2^64 - 1", send: [L(2n ** 64n - 1n)], expect: [CLOSE(1009)] },
    { id: "9.3.5", name: "a 2^32 length, only its head sent", server: "limits", send: [L(2n ** 32n)], expect: [CLOSE(1009)] },
    { id: "9.4.2", name: "1 MiB under the default limit (16 MiB)", send: [binary(bytesN(1 << 20, 3)), BYE], expect: [B(bytesN(1 << 20, 3)), NORMAL] },
    { id: "9.4.1", name: "many messages of the limit in a row", server: "limits", send: [text(s(LIMIT)), binary(bytesN(LIMIT)), text(s(LIMIT)), BYE], expect: [T(s(LIMIT)), B(bytesN(LIMIT)), T(s(LIMIT)), NORMAL] },
  ]);
}

// 10. Auto-fragmentation: a client may fragment a message in frames of any size.
{
  const cases: Case[] = [];
  const message = repeat("The quick brown fox jumps over the lazy dog. κόσμε ", 1000);
  const bytes = enc.encode(message);
  [[1], [2], [3], [5], [64], [100], [999], [1, 7, 100], [0, 1, 0, 50]].forEach((sizes, i) => {
    cases.push({ id: `10.1.${i + 1}`, name: `text of ${bytes.length} bytes in frames of ${sizes.join(", ")}${sizes.length > 1 ? " (the last repeats)" : ""}`, send: [...fragments(OP.TEXT, bytes, sizes), BYE], expect: [T(new TextDecoder().decode(bytes)), NORMAL] });
  });
  const b = bytesN(3000);
  [[1000], [1, 2999], [4, 1300]].forEach((sizes, i) => {
    cases.push({ id: `10.2.${i + 1}`, name: `binary of 3000 bytes in frames of ${sizes.join(", ")}`, send: [...fragments(OP.BINARY, b, sizes), BYE], expect: [B(b), NORMAL] });
  });
  category("10", "auto-fragmentation", cases);
}

// 12/13. Compression (RFC 7692).
{
  const cases: Case[] = [];
  const PMD = "permessage-deflate";
  const SHARED = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
  const compressed = (opcode: number, data: string | Uint8Array, more = {}): Uint8Array => frame({ opcode, payload: deflateAlone(data), rsv: 4, ...more });
  // Negotiation: what the server answers to each offer (13.x in Autobahn varies these parameters).
  const offers: [string, string | undefined, string | null, ServerName?][] = [
    ["plain offer", PMD, SHARED],
    ["server_no_context_takeover", `${PMD}; server_no_context_takeover`, SHARED],
    ["client_no_context_takeover", `${PMD}; client_no_context_takeover`, SHARED],
    ["server_max_window_bits=10", `${PMD}; server_max_window_bits=10`, `${SHARED}; server_max_window_bits=10`],
    ["server_max_window_bits=9", `${PMD}; server_max_window_bits=9`, `${SHARED}; server_max_window_bits=9`],
    ["server_max_window_bits=8: zlib cannot, declined", `${PMD}; server_max_window_bits=8`, null],
    ["client_max_window_bits without a value", `${PMD}; client_max_window_bits`, `${SHARED}; client_max_window_bits=15`],
    ["client_max_window_bits=10", `${PMD}; client_max_window_bits=10`, SHARED],
    ["client_max_window_bits=9 and server_max_window_bits=9", `${PMD}; client_max_window_bits=9; server_max_window_bits=9`, `${SHARED}; server_max_window_bits=9`],
    ["an unknown parameter: declined", `${PMD}; mystery`, null],
    ["a parameter twice: declined", `${PMD}; server_no_context_takeover; server_no_context_takeover`, null],
    ["server_max_window_bits=16: declined", `${PMD}; server_max_window_bits=16`, null],
    ["server_max_window_bits without a value: declined", `${PMD}; server_max_window_bits`, null],
    ["a value on no_context_takeover: declined", `${PMD}; client_no_context_takeover=1`, null],
    ["a declined offer, then an acceptable one", `${PMD}; mystery, ${PMD}; client_max_window_bits`, `${SHARED}; client_max_window_bits=15`],
    ["an unknown extension, then ours", `x-webkit-deflate-frame, ${PMD}`, SHARED],
    ["quoted value", `${PMD}; server_max_window_bits="10"`, `${SHARED}; server_max_window_bits=10`],
    ["no offer", undefined, null],
    ["dedicated contexts: no context takeover only if asked", PMD, PMD, "deflate-kept"],
    ["dedicated contexts, client asks for none", `${PMD}; client_no_context_takeover; server_no_context_takeover`, SHARED, "deflate-kept"],
    ["deflate off: an offer is ignored", PMD, null, "echo"],
  ];
  offers.forEach(([name, offer, answer, server], i) => {
    const uncompressedEcho = concat([text("negotiated"), BYE]);
    cases.push({ id: `13.1.${i + 1}`, name: `negotiation: ${name}`, server: server ?? "deflate", extensions: offer, negotiated: answer, send: [uncompressedEcho], expect: [T("negotiated"), NORMAL] });
  });
  // 12.x: compressed messages of growing sizes, each alone (client_no_context_takeover).
  const sizes = [16, 64, 256, 1024, 4096];
  sizes.forEach((n, i) => {
    const s = repeat("Lorem ipsum dolor sit amet, κόσμε. ", n);
    cases.push({ id: `12.1.${i + 1}`, name: `compressed text of ${n} bytes`, server: "deflate", extensions: PMD, send: [compressed(OP.TEXT, s), BYE], expect: [T(s), NORMAL] });
    const b = bytesN(n);
    cases.push({ id: `12.2.${i + 1}`, name: `compressed binary of ${n} bytes`, server: "deflate", extensions: PMD, send: [compressed(OP.BINARY, b), BYE], expect: [B(b), NORMAL] });
  });
  const ten = Array.from({ length: 10 }, (_, i) => repeat(`message ${i} `, 40 + i * 13));
  cases.push(
    { id: "12.3.1", name: "ten compressed messages in one write, echoed in order", server: "deflate", extensions: PMD, send: [...ten.map((m) => compressed(OP.TEXT, m)), BYE], expect: [...ten.map(T), NORMAL] },
    { id: "12.3.2", name: "compressed and plain messages mixed, in order", server: "deflate", extensions: PMD, send: [compressed(OP.TEXT, ten[0]), text("plain"), compressed(OP.TEXT, ten[1]), binary(hex("00")), BYE], expect: [T(ten[0]), T("plain"), T(ten[1]), B(hex("00")), NORMAL] },
    { id: "12.3.3", name: "compressed message fragmented (RSV1 on the first frame only)", server: "deflate", extensions: PMD, send: [...fragments(OP.TEXT, deflateAlone(ten[2]), [7], { rsv: 4 }), BYE], expect: [T(ten[2]), NORMAL] },
    { id: "12.3.4", name: "RSV1 on a continuation frame", server: "deflate", extensions: PMD, send: [text("a", { fin: false }), frame({ opcode: OP.CONT, payload: "b", rsv: 4 }), BYE], expect: [CLOSE(1002)] },
    { id: "12.3.5", name: "RSV1 on a ping", server: "deflate", extensions: PMD, send: [ping("p", { rsv: 4 }), BYE], expect: [CLOSE(1002)] },
    { id: "12.3.6", name: "RSV2 with permessage-deflate", server: "deflate", extensions: PMD, send: [text("a", { rsv: 2 }), BYE], expect: [CLOSE(1002)] },
    { id: "12.3.7", name: "RSV1 without permessage-deflate negotiated", server: "deflate", send: [compressed(OP.TEXT, "Hello"), BYE], expect: [CLOSE(1002)] },
    { id: "12.3.8", name: "an empty compressed message", server: "deflate", extensions: PMD, send: [compressed(OP.TEXT, ""), BYE], expect: [T(""), NORMAL] },
    { id: "12.3.9", name: "the empty stored block alone (RFC 7692 §7.2.3.6)", server: "deflate", extensions: PMD, send: [frame({ opcode: OP.TEXT, rsv: 4, payload: hex("00") }), BYE], expect: [T(""), NORMAL] },
    { id: "12.3.10", name: "compressed text, then close in the same write", server: "deflate", extensions: PMD, send: [compressed(OP.TEXT, ten[3]), BYE], expect: [T(ten[3]), NORMAL] },
    { id: "12.3.11", name: "window of 9 bits both ways", server: "deflate", extensions: `${PMD}; client_max_window_bits=9; server_max_window_bits=9`, send: [frame({ opcode: OP.TEXT, rsv: 4, payload: deflateAlone(repeat("windows ", 2000), 9) }), BYE], expect: [T(repeat("windows ", 2000)), NORMAL] },
  );
  // Limits and bad data.
  const bomb = new Uint8Array(1 << 20);
  cases.push(
    { id: "12.4.1", name: "a decompression bomb (1 MiB of zeros) closes with 1009", server: "deflate-small", extensions: PMD, send: [compressed(OP.BINARY, bomb), BYE], expect: [CLOSE(1009)] },
    { id: "12.4.2", name: "inflates to exactly maxPayloadLength", server: "deflate-small", extensions: PMD, send: [compressed(OP.BINARY, new Uint8Array(4096)), BYE], expect: [B(new Uint8Array(4096)), NORMAL] },
    { id: "12.4.3", name: "inflates to maxPayloadLength + 1", server: "deflate-small", extensions: PMD, send: [compressed(OP.BINARY, new Uint8Array(4097)), BYE], expect: [CLOSE(1009)] },
    { id: "12.4.4", name: "compressed text that inflates to invalid UTF-8", server: "deflate", extensions: PMD, send: [compressed(OP.TEXT, concat([enc.encode("κόσμε"), hex("eda080")])), BYE], expect: [CLOSE(1007)] },
    { id: "12.4.5", name: "compressed text that ends inside a character", server: "deflate", extensions: PMD, send: [compressed(OP.TEXT, hex("41ce")), BYE], expect: [CLOSE(1007)] },
    { id: "12.4.6", name: "corrupt deflate data", server: "deflate", extensions: PMD, send: [frame({ opcode: OP.BINARY, rsv: 4, payload: hex("ffffffff0102") }), BYE], expect: [CLOSE(1007)] },
    { id: "12.4.7", name: "a bomb after a good message: the good one is echoed", server: "deflate-small", extensions: PMD, send: [compressed(OP.TEXT, "good one"), compressed(OP.BINARY, bomb), BYE], expect: [T("good one"), CLOSE(1009)] },
  );
  // 13.x: the client keeps its compression context between messages (context takeover).
  const kept = async (messages: string[]): Promise<Uint8Array[]> => {
    const deflater = new KeptDeflater();
    const out: Uint8Array[] = [];
    for (const m of messages) out.push(frame({ opcode: OP.TEXT, rsv: 4, payload: await deflater.deflate(m) }));
    deflater.close();
    return [...out, BYE];
  };
  const similar = Array.from({ length: 6 }, (_, i) => repeat(`The same words again and again, number ${i % 2}. `, 300));
  cases.push(
    { id: "13.2.1", name: "client context takeover: later messages refer to earlier ones", server: "deflate-kept", extensions: PMD, negotiated: PMD, send: () => kept(similar), expect: [...similar.map(T), NORMAL] },
    { id: "13.2.2", name: "client context takeover, short messages", server: "deflate-kept", extensions: PMD, negotiated: PMD, send: () => kept(["abc", "abc", "abcabc", "", "abc"]), expect: [...["abc", "abc", "abcabc", "", "abc"].map(T), NORMAL] },
    { id: "13.2.3", name: "server context takeover: its echoes refer to earlier ones", server: "deflate-kept", extensions: PMD, send: [...similar.map((m) => compressed(OP.TEXT, m)), BYE], expect: [...similar.map(T), NORMAL] },
    { id: "13.2.4", name: "no context takeover asked by the client on a dedicated server", server: "deflate-kept", extensions: `${PMD}; client_no_context_takeover; server_no_context_takeover`, send: [...similar.map((m) => compressed(OP.TEXT, m)), BYE], expect: [...similar.map(T), NORMAL] },
  );
  category("12-13", "compression", cases);
}

// ---- the runner ------------------------------------------------------------

async function waitFor(check: () => boolean, ms = 3000): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < ms; await new Promise((r) => setTimeout(r, 10))) if (check()) return true;
  return check();
}

/** Where a split feed cuts the bytes: at every byte when small, else at a sample (see the top of the file). */
function splitPoints(length: number, boundaries: number[]): number[] {
  if (length <= SPLIT_EVERY_BYTE) return Array.from({ length: length - 1 }, (_, i) => i + 1);
  const points = new Set<number>();
  for (let i = 1; i <= 16; i++) points.add(i).add(length - i);
  for (const b of boundaries) for (const d of [-2, -1, 0, 1, 2]) points.add(b + d);
  const step = Math.max(61, Math.floor(length / 400)); // at most ~400 of these, whatever the size
  for (let i = step; i < length; i += step) points.add(i);
  return [...points].filter((p) => p > 0 && p < length).sort((a, b) => a - b);
}

interface Outcome {
  events: Event[];
  ended: boolean;
  pieces: number;
}

async function run(c: Case, frames: Uint8Array[], split: boolean): Promise<Outcome> {
  const server = servers.get(c.server ?? "echo")!;
  const opened = await handshake(server.port, { extensions: c.extensions });
  assert.is(opened.status, 101, `${c.id}: 101`);
  if (c.negotiated !== undefined) {
    assert.is(opened.headers["sec-websocket-extensions"] ?? null, c.negotiated, `${c.id}: Sec-WebSocket-Extensions answered`);
  }
  const bytes = concat(frames);
  const boundaries: number[] = [];
  frames.reduce((at, f) => (boundaries.push(at + f.length), at + f.length), 0);
  const cuts = split ? splitPoints(bytes.length, boundaries) : [];
  const closedByServer = (): boolean => opened.isEnded() || opened.parser.frames.some((f) => f.opcode === OP.CLOSE);
  let from = 0;
  let pieces = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (closedByServer()) break; // writing on would race the server's close (a reset could eat its close frame)
    await writeAlone(opened.socket, bytes.subarray(from, cut));
    pieces++;
    from = cut;
  }
  await until(opened, () => opened.isEnded(), 3000);
  const inflater = new ClientInflater();
  try {
    const events = (await eventsOf(opened.parser.frames, inflater)).map((e) => (e.type === "close" ? { ...e, reason: "" } : e));
    return { events, ended: opened.isEnded(), pieces };
  } finally {
    inflater.close();
    opened.socket.destroy();
  }
}

/** An event with a long payload cut short, so that a failure's diff stays readable. */
const brief = (e: Event): Event => (e.type === "text" && e.data.length > 80 ? { ...e, data: `${e.data.slice(0, 40)}…(${e.data.length})` } : e.type !== "close" && e.data.length > 80 ? { ...e, data: `${e.data.slice(0, 40)}…(${e.data.length / 2} bytes)` } : e);

const counts: string[] = [];
for (const { id, title, cases } of categories) {
  let feeds = 0;
  for (const c of cases) {
    test(`${c.id} ${title}: ${c.name}`, async () => {
      const frames = typeof c.send === "function" ? await c.send() : c.send;
      for (const split of [false, true]) {
        const mode = split ? "split" : "whole";
        const outcome = await run(c, frames, split);
        assert.equal(outcome.events.map(brief), c.expect.map(brief), `${c.id} (${mode}, ${outcome.pieces} pieces): events`);
        assert.equal(outcome.events, c.expect, `${c.id} (${mode}): events in full`);
        assert.ok(outcome.ended, `${c.id} (${mode}): the server closed TCP`);
      }
    });
    feeds += 2;
  }
  counts.push(`${id} ${title}: ${cases.length} cases, ${feeds} feeds`);
}


// ---- random sequences ---------------------------------------------------------
// Valid traffic made by a seeded generator (messages of random types and sizes,
// fragmented at random, pings and pongs between fragments), with its outcome
// from a model of the echo server; fed whole and at random split points.


const RANDOM_SEEDS = 40;
for (let seed = 1; seed <= RANDOM_SEEDS; seed++) {
  test(`random ${seed}: valid traffic, whole and split at random points`, async () => {
    const rnd = random(seed);
    const int = (n: number): number => Math.floor(rnd() * n);
    const frames: Uint8Array[] = [];
    const expect: Event[] = [];
    const alphabet = ["a", "b", "µ", "κόσμε", "€", "😀", " "];
    for (let m = 0, count = 1 + int(8); m < count; m++) {
      const isText = rnd() < 0.6;
      const size = [0, 1, 5, 125, 126, 300, 3000][int(7)];
      let data: Uint8Array;
      if (isText) {
        let t = "";
        while (enc.encode(t).length < size) t += alphabet[int(alphabet.length)];
        data = enc.encode(t);
      } else data = bytesN(size, seed + m);
      // Cut anywhere, even inside a character: UTF-8 is checked across fragments.
      const cuts = [...new Set(Array.from({ length: int(4) }, () => int(data.length + 1)))].sort((a, b) => a - b);
      const pieces = [0, ...cuts, data.length].slice(1).map((end, i, all) => data.subarray(i === 0 ? 0 : all[i - 1], end));
      if (pieces.length === 0) pieces.push(data);
      pieces.forEach((piece, i) => {
        const last = i === pieces.length - 1;
        frames.push(frame({ opcode: i === 0 ? (isText ? OP.TEXT : OP.BINARY) : OP.CONT, payload: piece, fin: last, key: bytesN(4, seed * 7 + i) }));
        if (last) expect.push(isText ? T(new TextDecoder().decode(data)) : B(data));
        if (rnd() < 0.3) {
          const p = bytesN(int(126), i);
          frames.push(ping(p));
          expect.push(PONG(p));
        } else if (rnd() < 0.1) frames.push(pong("x"));
      });
    }
    frames.push(BYE);
    expect.push(NORMAL);
    const c: Case = { id: `random ${seed}`, name: "", send: frames, expect };
    for (const split of [false, true]) {
      const outcome = split ? await runRandomSplit(c, frames, rnd) : await run(c, frames, false);
      const short = (e: Event): string => `${e.type}:${e.type === "close" ? e.code : e.type === "text" ? enc.encode(e.data).length : e.data.length / 2}`;
      assert.is(outcome.events.map(short).join(" "), expect.map(short).join(" "), `seed ${seed} (${split ? "split" : "whole"}): the events' types and sizes`);
      assert.equal(outcome.events.map(brief), expect.map(brief), `seed ${seed} (${split ? "split" : "whole"})`);
      assert.equal(outcome.events, expect, `seed ${seed} (${split ? "split" : "whole"}): in full`);
      assert.ok(outcome.ended, `seed ${seed}: the server closed TCP`);
    }
  });
}

/** Like run(), split at ~30 random points (all bytes when the case is small). */
async function runRandomSplit(c: Case, frames: Uint8Array[], rnd: () => number): Promise<Outcome> {
  const bytes = concat(frames);
  if (bytes.length <= SPLIT_EVERY_BYTE) return run(c, frames, true);
  const points = [...new Set(Array.from({ length: 30 }, () => 1 + Math.floor(rnd() * (bytes.length - 1))))].sort((a, b) => a - b);
  const opened = await handshake(servers.get("echo")!.port);
  let from = 0;
  for (const cut of [...points, bytes.length]) {
    await writeAlone(opened.socket, bytes.subarray(from, cut));
    from = cut;
  }
  await until(opened, () => opened.isEnded(), 3000);
  const events = (await eventsOf(opened.parser.frames)).map((e) => (e.type === "close" ? { ...e, reason: "" } : e));
  opened.socket.destroy();
  return { events, ended: opened.isEnded(), pieces: points.length + 1 };
}


// The same with permessage-deflate: about half the messages compressed (RSV1
// on the first frame, the compressed bytes fragmented at random). Pongs may
// overtake echoes still being compressed (control frames may be interleaved),
// so messages and pongs are each compared in their own order.
const RANDOM_DEFLATE_SEEDS = 20;
for (let seed = 1; seed <= RANDOM_DEFLATE_SEEDS; seed++) {
  test(`random deflate ${seed}: compressed and plain traffic, whole and split at random points`, async () => {
    const rnd = random(1000 + seed);
    const int = (n: number): number => Math.floor(rnd() * n);
    const frames: Uint8Array[] = [];
    const expect: Event[] = [];
    for (let m = 0, count = 1 + int(8); m < count; m++) {
      const isText = rnd() < 0.6;
      const size = [0, 1, 20, 300, 3000][int(5)];
      const data = isText ? enc.encode(repeat(["abc ", "κόσμε ", "😀 µ "][int(3)], size)) : bytesN(size, seed + m);
      const compressed = rnd() < 0.5;
      const wire = compressed ? deflateAlone(data) : data;
      const cuts = [...new Set(Array.from({ length: int(4) }, () => int(wire.length + 1)))].sort((a, b) => a - b);
      const pieces = [0, ...cuts, wire.length].slice(1).map((end, i, all) => wire.subarray(i === 0 ? 0 : all[i - 1], end));
      pieces.forEach((piece, i) => {
        const last = i === pieces.length - 1;
        frames.push(frame({ opcode: i === 0 ? (isText ? OP.TEXT : OP.BINARY) : OP.CONT, payload: piece, fin: last, rsv: i === 0 && compressed ? 4 : 0 }));
        if (last) expect.push(isText ? T(new TextDecoder().decode(data)) : B(data));
        if (rnd() < 0.3) {
          const p = bytesN(int(126), i);
          frames.push(ping(p));
          expect.push(PONG(p));
        }
      });
    }
    frames.push(BYE);
    expect.push(NORMAL);
    const c: Case = { id: `random deflate ${seed}`, name: "", server: "deflate", extensions: "permessage-deflate", send: frames, expect };
    const kinds = (events: Event[]): Event[][] => [events.filter((e) => e.type === "text" || e.type === "binary"), events.filter((e) => e.type === "pong"), events.slice(-1)];
    for (const split of [false, true]) {
      const outcome = await run(c, frames, split);
      const [messages, pongs, last] = kinds(outcome.events);
      const [wantMessages, wantPongs, wantLast] = kinds(expect);
      assert.equal(messages.map(brief), wantMessages.map(brief), `seed ${seed} (${split ? "split" : "whole"}): messages`);
      assert.equal(messages, wantMessages, `seed ${seed}: messages in full`);
      assert.equal(pongs, wantPongs, `seed ${seed}: pongs`);
      assert.equal(last, wantLast, `seed ${seed}: the close comes last`);
      assert.is(outcome.events.length, expect.length, `seed ${seed}: nothing else`);
      assert.ok(outcome.ended, `seed ${seed}: the server closed TCP`);
    }
  });
}

test("no server callback threw; the sockets are all gone and gave back their memory budget", async () => {
  assert.equal(errors, []);
  for (const [name, server] of servers) {
    assert.ok(await waitFor(() => server.websockets!.socketCount === 0), `${name}: no socket left`);
    assert.is(server.websockets!.budget.used, 0, `${name}: budget back to 0`);
  }
  console.log(`  conformance: ${counts.join("; ")}`);
});

test.run();
