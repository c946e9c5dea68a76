// The coverage-guided loop. Each execution leaves hit counts in the module's
// counter region; an input whose counts reach a probe, or a probe's count
// bucket, never seen before joins the corpus (AFL's rule). With `guided` off
// the corpus never grows: a blind mutational fuzzer, the baseline.
import { mutate, type Random } from "./mutate.ts";

export interface FuzzerOptions {
  /** The module's counter bytes, one per probe; zeroed after each execution. */
  counters: Uint8Array;
  /** Runs one input: a description of the oracle it broke, or null. */
  execute(input: Uint8Array): string | null;
  random: Random;
  dictionary: readonly Uint8Array[];
  maxLength: number;
  guided: boolean;
}

export interface Finding {
  input: Uint8Array;
  violation: string;
}

export class Fuzzer {
  readonly corpus: Uint8Array[] = [];
  readonly findings: Finding[] = [];
  execs = 0;
  /** Probes hit at least once. */
  edges = 0;
  /** Per probe, the count buckets seen so far (one bit each). */
  private readonly seen: Uint8Array;

  constructor(private readonly options: FuzzerOptions) {
    this.seen = new Uint8Array(options.counters.length);
  }

  /**
   * Runs the seeds, smallest first, keeping those that add coverage (all of
   * them when blind): the corpus starts minimised.
   */
  seed(seeds: readonly Uint8Array[]): void {
    const bySize = [...seeds].sort((a, b) => a.length - b.length);
    for (const input of bySize) {
      const novel = this.run(input);
      if (novel || !this.options.guided) this.corpus.push(input);
    }
    if (this.corpus.length === 0) this.corpus.push(new Uint8Array(0));
  }

  /** Mutates a corpus entry and runs it. */
  step(): void {
    const { random, dictionary, maxLength } = this.options;
    const input = mutate(random.pick(this.corpus), random.pick(this.corpus), random, dictionary, maxLength);
    if (this.run(input) && this.options.guided) this.corpus.push(input);
  }

  /** Runs one input; whether it reached new coverage. */
  run(input: Uint8Array): boolean {
    const { counters, execute } = this.options;
    this.execs++;
    let violation: string | null;
    try {
      violation = execute(input);
    } catch (error) {
      violation = `crash: ${(error as Error).stack ?? error}`;
    }
    if (violation !== null) this.findings.push({ input, violation });
    let novel = false;
    for (let k = 0; k < counters.length; k++) {
      const count = counters[k];
      if (count === 0) continue;
      const bit = bucket(count);
      const seen = this.seen[k];
      if ((seen & bit) === 0) {
        if (seen === 0) this.edges++;
        this.seen[k] = seen | bit;
        novel = true;
      }
    }
    counters.fill(0);
    return novel;
  }
}

/** Hit counts 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+ (counters wrap at 256). */
function bucket(count: number): number {
  if (count <= 3) return 1 << (count - 1);
  if (count <= 7) return 8;
  if (count <= 15) return 16;
  if (count <= 31) return 32;
  if (count <= 127) return 64;
  return 128;
}
