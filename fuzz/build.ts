// Builds the parser for fuzzing into fuzz/build/ (git-ignored): the SIMD
// release build of assembly/index.ts with 16 pages of memory instead of 8, the
// upper 8 left to the coverage counters, then instrumented. Rebuilt only when
// a source is newer than the output.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { instrument, type Instrumented } from "./instrument.ts";

const root = new URL("../", import.meta.url);
export const buildDir = new URL("fuzz/build/", root);
const asc = fileURLToPath(new URL("node_modules/assemblyscript/bin/asc.js", root));

/** Compiles an AssemblyScript entry file with asc `flags` (run beside the entry, so no asconfig.json applies unasked). */
export function compile(entry: URL, outFile: URL, flags: string[]): void {
  try {
    execFileSync(process.execPath, [asc, fileURLToPath(entry), "--outFile", fileURLToPath(outFile), ...flags], { stdio: "pipe", cwd: new URL(".", entry) });
  } catch (error) {
    throw new Error(`asc failed: ${(error as { stderr?: Buffer }).stderr ?? error}`);
  }
}

export interface ParserBuild extends Instrumented {
  module: WebAssembly.Module;
}

export function buildParser(): ParserBuild {
  const wasmFile = new URL("parser.wasm", buildDir);
  const metaFile = new URL("parser.json", buildDir);
  const sources = [
    ...readdirSync(new URL("assembly/", root)).map((f) => new URL(`assembly/${f}`, root)),
    new URL("fuzz/instrument.ts", root), new URL("fuzz/build.ts", root), new URL("asconfig.json", root),
  ];
  const newest = Math.max(...sources.map((u) => statSync(u).mtimeMs));
  if (!existsSync(metaFile) || statSync(metaFile).mtimeMs < newest) {
    mkdirSync(buildDir, { recursive: true });
    const plain = new URL("parser-plain.wasm", buildDir);
    compile(new URL("assembly/index.ts", root), plain, [
      "--config", fileURLToPath(new URL("asconfig.json", root)), "--target", "release", "--initialMemory", "16", "--maximumMemory", "16",
    ]);
    const result = instrument(readFileSync(plain));
    writeFileSync(wasmFile, result.wasm);
    writeFileSync(metaFile, JSON.stringify({ probes: result.probes, counterBase: result.counterBase }));
  }
  const wasm = readFileSync(wasmFile);
  const meta = JSON.parse(readFileSync(metaFile, "utf8")) as { probes: number; counterBase: number };
  return { wasm, ...meta, module: new WebAssembly.Module(wasm) };
}
