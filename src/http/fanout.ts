// The same bytes to many tunnels in one crossing into the shim (a WebSocket
// publish to a topic's subscribers): each tunnel whose output is empty gets
// them from the kernel straight, one send(2) each inside one send_each
// call, instead of a crossing (and a write gathered for the turn's end) per
// tunnel. Only a tunnel whose send was short or refused keeps the rest,
// queued by its ordinary write behind nothing (so it waits for EPOLLOUT and
// is charged as any queued byte is); one whose send failed is closed as a
// failed write closes it. Nothing here runs application code between the
// tunnels joining and the send, so no descriptor can change hands meanwhile.
import { Errno, sendEach } from "../socket/syscalls.js";
import type { Tunnel } from "./tunnel.js";

const EAGAIN = -Errno.EAGAIN;

/** What a member of a send is told when its rest was written the ordinary way: `all` when the kernel took it after all, else it is queued. */
export type RestWritten<O> = (owner: O, all: boolean) => void;

export class Fanout<O extends { readonly tunnel: Tunnel }> {
  /** By the index of each owner in the caller's list: its descriptor, or -1 when it takes its own way. */
  private fds = new Int32Array(64);
  private results = new Int32Array(64);
  /** A send is under way (its rest being written, a failed member closed): a nested publish takes a Fanout of its own. */
  busy = false;

  /** Makes room for a send to the n owners of a list; each then joins (join) or passes (pass), by its index. */
  open(n: number): void {
    if (n > this.fds.length) {
      this.fds = new Int32Array(n);
      this.results = new Int32Array(n);
    }
  }

  /** owners[i] takes part in the send if its tunnel's output is empty; false when it must take its own way. */
  join(i: number, tunnel: Tunnel): boolean {
    const fd = tunnel.directFd();
    this.fds[i] = fd;
    return fd >= 0;
  }

  pass(i: number): void {
    this.fds[i] = -1;
  }

  /**
   * Sends `bytes` to the `joined` members among the first n owners. The rest
   * of a short or refused send is written the ordinary way (`restWritten` is
   * told), a member whose send failed is closed. Returns how many members got
   * the bytes or have them queued (those not closed).
   */
  send(bytes: Uint8Array, n: number, joined: number, owners: readonly O[], restWritten: RestWritten<O>): number {
    if (joined === 0) return 0;
    const { fds, results } = this;
    const whole = sendEach(fds, n, bytes, 0, bytes.length, results);
    if (whole === joined) return joined;
    if (whole < 0) results.fill(0, 0, n); // (the span and count are ours: never; then none was sent)
    this.busy = true;
    let failed: O[] | null = null;
    try {
      for (let i = 0; i < n; i++) {
        const sent = results[i];
        if (sent === bytes.length || fds[i] < 0) continue;
        const owner = owners[i];
        if (sent >= 0 || sent === EAGAIN) restWritten(owner, owner.tunnel.write(bytes.subarray(Math.max(sent, 0))));
        else (failed ??= []).push(owner);
      }
    } finally {
      this.busy = false;
    }
    if (failed === null) return joined;
    for (const owner of failed) owner.tunnel.destroy();
    return joined - failed.length;
  }
}
