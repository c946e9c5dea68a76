// A connection after "101 Switching Protocols": it becomes its tunnel's host
// (tunnel.ts), so an upgraded socket costs no more objects. Its reads go to
// the tunnel; its writes wait behind the responses still in flight, then go
// through the outbox.
import { ConnectionFlow } from "./connection-flow.js";
import { Extras, STOPPED, clockAt } from "./connection-state.js";
import type { Response } from "./response.js";
import { Tunnel, type TunnelHost } from "./tunnel.js";
import { Errno, getpeername, read } from "../socket/syscalls.js";

const EAGAIN = -Errno.EAGAIN;
/** Tunnel reads land this far into the receive region: the bytes before are the tunnel's, to put a carried frame head in front. */
export const TUNNEL_HEADROOM = 16;

export abstract class ConnectionTunnel extends ConnectionFlow implements TunnelHost {
  /** Closes the descriptor now (once), failing whatever is in flight. */
  abstract destroy(): void;
  /** Closes the connection if nothing more is to be read or sent. */
  protected abstract maybeClose(): void;
  /** The client shut its write side. */
  protected abstract onPeerEnd(): void;

  /** The client: who a PROXY header said it is, or the socket's peer (looked up when first asked). */
  get remote(): { address: string; port: number } {
    if (this.peer === null) {
      const peer = this.closed ? -1 : getpeername(this.fd);
      this.peer = typeof peer === "number" ? { address: "", port: 0 } : { address: peer[1], port: peer[2] };
    }
    return this.peer;
  }

  /** After a 101: the bytes go to the tunnel, as a view of the receive region valid during the call. */
  protected onTunnelReadable(tunnel: Tunnel): void {
    const { parser } = this;
    const at = parser.recv + TUNNEL_HEADROOM;
    const n = read(this.fd, parser.bytes, at, parser.recvCapacity - TUNNEL_HEADROOM);
    if (n < 0) {
      if (n !== EAGAIN) this.destroy();
      return;
    }
    if (n === 0) return this.onPeerEnd();
    const now = Date.now();
    this.lastActivity = clockAt(now);
    this.host.pool.readAt = now;
    if (this.lingeringSince !== 0) return;
    parser.beginParse();
    this.batching = true;
    try {
      this.outbox.corked(() => tunnel.emitData(parser.bytes.subarray(at, at + n)));
    } catch (error) {
      this.host.reportError(error);
      this.destroy();
    } finally {
      this.batching = false;
      parser.endParse();
    }
    this.maybeClose();
  }

  /** Runs a tunnel callback; one that throws is reported and closes the connection. */
  protected tunnelCall(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.host.reportError(error);
      this.destroy();
    }
  }

  /** ResponseSink: the upgrade hook's res.upgrade(). */
  switchProtocols(res: Response): Tunnel {
    if (res !== this.upgrading || this.closed) {
      throw new Error("upgrade() is only for a request that asked to switch protocols, in the server's upgrade hook");
    }
    this.upgrading = null;
    this.closeWhenDone = false; // the tunnel decides when the connection ends
    // Its request stream (stopped by takeRest) is done with.
    this.flags |= STOPPED;
    this.stream = null;
    // The handshake's request and response are done with: an idle socket keeps neither.
    this.current = null;
    this.currentResponse = null;
    const tunnel = new Tunnel(this);
    this.tunnel = tunnel;
    const early = this.early;
    this.early = null;
    if (early !== null && early.length > 0) {
      // After the hook has returned and set ondata.
      queueMicrotask(() => this.closed || this.tunnelCall(() => tunnel.emitData(early)));
    }
    return tunnel;
  }

  /** The responses before the 101 have ended: the tunnel's bytes written meanwhile go now. */
  protected sendTunnelBacklog(): void {
    const extras = this.extras;
    if (this.tunnel !== null && this.responses.length === 0 && extras !== null && extras.tunnelBacklog.length > 0) {
      extras.tunnelBacklogBytes = 0;
      this.outbox.send(extras.tunnelBacklog.splice(0));
    }
  }

  /** Everything queued went out: the tunnel may write again. */
  protected tunnelDrained(): void {
    const tunnel = this.tunnel;
    if (tunnel !== null && !this.closeWhenDone) this.tunnelCall(() => tunnel.emitDrain());
  }

  // ---- TunnelHost ------------------------------------------------------------

  tunnelSend(parts: Uint8Array[]): boolean {
    if (this.closed) return false;
    if (this.responses.length > 0) {
      const extras = (this.extras ??= new Extras());
      for (const part of parts) {
        extras.tunnelBacklog.push(part.slice());
        extras.tunnelBacklogBytes += part.length;
      }
      return false;
    }
    return this.outbox.send(parts);
  }

  tunnelSendSoon(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.responses.length > 0) {
      this.tunnelSend([bytes]);
      return;
    }
    this.outbox.sendSoon(bytes);
  }

  get bufferedAmount(): number {
    return (this.busyState === null ? 0 : this.busyState.outbox.queuedBytes) + (this.extras === null ? 0 : this.extras.tunnelBacklogBytes);
  }

  endTunnel(): void {
    this.closeWhenDone = true;
    this.maybeClose();
  }

  corkTunnel(fn: () => void): void {
    this.outbox.corked(fn);
  }

  pauseTunnel(paused: boolean): void {
    if (paused) this.pauseReading();
    else this.resumeReading();
  }

  place(n: number): Uint8Array | null {
    return this.host.cork.place(n);
  }
}
