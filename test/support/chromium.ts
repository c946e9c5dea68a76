// Headless Debian chromium through playwright-core, as the browser tests use
// it: where it is, and a launch with the flags this machine's closed network
// needs (no background networking, no component updates, no QUIC).
import { chromium, type Browser, type Page } from "playwright-core";
import { command } from "./requires.ts";

const browserPath = command("chromium");

/** null when chromium is here, else what the test needs (for requires()). */
export const chromiumMissing = browserPath === "" ? "needs chromium on PATH: run scripts/test-deps.sh as root (Debian's chromium package)" : null;

/** Opens `url` in a fresh headless chromium and waits until the page sets window.result; returns it and closes the browser. */
export async function resultOfPage<R>(url: string, timeoutMs: number, use?: (page: Page) => Promise<void>): Promise<R> {
  const browser: Browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const tab = await browser.newPage();
    await use?.(tab);
    await tab.goto(url);
    await tab.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: timeoutMs });
    return await tab.evaluate(() => (window as unknown as { result: R }).result);
  } finally {
    await browser.close();
  }
}
