// What a server process costs during an attack, sampled from /proc every
// 100 ms so that the last figures stand when the process dies of it.
import { readFileSync } from "node:fs";
import { cpuSeconds, memoryKiB } from "../process.ts";

export class Meter {
  /** Highest VmRSS seen, KiB. */
  peakKiB = 0;
  /** VmRSS at the start, KiB. */
  readonly startKiB: number;
  private readonly startCpu: number;
  private lastCpu: number;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly pid: number) {
    this.startKiB = memoryKiB(pid, "VmRSS");
    this.startCpu = this.lastCpu = cpuSeconds(pid);
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    if (!alive(this.pid)) return;
    try {
      this.peakKiB = Math.max(this.peakKiB, memoryKiB(this.pid, "VmRSS"), memoryKiB(this.pid, "VmHWM"));
      this.lastCpu = cpuSeconds(this.pid);
    } catch {
      // gone between the check and the read: the last sample stands
    }
  }

  /** Stops sampling; the server's CPU seconds since the start. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.lastCpu - this.startCpu;
  }
}

/** Whether the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}
