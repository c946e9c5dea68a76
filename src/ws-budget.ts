// The memory budget of WebSockets (those of the process by default, or of one
// server that sets memoryBudget): message assembly, compression in flight and
// queued output all count against one limit.
// Nobody else offers one (ws issue #2331 asks for it); the rule when it is
// reached: a new incoming message closes its socket with 1013 (try again
// later), and a send is dropped (send() returns 0). Nothing crashes.
export class MemoryBudget {
  used = 0;

  constructor(readonly limit: number) {}

  /** Whether n more bytes fit. */
  allows(n: number): boolean {
    return this.used + n <= this.limit;
  }

  /** Counts n bytes if they fit; false if not. */
  reserve(n: number): boolean {
    if (!this.allows(n)) return false;
    this.used += n;
    return true;
  }

  /** Counts n bytes (negative to give back) whether or not they fit: bytes already held. */
  take(n: number): void {
    this.used += n;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}
