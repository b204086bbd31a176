import { defineConfig } from "@playwright/test";

import chromiumArgs from "./chromium-args.json";

/**
 * Browser tests in Debian's Chromium (never a downloaded browser): started by scripts/e2e.sh, which
 * runs the whole product first and passes its address in NEURA_WEB_URL.
 */
// Debian's Chromium flags for tests (shared with bench-driver.mjs): no sandbox or GPU in CI, nothing
// fetched in the background, WebRTC on loopback, fake camera and microphone, sound without a click.
export const CHROMIUM_ARGS: string[] = chromiumArgs;

export default defineConfig({
  testDir: ".",
  testMatch: /.*\.spec\.ts$/,
  outputDir: "artifacts/test-results",
  timeout: 120_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.NEURA_WEB_URL,
    headless: true,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: { executablePath: process.env.NEURA_E2E_CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS },
    viewport: { width: 1280, height: 860 },
  },
});
