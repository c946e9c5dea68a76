// Restarts that lose nothing: the running server hands its listening socket
// to its successor instead of racing it with a second listener (closing a
// listener resets the connections waiting in its accept queue). The socket
// itself never closes, so no connection to the port is ever refused or reset
// — nginx's binary upgrade and Envoy's hot restart work the same way.
//
//   serve({ handover: PATH })   (simplenet --upgrade-from PATH)
//
// 1. The new process connects to the Unix socket at PATH. Nobody there (no
//    file, or a file left by a process that died): it opens its own listener.
// 2. The running process answers with one message: its listening descriptor
//    (SCM_RIGHTS) and its address, as a line of JSON.
// 3. The new process serves on that descriptor, then answers "accepting".
// 4. The old process stops accepting, answers the requests still arriving on
//    its open connections with "Connection: close" for a moment, then closes
//    gracefully (server.close()) and calls onHandover.
// 5. Every process offers its listener at PATH in turn: it binds a socket
//    beside PATH and renames it over PATH once it accepts, so PATH always
//    leads to the newest process.
import { chmodSync, lstatSync, renameSync, unlinkSync } from "node:fs";
import { closeListener, inheritedListeners, openListener, type ListenOptions, type Listening } from "../socket/listener.js";
import type { EventLoop } from "../socket/loop.js";
import {
  Errno, K, SyscallError, accept4, address, bind, check, close, connect, epollCtl, fcntl, getsockname, listen, recvFds,
  send, sendFds, socket,
} from "../socket/syscalls.js";

const PROTOCOL = "simplenet-handover/1";
/** How long a new process waits for the running one to send its listener. */
const RECEIVE_TIMEOUT_MS = 5_000;
/** How long the running process waits for its successor's "accepting". */
const ACCEPTING_TIMEOUT_MS = 30_000;
/**
 * After handing over: how long the open connections may go on, each next
 * response carrying "Connection: close", before close() ends the idle ones.
 * A keep-alive client that sends in this time moves to the successor cleanly
 * instead of racing the close of its idle connection.
 */
const DRAIN_MS = 2_000;
const MAX_MESSAGE = 4096;

/** Who took over, as onHandover is told. */
export interface Successor {
  pid: number;
}

interface Offer {
  protocol: typeof PROTOCOL;
  pid: number;
  listeners: { host: string; port: number; path?: string; inherited?: boolean }[];
}

interface Accepting {
  accepting: true;
  pid: number;
}

/** What handover asks of the server it moves, through methods the server offers. */
export interface HandoverServer {
  readonly loop: EventLoop;
  readonly closing: boolean;
  readonly connectionCount: number;
  listen(options: ListenOptions, inherited?: Listening): void;
  close(): Promise<void>;
  /** Calls `fn` once, when the server begins to close (however that is asked for). */
  onClose(fn: () => void): void;
  /** Stops accepting without closing the listener (the successor accepts on it now); each next response says "Connection: close". */
  stopAccepting(): void;
  /** The listening socket lives on in a successor: close() closes only this process's descriptor (a Unix socket's file stays). */
  shareListener(): void;
}

export interface HandoverOptions extends ListenOptions {
  /** The Unix socket path where listeners are offered and taken. */
  handover: string;
  socketActivation?: boolean;
  onHandover?: (successor: Successor) => void;
}

/**
 * serve() with `handover`: takes the listener of the process offering it at
 * options.handover (or opens one), serves on it, then offers it there in turn.
 */
export async function listenWithHandover<S extends HandoverServer>(server: S, options: HandoverOptions): Promise<S> {
  const path = options.handover;
  let received: Received | null = null;
  let listening: Listening | null = null;
  let staged: Staged;
  try {
    received = await receive(server.loop, path);
    // Ready to offer before telling the running process anything: a failure here leaves it serving.
    staged = stage(path);
  } catch (error) {
    if (received !== null) release(received);
    void server.close();
    throw error;
  }
  try {
    listening = received?.listening ?? (options.socketActivation === false ? undefined : inheritedListeners()[0]) ?? openListener(options);
    server.listen(options, listening); // the caller's to close if it throws
  } catch (error) {
    unstage(staged);
    if (received !== null) release(received); // the running process keeps serving
    else if (listening !== null) closeListener(listening);
    void server.close();
    throw error;
  }
  if (received !== null) {
    // Accepting from here on (connections meanwhile wait in the shared queue): say so.
    sendMessage(received.channel, { accepting: true, pid: process.pid } satisfies Accepting);
    close(received.channel);
  }
  offer(server, listening, staged, options.onHandover);
  return server;
}

interface Received {
  listening: Listening;
  /** The connection to the running process, for the answer. */
  channel: number;
}

function release(received: Received): void {
  close(received.channel);
  close(received.listening.fd);
}

/** A listening Unix socket beside path, to be renamed over it. */
interface Staged {
  fd: number;
  path: string;
  staging: string;
}

function stage(path: string): Staged {
  const staging = `${path}.${process.pid}`;
  removeFile(staging);
  const fd = check("socket", socket(K.AF_UNIX, K.SOCK_STREAM | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC, 0));
  try {
    check("bind", bind(fd, K.AF_UNIX, staging, 0));
    chmodSync(staging, 0o600); // whoever connects gets the port: only this user may
    check("listen", listen(fd, 8));
  } catch (error) {
    close(fd);
    removeFile(staging);
    throw error;
  }
  return { fd, path, staging };
}

function unstage(staged: Staged): void {
  close(staged.fd);
  removeFile(staged.staging);
}

/** The new process's side: the listener of the process at path, or null when none offers one there. */
async function receive(loop: EventLoop, path: string): Promise<Received | null> {
  const fd = check("socket", socket(K.AF_UNIX, K.SOCK_STREAM | K.SOCK_CLOEXEC, 0));
  const rc = connect(fd, K.AF_UNIX, path, 0);
  if (rc === -Errno.ENOENT || rc === -Errno.ECONNREFUSED) {
    close(fd);
    return null;
  }
  let fds: number[] = [];
  try {
    if (rc < 0) throw new SyscallError("connect", -rc);
    check("fcntl", fcntl(fd, K.F_SETFL, check("fcntl", fcntl(fd, K.F_GETFL, 0)) | K.O_NONBLOCK));
    const got = await receiveOne(loop, fd, RECEIVE_TIMEOUT_MS, `the running process at ${path}`);
    fds = got.fds;
    const offer = got.message as Offer;
    if (offer.protocol !== PROTOCOL || !Array.isArray(offer.listeners) || offer.listeners.length !== fds.length || fds.length === 0) {
      throw new Error(`handover: unexpected answer from ${path}`);
    }
    const [lfd] = fds;
    const described = offer.listeners[0];
    check("fcntl", fcntl(lfd, K.F_SETFL, check("fcntl", fcntl(lfd, K.F_GETFL, 0)) | K.O_NONBLOCK));
    const [family, host, port] = address("getsockname", getsockname(lfd));
    for (const extra of fds.slice(1)) close(extra); // a server serves one listener
    const listening: Listening =
      family === K.AF_UNIX
        ? { fd: lfd, host: "", port: 0, path: described.path, inherited: described.inherited }
        : { fd: lfd, host, port, inherited: described.inherited };
    return { listening, channel: fd };
  } catch (error) {
    close(fd);
    for (const f of fds) close(f);
    throw error;
  }
}

/**
 * The running process's side: offers the server's listener at path; the
 * first process to take it and report "accepting" gets it, and this server
 * then drains and closes.
 */
function offer(server: HandoverServer, listening: Listening, staged: Staged, onHandover?: (successor: Successor) => void): void {
  const { loop } = server;
  const { fd, path } = staged;
  let inode: number;
  try {
    renameSync(staged.staging, path);
    inode = lstatSync(path).ino;
  } catch (error) {
    // Serving, but offering to nobody: say why, as a handler error would be.
    unstage(staged);
    console.error(`simplenet: handover: cannot offer the listener at ${path}:`, error);
    return;
  }
  const message: Offer = {
    protocol: PROTOCOL,
    pid: process.pid,
    listeners: [{ host: listening.host, port: listening.port, path: listening.path, inherited: listening.inherited }],
  };
  let offering = true;
  let busy = false;
  const stopOffering = (removePath: boolean): void => {
    if (!offering) return;
    offering = false;
    loop.closeWatched(fd);
    // The path may lead to a successor's socket by now: remove it only while it is ours.
    if (removePath && sameFile(path, inode)) removeFile(path);
  };
  // However the server closes, it stops offering.
  server.onClose(() => {
    // A successor holding the listener may be serving on it already: its Unix socket file stays.
    if (busy) server.shareListener();
    stopOffering(true);
  });

  loop.add(fd, K.EPOLLIN, {
    ready: () => {
      for (;;) {
        const channel = accept4(fd, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
        if (channel < 0) return;
        if (busy || server.closing) {
          close(channel); // one successor at a time
          continue;
        }
        busy = true;
        if (!sendMessage(channel, message, [listening.fd])) {
          close(channel);
          busy = false;
          continue;
        }
        receiveOne(loop, channel, ACCEPTING_TIMEOUT_MS, "the successor").then(
          ({ message: answer }) => {
            close(channel);
            if ((answer as Accepting).accepting !== true) throw new Error("handover: unexpected answer");
            handedOver(server, (answer as Accepting).pid, () => stopOffering(false), onHandover);
          },
          () => {
            // The successor went away before it accepted: keep serving, keep offering.
            close(channel);
            busy = false;
          },
        ).catch(() => {
          busy = false;
        });
      }
    },
  });
}

/** The successor accepts on the listener now: stop accepting, drain, close. */
function handedOver(server: HandoverServer, pid: number, stopOffering: () => void, onHandover?: (successor: Successor) => void): void {
  stopOffering();
  server.shareListener();
  server.stopAccepting();
  const until = Date.now() + DRAIN_MS;
  const wait = setInterval(() => {
    if (server.connectionCount > 0 && Date.now() < until) return;
    clearInterval(wait);
    server.close().then(() => onHandover?.({ pid }));
  }, 10);
}

/** Reads one line of JSON from fd (and the descriptors sent with it), watched by loop. */
function receiveOne(loop: EventLoop, fd: number, timeoutMs: number, from: string): Promise<{ message: unknown; fds: number[] }> {
  return new Promise((resolve, reject) => {
    const buffer = new Uint8Array(MAX_MESSAGE);
    const slots = new Int32Array(16);
    const fds: number[] = [];
    let used = 0;
    const finish = (error: Error | null, message?: unknown): void => {
      clearTimeout(timer);
      unwatch(loop, fd);
      if (error !== null) {
        for (const f of fds) close(f);
        reject(error);
      } else {
        resolve({ message, fds });
      }
    };
    // Unreferenced: the server's poller is what keeps the process alive.
    const timer = setTimeout(() => finish(new Error(`handover: no answer from ${from} in ${timeoutMs} ms`)), timeoutMs).unref();
    loop.add(fd, K.EPOLLIN, {
      ready: () => {
        for (;;) {
          const n = recvFds(fd, buffer, used, buffer.length - used, slots);
          for (const f of slots) if (f >= 0) fds.push(f);
          if (n === -Errno.EAGAIN) return;
          if (n < 0) return finish(new SyscallError("recvmsg", -n));
          if (n === 0) return finish(new Error(`handover: ${from} closed the connection`));
          used += n;
          const end = buffer.subarray(0, used).indexOf(10);
          if (end >= 0) {
            try {
              return finish(null, JSON.parse(Buffer.from(buffer.subarray(0, end)).toString("utf8")));
            } catch (error) {
              return finish(error as Error);
            }
          }
          if (used === buffer.length) return finish(new Error(`handover: message from ${from} too long`));
        }
      },
    });
  });
}

/** Sends one line of JSON (with descriptors): true when it all went. */
function sendMessage(fd: number, message: object, fds: number[] = []): boolean {
  const bytes = Buffer.from(`${JSON.stringify(message)}\n`);
  const n = fds.length > 0 ? sendFds(fd, bytes, fds) : send(fd, bytes, 0, bytes.length);
  return n === bytes.length;
}

/** Takes fd out of the epoll set (a closed peer would otherwise keep it ready) and forgets its watcher. */
function unwatch(loop: EventLoop, fd: number): void {
  epollCtl(loop.epfd, K.EPOLL_CTL_DEL, fd, 0);
  loop.remove(fd);
}

function sameFile(path: string, inode: number): boolean {
  try {
    return lstatSync(path).ino === inode;
  } catch {
    return false;
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}
