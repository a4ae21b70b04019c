/**
 * Headless Chromium for the project's scripts (static figures, the JupyterLab browser test):
 * the operating system's Chromium (Debian's `chromium` package, /usr/bin/chromium) driven by
 * playwright-core. No browser is downloaded; when Chromium is missing this says how to install
 * it and throws, it never skips silently.
 *
 * CHROMIUM_PATH overrides the executable.
 */
import fs from 'node:fs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps trying
 * to reach Google's hosts. playwright-core gives every launch a fresh, empty profile
 * (--user-data-dir in a new temporary folder) and removes it on close.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
  '--font-render-hinting=none',
];

export class ChromiumMissingError extends Error {}

/** Throw a helpful error unless the Chromium executable exists. */
export function requireChromium() {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
  } catch {
    throw new ChromiumMissingError(
      `Chromium not found at ${CHROMIUM_PATH}. Install the operating system's package ` +
        `(Debian/Ubuntu: apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium/Chrome executable.`,
    );
  }
  return CHROMIUM_PATH;
}

/**
 * Launch headless Chromium. Returns playwright's Browser; close it with `browser.close()`.
 * handleSignals: false leaves Ctrl-C/SIGTERM to the caller (playwright otherwise kills the
 * browser and exits the process at once, before the caller's own clean-up).
 */
export async function launchChromium({ args = [], handleSignals = true } = {}) {
  const executablePath = requireChromium();
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    timeout: 60_000,
    handleSIGINT: handleSignals,
    handleSIGTERM: handleSignals,
    handleSIGHUP: handleSignals,
  });
}
