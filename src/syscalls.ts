// The only file that knows the addon's function names. Every call returns
// what the kernel returned, or -errno; `fail` turns that into an Error that
// names both the errno and the system call.
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";

type Bytes = Uint8Array | ArrayBuffer;
/** [family, address, port] */
export type SocketAddress = [number, string, number];

export interface PollerHandle {
  close(): void;
}

interface Addon {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: number): number;
  bind(fd: number, family: number, address: string, port: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, flags: number): number;
  getsockname(fd: number): SocketAddress | number;
  getpeername(fd: number): SocketAddress | number;
  read(fd: number, into: Bytes, offset: number, length: number): number;
  write(fd: number, from: Bytes, offset: number, length: number): number;
  writev(fd: number, chunks: Bytes[]): number;
  sendfile(outFd: number, inFd: number, offset: number, count: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, events: number): number;
  Poller: new (epfd: number, events: Int32Array, onReady: (count: number) => void) => PollerHandle;
  constants: Record<string, number>;
}

const addon = createRequire(import.meta.url)("../build/Release/simplenet.node") as Addon;

export const {
  socket, setsockopt, bind, listen, accept4, getsockname, getpeername, read, write, writev, sendfile, shutdown,
  close, epoll_create1: epollCreate1, epoll_ctl: epollCtl, Poller,
} = addon;

export const K = addon.constants as {
  AF_INET: number; AF_INET6: number; AF_UNIX: number; SOCK_STREAM: number; SOCK_NONBLOCK: number;
  SOCK_CLOEXEC: number; SOL_SOCKET: number; SO_REUSEADDR: number; SO_REUSEPORT: number; IPPROTO_TCP: number;
  IPPROTO_IPV6: number; TCP_NODELAY: number; IPV6_V6ONLY: number; SHUT_RD: number; SHUT_WR: number;
  SHUT_RDWR: number; EPOLL_CLOEXEC: number; EPOLL_CTL_ADD: number; EPOLL_CTL_MOD: number; EPOLL_CTL_DEL: number;
  EPOLLIN: number; EPOLLOUT: number; EPOLLERR: number; EPOLLHUP: number; EPOLLRDHUP: number; EPOLLET: number;
};

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
