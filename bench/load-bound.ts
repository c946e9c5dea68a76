// A run whose load generator kept its own core busy past LOAD_BOUND measured
// the generator, not the server: its rate is marked so where it is shown, and
// servers are compared by the server core's time per request instead. Shared
// by bench:http (wrk) and bench:ws (ws-client.c).

/** The load generator's core busy past this share of the run: the rate is the generator's. */
export const LOAD_BOUND = 0.9;

export function loadBound(generatorBusy: number | undefined): boolean {
  return generatorBusy !== undefined && generatorBusy > LOAD_BOUND;
}

/** " (wrk's core 97% busy)" beside a rate the generator set, "" beside one the server set. */
export function boundMark(generator: string, generatorBusy: number | undefined): string {
  return loadBound(generatorBusy) ? ` (${generator}'s core ${Math.round(generatorBusy! * 100)}% busy)` : "";
}

/** The note under a table with marked rates. */
export function boundNote(generator: string, perRequest: string): string {
  return `A rate marked "(${generator}'s core N% busy)" was set by the load generator, whose core was busy past ${LOAD_BOUND * 100}% of the run: its ratio column compares ${perRequest} instead (marked "µs"), the number that still tells the servers apart.`;
}
