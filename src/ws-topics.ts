// Publish/subscribe over WebSockets: topic names to their subscribers, in
// the order they subscribed.
export class Topics<S extends { readonly topics: Set<string> }> {
  private readonly subscribers = new Map<string, Set<S>>();

  subscribe(socket: S, topic: string): void {
    let set = this.subscribers.get(topic);
    if (set === undefined) this.subscribers.set(topic, (set = new Set()));
    set.add(socket);
    socket.topics.add(topic);
  }

  unsubscribe(socket: S, topic: string): void {
    const set = this.subscribers.get(topic);
    if (set === undefined) return;
    set.delete(socket);
    socket.topics.delete(topic);
    if (set.size === 0) this.subscribers.delete(topic);
  }

  /** Forgets a closed socket everywhere. */
  leaveAll(socket: S): void {
    for (const topic of [...socket.topics]) this.unsubscribe(socket, topic);
  }

  subscribersOf(topic: string): ReadonlySet<S> | undefined {
    return this.subscribers.get(topic);
  }

  subscriberCount(topic: string): number {
    return this.subscribers.get(topic)?.size ?? 0;
  }
}
