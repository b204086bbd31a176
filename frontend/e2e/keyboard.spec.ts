import { expect, test } from "@playwright/test";

import { signUp } from "./helpers";

test("keyboard only: skip link, reach and use the new-video form, submit with Enter @ci", async ({ page }) => {
  await signUp(page);
  await page.goto("/videos/new");
  await expect(page.getByRole("heading", { name: "New video" })).toBeVisible();

  // The first Tab lands on the skip link; Enter moves focus to the page's content.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("#main")).toBeFocused();

  // Tab on to the script box and type; every control on the way is reachable.
  const script = page.getByLabel("Script", { exact: true });
  for (let i = 0; i < 20 && !(await script.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(script).toBeFocused();
  await page.keyboard.type("Typed with the keyboard only, from the first key to the last.");

  // On to the submit button, then Enter.
  const submit = page.getByRole("button", { name: "Render video" });
  for (let i = 0; i < 40 && !(await submit.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(submit).toBeFocused();
  const outline = await submit.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline, "focus is visible").not.toBe("none");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/videos\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: /Typed with the keyboard only/ })).toBeVisible();
});
