// The clock of the WebSocket timers (idle timeout, close handshake, a
// message's start): ms since this module loaded, as a 32-bit integer, which
// V8 keeps in the object itself (a Date.now() stored in a field can take a
// 16-byte number box per socket). It wraps every 49.7 days, so spans are
// taken with elapsed(), right for any span under 24.8 days.

const ORIGIN = Date.now();

/** Now, never 0 (0 marks "none" in the fields that hold a time). */
export function clockNow(): number {
  return ((Date.now() - ORIGIN) | 0) || 1;
}

/** Ms from `since` to `now`, both from clockNow(). */
export function elapsed(since: number, now: number): number {
  return (now - since) | 0;
}

/** A time from clockNow() as Date.now() would have said it (within the last 24.8 days). */
export function toDateNow(time: number): number {
  return Date.now() - elapsed(time, clockNow());
}
