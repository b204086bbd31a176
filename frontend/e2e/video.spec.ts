import { readFileSync } from "node:fs";

import { expect, test } from "@playwright/test";

import { expectAccessible, fixture, signUp } from "./helpers";

const SCRIPT = "# Made in a browser\n\nHello, I am NEURA. This video was made in a browser test.";

test("sign up, upload a portrait, make a video from a script, watch, download, delete, log out @ci", async ({
  page,
}) => {
  await signUp(page);

  // An avatar from a portrait.
  await page.getByRole("link", { name: "Avatars" }).first().click();
  await expect(page.getByRole("heading", { name: "Avatars", level: 1 })).toBeVisible();
  await page.getByLabel("Photo").setInputFiles(fixture("portrait.jpg"));
  await page.getByLabel("Name").fill("Astronaut");
  await page.getByRole("button", { name: "Make avatar" }).click();
  const created = page.getByTestId("created-avatar");
  await expect(created.getByRole("heading", { name: "“Astronaut” is ready" })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("avatar-card")).toHaveCount(1);

  // A video with it, from a script: the cost is shown before submitting.
  await created.getByRole("link", { name: "Make a video" }).click();
  await expect(page).toHaveURL(/\/videos\/new\?avatar=/);
  await expect(page.getByRole("radio", { name: "Astronaut" })).toBeChecked();
  await page.getByLabel("Script", { exact: true }).fill(SCRIPT);
  await expect(page.getByTestId("cost")).toHaveText("8 credits reserved"); // 16 words counted (the title too): 6.4 s x 1.25
  await page.getByRole("button", { name: "Render video" }).click();
  await expect(page).toHaveURL(/\/videos\/[0-9a-f-]{36}$/);

  // It renders (a progress bar fed by the event stream), then plays: time advances and frames decode.
  await expect(page.getByRole("progressbar", { name: "Rendering progress" })).toBeVisible();
  const player = page.getByTestId("player");
  await expect(player).toBeVisible({ timeout: 180_000 });
  await expect(page.locator("track[kind=subtitles]")).toHaveCount(1);
  await player.evaluate(async (v: HTMLVideoElement) => {
    v.muted = true;
    await v.play();
  });
  await expect
    .poll(() => player.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 15_000 })
    .toBeGreaterThan(1.0);
  const decoded = await player.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames);
  expect(decoded).toBeGreaterThan(10);
  await expect
    .poll(() => player.evaluate((v: HTMLVideoElement) => v.textTracks[0]?.cues?.length ?? 0))
    .toBeGreaterThan(0);

  // What made it: the script, a chart of stage timings, the models and their licences.
  await expect(page.getByTestId("script")).toContainText("This video was made in a browser test.");
  await expect(page.getByTestId("stage-chart")).toBeVisible();
  await expect(page.getByTestId("licences")).toContainText("GPL-3.0-or-later");
  await expectAccessible(page, "video page");

  // Downloads: the MP4 (an ISO BMFF file), and both subtitle formats.
  const mp4 = page.waitForEvent("download");
  await page.getByRole("link", { name: "MP4 video" }).click();
  const mp4Path = await (await mp4).path();
  const bytes = readFileSync(mp4Path);
  expect(bytes.length).toBeGreaterThan(20_000);
  expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
  const srt = page.waitForEvent("download");
  await page.getByRole("link", { name: "SRT subtitles" }).click();
  expect(readFileSync(await (await srt).path(), "utf8")).toMatch(/00:00:0\d,\d{3} --> /);
  const vtt = page.waitForEvent("download");
  await page.getByRole("link", { name: "VTT subtitles" }).click();
  expect(readFileSync(await (await vtt).path(), "utf8")).toMatch(/^WEBVTT/);

  // Delete it: back on the dashboard, which is empty again.
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("button", { name: "Delete this video" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { name: "No videos yet" })).toBeVisible();

  // Log out: the studio is closed until the next log-in.
  await page.getByRole("button", { name: "Log out" }).first().click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard/);
});
