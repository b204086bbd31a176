import { readFileSync } from "node:fs";
import path from "node:path";

import { expect, type Page } from "@playwright/test";

const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const FIXTURES = process.env.NEURA_E2E_FIXTURES ?? "";
export const PASSWORD = "correct horse battery 9";

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

export function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}@example.com`;
}

/** Sign up through the page; ends on the dashboard. */
export async function signUp(page: Page, email = uniqueEmail("user")): Promise<string> {
  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  return email;
}

/** axe-core in the page: fails on any serious or critical violation. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: Document,
            opts: object,
          ) => Promise<{
            violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad, `${where}: accessibility violations\n${JSON.stringify(bad, null, 1)}`).toEqual([]);
}

/** The session's CSRF token (the page's own cookie), for API calls made by a test through the web origin. */
export async function csrf(page: Page): Promise<Record<string, string>> {
  const cookie = (await page.context().cookies()).find((c) => c.name === "neura_csrf");
  return cookie ? { "X-CSRF-Token": cookie.value } : {};
}

/** Submit a script video through the API (the page's session) and wait until it has rendered. */
export async function renderScriptVideo(page: Page, script: string): Promise<string> {
  const answer = await page.request.post("/v1/videos", { data: { script }, headers: await csrf(page) });
  expect(answer.status(), await answer.text()).toBe(202);
  const { id } = (await answer.json()) as { id: string };
  await expect
    .poll(async () => ((await (await page.request.get(`/v1/videos/${id}`)).json()) as { status: string }).status, {
      timeout: 180_000,
      intervals: [1000],
    })
    .toBe("succeeded");
  return id;
}

/** Mean absolute difference (0-255) of the avatar's mouth region between two moments of the <video>. */
export const MOUTH_SAMPLER = `(video) => {
  const canvas = document.createElement("canvas");
  canvas.width = 128; canvas.height = 128;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, 128, 128);
  const { data } = ctx.getImageData(49, 63, 30, 18);
  const out = [];
  for (let i = 0; i < data.length; i += 4) out.push(0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]);
  return out;
}`;

/** "End session" as a user would; returns once the gateway has answered the DELETE (so a browser closed
 * right after cannot leave the session open for the next test). */
export async function endLiveSession(page: Page): Promise<void> {
  const deleted = page.waitForResponse(
    (r) => r.request().method() === "DELETE" && r.url().includes("/v1/live/sessions/"),
  );
  await page.getByRole("button", { name: "End session" }).click();
  await expect(page.getByText("You ended the session.")).toBeVisible();
  expect((await deleted).status()).toBe(204);
}

/** Open the live studio and connect; returns the session's id (from the WHEP answer's Location). */
export async function connectLive(page: Page, path = "/live"): Promise<string> {
  await page.goto(path);
  const created = page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/v1/live/whep"));
  await page.getByRole("button", { name: "Connect" }).click();
  const location = (await created).headers()["location"] ?? "";
  await expect(page.getByTestId("live-state")).toHaveText("Listening", { timeout: 30_000 });
  return location.split("/").pop() ?? "";
}

/** Wait until the gateway's log (the e2e stack's) shows a DELETE of this live session answered 204. */
export async function expectDeletedOnGateway(sessionId: string, timeoutMs = 10_000): Promise<void> {
  const log = path.join(process.env.NEURA_E2E_LOGS ?? "", "gateway.log");
  await expect
    .poll(() => readFileSync(log, "utf8").includes(`"DELETE /v1/live/sessions/${sessionId} HTTP/1.1" 204`), {
      timeout: timeoutMs,
      message: `no DELETE of live session ${sessionId} in ${log}`,
    })
    .toBe(true);
}
