// Publish/subscribe over WebSockets: topic names to their subscribers, in
// the order they subscribed.
/** `topics`: the socket's own topics, made at its first subscription (an idle socket has none). */
export class Topics<S extends { topics: Set<string> | null }> {
  private readonly subscribers = new Map<string, Set<S>>();

  subscribe(socket: S, topic: string): void {
    let set = this.subscribers.get(topic);
    if (set === undefined) this.subscribers.set(topic, (set = new Set()));
    set.add(socket);
    (socket.topics ??= new Set()).add(topic);
  }

  unsubscribe(socket: S, topic: string): void {
    const set = this.subscribers.get(topic);
    if (set === undefined) return;
    set.delete(socket);
    socket.topics?.delete(topic);
    if (set.size === 0) this.subscribers.delete(topic);
  }

  /** Forgets a closed socket everywhere. */
  leaveAll(socket: S): void {
    if (socket.topics === null) return;
    for (const topic of [...socket.topics]) this.unsubscribe(socket, topic);
    socket.topics = null;
  }

  subscribersOf(topic: string): ReadonlySet<S> | undefined {
    return this.subscribers.get(topic);
  }

  subscriberCount(topic: string): number {
    return this.subscribers.get(topic)?.size ?? 0;
  }
}
