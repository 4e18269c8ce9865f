// Debian's Chromium for the browser tests, driven by playwright-core (which never downloads a browser).
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * tap's `skip` for a browser test. Without Chromium a developer's `npm test` skips it, saying why;
 * CI sets BROWSER_TESTS=required (.ci/run installs chromium), and there a missing browser fails the
 * test rather than hiding it.
 */
export const browserSkip: false | string = existsSync(CHROMIUM) || process.env.BROWSER_TESTS === 'required'
  ? false
  : `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`

/** Headless Chromium; closed by the caller. */
export async function launchChromium (): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Chromium refuses to run as root with its sandbox (containers, some CI runners).
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : []
    })
  } catch (err) {
    throw new Error(`cannot launch ${CHROMIUM} (Debian's chromium package) for a browser test: ${(err as Error).message}`)
  }
}
