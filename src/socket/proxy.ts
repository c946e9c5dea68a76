// The PROXY protocol (v1 text and v2 binary, as HAProxy specifies it): a
// proxy in front of us says who the real client is before the first request.

export interface ProxyAddress {
  address: string;
  port: number;
}

/**
 * { consumed, source } once the header is complete (source is null for
 * LOCAL / UNKNOWN connections: keep the socket's own peer), "incomplete",
 * or an Error for bytes that are not a PROXY header.
 */
export type ProxyResult = { consumed: number; source: ProxyAddress | null } | "incomplete" | Error;

const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const V1_PREFIX = "PROXY ";
const V1_MAX = 107;

export function parseProxyHeader(bytes: Uint8Array, start: number, end: number): ProxyResult {
  const n = end - start;
  if (n === 0) return "incomplete";
  if (bytes[start] === 0x0d) return parseV2(bytes, start, end);
  if (bytes[start] === 0x50) return parseV1(bytes, start, end);
  return new Error("PROXY protocol header expected");
}

function parseV1(bytes: Uint8Array, start: number, end: number): ProxyResult {
  for (let i = 0; i < V1_PREFIX.length; i++) {
    if (start + i >= end) return "incomplete";
    if (bytes[start + i] !== V1_PREFIX.charCodeAt(i)) return new Error("bad PROXY v1 header");
  }
  let lf = -1;
  for (let i = start; i < Math.min(end, start + V1_MAX); i++) {
    if (bytes[i] === 0x0a) {
      lf = i;
      break;
    }
  }
  if (lf < 0) return end - start >= V1_MAX ? new Error("PROXY v1 header too long") : "incomplete";
  if (bytes[lf - 1] !== 0x0d) return new Error("bad PROXY v1 line end");
  const line = String.fromCharCode(...bytes.subarray(start, lf - 1));
  const parts = line.split(" ");
  const consumed = lf + 1 - start;
  if (parts[1] === "UNKNOWN") return { consumed, source: null };
  if (parts.length !== 6 || (parts[1] !== "TCP4" && parts[1] !== "TCP6")) return new Error("bad PROXY v1 header");
  const port = Number(parts[4]);
  const valid = parts[1] === "TCP4" ? /^\d{1,3}(\.\d{1,3}){3}$/.test(parts[2]) : /^[0-9a-fA-F:.]+$/.test(parts[2]);
  if (!valid || !/^\d{1,5}$/.test(parts[4]) || port > 65535) return new Error("bad PROXY v1 address");
  return { consumed, source: { address: parts[2], port } };
}

function parseV2(bytes: Uint8Array, start: number, end: number): ProxyResult {
  for (let i = 0; i < V2_SIGNATURE.length; i++) {
    if (start + i >= end) return "incomplete";
    if (bytes[start + i] !== V2_SIGNATURE[i]) return new Error("bad PROXY v2 signature");
  }
  if (end - start < 16) return "incomplete";
  const versionCommand = bytes[start + 12];
  const family = bytes[start + 13];
  const length = (bytes[start + 14] << 8) | bytes[start + 15];
  if (versionCommand >> 4 !== 2) return new Error("unsupported PROXY protocol version");
  if (end - start < 16 + length) return "incomplete";
  const consumed = 16 + length;
  const command = versionCommand & 0xf;
  if (command === 0) return { consumed, source: null }; // LOCAL: the proxy's own connection
  if (command !== 1) return new Error("bad PROXY v2 command");
  const a = start + 16;
  if (family === 0x11 && length >= 12) {
    const address = `${bytes[a]}.${bytes[a + 1]}.${bytes[a + 2]}.${bytes[a + 3]}`;
    return { consumed, source: { address, port: (bytes[a + 8] << 8) | bytes[a + 9] } };
  }
  if (family === 0x21 && length >= 36) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[a + i] << 8) | bytes[a + i + 1]).toString(16));
    return { consumed, source: { address: compressIpv6(groups), port: (bytes[a + 32] << 8) | bytes[a + 33] } };
  }
  return { consumed, source: null }; // UNSPEC or Unix: nothing better than the socket's peer
}

/** RFC 5952 text form: the longest run of zero groups becomes "::". */
function compressIpv6(groups: string[]): string {
  let best = -1, bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLength).join(":")}`;
}
