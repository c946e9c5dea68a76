// Publish/subscribe over WebSockets: topic names to their subscribers, in
// the order they subscribed.

/** One topic's subscribers; `list`, the same as an array to publish to, made when first asked for after a change. */
class Topic<S> {
  readonly sockets = new Set<S>();
  list: readonly S[] | null = null;
}

/** `topics`: the socket's own topics, made at its first subscription (an idle socket has none). */
export class Topics<S extends { topics: Set<string> | null }> {
  private readonly byName = new Map<string, Topic<S>>();

  subscribe(socket: S, topic: string): void {
    let entry = this.byName.get(topic);
    if (entry === undefined) this.byName.set(topic, (entry = new Topic()));
    const { sockets } = entry;
    const before = sockets.size;
    sockets.add(socket);
    if (sockets.size !== before) entry.list = null;
    (socket.topics ??= new Set()).add(topic);
  }

  unsubscribe(socket: S, topic: string): void {
    const entry = this.byName.get(topic);
    if (entry === undefined) return;
    if (entry.sockets.delete(socket)) entry.list = null;
    socket.topics?.delete(topic);
    if (entry.sockets.size === 0) this.byName.delete(topic);
  }

  /** Forgets a closed socket everywhere. */
  leaveAll(socket: S): void {
    if (socket.topics === null) return;
    for (const topic of [...socket.topics]) this.unsubscribe(socket, topic);
    socket.topics = null;
  }

  /**
   * The subscribers of `topic` in subscription order, as an array that no
   * later change alters (a publish walks it while a close it causes may
   * unsubscribe): a walk of packed elements, not of a Set.
   */
  subscribersOf(topic: string): readonly S[] | undefined {
    const entry = this.byName.get(topic);
    if (entry === undefined) return undefined;
    return (entry.list ??= [...entry.sockets]);
  }

  subscriberCount(topic: string): number {
    return this.byName.get(topic)?.sockets.size ?? 0;
  }
}
