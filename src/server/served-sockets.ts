// The sockets a server serves, connections and (after a 101) tunnels, known
// through the loop's watchers (no set of our own, which would cost each one
// an entry) and asked through one interface (Served): how many are open,
// their deadlines swept on a timer, which one makes room at maxConnections,
// and closing them, gracefully or not.
import { isServed, type Deadlines, type Served } from "../http/served.js";
import type { EventLoop } from "../socket/loop.js";

export class ServedSockets {
  private count = 0;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private allGone: (() => void) | null = null;

  constructor(
    private readonly loop: EventLoop,
    private readonly maxConnections: number,
    private readonly timeouts: Deadlines,
  ) {
    const { keepAlive, headers, request, body, write } = timeouts;
    const every = Math.min(1000, keepAlive / 2, headers / 2, request / 2, body / 2, write / 2);
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, every));
    this.sweeper.unref();
  }

  get size(): number {
    return this.count;
  }

  /** Whether a new socket may be served: under maxConnections, or once another has made room. */
  admit(): boolean {
    return this.count < this.maxConnections || this.makeRoom();
  }

  opened(): void {
    this.count++;
  }

  /** One has closed. */
  forget(): void {
    this.count--;
    if (this.count === 0) this.allGone?.();
  }

  private sweep(): void {
    const now = Date.now();
    const timeouts = this.timeouts;
    this.loop.forEach((watcher) => {
      if (isServed(watcher)) watcher.sweep(now, timeouts);
    });
  }

  /**
   * At maxConnections: closes the socket fittest to make room for a new
   * client (Served.evictionRank: idle ones first, then the slowest head or
   * message), so sockets that trickle heads cannot lock fresh clients out,
   * as they would if new connections were the ones refused. False when every
   * one is being served.
   */
  private makeRoom(): boolean {
    const now = Date.now();
    let victim: Served | null = null;
    let best = -1;
    this.loop.forEach((watcher) => {
      if (best === Infinity || !isServed(watcher)) return;
      const rank = watcher.evictionRank(now);
      if (rank > best) {
        best = rank;
        victim = watcher;
      }
    });
    if (victim === null) return false;
    (victim as Served).destroy();
    return true;
  }

  private open(): Served[] {
    const open: Served[] = [];
    this.loop.forEach((watcher) => {
      if (isServed(watcher)) open.push(watcher);
    });
    return open;
  }

  /** Bytes held for all of them. */
  get heldBytes(): number {
    let held = 0;
    this.loop.forEach((watcher) => {
      if (isServed(watcher)) held += watcher.heldBytes;
    });
    return held;
  }

  /** Closes every one now, whatever is in flight. */
  destroyAll(): void {
    for (const socket of this.open()) socket.destroy();
  }

  /** Closes those with nothing in flight. */
  destroyIdle(): void {
    for (const socket of this.open()) if (socket.idle) socket.destroy();
  }

  /** Asks each to finish what is in flight and close; resolves once none is open. */
  shutdownAll(): Promise<void> {
    const gone = new Promise<void>((resolve) => (this.allGone = resolve));
    for (const socket of this.open()) socket.shutdown();
    if (this.count === 0) this.allGone!();
    return gone;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}
