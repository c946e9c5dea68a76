// The fuzz targets: what one execution does for each, and its oracles.
// request: the input is a byte stream of requests. chunked: the input is the
// body of a chunked request (a fixed head goes in front). response-head: a
// mode byte (the request's method, whether the connection closes after the
// input), then a byte stream of responses. response: the input is decoded
// into serializeHead's arguments. A target is one entry of TARGETS.
import type { HeadError } from "../parser/src/parser-node.ts";
import type { Builds } from "./builds.ts";
import { deferredHeadFault, driveStream, runKey } from "../test/support/stream.ts";
import { compareResponsesWithLlhttp, compareWithLlhttp } from "../test/support/differences.ts";
import { deferredResponseFault, driveResponses, responseRunKey } from "../test/support/response-stream.ts";
import type { Random } from "./mutate.ts";
import { chunkedBodies, llhttpInputs } from "./seeds.ts";
import { checkWebSocket, webSocketSeeds } from "./websocket.ts";

export interface Target {
  name: string;
  /** Seeds used at fuzz time besides the saved corpus, and never saved into it (llhttp's test inputs). */
  seeds?(): Uint8Array[];
  /** Where seeds() comes from, as the run's first line says it. */
  seedsFrom?: string;
  /** The checks on one input: a description of each broken oracle, or null. */
  execute(builds: Builds, random: Random, input: Uint8Array): string | null;
}

export const TARGETS: readonly Target[] = [
  { name: "request", seeds: llhttpInputs, seedsFrom: "from llhttp's tests", execute: (b, r, input) => checkRequests(b, r, input) },
  { name: "chunked", seeds: () => chunkedBodies(llhttpInputs()), seedsFrom: "from llhttp's tests", execute: (b, r, input) => checkRequests(b, r, join(CHUNKED_HEAD, input)) },
  { name: "response-head", seeds: () => llhttpInputs("response").map((r) => join(Uint8Array.of(0), r)), seedsFrom: "from llhttp's tests", execute: (b, r, input) => checkResponses(b, r, input) },
  { name: "response", execute: (b, _r, input) => checkResponse(b, input) },
  { name: "abi", execute: (b, _r, input) => b.abi.run(input) },
  { name: "websocket", seeds: webSocketSeeds, seedsFrom: "built-in frames", execute: (b, r, input) => checkWebSocket(b, r, input) },
];

export function findTarget(name: string): Target {
  const target = TARGETS.find((t) => t.name === name);
  if (target === undefined) throw new Error(`--target must be one of ${TARGETS.map((t) => t.name).join(", ")}`);
  return target;
}

export const CHUNKED_HEAD = ascii("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");

function checkRequests(builds: Builds, random: Random, input: Uint8Array): string | null {
  const problems: string[] = [];
  const checks = { problems, spans: builds.spans };
  const whole = driveStream(builds.instrumented, [input], checks);
  const at = random.below(input.length + 1);
  const pieces = [input.subarray(0, at), input.subarray(at)];
  const split = driveStream(builds.instrumented, pieces, checks);
  const wholeKey = runKey(whole), splitKey = runKey(split);
  if (splitKey !== wholeKey && !deferredHeadFault(builds.simd, pieces, whole, split)) {
    problems.push(`split at ${at} differs: ${splitKey} vs whole ${wholeKey}`);
  }
  const simd = driveStream(builds.simd, [input], { problems });
  const simdKey = runKey(simd);
  if (simdKey !== wholeKey) problems.push(`parser/wasm/simplenet.wasm differs: ${simdKey} vs fuzz build ${wholeKey}`);
  const scalarKey = runKey(driveStream(builds.scalar, [input], { problems }));
  if (scalarKey !== simdKey) problems.push(`scalar build differs from SIMD: ${scalarKey} vs ${simdKey}`);
  const verdict = compareWithLlhttp(input, simd, builds.simd);
  if ("unexplained" in verdict) problems.push(`llhttp disagrees: ${verdict.unexplained}`);
  return problems.length > 0 ? problems.join("; ") : null;
}

// ---- parsing responses ----------------------------------------------------

/** response-head's mode byte: bits 0-1 the method of the request the responses answer, bit 2 the connection closes after the input. */
const RESPONSE_METHODS = [undefined, "HEAD", "CONNECT", "GET"] as const;

/**
 * The response parser's oracles, as checkRequests' for requests: no trap,
 * consumed bytes and spans inside the input, whole and split alike, the
 * three builds alike, and llhttp in response mode agreeing but for the
 * response table of test/support/differences.ts.
 */
function checkResponses(builds: Builds, random: Random, input: Uint8Array): string | null {
  const mode = input.length > 0 ? input[0] : 0;
  const options = { requestMethod: RESPONSE_METHODS[mode & 3], endOfInput: (mode & 4) !== 0 };
  const stream = input.subarray(1);
  const problems: string[] = [];
  const checks = { ...options, problems, spans: builds.spans };
  const whole = driveResponses(builds.instrumented, [stream], checks);
  const at = random.below(stream.length + 1);
  const pieces = [stream.subarray(0, at), stream.subarray(at)];
  const split = driveResponses(builds.instrumented, pieces, checks);
  const wholeKey = responseRunKey(whole), splitKey = responseRunKey(split);
  if (splitKey !== wholeKey && !deferredResponseFault(builds.simd, pieces, whole, split, options)) {
    problems.push(`split at ${at} differs: ${splitKey} vs whole ${wholeKey}`);
  }
  const simd = driveResponses(builds.simd, [stream], { ...options, problems });
  const simdKey = responseRunKey(simd);
  if (simdKey !== wholeKey) problems.push(`parser/wasm/simplenet.wasm differs: ${simdKey} vs fuzz build ${wholeKey}`);
  const scalarKey = responseRunKey(driveResponses(builds.scalar, [stream], { ...options, problems }));
  if (scalarKey !== simdKey) problems.push(`scalar build differs from SIMD: ${scalarKey} vs ${simdKey}`);
  const verdict = compareResponsesWithLlhttp(stream, simd, builds.simd, options.requestMethod, options.endOfInput);
  if ("unexplained" in verdict) problems.push(`llhttp disagrees: ${verdict.unexplained}`);
  return problems.length > 0 ? problems.join("; ") : null;
}

// ---- response heads -------------------------------------------------------

interface HeadArgs {
  status: number;
  reason: string;
  headers: [string, string][];
  framing: number;
  contentLength: number;
  flags: number;
  now: number;
}

/**
 * Input layout: status (2 bytes), framing/flags (1 byte), content length
 * (2 bytes), then length-prefixed strings: the reason, then name and value
 * pairs. Missing bytes read as zero, so every input decodes.
 */
export function decodeHead(input: Uint8Array): HeadArgs {
  let at = 0;
  const byte = (): number => (at < input.length ? input[at++] : 0);
  const string = (): string => {
    const n = byte();
    const s = latin1(input.subarray(at, at + n));
    at += n;
    return s;
  };
  const status = ((byte() << 8) | byte()) % 1100;
  const mode = byte();
  const contentLength = (byte() << 8) | byte();
  const reason = string();
  const headers: [string, string][] = [];
  while (at < input.length && headers.length < 64) headers.push([string(), string()]);
  return { status, reason, headers, framing: mode % 3, contentLength, flags: (mode >> 2) & 7, now: 1709164800 + status * 86400 };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function checkResponse(builds: Builds, input: Uint8Array): string | null {
  const a = decodeHead(input);
  const results = [builds.instrumented, builds.simd, builds.scalar].map((p) => {
    try {
      const n = p.serializeHead(0, a.status, a.reason, a.headers, a.framing, a.contentLength, a.flags, a.now);
      return latin1(p.bytes.subarray(p.out, p.out + n));
    } catch (error) {
      return `error ${(error as HeadError).error?.code ?? error}`;
    }
  });
  if (results[1] !== results[0] || results[2] !== results[1]) return `builds differ: ${JSON.stringify(results)}`;
  const valid = a.status >= 100 && a.status <= 999 && FIELD_VALUE.test(a.reason) &&
    a.headers.every(([name, value]) => TOKEN.test(name) && FIELD_VALUE.test(value));
  const head = results[0];
  if (head.startsWith("error")) return valid ? `refused a valid head (${head}): ${JSON.stringify(a)}` : null;
  if (!valid) return `serialized an invalid head: ${JSON.stringify(a)} as ${JSON.stringify(head)}`;
  const want = [
    `HTTP/1.1 ${a.status} `,
    ...a.headers.map(([name, value]) => `${name}: ${value}\r\n`),
    ...(a.flags & 1 ? [`Date: ${new Date(a.now * 1000).toUTCString()}\r\n`] : []),
    ...(a.framing === 1 ? [`Content-Length: ${a.contentLength}\r\n`] : a.framing === 2 ? ["Transfer-Encoding: chunked\r\n"] : []),
    ...(a.flags & 2 ? ["Connection: close\r\n"] : a.flags & 4 ? ["Connection: keep-alive\r\n"] : []),
    "\r\n",
  ];
  const statusLine = head.slice(0, head.indexOf("\r\n") + 2);
  const reason = statusLine.slice(want[0].length, -2);
  if (!statusLine.startsWith(want[0]) || (a.reason !== "" && reason !== a.reason) || /[\r\n]/.test(reason)) {
    return `bad status line ${JSON.stringify(statusLine)} for ${JSON.stringify(a)}`;
  }
  if (head.slice(statusLine.length) !== want.slice(1).join("")) return `head ${JSON.stringify(head)} is not ${JSON.stringify(want)}`;
  return null;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
