import { expect, test } from "@playwright/test";

import { csrf, signUp } from "./helpers";

test("another user's video address shows 'not found' @ci", async ({ browser }) => {
  const owner = await browser.newPage();
  await signUp(owner);
  const answer = await owner.request.post("/v1/videos", {
    data: { script: "A private video of the first user." },
    headers: await csrf(owner),
  });
  expect(answer.status()).toBe(202);
  const { id } = (await answer.json()) as { id: string };
  await owner.goto(`/videos/${id}`);
  await expect(owner.getByRole("heading", { name: /A private video/ })).toBeVisible();

  const other = await browser.newPage(); // a separate context: its own cookies
  await signUp(other);
  await other.goto(`/videos/${id}`);
  await expect(other.getByRole("heading", { name: "Video not found" })).toBeVisible();
  const direct = await other.request.get(`/v1/videos/${id}`);
  expect(direct.status()).toBe(404);
  // Answers forwarded to the gateway never name its internal address (Next.js's rewrite header).
  const internal = process.env.NEURA_API_URL ?? "";
  expect(internal).not.toBe("");
  for (const answered of [direct, await other.request.get("/healthz"), await other.request.get("/v1/voices")]) {
    const headers = answered.headersArray();
    expect(
      headers.filter((h) => h.value.includes(internal) || h.name.toLowerCase().startsWith("x-middleware")),
    ).toEqual([]);
  }
  await owner.close();
  await other.close();
});

test("errors read as messages with hints; offline is shown @ci", async ({ page }) => {
  const email = await signUp(page);
  // A script longer than the free plan's 60 s: the gateway's 403 and its hint are shown as they are.
  await page.goto("/videos/new");
  const long = Array.from({ length: 40 }, () => "This sentence has exactly seven words in it.").join(" ");
  await page.getByLabel("Script", { exact: true }).fill(long);
  await expect(page.getByText(/your free plan allows 1 min 00 s/)).toBeVisible();
  await expect(page.getByRole("button", { name: "Render video" })).toBeDisabled();

  // Signing up twice with one email: the gateway's message.
  await page.getByRole("button", { name: "Log out" }).first().click();
  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("another password 1");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("alert").filter({ hasText: /./ })).toContainText(/already/i);

  // Wrong password: one answer for both cases.
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("wrong password!");
  await page.getByLabel("Password").press("Enter"); // the keyboard submits
  await expect(page.getByRole("alert").filter({ hasText: /./ })).toContainText(/email or password/i);

  // Offline: the studio says so, and says when it is back.
  await page.getByLabel("Password").fill("correct horse battery 9");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  // (In the test's network namespace the browser already believes it is offline, so the events the
  // browser fires when a network goes away and comes back are sent by hand.)
  // (The banner is what is checked: a page whose data could not load meanwhile says so in a notice too.)
  const banner = page.getByRole("status").filter({ hasText: "You are offline." });
  await page.context().setOffline(true);
  await page.evaluate(() => window.dispatchEvent(new Event("offline")));
  await expect(banner).toBeVisible();
  await page.context().setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await expect(banner).toBeHidden({ timeout: 15_000 });
});
