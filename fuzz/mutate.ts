// Input generation: a seeded PRNG (runs repeat exactly for a given seed) and
// the mutations: byte flips and sets, inserts, deletes, copies, splices
// between corpus entries, and tokens from an HTTP dictionary.
import { concat } from "../parser/src/parser.ts";

/** xorshift32: small, fast and good enough to pick mutations. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = (seed >>> 0) || 0x9e3779b9;
  }
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.state = x >>> 0);
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

export const HTTP_DICTIONARY: readonly Uint8Array[] = [
  "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE", "M-SEARCH", "PRI", "QUERY",
  "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/", " / ", "/", "*", "http://", "a.example:443", "[::1]", ":80", "?", "#", "%",
  "Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect", "Upgrade", "Trailer", "X",
  "chunked", "gzip", "identity", "close", "keep-alive", "upgrade", "100-continue", "websocket",
  "\r\n", "\r\n\r\n", "\r", "\n", ": ", ":", " ", "\t", ",", ";", "=", "\"", "\\", "\x00", "\x7f", "\xff",
  "0", "1", "9", "00", "10", "ff", "FFFFFFFFFFFFFFFF", "9007199254740991", "99999999999999999999", "-1", "+1",
  "0\r\n\r\n", "5\r\nhello\r\n", ";a=b", ";a=\"b c\"",
].map(ascii);

const INTERESTING_BYTES = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x2f, 0x30, 0x39, 0x3a, 0x3b, 0x3d, 0x41, 0x46, 0x5c, 0x61, 0x66, 0x7f, 0x80, 0xff];

/** One mutation of `input`; `other` is a second corpus entry for splices. */
function mutateOnce(input: Uint8Array, other: Uint8Array, random: Random, dictionary: readonly Uint8Array[]): Uint8Array {
  const n = input.length;
  const at = random.below(n + 1);
  switch (random.below(dictionary.length > 0 ? 10 : 8)) {
    case 0: { // flip a bit
      if (n === 0) return input;
      const out = input.slice();
      out[random.below(n)] ^= 1 << random.below(8);
      return out;
    }
    case 1: { // set a byte to anything
      if (n === 0) return input;
      const out = input.slice();
      out[random.below(n)] = random.below(256);
      return out;
    }
    case 2: { // set a byte to one that parsers care about
      if (n === 0) return input;
      const out = input.slice();
      out[random.below(n)] = random.pick(INTERESTING_BYTES);
      return out;
    }
    case 3: { // insert a few bytes
      const bytes = Uint8Array.from({ length: 1 + random.below(4) }, () => random.below(2) ? random.pick(INTERESTING_BYTES) : random.below(256));
      return concat([input.subarray(0, at), bytes, input.subarray(at)]);
    }
    case 4: { // delete a range
      const end = Math.min(n, at + 1 + random.below(16));
      return concat([input.subarray(0, at), input.subarray(end)]);
    }
    case 5: { // copy a range of the input elsewhere in it
      if (n === 0) return input;
      const from = random.below(n);
      const piece = input.subarray(from, from + 1 + random.below(32));
      return concat([input.subarray(0, at), piece, input.subarray(at)]);
    }
    case 6: { // splice: the head of this input, the tail of another
      return concat([input.subarray(0, at), other.subarray(random.below(other.length + 1))]);
    }
    case 7: { // insert a range of another entry
      const from = random.below(other.length + 1);
      return concat([input.subarray(0, at), other.subarray(from, from + 1 + random.below(64)), input.subarray(at)]);
    }
    case 8: { // insert a dictionary token
      return concat([input.subarray(0, at), random.pick(dictionary), input.subarray(at)]);
    }
    default: { // overwrite with a dictionary token
      const token = random.pick(dictionary);
      return concat([input.subarray(0, at), token, input.subarray(Math.min(n, at + token.length))]);
    }
  }
}

/** A stack of 1, 2, 4 or 8 mutations, cut to `maxLength`. */
export function mutate(
  input: Uint8Array, other: Uint8Array, random: Random, dictionary: readonly Uint8Array[], maxLength: number,
): Uint8Array {
  let out = input;
  for (let k = 1 << random.below(4); k > 0; k--) out = mutateOnce(out, other, random, dictionary);
  return out.length > maxLength ? out.slice(0, maxLength) : out;
}
