// The WebSocket opening handshake, server side (RFC 6455 §4.2): is this
// request a valid one, and the fields of the 101 that accepts it.
import { createHash } from "node:crypto";
import type { Request } from "../http/request.js";
import type { OutgoingFields } from "../http/response.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Why a request cannot be accepted, as the status and text to answer with; null when it can. */
export function handshakeFault(req: Request): { status: number; text: string; fields?: Record<string, string> } | null {
  if (req.method !== "GET") return { status: 405, text: "A WebSocket handshake is a GET\n", fields: { Allow: "GET" } };
  if (!hasToken(req.headers.get("upgrade"), "websocket")) return { status: 400, text: "Upgrade: websocket expected\n" };
  if (req.headers.get("sec-websocket-version") !== "13") {
    // RFC 6455 §4.4: name the version this server speaks.
    return { status: 426, text: "WebSocket version 13 only\n", fields: { "Sec-WebSocket-Version": "13" } };
  }
  const key = req.headers.get("sec-websocket-key");
  if (key === null || !/^[A-Za-z0-9+/]{22}==$/.test(key)) return { status: 400, text: "Invalid Sec-WebSocket-Key\n" };
  return null;
}

/** Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** The subprotocols the client offers, in its order of preference. */
export function offeredProtocols(req: Request): string[] {
  const header = req.headers.get("sec-websocket-protocol");
  return header === null ? [] : header.split(",").map((p) => p.trim()).filter((p) => p !== "");
}

/** The 101's fields: accept key, the chosen subprotocol (one the client offered) and extensions. */
export function acceptFields(req: Request, protocol: string | undefined, extensions: string | null, extra?: OutgoingFields | Headers): [string, string][] {
  const fields: [string, string][] = [["Sec-WebSocket-Accept", acceptKey(req.headers.get("sec-websocket-key")!)]];
  if (protocol !== undefined && protocol !== "") {
    if (!offeredProtocols(req).includes(protocol)) throw new Error(`subprotocol ${JSON.stringify(protocol)} was not offered by the client`);
    fields.push(["Sec-WebSocket-Protocol", protocol]);
  }
  if (extensions !== null) fields.push(["Sec-WebSocket-Extensions", extensions]);
  // A Headers object too (Bun's server.upgrade takes any HeadersInit); its entries are not an object's own.
  if (typeof Headers !== "undefined" && extra instanceof Headers) extra.forEach((value, name) => fields.push([name, value]));
  else if (Array.isArray(extra)) for (const [name, value] of extra) fields.push([name, String(value)]);
  else if (extra !== undefined) for (const [name, value] of Object.entries(extra)) fields.push([name, String(value)]);
  return fields;
}

function hasToken(value: string | null, token: string): boolean {
  return value !== null && value.split(",").some((v) => v.trim().toLowerCase() === token);
}
