// The clock of the WebSocket timers (idle timeout, close handshake, a
// message's start) is the connections' (http/connection-state.ts): ms as a
// 32-bit integer, never 0, which V8 keeps in the object itself; the tunnel
// hands each read the loop's time, read once per wake-up. It wraps every 49.7
// days, so spans are taken with elapsed(), right for any span under 24.8 days.
import { clock, since } from "../http/connection-state.js";

/** Now, never 0 (0 marks "none" in the fields that hold a time). */
export const clockNow = clock;

/** Ms from `from` to `now`, both from clockNow(). */
export function elapsed(from: number, now: number): number {
  return since(now, from);
}

/** A time from clockNow() as Date.now() would have said it (within the last 24.8 days). */
export function toDateNow(time: number): number {
  return Date.now() - elapsed(time, clockNow());
}
