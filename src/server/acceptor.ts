// A server's listening socket: opened (or handed in) and watched, accepted
// from a batch at a time, paused while the process is out of descriptors,
// stopped at a handover and closed by close().
import { closeListener, openListener, type ListenOptions, type Listening } from "../socket/listener.js";
import type { EventLoop, Watcher } from "../socket/loop.js";
import { Errno, K, SyscallError, accept4 } from "../socket/syscalls.js";

const ACCEPT_BATCH = 64;
const ACCEPT_RETRY_MS = 100;

export class Acceptor implements Watcher {
  private listening: Listening | null = null;
  private acceptRetry: ReturnType<typeof setTimeout> | null = null;
  private exhaustionReported = false;

  /** `accepted` takes each new socket; `onError` hears that descriptors ran out. */
  constructor(
    private readonly loop: EventLoop,
    private readonly accepted: (fd: number) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Opens the listening socket (or takes the one handed in, which stays the caller's if this throws) and watches it. */
  listen(options: ListenOptions, inherited?: Listening): Listening {
    const listening = inherited ?? openListener(options);
    try {
      this.loop.add(listening.fd, K.EPOLLIN, this);
    } catch (error) {
      if (inherited === undefined) closeListener(listening);
      throw error;
    }
    this.listening = listening;
    return listening;
  }

  ready(): void {
    this.acceptBatch(ACCEPT_BATCH);
  }

  /** Accepts up to a batch per wake-up, so a flood of connections cannot starve the ones already open. */
  private acceptBatch(limit: number): void {
    for (let i = 0; i < limit && this.listening !== null; i++) {
      const fd = accept4(this.listening.fd, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
      if (fd < 0) {
        if (fd === -Errno.EMFILE || fd === -Errno.ENFILE) this.pauseAccepting(new SyscallError("accept4", -fd));
        else if (fd === -Errno.ECONNABORTED || fd === -Errno.EPROTO) continue;
        return;
      }
      this.exhaustionReported = false;
      this.accepted(fd);
    }
  }

  /**
   * Out of descriptors: the pending connection stays in the backlog and the
   * listener would be readable forever, so stop watching it for a while
   * rather than spin. Reported once until an accept succeeds again.
   */
  private pauseAccepting(error: SyscallError): void {
    if (this.acceptRetry !== null || this.listening === null) return;
    if (!this.exhaustionReported) {
      this.exhaustionReported = true;
      this.onError(new Error(`${error.message}: out of file descriptors; pausing accept until some are free`));
    }
    this.loop.modify(this.listening.fd, 0);
    this.acceptRetry = setTimeout(() => {
      this.acceptRetry = null;
      if (this.listening !== null) this.loop.modify(this.listening.fd, K.EPOLLIN);
    }, ACCEPT_RETRY_MS);
  }

  /** The listening socket lives on in a successor: close() closes only this descriptor (a Unix socket's file stays). */
  share(): void {
    if (this.listening !== null) this.listening.inherited = true;
  }

  /** Stops accepting but leaves the listener open (a successor accepts on it). */
  stop(): void {
    if (this.listening !== null) this.loop.modify(this.listening.fd, 0);
  }

  /** Takes in the connections already in the backlog (a close would reset them), then closes the listener. */
  close(): void {
    if (this.acceptRetry !== null) clearTimeout(this.acceptRetry);
    if (this.listening === null) return;
    this.acceptBatch(Infinity);
    closeListener(this.listening, this.loop);
    this.listening = null;
  }
}
