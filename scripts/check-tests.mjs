#!/usr/bin/env node
// Fails when a test file would narrow the run: a `.only(` anywhere under the
// test folder (default test/, or the folder given as the first argument) makes
// uvu run that test alone and pass the rest over. Run by .ci/run, and by
// test/hygiene.test.ts so that `npm test` catches it too.
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = process.argv[2] ?? new URL("../test/", import.meta.url).pathname;
const only = /\.only\s*\(/;
const hits = [];

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name)) {
      readFileSync(path, "utf8").split("\n").forEach((line, i) => {
        if (only.test(line)) hits.push(`${relative(process.cwd(), path)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
}

walk(root);
if (hits.length > 0) {
  console.error(`check-tests: ${hits.length} .only( in the tests; uvu would run only those and pass over the rest:`);
  for (const hit of hits) console.error(`  ${hit}`);
  process.exit(1);
}
console.log(`check-tests: no .only( under ${relative(process.cwd(), root) || "."}`);
