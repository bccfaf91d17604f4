import { defineConfig } from '@playwright/test';
import { chromiumPath, CHROMIUM_ARGS } from './e2e/chromium';

// The renderer is tested in Debian's Chromium against web mode (the Electron binary cannot be downloaded here);
// e2e/electron.spec.ts runs where the binary exists.
export default defineConfig({
  testDir: 'e2e',
  timeout: 60_000,
  workers: 1,
  // On CI one retry, so a timing fluke on a loaded machine does not block a landing; Playwright still lists the
  // test as flaky, and the reason is fixed rather than left to the retry.
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  outputDir: 'test-results',
  globalSetup: './e2e/global-setup.ts',
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS },
    viewport: { width: 1400, height: 900 },
  },
});
