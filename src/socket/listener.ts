// Listening sockets: socket, setsockopt, bind, listen — for IPv4, IPv6
// (dual-stack unless ipv6Only) and Unix domain paths.
import { lookup } from "node:dns/promises";
import { lstatSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import {
  Errno, K, SyscallError, address, bind, check, close, connect, fcntl, getsockname, listen, setsockopt, socket,
} from "./syscalls.js";
import type { EventLoop } from "./loop.js";

export interface ListenOptions {
  /**
   * IPv4 or IPv6 address, or a host name (serve() resolves it: "localhost",
   * /etc/hosts, DNS; the first address). Default "0.0.0.0"; "::" is
   * dual-stack unless ipv6Only.
   */
  host?: string;
  /** Default 0: the kernel picks one. */
  port?: number;
  /** A Unix domain socket path instead of host and port. */
  path?: string;
  /** listen(2) backlog. Default 511. */
  backlog?: number;
  /** IPV6_V6ONLY on an IPv6 listener. Default false. */
  ipv6Only?: boolean;
  /** SO_REUSEPORT, so several listeners share the port (one per worker). */
  reusePort?: boolean;
}

export interface Listening {
  fd: number;
  host: string;
  port: number;
  path?: string;
  /** Passed in by a service manager: its file is not ours to remove. */
  inherited?: boolean;
}

const STREAM = () => K.SOCK_STREAM | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC;

/** A bound socket, not yet listening. */
export function bound(options: ListenOptions): Listening {
  if (options.path !== undefined) return boundUnix(options.path);
  const host = options.host ?? "0.0.0.0";
  const family = host.includes(":") ? K.AF_INET6 : K.AF_INET;
  const fd = check("socket", socket(family, STREAM(), 0));
  try {
    check("setsockopt", setsockopt(fd, K.SOL_SOCKET, K.SO_REUSEADDR, 1));
    if (options.reusePort) {
      check("setsockopt", setsockopt(fd, K.SOL_SOCKET, K.SO_REUSEPORT, 1));
      migrateRequests();
    }
    if (family === K.AF_INET6) check("setsockopt", setsockopt(fd, K.IPPROTO_IPV6, K.IPV6_V6ONLY, options.ipv6Only ? 1 : 0));
    noDelay(fd);
    const rc = bind(fd, family, host, options.port ?? 0);
    if (rc < 0) throw naming(new SyscallError("bind", -rc), host.includes(":") ? `[${host}]:${options.port ?? 0}` : `${host}:${options.port ?? 0}`);
    return { fd, host, port: address("getsockname", getsockname(fd))[2] };
  } catch (error) {
    close(fd);
    throw error;
  }
}

/**
 * TCP_NODELAY on a listening socket: Linux copies it to every socket
 * accept4() returns, so responses leave at once without a system call per
 * connection.
 */
function noDelay(fd: number): void {
  check("setsockopt", setsockopt(fd, K.IPPROTO_TCP, K.TCP_NODELAY, 1));
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The address bind(2) takes for host: an IPv4 or IPv6 address as it is
 * ("[::1]" loses its brackets), a name resolved the way the system resolves
 * names (dns.lookup: /etc/hosts, then DNS), taking the first address, as
 * Node's own listen() does. A name that resolves to nothing is an error that
 * names it, with the resolver's code (ENOTFOUND, EAI_AGAIN).
 */
export async function resolveHost(host: string): Promise<string> {
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (IPV4.test(host) || host.includes(":")) return host;
  try {
    return (await lookup(host)).address;
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? "ENOTFOUND";
    throw Object.assign(new Error(`cannot resolve host "${host}" to an address (${code})`, { cause }), { code, hostname: host });
  }
}

const MIGRATE_REQ = "/proc/sys/net/ipv4/tcp_migrate_req";
let migrateChecked = false;

/**
 * net.ipv4.tcp_migrate_req (Linux 5.14): when a SO_REUSEPORT listener
 * closes, the connections in its accept queue move to another listener of
 * the port instead of being reset. Turned on where this process may set it
 * (root in its network namespace); never required, and left as it is when
 * already on or not allowed.
 */
function migrateRequests(): void {
  if (migrateChecked) return;
  migrateChecked = true;
  try {
    if (readFileSync(MIGRATE_REQ, "utf8").trim() === "0") writeFileSync(MIGRATE_REQ, "1");
  } catch {
    // not offered by this kernel, or not ours to set
  }
}

export function openListener(options: ListenOptions): Listening {
  const socket = bound(options);
  const rc = listen(socket.fd, options.backlog ?? 511);
  if (rc < 0) {
    closeListener(socket);
    throw new SyscallError("listen", -rc);
  }
  return socket;
}

/** Closes a listening socket (through the loop that watches it, if one does) and removes its file. */
export function closeListener(socket: Listening, loop?: EventLoop): void {
  if (loop !== undefined) loop.closeWatched(socket.fd);
  else close(socket.fd);
  if (socket.path !== undefined && !socket.inherited) {
    try {
      unlinkSync(socket.path);
    } catch {
      // already gone
    }
  }
}

function boundUnix(path: string): Listening {
  const fd = check("socket", socket(K.AF_UNIX, STREAM(), 0));
  let rc = bind(fd, K.AF_UNIX, path, 0);
  if (rc === -Errno.EADDRINUSE && isStale(path)) {
    unlinkSync(path);
    rc = bind(fd, K.AF_UNIX, path, 0);
  }
  if (rc < 0) {
    close(fd);
    throw naming(new SyscallError("bind", -rc), path);
  }
  return { fd, host: "", port: 0, path };
}

/** The error with the address it is about, as Node's own listen() says it ("bind failed: EADDRINUSE 127.0.0.1:8080"). */
function naming(error: SyscallError, where: string): SyscallError {
  error.message = `${error.message} ${where}`;
  return Object.assign(error, { address: where });
}

/** A socket file nobody listens on: left behind by a process that died. */
function isStale(path: string): boolean {
  try {
    if (!lstatSync(path).isSocket()) return false;
  } catch {
    return false;
  }
  const probe = socket(K.AF_UNIX, K.SOCK_STREAM | K.SOCK_CLOEXEC, 0);
  if (probe < 0) return false;
  const rc = connect(probe, K.AF_UNIX, path, 0);
  close(probe);
  return rc === -Errno.ECONNREFUSED;
}

/** The first descriptor systemd passes (sd_listen_fds(3)). */
const LISTEN_FDS_START = 3;

/**
 * Socket activation: the listening sockets a service manager passed in
 * (LISTEN_FDS, for this process per LISTEN_PID), made non-blocking and
 * close-on-exec. The variables are removed so children do not inherit them.
 */
export function inheritedListeners(): Listening[] {
  const count = Number(process.env.LISTEN_FDS);
  if (process.env.LISTEN_PID !== String(process.pid) || !(count > 0)) return [];
  delete process.env.LISTEN_FDS;
  delete process.env.LISTEN_PID;
  delete process.env.LISTEN_FDNAMES;
  const sockets: Listening[] = [];
  for (let fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + count; fd++) {
    check("fcntl", fcntl(fd, K.F_SETFL, check("fcntl", fcntl(fd, K.F_GETFL, 0)) | K.O_NONBLOCK));
    check("fcntl", fcntl(fd, K.F_SETFD, K.FD_CLOEXEC));
    const [family, host, port] = address("getsockname", getsockname(fd));
    if (family !== K.AF_UNIX) noDelay(fd);
    sockets.push(family === K.AF_UNIX ? { fd, host: "", port: 0, inherited: true } : { fd, host, port, inherited: true });
  }
  return sockets;
}
