// The same bytes to many tunnels in one crossing into the shim, once per
// turn of the loop (a WebSocket publish to a topic's subscribers, as
// uWebSockets' topic tree drains once per loop iteration). A batch opens
// with a publish: every tunnel whose output is empty joins it, and the
// batch's array of frames becomes the bytes each one gathers for the turn's
// end (Outbox.joinShared), so whatever a member sends meanwhile takes them
// first and leaves the batch; later publishes of the turn to the same
// subscribers only add their frame to the array, whatever the number of
// members. At the turn's end the members still in get every frame with one
// send(2) each, all in one send_each call. Only a tunnel whose send was short
// or refused keeps the rest, queued by its ordinary write behind nothing (so
// it waits for EPOLLOUT and is charged as any queued byte is); one whose send
// failed is closed as a failed write closes it. Nothing runs application
// code between the members leaving the batch and the send, so no descriptor
// can change hands meanwhile.
import { concat } from "simplenet-parser";
import { Errno, sendEach } from "../socket/syscalls.js";
import type { Tunnel } from "./tunnel.js";
import type { SharedFrames } from "./outbox.js";

const EAGAIN = -Errno.EAGAIN;
/** Bytes a batch gathers at most before it is sent, within the turn (what it holds is held once, for all its members). */
const MAX_BATCH_BYTES = 64 * 1024;

/** What a member is told when its rest was written the ordinary way: `all` when the kernel took it after all, else it is queued. */
export type RestWritten<O> = (owner: O, all: boolean) => void;

export class Fanout<O extends { readonly tunnel: Tunnel }> {
  /** The open batch's frames, in order (shared with its members' outboxes), or null; the owners it was opened for. */
  private frames: SharedFrames | null = null;
  /**
   * The one array every batch shares with its members, emptied for the next:
   * nobody holds it once its batch is sent (members take copies), and an old
   * array stored into each member's outbox costs no write barrier's slow path
   * (a new one did: ~24 instructions per member in callgrind).
   */
  private readonly shared = sharedFrames();
  private owners: readonly O[] = [];
  private bytes = 0;
  /** By owner index: 1 for a member of the open batch (until add() finds it has left). */
  private members = new Uint8Array(64);
  /** frames.left when add() last looked: members have left since when it differs. */
  private seenLeft = 0;
  private fds = new Int32Array(64);
  private results = new Int32Array(64);
  /** A send is under way: one that a callback of it starts (a close, then a publish) takes arrays of its own. */
  private sending = false;

  constructor(private readonly restWritten: RestWritten<O>) {}

  /** Whether `frame` may join the open batch: opened for the same owners (the same array), and within MAX_BATCH_BYTES. */
  takes(owners: readonly O[], frame: Uint8Array): boolean {
    return this.frames !== null && this.owners === owners && this.bytes + frame.length <= MAX_BATCH_BYTES;
  }

  /** The open batch's bytes, for the budget's check. */
  get batchBytes(): number {
    return this.frames === null ? 0 : this.bytes;
  }

  /**
   * Adds a frame to the open batch (takes() said it may): every member gets
   * it. Returns the members that have left the batch since the last frame
   * (they sent something of their own, or closed): the caller sends them this
   * frame, and the batch's later ones, by their own sends.
   */
  add(frame: Uint8Array): O[] | null {
    const frames = this.frames!;
    let leavers: O[] | null = null;
    if (frames.left !== this.seenLeft) {
      this.seenLeft = frames.left;
      const { owners, members } = this;
      for (let i = 0; i < owners.length; i++) {
        if (members[i] === 1 && !owners[i].tunnel.gathers(frames)) {
          members[i] = 0;
          (leavers ??= []).push(owners[i]);
        }
      }
    }
    frames.push(frame);
    this.bytes += frame.length;
    return leavers;
  }

  /** Opens a batch for `owners` with its first frame (the open one is sent first); each owner then joins it or not (join). */
  open(owners: readonly O[], frame: Uint8Array): void {
    if (this.frames !== null) this.send();
    const frames = this.shared;
    frames.length = 0;
    frames.left = 0;
    frames.push(frame);
    this.frames = frames;
    this.owners = owners;
    this.bytes = frame.length;
    this.seenLeft = 0;
    if (owners.length > this.members.length) this.members = new Uint8Array(owners.length);
    else this.members.fill(0, 0, owners.length);
    queueMicrotask(() => this.send()); // the turn's end: after every callback of this batch of events (or this timer)
  }

  /** owners[i] joins the open batch if its tunnel's output is empty; false when it must take its own way. */
  join(i: number, tunnel: Tunnel): boolean {
    if (!tunnel.joinShared(this.frames!)) return false;
    this.members[i] = 1;
    return true;
  }

  /**
   * Sends the open batch (if any) to its members still in: one crossing. The
   * rest of a short or refused send is written the ordinary way, a member
   * whose send failed is closed.
   */
  send(): void {
    const frames = this.frames;
    if (frames === null) return;
    const owners = this.owners;
    this.frames = null;
    this.owners = [];
    const n = owners.length;
    if (this.sending) return this.sendTo(owners, frames, new Int32Array(n), new Int32Array(n));
    if (n > this.fds.length) {
      this.fds = new Int32Array(n);
      this.results = new Int32Array(n);
    }
    this.sending = true;
    try {
      this.sendTo(owners, frames, this.fds, this.results);
    } finally {
      this.sending = false;
    }
  }

  private sendTo(owners: readonly O[], frames: SharedFrames, fds: Int32Array, results: Int32Array): void {
    const n = owners.length;
    let joined = 0;
    for (let i = 0; i < n; i++) if ((fds[i] = owners[i].tunnel.leaveShared(frames)) >= 0) joined++;
    if (joined === 0) return;
    const bytes = frames.length === 1 ? frames[0] : concat(frames);
    const whole = sendEach(fds, n, bytes, 0, bytes.length, results);
    if (whole === joined) return;
    if (whole < 0) results.fill(0, 0, n); // (the span and count are ours: never; then none was sent)
    let failed: O[] | null = null;
    for (let i = 0; i < n; i++) {
      const sent = results[i];
      if (sent === bytes.length || fds[i] < 0) continue;
      const owner = owners[i];
      if (sent >= 0 || sent === EAGAIN) this.restWritten(owner, owner.tunnel.write(bytes.subarray(Math.max(sent, 0))));
      else (failed ??= []).push(owner);
    }
    if (failed !== null) for (const owner of failed) owner.tunnel.destroy();
  }
}

function sharedFrames(): SharedFrames {
  const frames = [] as Uint8Array[] as SharedFrames;
  frames.left = 0;
  return frames;
}
