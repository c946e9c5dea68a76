// What the server asks of every socket it serves, whichever watcher holds it
// on the loop: a connection (connection.ts) or, after a 101, its tunnel
// (tunnel-connection.ts). The server tells them from its other watchers
// (listeners) and asks each through these methods only. Also what both
// kinds share: the lingering close, and who the peer is.
import type { Watcher } from "../socket/loop.js";
import { getpeername } from "../socket/syscalls.js";

/** The server's deadlines, ms (see Timeouts in server/options.ts); bodyMinRate in bytes per second. */
export interface Deadlines {
  headers: number;
  body: number;
  bodyMinRate: number;
  request: number;
  write: number;
  keepAlive: number;
}

/** How long a lingering close reads and drops what the client still sends (a connection's and a tunnel's). */
export const LINGER_MS = 2000;

export interface Served extends Watcher {
  /** Called once a second (or more often for short timeouts): closes what has passed its deadline. */
  sweep(time: number, timeouts: Deadlines): void;
  /**
   * At the connection limit, how fit this socket is to be closed to make
   * room for a new client: Infinity for an idle one, else how long (ms) the
   * message it is receiving has been arriving; -1 for one being served.
   */
  evictionRank(time: number): number;
  /** Bytes held for it: unsent output, output kept behind unfinished responses, unread body. */
  readonly heldBytes: number;
  /** Nothing in flight, nothing half-read, nothing left to send. */
  readonly idle: boolean;
  /** Server shutdown: finish what is in flight, then close. */
  shutdown(): void;
  /** Closes the descriptor now. */
  destroy(): void;
}

/** Who is at the other end of fd (an empty address when nobody is, or for a Unix socket's unnamed peer). */
export function peerOf(fd: number): { address: string; port: number } {
  const peer = fd < 0 ? -1 : getpeername(fd);
  return typeof peer === "number" ? { address: "", port: 0 } : { address: peer[1], port: peer[2] };
}

/** Whether a watcher of the loop is a socket the server serves (and not a listener). */
export function isServed(watcher: Watcher): watcher is Served {
  return typeof (watcher as Partial<Served>).sweep === "function";
}
