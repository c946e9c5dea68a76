// Gives the C heap's free pages back to the kernel once the loop falls quiet
// after a busy spell. A burst of work leaves megabytes that V8's optimizing
// compiler and Node have freed inside glibc's heap (4 MiB after 10,000
// connections open, more than the connections themselves hold), and glibc
// returns only a free top of its heap by itself. Never while events flow:
// a check finds the loop quiet only when it woke not once in a whole period.
import type { EventLoop } from "./loop.js";
import { mallocTrim } from "./syscalls.js";

const CHECK_MS = 250;

export class QuietTrim {
  private seen: number;
  private busy = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly loop: EventLoop) {
    this.seen = loop.wakes;
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const wakes = this.loop.wakes;
    if (wakes !== this.seen) {
      this.seen = wakes;
      this.busy = true;
    } else if (this.busy) {
      this.busy = false;
      mallocTrim();
    }
  }
}
