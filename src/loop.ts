// One epoll descriptor watched by one uv_poll_t: every socket of a server is
// registered here, and a single callback dispatches the ready ones.
import { K, Poller, type PollerHandle, check, close, epollCreate1, epollCtl, traceEpollWait } from "./syscalls.js";

export interface Watcher {
  /** Called with the epoll event bits for this watcher's fd. */
  ready(events: number): void;
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

  /** Each watcher, by descriptor (one removed meanwhile is skipped). */
  forEach(fn: (watcher: Watcher) => void): void {
    const watchers = this.watchers;
    for (let fd = 0; fd < watchers.length; fd++) {
      const watcher = watchers[fd];
      if (watcher !== undefined) fn(watcher);
    }
  }

  /** Forgets fd; the caller closes it (closing also removes it from the epoll set). */
  remove(fd: number): void {
    this.watchers[fd] = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    close(this.epfd);
  }

  private dispatch(count: number): void {
    const events = this.events;
    this.wakes++;
    if (traceEpollWait !== null) traceEpollWait(this.epfd, events, count);
    for (let i = 0; i < count; i++) {
      const watcher = this.watchers[events[2 * i]];
      // A watcher earlier in this batch may have closed this fd.
      if (watcher !== undefined) watcher.ready(events[2 * i + 1]);
    }
  }
}
