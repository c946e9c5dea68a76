// strace-style lines for the system calls the shim makes, so a reader can
// watch the article's sequence happen: socket, bind, listen, accept4, read,
// sendto/sendmsg, close. Each method logs one line and returns the result.
import { getSystemErrorMap } from "node:util";

type SocketAddress = [number, string, number];
const errors = getSystemErrorMap();
const PREVIEW = 32;

export class Tracer {
  private readonly names: Record<string, number>;

  constructor(constants: object, private readonly log: (line: string) => void) {
    this.names = constants as Record<string, number>;
  }

  socket(domain: number, type: number, protocol: number, r: number): number {
    return this.line(`socket(${this.name(domain, "AF_")}, ${this.flags(type, ["SOCK_STREAM", "SOCK_NONBLOCK", "SOCK_CLOEXEC"])}, ${protocol})`, r);
  }
  setsockopt(fd: number, level: number, name: number, value: number, r: number): number {
    const levelName = this.name(level, "SOL_", "IPPROTO_");
    const optName = this.name(name, level === this.names.IPPROTO_TCP ? "TCP_" : level === this.names.IPPROTO_IPV6 ? "IPV6_" : "SO_");
    return this.line(`setsockopt(${fd}, ${levelName}, ${optName}, [${value}], 4)`, r);
  }
  bind(fd: number, family: number, address: string, port: number, r: number): number {
    return this.line(`bind(${fd}, ${sockaddr([family, address, port], this.names)})`, r);
  }
  connect(fd: number, family: number, address: string, port: number, r: number): number {
    return this.line(`connect(${fd}, ${sockaddr([family, address, port], this.names)})`, r);
  }
  listen(fd: number, backlog: number, r: number): number {
    return this.line(`listen(${fd}, ${backlog})`, r);
  }
  accept4(fd: number, flags: number, r: number): number {
    return this.line(`accept4(${fd}, NULL, NULL, ${this.flags(flags, ["SOCK_CLOEXEC", "SOCK_NONBLOCK"])})`, r);
  }
  getsockname(fd: number, r: SocketAddress | number): SocketAddress | number {
    this.line(`getsockname(${fd}, ${typeof r === "number" ? "..." : sockaddr(r, this.names)})`, typeof r === "number" ? r : 0);
    return r;
  }
  getpeername(fd: number, r: SocketAddress | number): SocketAddress | number {
    this.line(`getpeername(${fd}, ${typeof r === "number" ? "..." : sockaddr(r, this.names)})`, typeof r === "number" ? r : 0);
    return r;
  }
  read(fd: number, into: Uint8Array | ArrayBuffer, offset: number, length: number, r: number): number {
    const data = r > 0 ? quote(bytesOf(into), offset, r) : "...";
    return this.line(`read(${fd}, ${data}, ${length})`, r);
  }
  send(fd: number, from: Uint8Array | ArrayBuffer, offset: number, length: number, r: number): number {
    return this.line(`sendto(${fd}, ${quote(bytesOf(from), offset, length)}, ${length}, MSG_NOSIGNAL, NULL, 0)`, r);
  }
  writev(fd: number, chunks: (Uint8Array | ArrayBuffer)[], r: number): number {
    const iov = chunks.map((c) => {
      const b = bytesOf(c);
      return `{${quote(b, 0, b.length)}, ${b.length}}`;
    });
    return this.line(`sendmsg(${fd}, {msg_iov=[${iov.join(", ")}], msg_iovlen=${chunks.length}}, MSG_NOSIGNAL)`, r);
  }
  sendfile(outFd: number, inFd: number, offset: number, count: number, r: number): number {
    return this.line(`sendfile(${outFd}, ${inFd}, [${offset}], ${count})`, r);
  }
  fcntl(fd: number, cmd: number, arg: number, r: number): number {
    const name = this.name(cmd, "F_");
    const flags = cmd === this.names.F_SETFL ? `, ${this.flags(arg, ["O_NONBLOCK"])}` : cmd === this.names.F_SETFD ? `, ${this.flags(arg, ["FD_CLOEXEC"])}` : "";
    return this.line(`fcntl(${fd}, ${name}${flags})`, r);
  }
  shutdown(fd: number, how: number, r: number): number {
    return this.line(`shutdown(${fd}, ${this.name(how, "SHUT_")})`, r);
  }
  close(fd: number, r: number): number {
    return this.line(`close(${fd})`, r);
  }
  epollCreate1(flags: number, r: number): number {
    return this.line(`epoll_create1(${this.flags(flags, ["EPOLL_CLOEXEC"])})`, r);
  }
  epollCtl(epfd: number, op: number, fd: number, events: number, r: number): number {
    const bits = this.flags(events, ["EPOLLIN", "EPOLLOUT", "EPOLLRDHUP", "EPOLLET"]);
    return this.line(`epoll_ctl(${epfd}, ${this.name(op, "EPOLL_CTL_")}, ${fd}, {events=${bits}, data=${fd}})`, r);
  }
  mallocTrim(r: number): number {
    return this.line("malloc_trim(0)", r);
  }

  /** The poller ran epoll_wait in C; this prints what it returned. */
  epollWait(epfd: number, events: Int32Array, count: number): void {
    const ready: string[] = [];
    for (let i = 0; i < count; i++) {
      const bits = this.flags(events[2 * i + 1], ["EPOLLIN", "EPOLLOUT", "EPOLLRDHUP", "EPOLLERR", "EPOLLHUP"]);
      ready.push(`{events=${bits}, data=${events[2 * i]}}`);
    }
    this.line(`epoll_wait(${epfd}, [${ready.join(", ")}], ${events.length >> 1}, 0)`, count);
  }

  private line(call: string, r: number): number {
    if (r >= 0) {
      this.log(`${call} = ${r}`);
    } else {
      const [name, message] = errors.get(r) ?? [`E${-r}`, "Unknown error"];
      this.log(`${call} = -1 ${name} (${message[0].toUpperCase()}${message.slice(1)})`);
    }
    return r;
  }

  /** The constant named with one of the prefixes whose value is v. */
  private name(v: number, ...prefixes: string[]): string {
    for (const [name, value] of Object.entries(this.names)) {
      if (value === v && prefixes.some((p) => name.startsWith(p))) return name;
    }
    return String(v);
  }

  /** v as an OR of the named flags (a zero-valued flag such as nothing set prints 0). */
  private flags(v: number, candidates: string[]): string {
    const parts: string[] = [];
    let rest = v;
    for (const name of candidates) {
      const bit = this.names[name];
      if (name === "SOCK_STREAM") {
        if ((v & 0xf) === bit) {
          parts.push(name);
          rest &= ~0xf;
        }
      } else if (bit !== 0 && (v & bit) === bit) {
        parts.push(name);
        rest &= ~bit;
      }
    }
    if (rest !== 0 || parts.length === 0) parts.push(`0x${rest.toString(16)}`);
    return parts.join("|");
  }
}

function bytesOf(b: Uint8Array | ArrayBuffer): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b);
}

function sockaddr([family, address, port]: SocketAddress, names: Record<string, number>): string {
  if (family === names.AF_UNIX) return `{AF_UNIX, ${JSON.stringify(address)}}`;
  return family === names.AF_INET6 ? `{[${address}]:${port}}` : `{${address}:${port}}`;
}

/** The first bytes as strace shows them: a C string, with "..." when cut. */
function quote(bytes: Uint8Array, offset: number, length: number): string {
  const n = Math.min(length, PREVIEW);
  let s = '"';
  for (let i = offset; i < offset + n; i++) {
    const c = bytes[i];
    if (c === 0x0d) s += "\\r";
    else if (c === 0x0a) s += "\\n";
    else if (c === 0x09) s += "\\t";
    else if (c === 0x22 || c === 0x5c) s += "\\" + String.fromCharCode(c);
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += "\\x" + c.toString(16).padStart(2, "0");
  }
  return s + '"' + (length > n ? "..." : "");
}
