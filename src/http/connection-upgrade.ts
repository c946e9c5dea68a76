// A connection's side of "101 Switching Protocols": the switch makes the
// tunnel's own watcher (tunnel-connection.ts), and once the 101 and every
// response before it have ended the connection hands it the socket and its
// outbox and is done with, its descriptor left open. Until then the peer's
// bytes wait in the kernel. Also who the peer is, which requests ask (the
// tunnel asks its own watcher).
import { ConnectionFlow } from "./connection-flow.js";
import { INTEREST, STOPPED } from "./connection-state.js";
import type { Response } from "./response.js";
import type { Tunnel } from "./tunnel.js";
import { TunnelConnection } from "./tunnel-connection.js";
import { peerOf } from "./served.js";

export abstract class ConnectionUpgrade extends ConnectionFlow {
  /** Closes the descriptor now (once), failing whatever is in flight. */
  abstract destroy(): void;

  /** The client: who a PROXY header said it is, or the socket's peer (looked up when first asked). */
  get remote(): { address: string; port: number } {
    if (this.peer !== null) return this.peer;
    const upgraded = this.upgraded;
    if (upgraded !== null) return upgraded.remote; // its socket now
    return (this.peer = peerOf(this.closed ? -1 : this.fd));
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
    // The handshake's request and response are done with.
    this.current = null;
    this.currentResponse = null;
    const early = this.early;
    this.early = null;
    const upgraded = new TunnelConnection(this.host, this.fd, this.peer, early, this);
    this.upgraded = upgraded;
    return upgraded.tunnel;
  }

  /** Whether the socket waits for its 101 to leave before it goes to the tunnel's watcher. */
  protected get upgradePending(): boolean {
    return this.upgraded !== null && !this.closed;
  }

  /** The responses up to the 101 have ended: the tunnel's watcher takes the socket, and this connection is done with. */
  protected handOverWhenSent(): void {
    const upgraded = this.upgraded;
    if (upgraded === null || this.closed || this.inFlight > 0) return;
    this.closed = true; // its descriptor is the tunnel's now: nothing here writes, reads or closes it again
    upgraded.takeOver(this.outbox, this.flags & INTEREST);
  }
}
