// Header or trailer fields as spans over the text of their section (one
// character per byte). A field's name or value becomes a string of its own
// only when a caller asks for it.
import { SPAN } from "./abi.js";

/** One character per byte: what RFC 9110 §5.5 field values are. */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 1024) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  let text = "";
  for (let i = start; i < end; i += 1024) text += latin1(bytes, i, Math.min(end, i + 1024));
  return text;
}

export class Fields implements Iterable<[string, string]> {
  /** text: the section the spans point into; spans: [nameOff, nameLen, valueOff, valueLen] per field. */
  constructor(readonly text: string, readonly spans: readonly number[], readonly length: number) {}

  name(index: number): string {
    const s = index * SPAN.SLOTS;
    return this.text.slice(this.spans[s + SPAN.NAME_OFF], this.spans[s + SPAN.NAME_OFF] + this.spans[s + SPAN.NAME_LEN]);
  }

  value(index: number): string {
    const s = index * SPAN.SLOTS;
    return this.text.slice(this.spans[s + SPAN.VALUE_OFF], this.spans[s + SPAN.VALUE_OFF] + this.spans[s + SPAN.VALUE_LEN]);
  }

  /** Index of the first field named `name` (ASCII case-insensitive) at or after `from`, or -1. */
  indexOf(name: string, from = 0): number {
    // Both sides folded byte by byte: no lowercase copy of `name` per lookup.
    const n = name.length;
    const { text, spans } = this;
    outer: for (let i = from; i < this.length; i++) {
      const s = i * SPAN.SLOTS;
      if (spans[s + SPAN.NAME_LEN] !== n) continue;
      const at = spans[s + SPAN.NAME_OFF];
      for (let k = 0; k < n; k++) {
        let b = text.charCodeAt(at + k);
        if (b >= 0x41 && b <= 0x5a) b |= 0x20;
        let c = name.charCodeAt(k);
        if (c >= 0x41 && c <= 0x5a) c |= 0x20;
        if (b !== c) continue outer;
      }
      return i;
    }
    return -1;
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  /** The value of `name`; repeated fields are joined with ", " (RFC 9110 §5.3). */
  get(name: string): string | null {
    let i = this.indexOf(name);
    if (i < 0) return null;
    let value = this.value(i);
    while ((i = this.indexOf(name, i + 1)) >= 0) value += ", " + this.value(i);
    return value;
  }

  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (let i = 0; i < this.length; i++) yield [this.name(i), this.value(i)];
  }

  toArray(): [string, string][] {
    return [...this];
  }
}
