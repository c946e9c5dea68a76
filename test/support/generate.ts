// What the differential tests (test/differential.test.ts for requests,
// test/response-differential.test.ts for responses) generate inputs with: a
// seeded picker, field lines, the mutations, and the cut that feeds an input
// in two pieces.

/** Picks from a seeded sequence of numbers in [0, 1) (test/support/random.ts). */
export class Gen {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  text(n: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 -_.\r\n\0\xff"): string {
    let s = "";
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

/** Up to three field lines from `fields`, with assorted whitespace around the value, onto `lines`. */
export function pushFieldLines(g: Gen, fields: readonly (readonly [string, string])[], lines: string[]): void {
  for (let n = g.int(4); n > 0; n--) {
    const [name, value] = g.pick(fields);
    lines.push(`${name}:${g.pick(["", " ", "  ", "\t"])}${value}${g.pick(["", "", " "])}`);
  }
}

const INSERTS = ["\r", "\n", " ", "\0", ":", "0", "9", "\t", "\r\n", "a", "\x7f", ";", "\""];

/** One mutation of a message: a byte flipped, inserted or deleted, a header line doubled, a byte from the edges of the classes. */
export function mutate(g: Gen, s: string): string {
  const at = g.int(s.length + 1);
  switch (g.int(5)) {
    case 0: // flip a byte
      return s.slice(0, at) + String.fromCharCode(g.int(256)) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + g.pick(INSERTS) + s.slice(at);
    case 2:
      return s.slice(0, at) + s.slice(at + 1 + g.int(3));
    case 3: { // duplicate a header line
      const lines = s.split("\r\n");
      const head = lines.indexOf("");
      if (head < 2) return s;
      const k = 1 + g.int(head - 1);
      lines.splice(k, 0, lines[k]);
      return lines.join("\r\n");
    }
    default: // a byte from the edges of the classes
      return s.slice(0, at) + g.pick(["\x01", "\x1f", "\x80", "(", "@", "[", "{", "/", "?", "#", "%", "\\"]) + s.slice(at + 1);
  }
}

/** One byte per character. */
export const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** `data` in two non-empty pieces (for two bytes or more), cut where `pick` says: the cut and the pieces. */
export function cutInTwo(data: Uint8Array, pick: () => number): [number, Uint8Array[]] {
  const cut = 1 + Math.floor(pick() * (data.length - 1));
  return [cut, [data.subarray(0, cut), data.subarray(cut)]];
}
