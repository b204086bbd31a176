import { expect, test } from "@playwright/test";

import { signUp } from "./helpers";

test("a video from a prompt, written by the (fake) language model @ci", async ({ page }) => {
  await signUp(page);
  await page.goto("/videos/new");
  await page.getByRole("radio", { name: "A topic (AI writes it)" }).check();
  await page.getByLabel("Topic or instructions").fill("Why is the sky blue?");
  await page.getByLabel(/Target length/).fill("15");
  await expect(page.getByTestId("cost")).toHaveText("19 credits reserved"); // 15 s x 1.25
  const draft = page.getByRole("button", { name: "Write the script first" });
  const drafts = await draft.isVisible();
  if (drafts) {
    // The gateway drafts scripts: the draft is shown, editable, before rendering.
    await draft.click();
    await expect(page.getByLabel("Script", { exact: true })).toHaveValue(/Sunlight holds every colour/);
    await expect(page.getByText(/Draft written/)).toBeVisible();
  }
  await page.getByRole("button", { name: "Render video" }).click();
  await expect(page).toHaveURL(/\/videos\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("player")).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId("script")).toContainText("Sunlight holds every colour.");
  // Rendered from the topic, the video says which model wrote it; a draft was rendered as a script.
  if (!drafts) await expect(page.getByText(/Written by lmstudio/)).toBeVisible();
});
