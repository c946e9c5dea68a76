// A response's fields as node:http takes them: checking names and values,
// reading writeHead's forms, and what the handler's framing fields say.
/** Header values as node:http takes them: a string, a number or a list. */
export type HeaderValue = string | number | readonly string[];

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

/** The handler's Content-Length (its fields' values joined): one byte count, repeated or not; anything else is refused. */
export function declaredLength(values: string): number {
  let length = -1;
  for (const value of values.split(",")) {
    const text = value.trim();
    const n = /^[0-9]{1,15}$/.test(text) ? Number(text) : -1;
    if (n < 0 || (length >= 0 && n !== length)) throw new TypeError(`Invalid Content-Length: ${JSON.stringify(values)}`);
    length = n;
  }
  return length;
}

/**
 * The handler's transfer codings with chunked applied once, last (RFC 9112
 * §6.1: a sender applies chunked once, and a client refuses a list that names
 * it twice or before another coding), the handler's spelling kept where it
 * already is so.
 */
export function chunkedLast(codings: string): string {
  const list = codings.split(",").map((coding) => coding.trim());
  const others = list.filter((coding) => coding !== "" && coding.toLowerCase() !== "chunked");
  if (others.length === list.length) return codings + ", chunked";
  if (others.length === list.length - 1 && list[list.length - 1].toLowerCase() === "chunked") return codings;
  return [...others, "chunked"].join(", ");
}

/** The error node:http throws (with strictContentLength) for a body longer than its Content-Length. */
export function lengthMismatch(given: number, declared: number): Error {
  const error = new Error(
    `Response body's content-length of ${given} byte(s) does not match the content-length of ${declared} byte(s) set in header`,
  ) as Error & { code: string };
  error.code = "ERR_HTTP_CONTENT_LENGTH_MISMATCH";
  return error;
}

/** writeHead's fields as node:http takes them: an object, or [name, value] pairs. */
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
export function checkField(name: string, value: string): void {
  if (name !== validName) {
    if (typeof name !== "string" || !TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
    validName = name;
  }
  if (value !== validValue) {
    if (!FIELD_VALUE.test(value)) throw new TypeError(`Invalid value for header ${JSON.stringify(name)}: ${JSON.stringify(value)}`);
    validValue = value;
  }
}

/** The fields of a response that has none yet: shared by all of them, never written to (addField replaces it). */
export const NO_FIELDS: [string, string][] = [];

/** A response's fields as set so far (Response.headers). */
interface FieldList {
  headers: [string, string][];
}

/** The first field makes the response's own list, one long: a push onto an empty array would make room for 17. */
export function addField(res: FieldList, name: string, value: string): void {
  if (res.headers === NO_FIELDS) res.headers = [[name, value]];
  else res.headers.push([name, value]);
}

/** setHeader(): replaces the field's values, or throws a TypeError naming the field when its name or a value cannot be sent. */
export function setField(res: FieldList, name: string, value: HeaderValue): void {
  if (typeof value === "string") {
    // The common case, without the list: one checked string.
    checkField(name, value);
    if (res.headers.length > 0) removeField(res, name);
    addField(res, name, value);
    return;
  }
  const values = fieldValues(name, value);
  if (res.headers.length > 0) removeField(res, name);
  for (const v of values) addField(res, name, v);
}

/** removeHeader(): every field of that name goes. */
export function removeField(res: FieldList, name: string): void {
  for (const field of res.headers) {
    if (sameName(field[0], name)) {
      res.headers = res.headers.filter(([n]) => !sameName(n, name));
      return;
    }
  }
}

export function fieldValues(name: string, value: HeaderValue): string[] {
  if (typeof name !== "string" || !TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
  const values = typeof value === "object" ? value.map(String) : [String(value)];
  for (const v of values) {
    if (!FIELD_VALUE.test(v)) throw new TypeError(`Invalid value for header ${JSON.stringify(name)}: ${JSON.stringify(v)}`);
  }
  return values;
}

export function checkedReason(reason: string): string {
  if (!FIELD_VALUE.test(reason)) throw new TypeError(`Invalid reason phrase: ${JSON.stringify(reason)}`);
  return reason;
}

/** writeHead's fields on `res`: each name given replaces that field, and one given twice (an object's keys in two cases) is sent with each value. */
export function applyHeadFields(
  res: { setHeader(name: string, value: HeaderValue): unknown; appendHeader(name: string, value: HeaderValue): unknown },
  headers: OutgoingFields | FlatFields,
): void {
  const given: string[] = [];
  for (const [name, value] of Array.isArray(headers) ? listedFields(headers) : Object.entries(headers)) {
    if (given.some((n) => sameName(n, name))) {
      res.appendHeader(name, value);
    } else {
      res.setHeader(name, value);
      given.push(name);
    }
  }
}

/**
 * The handler's fields as they are sent: Connection only on a 101 (the
 * serializer writes ours), Content-Length only where kept (a 304's, once,
 * the first the handler named: a recipient refuses two, RFC 9112 §6.3),
 * Transfer-Encoding as `codings` (one field, chunked last) or not at all.
 */
export function fieldsToSend(
  headers: readonly [string, string][], keepConnection: boolean, keepLength: boolean, codings: string | null,
): [string, string][] {
  let lengthKept = false;
  const fields = headers.filter(([name]) => {
    if (sameName(name, "connection")) return keepConnection;
    if (sameName(name, "content-length")) return keepLength && !lengthKept && (lengthKept = true);
    return !sameName(name, "transfer-encoding");
  });
  if (codings !== null) fields.push(["Transfer-Encoding", codings]);
  return fields;
}
