// The same bytes to many tunnels in one crossing into the shim, once per
// turn of the loop (a WebSocket publish to a topic's subscribers, as
// uWebSockets' topic tree drains once per loop iteration). A batch opens
// with a publish: every tunnel whose output is empty joins it, and the
// batch's array of frames becomes the bytes each one gathers for the turn's
// end (Outbox.joinShared, which counts them as its waiting bytes), so
// whatever a member sends meanwhile takes them first and leaves the batch;
// later publishes of the turn to the same subscribers only add their frame
// to the array, whatever the number of members. At the turn's end the
// members still in get every frame with one send(2) each, all in one
// send_each call. A member whose send was short, refused or failed gathers
// what it did not take for its own write at the turn's end (Tunnel.writeSoon),
// which queues it for EPOLLOUT, or closes the socket if it fails, the
// ordinary way. So sending a batch runs no application code (a close
// handler that publishes, or sends to a member, runs once every member's
// rest is in place), and nothing runs it between the members leaving the
// batch and the send, so no descriptor can change hands meanwhile.
import { concat } from "simplenet-parser";
import { sendEach } from "../socket/syscalls.js";
import type { Tunnel } from "./tunnel.js";
import type { SharedFrames } from "./outbox.js";

/** Bytes a batch gathers at most before it is sent, within the turn (what it holds is held once, for all its members). */
const MAX_BATCH_BYTES = 64 * 1024;
const NONE: readonly never[] = [];

/** What a member is told when the rest of its send waits for its own write at the turn's end (so its account takes it). */
export type RestGathered<O> = (owner: O) => void;

export class Fanout<O extends { readonly tunnel: Tunnel }> {
  /** The open batch's frames, in order (shared with its members' outboxes), or null. */
  private frames: SharedFrames | null = null;
  /**
   * The one array every batch shares with its members, emptied for the next:
   * nobody holds it once its batch is sent (members take copies), and an old
   * array stored into each member's outbox costs no write barrier's slow path
   * (a new one did: ~24 instructions per member in callgrind).
   */
  private readonly shared = sharedFrames();
  /** The owners the open batch was opened for. */
  private owners: readonly O[] = NONE;
  /** The owners the open batch's frames reach by their own sends: those that did not join (set by the caller) and those that left (add()). */
  others: readonly O[] = NONE;
  /** By owner index: 1 for a member of the open batch (until add() finds it has left). */
  private members = new Uint8Array(64);
  /** frames.left when add() last looked: members have left since when it differs. */
  private seenLeft = 0;
  private fds = new Int32Array(64);
  private results = new Int32Array(64);
  /** The most bytes a batch gathers: MAX_BATCH_BYTES, or less so that no member owes more than its limit (a member's output was empty when it joined). */
  private readonly maxBytes: number;

  constructor(private readonly restGathered: RestGathered<O>, limit: number) {
    this.maxBytes = Math.min(MAX_BATCH_BYTES, limit);
  }

  /** Whether `frame` may join the open batch: opened for the same owners (the same array), and within its size. */
  takes(owners: readonly O[], frame: Uint8Array): boolean {
    return this.frames !== null && this.owners === owners && this.frames.bytes + frame.length <= this.maxBytes;
  }

  /** The open batch's bytes, for the budget's check. */
  get batchBytes(): number {
    return this.frames === null ? 0 : this.frames.bytes;
  }

  /**
   * Adds a frame to the open batch (takes() said it may): every member gets
   * it. Returns the batch's others, with the members that have left it since
   * the last frame (they sent something of their own, or closed): the caller
   * sends them this frame by their own sends.
   */
  add(frame: Uint8Array): readonly O[] {
    const frames = this.frames!;
    if (frames.left !== this.seenLeft) {
      this.seenLeft = frames.left;
      const { owners, members } = this;
      let leavers: O[] | null = null;
      for (let i = 0; i < owners.length; i++) {
        if (members[i] === 1 && !owners[i].tunnel.gathers(frames)) {
          members[i] = 0;
          (leavers ??= []).push(owners[i]);
        }
      }
      // A new array: a caller may be walking the old one when a callback of its sends publishes.
      if (leavers !== null) this.others = [...this.others, ...leavers];
    }
    frames.push(frame);
    frames.bytes += frame.length;
    return this.others;
  }

  /** Opens a batch for `owners` with its first frame (the open one is sent first); each owner then joins it or not (join), and the caller sets `others`. */
  open(owners: readonly O[], frame: Uint8Array): void {
    this.send();
    const frames = this.shared;
    frames.left = 0;
    frames.push(frame);
    frames.bytes = frame.length;
    this.frames = frames;
    this.owners = owners;
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
   * rest of a short, refused or failed send is gathered for that member's
   * own write at the turn's end. Runs no application code.
   */
  send(): void {
    const frames = this.frames;
    if (frames === null) return;
    const owners = this.owners;
    this.frames = null;
    this.owners = NONE;
    this.others = NONE;
    const n = owners.length;
    if (n > this.fds.length) {
      this.fds = new Int32Array(n);
      this.results = new Int32Array(n);
    }
    const { fds, results } = this;
    let joined = 0;
    for (let i = 0; i < n; i++) if ((fds[i] = owners[i].tunnel.leaveShared(frames)) >= 0) joined++;
    const bytes = frames.length === 1 ? frames[0] : concat(frames);
    frames.length = 0; // held by nobody now: the next batch starts empty, and lets the frames go
    frames.bytes = 0;
    if (joined === 0) return;
    const whole = sendEach(fds, n, bytes, 0, bytes.length, results);
    if (whole === joined) return;
    if (whole < 0) results.fill(0, 0, n); // (the span and count are ours: never; then none was sent)
    for (let i = 0; i < n; i++) {
      const sent = results[i];
      if (sent === bytes.length || fds[i] < 0) continue;
      // (bytes stay unchanged: a prepared frame, or a concatenation nobody else holds.)
      owners[i].tunnel.writeSoon(bytes.subarray(Math.max(sent, 0)));
      this.restGathered(owners[i]);
    }
  }
}

function sharedFrames(): SharedFrames {
  const frames = [] as Uint8Array[] as SharedFrames;
  frames.left = 0;
  frames.bytes = 0;
  return frames;
}
