/**
 * Headless Chromium for browser tests: Debian's `chromium`, driven by playwright-core
 * through its executable path (playwright's own browser download is never used), and
 * screenshots kept under `test-artifacts/` (or `$CALSYNC_ARTIFACTS`) for people to look at.
 *
 * @module
 */
import { type Browser, chromium, type Page } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The Chromium executable: `$CHROMIUM_PATH`, or the first one installed. */
export function chromiumPath(): string {
  const configured = Deno.env.get("CHROMIUM_PATH");
  if (configured) return configured;
  for (const path of CANDIDATES) {
    try {
      Deno.statSync(path);
      return path;
    } catch {
      // try the next
    }
  }
  throw new Error(
    `no Chromium found at ${CANDIDATES.join(", ")}; install Debian's chromium ` +
      "(apt-get install chromium) or set CHROMIUM_PATH",
  );
}

/** Launches headless Chromium; close it with `await using`. */
export async function launchChromium(): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // No sandbox: CI runs as root in a container. The rest keeps Chromium off the network.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}

/** Where the screenshots of `suite` go. */
export async function artifactsDir(suite: string): Promise<string> {
  const dir = `${Deno.env.get("CALSYNC_ARTIFACTS") ?? "test-artifacts"}/${suite}`;
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** Saves a full-page screenshot of `page` as `dir/name.png` and returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const path = `${dir}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
