// One epoll descriptor watched by one uv_poll_t: every socket of a server is
// registered here, and a single callback dispatches the ready ones.
import { K, Poller, type PollerHandle, check, close, epollCreate1, epollCtl, traceEpollWait } from "./syscalls.js";

export interface Watcher {
  /** Called with the epoll event bits for this watcher's fd. */
  ready(events: number): void;
}

/** Work a watcher asks to do once the loop's turn is over (see EventLoop.atTurnEnd). */
export interface TurnEnd {
  turnEnded(): void;
}

const MAX_EVENTS = 256;

export class EventLoop {
  readonly epfd: number;
  private readonly poller: PollerHandle;
  private readonly events = new Int32Array(MAX_EVENTS * 2);
  /** Indexed by fd: descriptors are small integers. */
  private readonly watchers: (Watcher | undefined)[] = [];
  /** Times the loop has woken with sockets ready: a count that stands still means a quiet loop. */
  wakes = 0;
  private closed = false;
  /** Whether a batch of events is being dispatched. */
  private dispatching = false;
  /** Descriptors closed during this batch, to close once it is dispatched. */
  private closeAfterBatch: number[] = [];
  /** Date.now() when this batch was taken: one clock reading per wake-up, not one per socket read. */
  private batchTime = 0;
  /** Who asked to hear of this turn's end (atTurnEnd), in the order they asked. */
  private turnEnds: TurnEnd[] = [];

  constructor() {
    this.epfd = check("epoll_create1", epollCreate1(K.EPOLL_CLOEXEC));
    this.poller = new Poller(this.epfd, this.events, (count) => this.dispatch(count));
  }

  add(fd: number, events: number, watcher: Watcher): void {
    check("epoll_ctl", epollCtl(this.epfd, K.EPOLL_CTL_ADD, fd, events));
    this.watchers[fd] = watcher;
  }

  modify(fd: number, events: number): void {
    check("epoll_ctl", epollCtl(this.epfd, K.EPOLL_CTL_MOD, fd, events));
  }

  /** Another watcher takes fd over, watched as it was (a connection hands its socket to its tunnel after a 101). */
  replace(fd: number, watcher: Watcher): void {
    this.watchers[fd] = watcher;
  }

  /** Each watcher, by descriptor (one removed meanwhile is skipped). */
  forEach(fn: (watcher: Watcher) => void): void {
    const watchers = this.watchers;
    for (let fd = 0; fd < watchers.length; fd++) {
      const watcher = watchers[fd];
      if (watcher !== undefined) fn(watcher);
    }
  }

  /** Forgets fd without closing it (the caller keeps it, or closes it once no batch is being dispatched). */
  remove(fd: number): void {
    this.watchers[fd] = undefined;
  }

  /**
   * Stops watching fd and closes it. Its watcher hears nothing more from
   * now on, but during a batch the descriptor stays open until the whole
   * batch is dispatched (uSockets defers its closes to the end of the loop
   * turn the same way): closed at once, its number would be the next that
   * accept4 returns, and an event of this batch still to come for the old
   * connection would reach the new one. Taken out of the epoll set here, not
   * by the close: a descriptor whose socket lives on elsewhere (a listener
   * handed to a successor) would stay in the set.
   */
  closeWatched(fd: number): void {
    epollCtl(this.epfd, K.EPOLL_CTL_DEL, fd, 0);
    this.watchers[fd] = undefined;
    if (this.dispatching) this.closeAfterBatch.push(fd);
    else close(fd);
  }

  /**
   * Calls task.turnEnded() once this turn of the loop is over: after every
   * callback of this batch of events (or of the timer running now). One
   * microtask serves all the tasks of a turn.
   */
  atTurnEnd(task: TurnEnd): void {
    if (this.turnEnds.length === 0) queueMicrotask(() => this.endTurn());
    this.turnEnds.push(task);
  }

  private endTurn(): void {
    const tasks = this.turnEnds;
    this.turnEnds = [];
    for (const task of tasks) task.turnEnded();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeDeferred();
    this.poller.close();
    close(this.epfd);
  }

  /**
   * The time (ms): while a batch is dispatched, the time it was taken (its
   * sockets' bytes all arrived by then, and a deadline timed from it can only
   * come early, by the batch's own length), else the clock's.
   */
  now(): number {
    return this.dispatching ? this.batchTime : Date.now();
  }

  private dispatch(count: number): void {
    const events = this.events;
    this.wakes++;
    this.batchTime = Date.now();
    if (traceEpollWait !== null) traceEpollWait(this.epfd, events, count);
    this.dispatching = true;
    try {
      for (let i = 0; i < count; i++) {
        const watcher = this.watchers[events[2 * i]];
        // None when a watcher earlier in this batch closed this fd: its
        // number is still held (closeWatched), so no new watcher has it.
        if (watcher !== undefined) watcher.ready(events[2 * i + 1]);
      }
    } finally {
      this.dispatching = false;
      this.closeDeferred();
    }
  }

  private closeDeferred(): void {
    if (this.closeAfterBatch.length === 0) return;
    const fds = this.closeAfterBatch;
    this.closeAfterBatch = [];
    for (const fd of fds) close(fd);
  }
}
