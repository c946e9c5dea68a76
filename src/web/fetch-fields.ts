// The fields of a fetch handler's Response that go out with our response. A
// Response may come from upstream (the result of fetch()), whose head
// described that connection: its hop-by-hop fields (RFC 9110 §7.6.1) and its
// framing are not ours to forward. The server frames the body it sends itself.
import type { Response as ServerResponse } from "../http/response.js";

/** Fields that only mean something on one connection, never forwarded (RFC 9110 §7.6.1; Proxy-Connection, as proxies still send it). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Whether `name` (any case) is one of HOP_BY_HOP or Content-Length: only names of their lengths are lowercased. */
function isConnectionField(name: string): boolean {
  const n = name.length;
  if (n !== 2 && n !== 7 && n !== 10 && n !== 14 && n !== 16 && n !== 17) return false;
  const lower = name.toLowerCase();
  return lower === "content-length" || HOP_BY_HOP.has(lower);
}

/**
 * Appends a fetch Response's fields to `res`, less the hop-by-hop ones (also
 * those its Connection field names) and less Content-Length, which the server
 * sets from the body it sends. `bodiless`: the Response has no body, and
 * its Content-Length is kept where the response may carry one without a
 * body (HEAD, 304), as node:http keeps a handler's.
 */
export function appendFetchFields(fields: Iterable<[string, string]>, res: ServerResponse, bodiless: boolean): void {
  const keepLength = bodiless && (res.request.isHead || res.status === 304);
  let named: string | null = null;
  for (const [name, value] of fields) {
    if (!isConnectionField(name)) res.appendHeader(name, value);
    else if (name.length === 10 && name.toLowerCase() === "connection") named = named === null ? value : named + "," + value;
    else if (keepLength && name.length === 14 && name.toLowerCase() === "content-length") res.appendHeader(name, value);
  }
  if (named === null) return;
  for (const token of named.split(",")) {
    const listed = token.trim();
    if (listed !== "") res.removeHeader(listed);
  }
}
