import { expect, test } from "@playwright/test";

import { signUp } from "./helpers";

test("live: connect, receive video, talk, interrupt, latency read-out @ci", async ({ page }) => {
  await signUp(page);
  await page.goto("/live");
  await page.getByRole("button", { name: "Connect" }).click();
  const video = page.getByTestId("live-video");
  await expect(page.getByTestId("live-state")).toHaveText("Listening", { timeout: 30_000 });
  await expect.poll(async () => Number(await page.getByTestId("frames-decoded").textContent()), { timeout: 20_000 }).toBeGreaterThan(10);
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeGreaterThan(0.5);
  await page.getByLabel("Message").fill("Tell me about the deep ocean");
  await page.getByLabel("Message").press("Enter");
  await expect(page.getByTestId("live-state")).toHaveText("Speaking", { timeout: 20_000 });
  await page.screenshot({ path: "e2e/artifacts/live-probe.png" });
});
