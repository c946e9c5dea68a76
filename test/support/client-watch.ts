// The clients that are not raw sockets — node:http's request and fetch
// (undici) — parse with llhttp and so are strict already, but they take a
// duplicate or conflicting framing field that llhttp lets through (fetch
// joins repeated fields; a Transfer-Encoding whose last coding is not chunked
// reads until the close). Their diagnostics channels show every response head
// as received; each one is checked with the strict client's framing rule, and
// a fault is kept until the test that caused it is checked (support/uvu.ts
// fails that test with it).
import { subscribe } from "node:diagnostics_channel";
import type { ClientRequest, IncomingMessage } from "node:http";
import { framingFault } from "./strict-client.ts";

const faults: string[] = [];

function check(client: string, method: string, status: number, flat: readonly (string | Buffer)[]): void {
  const fields: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) fields.push([String(flat[i]), String(flat[i + 1])]);
  const fault = framingFault(status, fields, method);
  if (fault !== null) faults.push(`${client}: ${method} answered ${status}: ${fault}`);
}

subscribe("http.client.response.finish", (message) => {
  const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
  check("node:http", request.method, response.statusCode ?? 0, response.rawHeaders);
});

subscribe("undici:request:headers", (message) => {
  const { request, response } = message as { request: { method: string }; response: { statusCode: number; headers: Buffer[] } };
  check("fetch", request.method, response.statusCode, response.headers);
});

/** The framing faults node:http and fetch clients met since the last call. */
export function takeClientFaults(): string[] {
  return faults.splice(0);
}
