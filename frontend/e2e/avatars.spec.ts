import { expect, test } from "@playwright/test";

import { fixture, signUp } from "./helpers";

test("bad photos are refused with a clear message and hint; two faces warn @ci", async ({ page }) => {
  await signUp(page);
  await page.goto("/avatars");
  const upload = async (file: string) => {
    await page.getByLabel("Photo").setInputFiles(fixture(file));
    await page.getByRole("button", { name: "Make avatar" }).click();
  };

  await upload("cat.jpg");
  let alert = page.getByRole("alert").filter({ hasText: /./ });
  await expect(alert).toContainText("No face found in this photo");
  await expect(alert).toContainText("at least 80 px tall");

  await upload("tiny-face.png");
  alert = page.getByRole("alert").filter({ hasText: /./ });
  await expect(alert).toContainText("The face is too small");
  await expect(alert).toContainText("use a closer or higher-resolution photo");

  await upload("notes.png");
  await expect(page.getByRole("alert").filter({ hasText: /./ })).toContainText(
    "This file is not a photo NEURA can use",
  );

  await upload("two-faces.jpg");
  const created = page.getByTestId("created-avatar");
  await expect(created).toContainText("2 faces found; using the largest", { timeout: 30_000 });
  await expect(page.getByTestId("avatar-card")).toHaveCount(1);

  // Delete it again.
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("button", { name: /^Delete two-faces/ }).click();
  await expect(page.getByRole("heading", { name: "No avatars yet" })).toBeVisible();
});
