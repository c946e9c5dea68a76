// Seed inputs: the committed seeds (fuzz/corpus/<target>/), the working
// corpus a previous run left in the cache folder, and for the request
// targets the input blocks of llhttp's request tests (for response-head, of
// its response tests), read from the shared folder at fuzz time (never
// copied into the repository).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";

const root = new URL("../", import.meta.url);
export const llhttpTests = new URL("../shared/llhttp-tests/request/", root);
const llhttpResponseTests = new URL("../shared/llhttp-tests/response/", root);

/** The committed seeds of a target: rewritten only by `npm run fuzz:minimize`. */
export function seedDir(target: string): URL {
  return new URL(`fuzz/corpus/${target}/`, root);
}

/** The working corpus's default home: git-ignored, kept between runs. */
export const DEFAULT_WORK_DIR = new URL("node_modules/.cache/simplenet-fuzz/", root);

/** Where failing inputs are saved (git-ignored). */
export const FINDINGS_DIR = new URL("fuzz/findings/", root);

export function readCorpus(dir: URL): Uint8Array[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".bin")).sort().map((f) => new Uint8Array(readFileSync(new URL(f, dir))));
}

export const fileName = (input: Uint8Array): string => createHash("sha1").update(input).digest("hex").slice(0, 16);

/** Replaces the corpus in `dir` with `entries`, leaving out `exclude`d inputs; how many were written. */
export function writeCorpus(dir: URL, entries: readonly Uint8Array[], exclude: ReadonlySet<string>): number {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let written = 0;
  for (const entry of entries) {
    const name = fileName(entry);
    if (exclude.has(name)) continue;
    writeFileSync(new URL(`${name}.bin`, dir), entry);
    written++;
  }
  return written;
}

/** The request (or response) inputs of llhttp's markdown tests, decoded as its runner does. */
export function llhttpInputs(kind: "request" | "response" = "request"): Uint8Array[] {
  const dir = kind === "request" ? llhttpTests : llhttpResponseTests;
  if (!existsSync(dir)) return [];
  const inputs: Uint8Array[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".md")).sort()) {
    const text = readFileSync(new URL(file, dir), "latin1");
    for (const block of text.matchAll(/<!-- meta=(\{.*?\}) -->\s*```http\n([\s\S]*?)```/g)) {
      if (!new RegExp(`"type":\\s*"${kind}`).test(block[1])) continue;
      inputs.push(decodeBlock(block[2]));
    }
  }
  return inputs;
}

/** The final newline goes, newlines become CRLF, a trailing backslash joins lines, then escapes. */
function decodeBlock(block: string): Uint8Array {
  const text = block.replace(/\n$/, "").replace(/\\\n/g, "").replace(/\n/g, "\r\n")
    .replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|[rntf\\])/g, (_, e: string) => {
      if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
      if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
      return ({ r: "\r", n: "\n", t: "\t", f: "\f", "\\": "\\" } as Record<string, string>)[e];
    });
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/** For the chunked target: the bodies after llhttp's chunked heads. */
export function chunkedBodies(requests: readonly Uint8Array[]): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  const marker = "\r\n\r\n";
  for (const r of requests) {
    const text = String.fromCharCode(...r);
    if (!/transfer-encoding:\s*chunked/i.test(text)) continue;
    const end = text.indexOf(marker);
    if (end >= 0) bodies.push(r.slice(end + marker.length));
  }
  return bodies;
}
