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
  private fds = new Int32Array(64);
  private results = new Int32Array(64);
  /** Where each member of the next send is in the caller's list of owners (no object kept here: nothing to let go of). */
  private at = new Int32Array(64);
  private count = 0;
  /** A send is under way (its rest being written, a failed member closed): a nested publish takes a Fanout of its own. */
  busy = false;

  /** Adds `owner`, owners[index] of the list send() is given, to the next send if its tunnel's output is empty; false when it must take the ordinary write. */
  add(owner: O, index: number): boolean {
    const fd = owner.tunnel.directFd();
    if (fd < 0) return false;
    const i = this.count;
    if (i === this.fds.length) this.grow();
    this.fds[i] = fd;
    this.at[i] = index;
    this.count = i + 1;
    return true;
  }

  /**
   * Sends `bytes` to every member and forgets them. The rest of a short or
   * refused send is written the ordinary way (`restWritten` is told), a
   * member whose send failed is closed. Returns how many members got it or
   * have it queued (those not closed).
   */
  send(bytes: Uint8Array, owners: readonly O[], restWritten: RestWritten<O>): number {
    const count = this.count;
    this.count = 0;
    if (count === 0) return 0;
    const { at, results } = this;
    const whole = sendEach(this.fds, count, bytes, 0, bytes.length, results);
    if (whole === count) return count;
    if (whole < 0) results.fill(0, 0, count); // (the span and count are ours: never; then none was sent)
    this.busy = true;
    let failed: O[] | null = null;
    try {
      for (let i = 0; i < count; i++) {
        const n = results[i];
        if (n === bytes.length) continue;
        const owner = owners[at[i]];
        if (n >= 0 || n === EAGAIN) restWritten(owner, owner.tunnel.write(bytes.subarray(Math.max(n, 0))));
        else (failed ??= []).push(owner);
      }
    } finally {
      this.busy = false;
    }
    if (failed === null) return count;
    for (const owner of failed) owner.tunnel.destroy();
    return count - failed.length;
  }

  private grow(): void {
    const fds = new Int32Array(this.fds.length * 2);
    fds.set(this.fds);
    this.fds = fds;
    this.results = new Int32Array(fds.length);
    const at = new Int32Array(fds.length);
    at.set(this.at);
    this.at = at;
  }
}
