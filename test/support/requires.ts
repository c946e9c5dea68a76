// A test that needs something this machine may lack (a browser, nginx, a
// corpus beside the checkout) is registered through `requires`: decided once,
// when the test file loads. Present: the test runs. Missing: the test is
// skipped in uvu's own count (its summary's "Skipped: N"), with one printed
// line saying what it needs and how to get it. Under CI (CI=true) nothing may
// be skipped: the test is registered as a failing one that says what is missing.
import { spawnSync } from "node:child_process";
import type { Callback, Test } from "uvu";

export const underCI = process.env.CI === "true";

/**
 * Registers `name` on `test`: `missing` is null when everything the test needs
 * is here, else one line saying what is missing and how to get it.
 */
export function requires<T>(test: Test<T>, missing: string | null, name: string, handler: Callback<T>): void {
  if (missing === null) return test(name, handler);
  if (underCI) {
    return test(name, () => {
      throw new Error(`CI runs every test, and this one cannot run here: ${missing}`);
    });
  }
  console.log(`  skipped "${name}": ${missing}`);
  test.skip(name, handler);
}

/** The path of a command on PATH, or "" when there is none. */
export function command(name: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : "";
}
