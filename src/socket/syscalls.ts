// The only file that knows the addon's function names. Every call returns
// what the kernel returned, or -errno; `fail` turns that into an Error that
// names both the errno and the system call.
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import { fileURLToPath } from "node:url";
import { Tracer } from "./trace.js";

export type Bytes = Uint8Array | ArrayBuffer;
/** [family, address, port] */
export type SocketAddress = [number, string, number];

export interface PollerHandle {
  close(): void;
}

interface Addon {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: number): number;
  bind(fd: number, family: number, address: string, port: number): number;
  connect(fd: number, family: number, address: string, port: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, flags: number): number;
  getsockname(fd: number): SocketAddress | number;
  getpeername(fd: number): SocketAddress | number;
  read(fd: number, into: Bytes, offset: number, length: number): number;
  send(fd: number, from: Bytes, offset: number, length: number): number;
  writev(fd: number, chunks: Bytes[]): number;
  sendfile(outFd: number, inFd: number, offset: number, count: number): number;
  send_each(fds: Int32Array, count: number, from: Bytes, offset: number, length: number, results: Int32Array): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, events: number): number;
  malloc_trim(): number;
  send_fds(fd: number, from: Bytes, fds: number[]): number;
  recv_fds(fd: number, into: Bytes, offset: number, length: number, fds: Int32Array): number;
  region_io(buffer: ArrayBuffer, args: Int32Array): { read(): number; send(): number; latin1(): string };
  Poller: new (epfd: number, events: Int32Array, onReady: (count: number) => void) => PollerHandle;
  constants: Record<string, number>;
}

// node-gyp-build takes build/Release (compiled here, by npm run build:addon
// or an install that found no binary for this platform) before the package's
// prebuilds/<platform>-<arch>/ (N-API: one binary serves every Node version).
const loadAddon = createRequire(import.meta.url)("node-gyp-build") as (root: string) => unknown;
const addon = loadAddon(fileURLToPath(new URL("../..", import.meta.url))) as Addon;

// A copy in an object literal, frozen: the addon's object is built by 32
// property stores and V8 keeps it as a dictionary, so every K.X on the hot
// path (epoll bits in each ready()) was a generic property lookup; the
// copy's fields are fixed, and constants to the optimizing compiler.
export const K = Object.freeze({ ...addon.constants }) as {
  AF_INET: number; AF_INET6: number; AF_UNIX: number; SOCK_STREAM: number; SOCK_NONBLOCK: number;
  SOCK_CLOEXEC: number; SOL_SOCKET: number; SO_REUSEADDR: number; SO_REUSEPORT: number; IPPROTO_TCP: number;
  IPPROTO_IPV6: number; TCP_NODELAY: number; IPV6_V6ONLY: number; SHUT_RD: number; SHUT_WR: number;
  SHUT_RDWR: number; EPOLL_CLOEXEC: number; EPOLL_CTL_ADD: number; EPOLL_CTL_MOD: number; EPOLL_CTL_DEL: number;
  EPOLLIN: number; EPOLLOUT: number; EPOLLERR: number; EPOLLHUP: number; EPOLLRDHUP: number; EPOLLET: number;
  F_GETFL: number; F_SETFL: number; F_GETFD: number; F_SETFD: number; FD_CLOEXEC: number; O_NONBLOCK: number;
};

export const { Poller } = addon;

/**
 * An ArrayBuffer read into and sent from by the addon's argument-free pair
 * (shim/region.cc): (fd, offset, length) go through `args`, which saves the
 * N-API conversions of the general read and send, about 700 instructions a
 * call, twice per request. In src/ the one ArrayBuffer passed is the wasm
 * parser's memory, of fixed size. The shim keeps the buffer's pointer and
 * size: this object keeps the buffer and `args` alive as long as the
 * functions, a resizable buffer never takes this way, and a detached one
 * no longer matches its size: `whole`, a view of all of it, reads length 0
 * from then on. That view, not the buffer's byteLength, is what each call
 * asks: a typed array's length is inlined by the optimizing compiler (free
 * while no buffer of the thread was ever detached), the ArrayBuffer's
 * byteLength getter is a builtin call (callgrind put it and regionOf at ~123
 * instructions a request, read and send).
 */
class Region {
  readonly args = new Int32Array(new ArrayBuffer(12));
  readonly size: number;
  readonly whole: Uint8Array;
  readonly read: () => number;
  readonly send: () => number;
  readonly latin1: () => string;
  constructor(readonly buffer: ArrayBuffer) {
    this.size = buffer.byteLength;
    this.whole = new Uint8Array(buffer);
    ({ read: this.read, send: this.send, latin1: this.latin1 } = addon.region_io(buffer, this.args));
  }
}

const regions = new WeakMap<ArrayBuffer, Region>();
/** The region used last: a server reads and sends from its one memory, so this is the one asked for almost always. */
let lastRegion: Region | null = null;

/** The region for `bytes`, or null when they take the general way. */
function regionOf(bytes: Bytes): Region | null {
  if (lastRegion !== null && lastRegion.buffer === bytes) return lastRegion.whole.length === lastRegion.size ? lastRegion : null;
  if (!(bytes instanceof ArrayBuffer) || (bytes as { resizable?: boolean }).resizable === true) return null;
  let region = regions.get(bytes);
  if (region === undefined) regions.set(bytes, (region = new Region(bytes)));
  return region.whole.length === region.size ? (lastRegion = region) : null;
}

function regionRead(fd: number, into: Bytes, offset: number, length: number): number {
  const region = regionOf(into);
  if (region === null) return addon.read(fd, into, offset, length);
  const args = region.args;
  args[0] = fd;
  args[1] = offset;
  args[2] = length;
  return region.read();
}

/**
 * A decoder of `bytes` (a view of a region: the parser's memory) into
 * strings of one character per byte, made by the shim from the region's
 * memory; null where `bytes` cannot take this way (the caller keeps its
 * own). A span outside `bytes`, or a region since detached, throws a RangeError.
 */
export function latin1Decoder(bytes: Uint8Array): ((start: number, end: number) => string) | null {
  const region = regionOf(bytes.buffer as ArrayBuffer);
  if (region === null) return null;
  const { args, whole, size } = region;
  const base = bytes.byteOffset;
  const length = bytes.length;
  return (start, end) => {
    if (!(start >= 0 && start <= end && end <= length) || whole.length !== size) throw new RangeError(`latin1(${start}, ${end}): outside the bytes`);
    args[1] = base + start;
    args[2] = end - start;
    return region.latin1();
  };
}

function regionSend(fd: number, from: Bytes, offset: number, length: number): number {
  const region = regionOf(from);
  if (region === null) return addon.send(fd, from, offset, length);
  const args = region.args;
  args[0] = fd;
  args[1] = offset;
  args[2] = length;
  return region.send();
}

// Live bindings: with tracing off they are the addon's own functions (or the region pair), so
// tracing costs nothing unless it is on.
export let socket = addon.socket;
export let setsockopt = addon.setsockopt;
export let bind = addon.bind;
export let connect = addon.connect;
export let listen = addon.listen;
export let accept4 = addon.accept4;
export let getsockname = addon.getsockname;
export let getpeername = addon.getpeername;
export let read = regionRead;
export let send = regionSend;
export let writev = addon.writev;
export let sendfile = addon.sendfile;
export let fcntl = addon.fcntl;
export let shutdown = addon.shutdown;
export let close = addon.close;
export let epollCreate1 = addon.epoll_create1;
export let epollCtl = addon.epoll_ctl;
/** malloc_trim(0): not a system call, but what it does is (madvise of the C heap's free pages). */
export let mallocTrim = addon.malloc_trim;
/**
 * sendmsg(2) of `from` with the descriptors `fds` as SCM_RIGHTS, over an
 * AF_UNIX socket (at most 16). Used once per restart (handover.ts), so it is
 * not traced.
 */
export const sendFds = addon.send_fds;
/**
 * recvmsg(2) into from[offset, offset + length); the descriptors passed with
 * the bytes (made close-on-exec) fill `fds`, the rest of which is -1.
 */
export const recvFds = addon.recv_fds;
/**
 * send(2) of from[offset, offset + length) to each of the first `count`
 * descriptors of `fds`, in one crossing (a publish to many sockets): each
 * send's result (bytes taken, or -errno; -EBADF for a negative descriptor)
 * lands in `results` at the same index. Returns how many took every byte,
 * or -EINVAL / -EFAULT (count or span out of range) with nothing sent.
 * Traced as the sendto(2) of each descriptor.
 */
export let sendEach = addon.send_each;
/** While tracing: logs the epoll_wait whose (fd, events) pairs the poller handed over. */
export let traceEpollWait: ((epfd: number, events: Int32Array, count: number) => void) | null = null;

/** Prints every system call of this thread strace-style to `log`, or stops when log is null. */
export function setTrace(log: ((line: string) => void) | null): void {
  const t = log === null ? null : new Tracer(K, log);
  traceEpollWait = t ? (epfd, events, count) => t.epollWait(epfd, events, count) : null;
  socket = t ? (d, ty, p) => t.socket(d, ty, p, addon.socket(d, ty, p)) : addon.socket;
  setsockopt = t ? (fd, l, n, v) => t.setsockopt(fd, l, n, v, addon.setsockopt(fd, l, n, v)) : addon.setsockopt;
  bind = t ? (fd, f, a, p) => t.bind(fd, f, a, p, addon.bind(fd, f, a, p)) : addon.bind;
  connect = t ? (fd, f, a, p) => t.connect(fd, f, a, p, addon.connect(fd, f, a, p)) : addon.connect;
  listen = t ? (fd, b) => t.listen(fd, b, addon.listen(fd, b)) : addon.listen;
  accept4 = t ? (fd, fl) => t.accept4(fd, fl, addon.accept4(fd, fl)) : addon.accept4;
  getsockname = t ? (fd) => t.getsockname(fd, addon.getsockname(fd)) : addon.getsockname;
  getpeername = t ? (fd) => t.getpeername(fd, addon.getpeername(fd)) : addon.getpeername;
  read = t ? (fd, b, o, l) => t.read(fd, b, o, l, addon.read(fd, b, o, l)) : regionRead;
  send = t ? (fd, b, o, l) => t.send(fd, b, o, l, addon.send(fd, b, o, l)) : regionSend;
  writev = t ? (fd, c) => t.writev(fd, c, addon.writev(fd, c)) : addon.writev;
  sendfile = t ? (o, i, off, n) => t.sendfile(o, i, off, n, addon.sendfile(o, i, off, n)) : addon.sendfile;
  fcntl = t ? (fd, c, a) => t.fcntl(fd, c, a, addon.fcntl(fd, c, a)) : addon.fcntl;
  shutdown = t ? (fd, h) => t.shutdown(fd, h, addon.shutdown(fd, h)) : addon.shutdown;
  close = t ? (fd) => t.close(fd, addon.close(fd)) : addon.close;
  epollCreate1 = t ? (f) => t.epollCreate1(f, addon.epoll_create1(f)) : addon.epoll_create1;
  epollCtl = t ? (e, op, fd, ev) => t.epollCtl(e, op, fd, ev, addon.epoll_ctl(e, op, fd, ev)) : addon.epoll_ctl;
  mallocTrim = t ? () => t.mallocTrim(addon.malloc_trim()) : addon.malloc_trim;
  sendEach = t ? (fds, n, b, o, l, results) => traceSendEach(t, fds, n, b, o, l, results) : addon.send_each;
}

/** send_each, traced: a line for each sendto(2) it made (a negative descriptor, or arguments refused, made none). */
function traceSendEach(t: Tracer, fds: Int32Array, count: number, from: Bytes, offset: number, length: number, results: Int32Array): number {
  const whole = addon.send_each(fds, count, from, offset, length, results);
  if (whole >= 0) for (let i = 0; i < count; i++) if (fds[i] >= 0) t.send(fds[i], from, offset, length, results[i]);
  return whole;
}

export const Errno = osConstants.errno;
const errnoNames = new Map(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));

export class SyscallError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number) {
    const code = errnoNames.get(errno) ?? `E${errno}`;
    super(`${syscall} failed: ${code}`);
    this.name = "SyscallError";
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** Returns rc, or throws a SyscallError when rc is -errno. */
export function check(syscall: string, rc: number): number {
  if (rc < 0) throw new SyscallError(syscall, -rc);
  return rc;
}

export function address(syscall: string, result: SocketAddress | number): SocketAddress {
  if (typeof result === "number") throw new SyscallError(syscall, -result);
  return result;
}
