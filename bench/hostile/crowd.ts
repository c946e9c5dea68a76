// The sockets of one attack, by role, and which of them the server closed:
// the attacker, the subscribers, a publisher. A client that never reads
// cannot see its connection end, so settle() lets each read at last, for a
// bounded time, before counting.
import type { Socket } from "node:net";
import { CloseScanner, sleep } from "./wire.ts";

export type Role = "attacker" | "subscriber" | "publisher";

interface Member {
  role: Role;
  socket: Socket;
  closed: boolean;
  /** For a WebSocket: the close code the server sent, once seen. */
  scanner: CloseScanner | null;
}

export interface Closures {
  role: Role;
  /** Sockets the attack meant to open. */
  total: number;
  /** Those the server refused before they were open (connection or handshake). */
  refused: number;
  /** Those open that the server closed. */
  closed: number;
  /** The close codes the closed WebSockets got (1006: no close frame), with how many got each. */
  codes: Map<number, number>;
}

export class Crowd {
  private readonly members: Member[] = [];
  private readonly refusals = new Map<Role, number>();

  /** Follows an open socket (`rest`: the bytes that came with its handshake). A paused socket stays paused. */
  add(role: Role, socket: Socket, websocket: boolean, rest?: Buffer): Socket {
    const member: Member = { role, socket, closed: false, scanner: websocket ? new CloseScanner() : null };
    if (rest !== undefined) member.scanner?.feed(rest);
    socket.on("data", (chunk: Buffer) => member.scanner?.feed(chunk));
    socket.on("error", () => {});
    socket.once("close", () => (member.closed = true));
    this.members.push(member);
    return socket;
  }

  /** Counts a socket of `role` that the server would not open. */
  refused(role: Role): void {
    this.refusals.set(role, (this.refusals.get(role) ?? 0) + 1);
  }

  /** Lets every socket still open read what it was sent, for up to `ms`, then tells who the server closed. */
  async settle(ms: number): Promise<Closures[]> {
    for (const m of this.members) if (!m.closed) m.socket.resume();
    const end = Date.now() + ms;
    while (Date.now() < end && this.members.some((m) => !m.closed)) await sleep(50);
    const roles = [...new Set<Role>([...this.members.map((m) => m.role), ...this.refusals.keys()])];
    return roles.map((role) => {
      const mine = this.members.filter((m) => m.role === role);
      const codes = new Map<number, number>();
      for (const m of mine) {
        if (!m.closed || m.scanner === null) continue;
        // 1006: what a WebSocket client reports when the connection ended without a close frame (RFC 6455 7.1.5).
        const code = m.scanner.code ?? 1006;
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      const refused = this.refusals.get(role) ?? 0;
      return { role, total: mine.length + refused, refused, closed: mine.filter((m) => m.closed).length, codes };
    });
  }

  destroy(): void {
    for (const m of this.members) m.socket.destroy();
  }
}
