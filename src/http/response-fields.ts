// A response's status and fields, as a handler sets them before the head
// is sent (node:http's setHeader, getHeader, writeHead...): each checked as
// it is given, so a field that cannot be sent throws where it was set.

export type HeaderValue = string | number | readonly string[];

/** The fields of a response that has none yet: shared by all of them, never written to (addField replaces it). */
const NO_FIELDS: [string, string][] = [];

/** Whether two field names are the same, ASCII case aside (no lowercase copies made: this runs for every lookup). */
export function sameName(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y && ((x | 0x20) !== (y | 0x20) || (x | 0x20) < 0x61 || (x | 0x20) > 0x7a)) return false;
  }
  return true;
}

/** The status and fields of a response (response.ts sends them). */
export class ResponseFields {
  status = 200;
  /** Reason phrase; empty means the standard one for the status. */
  statusMessage = "";
  protected headers: [string, string][] = NO_FIELDS;

  /** node:http's name for status. */
  get statusCode(): number {
    return this.status;
  }
  set statusCode(status: number) {
    this.status = status;
  }

  /** Replaces the field's values. Throws a TypeError naming the field when its name or a value cannot be sent. */
  setHeader(name: string, value: HeaderValue): this {
    if (typeof value === "string") {
      // The common case, without the list: one checked string.
      checkField(name, value);
      if (this.headers.length > 0) this.removeHeader(name);
      this.addField(name, value);
      return this;
    }
    const values = fieldValues(name, value);
    if (this.headers.length > 0) this.removeHeader(name);
    for (const v of values) this.addField(name, v);
    return this;
  }

  /** Adds values to the field. Throws a TypeError naming the field when its name or a value cannot be sent. */
  appendHeader(name: string, value: HeaderValue): this {
    for (const v of fieldValues(name, value)) this.addField(name, v);
    return this;
  }

  /** The first field makes the response's own list, one long: a push onto an empty array would make room for 17. */
  private addField(name: string, value: string): void {
    if (this.headers === NO_FIELDS) this.headers = [[name, value]];
    else this.headers.push([name, value]);
  }

  getHeader(name: string): string | undefined {
    let value: string | undefined;
    for (const [n, v] of this.headers) if (sameName(n, name)) value = value === undefined ? v : value + ", " + v;
    return value;
  }

  hasHeader(name: string): boolean {
    for (const field of this.headers) if (sameName(field[0], name)) return true;
    return false;
  }

  removeHeader(name: string): this {
    if (this.hasHeader(name)) this.headers = this.headers.filter(([n]) => !sameName(n, name));
    return this;
  }

  getHeaders(): [string, string][] {
    return this.headers.slice();
  }

  /**
   * Sets status, reason and headers in one call, as node:http does:
   * writeHead(status, [reason], [headers]), the headers as an object, an
   * array of [name, value] pairs, or node:http's flat array (name, value,
   * name, value). They take precedence over the fields set before: each name
   * given replaces that field, and one given twice (an object's keys may
   * differ in case) is sent with each value, as node:http sends them.
   */
  writeHead(status: number, reason?: string | OutgoingFields | FlatFields, headers?: OutgoingFields | FlatFields): this {
    if (typeof reason !== "string") [headers, reason] = [reason, undefined];
    this.status = status;
    if (reason !== undefined) this.statusMessage = checkedReason(reason);
    if (headers === undefined) return this;
    const given: string[] = [];
    for (const [name, value] of Array.isArray(headers) ? listedFields(headers) : Object.entries(headers)) {
      if (given.some((n) => sameName(n, name))) {
        this.appendHeader(name, value);
      } else {
        this.setHeader(name, value);
        given.push(name);
      }
    }
    return this;
  }

  /** Forgets status and headers, to answer with an error instead (only before the head is sent). */
  reset(status: number): void {
    this.status = status;
    this.statusMessage = "";
    this.headers = NO_FIELDS;
  }
}

/** Header values as node:http takes them: a string, a number or a list. */
export type OutgoingFields = Record<string, HeaderValue> | readonly (readonly [string, HeaderValue])[];
/** node:http's flat form of writeHead's fields: name, value, name, value. */
export type FlatFields = readonly HeaderValue[];

/** writeHead's array as [name, value] pairs: pairs when its first item is an array, else flat, as node:http reads it. */
function listedFields(list: readonly unknown[]): (readonly [string, HeaderValue])[] {
  if (list.length > 0 && Array.isArray(list[0])) return list as (readonly [string, HeaderValue])[];
  if (list.length % 2 !== 0) throw invalidFieldList(list);
  const pairs: (readonly [string, HeaderValue])[] = [];
  for (let i = 0; i < list.length; i += 2) pairs.push([list[i] as string, list[i + 1] as HeaderValue]);
  return pairs;
}

/** The TypeError node:http throws for a flat field list with a name left without its value. */
function invalidFieldList(list: readonly unknown[]): TypeError {
  const error = new TypeError(`The argument 'headers' is invalid: a flat list of ${list.length} items leaves a name without its value`) as TypeError & { code: string };
  error.code = "ERR_INVALID_ARG_VALUE";
  return error;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field-value characters (RFC 9110 §5.5): visible ASCII, obs-text, SP and HTAB, one byte each. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The last name and value found valid: a handler sets the same ones on every response. */
let validName: string | null = null;
let validValue: string | null = null;

/** Throws a TypeError naming the field when its name or value cannot be sent. */
function checkField(name: string, value: string): void {
  if (name !== validName) {
    if (typeof name !== "string" || !TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
    validName = name;
  }
  if (value !== validValue) {
    if (!FIELD_VALUE.test(value)) throw new TypeError(`Invalid value for header ${JSON.stringify(name)}: ${JSON.stringify(value)}`);
    validValue = value;
  }
}

function fieldValues(name: string, value: HeaderValue): string[] {
  if (typeof name !== "string" || !TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
  const values = typeof value === "object" ? value.map(String) : [String(value)];
  for (const v of values) {
    if (!FIELD_VALUE.test(v)) throw new TypeError(`Invalid value for header ${JSON.stringify(name)}: ${JSON.stringify(v)}`);
  }
  return values;
}

function checkedReason(reason: string): string {
  if (!FIELD_VALUE.test(reason)) throw new TypeError(`Invalid reason phrase: ${JSON.stringify(reason)}`);
  return reason;
}
