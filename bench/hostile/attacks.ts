// The hostile clients of issue 26, each a function that opens its sockets
// against a server on 127.0.0.1 and starts sending, bounded in count and by
// a deadline (a Date.now() time). bench/hostile.ts runs them against every
// server; tests can run them against simplenet with smaller sizes.
// Every attack returns at once with the sending under way: `sent` resolves
// when it has sent all it means to (with the bytes it wrote), `crowd` tells
// afterwards who was closed.
import type { Socket } from "node:net";
import { constants, deflateRawSync } from "node:zlib";
import { Crowd, type Role } from "./crowd.ts";
import { OP, frame, frameHead, open, pour, repeated, sleep, upgrade } from "./wire.ts";

export interface RunningAttack {
  crowd: Crowd;
  /** Resolves once everything is sent, the deadline has passed, or the server has closed the sender: with the bytes written. */
  sent: Promise<number>;
  /** Stops what still goes on (a trickle); the sockets stay open until crowd.destroy(). */
  stop(): void;
}

const KIB = 1024;
const MIB = 1024 * KIB;
/** Sockets opened at once by the attacks that open many. */
const OPENING_CONCURRENCY = 50;

/** A WebSocket to `path` that never reads, followed as `role`. */
async function deafSocket(crowd: Crowd, role: Role, port: number, path: string, extensions = "") {
  const upgraded = await upgrade(port, path, extensions);
  crowd.add(role, upgraded.socket, true, upgraded.rest);
  return upgraded;
}

/** Sends `unit` `count` times from one WebSocket that never reads. */
async function deafSender(port: number, path: string, unit: Buffer, count: number, deadline: number, first?: Buffer): Promise<RunningAttack> {
  const crowd = new Crowd();
  const { socket } = await deafSocket(crowd, "attacker", port, path);
  if (first !== undefined) socket.write(first);
  const { batch, units } = repeated(unit, count);
  const sent = pour(socket, batch, Math.ceil(count / units), deadline).then((n) => n * batch.length);
  return { crowd, sent, stop() {} };
}

/** One message as `frames` 1-byte continuation frames after its first, never finished: the server holds what it assembles. */
export function wsFragments(port: number, { frames, deadline }: { frames: number; deadline: number }): Promise<RunningAttack> {
  const byte = Buffer.of(0x61);
  return deafSender(port, "/echo", frame(OP.CONTINUATION, byte, { fin: false }), frames, deadline, frame(OP.BINARY, byte, { fin: false }));
}

/** `messages` small messages to /echo from a client that never reads: the echoes pile up as the server's backlog. */
export function wsEchoBacklog(port: number, { messages, size = 16, deadline }: { messages: number; size?: number; deadline: number }): Promise<RunningAttack> {
  return deafSender(port, "/echo", frame(OP.BINARY, Buffer.alloc(size, 0x61)), messages, deadline);
}

/** `pings` pings of 125 bytes (the most a control frame holds) from a client that never reads: the pongs owed pile up. */
export function wsPingFlood(port: number, { pings, deadline }: { pings: number; deadline: number }): Promise<RunningAttack> {
  return deafSender(port, "/echo", frame(OP.PING, Buffer.alloc(125, 0x61)), pings, deadline);
}

/**
 * `subscribers` sockets on /sub that never read, and one publisher on /pub
 * (which reads) publishing `publishes` messages of `size` bytes: each
 * subscriber's backlog grows by all of them.
 */
export async function wsSlowSubscribers(
  port: number, { subscribers, publishes, size = 64 * KIB, deadline }: { subscribers: number; publishes: number; size?: number; deadline: number },
): Promise<RunningAttack> {
  const crowd = new Crowd();
  for (let i = 0; i < subscribers; i++) await deafSocket(crowd, "subscriber", port, "/sub");
  const publisher = await deafSocket(crowd, "publisher", port, "/pub");
  publisher.socket.resume();
  const message = frame(OP.BINARY, Buffer.alloc(size, 0x61));
  const sent = pour(publisher.socket, message, publishes, deadline).then((n) => n * message.length);
  return { crowd, sent, stop() {} };
}

/**
 * `pairs` times, a compressed message that inflates to `inflated` bytes of
 * zeros followed by an uncompressed one of `plain` bytes, to /echo from a
 * client that never reads (permessage-deflate negotiated; each message is
 * compressed alone, which every server must accept). Throws when the server
 * did not accept permessage-deflate.
 */
export async function wsDeflate(
  port: number, { pairs, inflated = 1 * MIB, plain = 64 * KIB, deadline }: { pairs: number; inflated?: number; plain?: number; deadline: number },
): Promise<RunningAttack> {
  const crowd = new Crowd();
  const { socket, extensions } = await deafSocket(crowd, "attacker", port, "/echo", "permessage-deflate");
  if (!/permessage-deflate/i.test(extensions)) {
    crowd.destroy();
    throw new Error("the server did not accept permessage-deflate");
  }
  // RFC 7692 7.2.1: a message's compressed data without the sync flush's trailing 00 00 ff ff.
  const deflated = deflateRawSync(Buffer.alloc(inflated), { finishFlush: constants.Z_SYNC_FLUSH });
  const pair = Buffer.concat([frame(OP.BINARY, deflated.subarray(0, deflated.length - 4), { rsv1: true }), frame(OP.BINARY, Buffer.alloc(plain, 0x61))]);
  const sent = pour(socket, pair, pairs, deadline).then((n) => n * pair.length);
  return { crowd, sent, stop() {} };
}

/** `requests` pipelined GETs of `path` on one connection that never reads its responses. */
export async function httpPipeline(port: number, { path, requests, deadline }: { path: string; requests: number; deadline: number }): Promise<RunningAttack> {
  const crowd = new Crowd();
  const socket = await open(port);
  socket.pause();
  crowd.add("attacker", socket, false);
  const { batch, units } = repeated(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`), requests);
  const sent = pour(socket, batch, Math.ceil(requests / units), deadline).then((n) => n * batch.length);
  return { crowd, sent, stop() {} };
}

/** Runs `openOne` for 0..n-1, `OPENING_CONCURRENCY` at a time. */
async function openMany(n: number, openOne: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await openOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, OPENING_CONCURRENCY) }, lane));
}

/** The bytes a slowloris socket trickles: a request head that never ends. */
const SLOW_HEAD = Buffer.from("GET /tiny HTTP/1.1\r\nHost: a\r\nX-Slow: ");

/**
 * `sockets` connections, each sending one byte of a request head every
 * `everyMs` (the head never ends) until the deadline. The sockets read, so
 * they see being closed.
 */
export async function slowloris(port: number, { sockets, everyMs, deadline }: { sockets: number; everyMs: number; deadline: number }): Promise<RunningAttack> {
  const crowd = new Crowd();
  const trickling: { socket: Socket; at: number }[] = [];
  let written = 0;
  await openMany(sockets, async () => {
    const socket = await open(port).catch(() => null);
    if (socket === null) return crowd.refused("attacker");
    crowd.add("attacker", socket, false);
    socket.write(SLOW_HEAD.subarray(0, 1));
    written++;
    trickling.push({ socket, at: 1 });
  });
  const timer = setInterval(() => {
    for (const t of trickling) {
      if (t.socket.destroyed) continue;
      t.socket.write(t.at < SLOW_HEAD.length ? SLOW_HEAD.subarray(t.at, t.at + 1) : "a");
      t.at++;
      written++;
    }
  }, everyMs);
  const sent = sleep(Math.max(0, deadline - Date.now())).then(() => {
    clearInterval(timer);
    return written;
  });
  return { crowd, sent, stop: () => clearInterval(timer) };
}

/**
 * `sockets` WebSockets on /echo, each sending the head of a message of
 * `announced` bytes and `partial` bytes of it, never the rest. They read, so
 * they see being closed.
 */
export async function wsHalfSent(
  port: number, { sockets, announced = 1 * MIB, partial = 1 * KIB }: { sockets: number; announced?: number; partial?: number },
): Promise<RunningAttack> {
  const crowd = new Crowd();
  const start = Buffer.concat([frameHead(OP.BINARY, announced), Buffer.alloc(partial, 0x61)]);
  let written = 0;
  await openMany(sockets, async () => {
    const upgraded = await upgrade(port, "/echo").catch(() => null);
    if (upgraded === null) return crowd.refused("attacker");
    crowd.add("attacker", upgraded.socket, true, upgraded.rest).resume();
    upgraded.socket.write(start);
    written += start.length;
  });
  return { crowd, sent: Promise.resolve(written), stop() {} };
}
