import { expect, test } from "@playwright/test";

import {
  MOUTH_SAMPLER,
  connectLive,
  endLiveSession,
  expectAccessible,
  expectDeletedOnGateway,
  signUp,
} from "./helpers";

test("live: WebRTC video, the mouth moves after a message, interrupt, latency read-out @ci", async ({ page }) => {
  await signUp(page);
  await page.goto("/live");
  await page.getByRole("button", { name: "Connect" }).click();
  const state = page.getByTestId("live-state");
  await expect(state).toHaveText("Listening", { timeout: 30_000 });

  // Video arrives and decodes (getStats() framesDecoded, shown on the page) and plays.
  const video = page.getByTestId("live-video");
  await expect
    .poll(async () => Number(await page.getByTestId("frames-decoded").textContent()), { timeout: 20_000 })
    .toBeGreaterThan(10);
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeGreaterThan(0.5);
  await expectAccessible(page, "live studio");

  // The idle mouth, over a second: how much the region changes without speech (blinks, head motion).
  const sample = () => video.evaluate(new Function(`return (${MOUTH_SAMPLER})`)() as (v: HTMLVideoElement) => number[]);
  const diff = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + Math.abs(v - (b[i] ?? 0)), 0) / a.length;
  const idle = [await sample()];
  for (let i = 0; i < 8; i++) {
    await page.waitForTimeout(120);
    idle.push(await sample());
  }
  const idleChange = Math.max(...idle.slice(1).map((s) => diff(s, idle[0]!)));

  // A message: the avatar thinks, speaks, the transcript fills in and the mouth region changes.
  await page.getByLabel("Message").fill("Tell me about the deep ocean");
  await page.getByLabel("Message").press("Enter");
  await expect(state).toHaveText("Speaking", { timeout: 20_000 });
  let speakingChange = 0;
  for (let i = 0; i < 15 && speakingChange <= idleChange * 1.5 + 2; i++) {
    await page.waitForTimeout(80);
    speakingChange = Math.max(speakingChange, diff(await sample(), idle[0]!));
  }
  expect(
    speakingChange,
    `mouth change speaking ${speakingChange.toFixed(1)} vs idle ${idleChange.toFixed(1)}`,
  ).toBeGreaterThan(idleChange * 1.5 + 2);
  await expect(page.getByTestId("transcript").locator("[data-role=avatar]")).toContainText("Great question!");

  // The latency read-out: server stages and the browser's own measures.
  const chart = page.getByTestId("latency-chart");
  await expect(chart.locator("[data-stage=firstFrameSentMs] text").last()).toHaveText(/[\d.]+ m?s$/);
  await expect(chart.locator("[data-stage=heardMs] text").last()).toHaveText(/[\d.]+ m?s$/);
  await expect(chart.locator("[data-stage=mouthMs] text").last()).toHaveText(/[\d.]+ m?s$/, { timeout: 10_000 });

  // Interrupt (the button, while it speaks): it stops and listens again.
  await page.getByRole("button", { name: "Interrupt" }).click();
  await expect(state).toHaveText("Listening", { timeout: 5_000 });
  await expect(page.getByText("this answer was interrupted")).toBeVisible();

  // End: the session is deleted on the server.
  await endLiveSession(page);
});

test("live: a session ends on the server when its tab goes away, ended or not @ci", async ({ browser, page }) => {
  await signUp(page);
  // Leaving the page while connected: pagehide sends a keep-alive DELETE (not the dead-peer check).
  const left = await connectLive(page);
  await page.goto("/dashboard");
  await expectDeletedOnGateway(left);
  // "End session", then the window is closed at once: the DELETE is a keep-alive request, so it still arrives.
  const context = await browser.newContext({ storageState: await page.context().storageState() });
  const other = await context.newPage();
  const ended = await connectLive(other);
  await other.getByRole("button", { name: "End session" }).click();
  await context.close();
  await expectDeletedOnGateway(ended);
});
