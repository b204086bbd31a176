/**
 * Every page at phone (390 px) and desktop width, in the light and the dark theme: an accessibility
 * scan (axe-core: no serious or critical violation) and a screenshot kept in
 * e2e/artifacts/screenshots/<theme>-<width>/<page>.jpg (scripts/screenshots.sh copies them to docs/).
 */
import { mkdirSync, readFileSync } from "node:fs";

import { expect, test, type Browser, type BrowserContextOptions, type Page } from "@playwright/test";

import { connectLive, csrf, endLiveSession, expectAccessible, fixture, renderScriptVideo, signUp } from "./helpers";

const SHOTS = "e2e/artifacts/screenshots";
const WIDTHS: Record<string, BrowserContextOptions> = {
  desktop: { viewport: { width: 1280, height: 860 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
};
const THEMES = (process.env.NEURA_E2E_THEMES ?? "light,dark").split(",") as ("light" | "dark")[];
/** Only these pages (comma-separated names, e.g. NEURA_E2E_PAGES=live to refresh one picture); all by default. */
const ONLY = process.env.NEURA_E2E_PAGES?.split(",");

type Content = { storage: Awaited<ReturnType<ReturnType<Page["context"]>["storageState"]>>; videoId: string };
let content: Content;

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ browser }) => {
  test.setTimeout(240_000);
  const page = await browser.newPage();
  await signUp(page);
  const photo = await page.request.post("/v1/avatars", {
    multipart: {
      file: { name: "astronaut.jpg", mimeType: "image/jpeg", buffer: readFileSync(fixture("portrait.jpg")) },
      name: "Astronaut",
    },
    headers: await csrf(page),
  });
  expect(photo.status(), await photo.text()).toBe(201);
  // The pages that show a video (skipped when only others are asked for).
  const needsVideo = !ONLY || ONLY.some((name) => ["dashboard", "video"].includes(name));
  const videoId = needsVideo
    ? await renderScriptVideo(
        page,
        "# Three tips for better sleep\n\nKeep the same bedtime every day. Your body clock loves a routine.\n\nPut screens away half an hour before bed.",
      )
    : "";
  if (!ONLY || ONLY.includes("live")) {
    // One turn first, so the pictures show a warm server's timings rather than its first-turn start-up.
    await connectLive(page);
    await page.getByLabel("Message").fill("Hello");
    await page.getByLabel("Message").press("Enter");
    await expect(page.getByTestId("live-state")).toHaveText("Speaking", { timeout: 30_000 });
    await endLiveSession(page);
  }
  const key = await page.request.post("/v1/api-keys", { data: { name: "build server" }, headers: await csrf(page) });
  expect(key.status()).toBe(201);
  content = { storage: await page.context().storageState(), videoId };
  await page.close();
});

async function open(browser: Browser, theme: "light" | "dark", width: string, signedIn: boolean): Promise<Page> {
  const context = await browser.newContext({
    ...WIDTHS[width],
    colorScheme: theme,
    baseURL: process.env.NEURA_WEB_URL,
    storageState: signedIn ? content.storage : undefined,
  });
  return context.newPage();
}

async function shoot(page: Page, theme: string, width: string, name: string): Promise<void> {
  await expectAccessible(page, `${name} (${theme}, ${width})`);
  // Nothing wider than the screen: no sideways scrolling (and no zoomed-out page on a phone).
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} (${width}) is wider than the screen`).toBeLessThanOrEqual(0);
  const folder = `${SHOTS}/${theme}-${width}`;
  mkdirSync(folder, { recursive: true });
  // A full-page picture: the phone's fixed bars go where they sit when the page is scrolled to them.
  const style = await page.addStyleTag({ content: ".topbar, .bottom-nav { position: static !important; }" });
  await page.screenshot({
    path: `${folder}/${name}.jpg`,
    type: "jpeg",
    quality: 80,
    fullPage: true,
    animations: "disabled",
  });
  await style.evaluate((element) => (element as Element).remove());
}

const PAGES: { name: string; path: (c: Content) => string; signedIn: boolean; ready: (page: Page) => Promise<void> }[] =
  [
    {
      name: "landing",
      path: () => "/",
      signedIn: false,
      ready: (p) => expect(p.getByRole("heading", { level: 1 })).toBeVisible(),
    },
    {
      name: "login",
      path: () => "/login",
      signedIn: false,
      ready: (p) => expect(p.getByRole("button", { name: "Log in" })).toBeVisible(),
    },
    {
      name: "signup",
      path: () => "/signup",
      signedIn: false,
      ready: (p) => expect(p.getByRole("button", { name: "Create account" })).toBeVisible(),
    },
    {
      name: "dashboard",
      path: () => "/dashboard",
      signedIn: true,
      ready: (p) => expect(p.getByTestId("video-row")).toHaveCount(1),
    },
    {
      name: "new-video",
      path: () => "/videos/new",
      signedIn: true,
      ready: async (p) => {
        await expect(p.getByRole("radio", { name: "Astronaut" })).toBeVisible();
        await p.getByRole("button", { name: "Use the example" }).click();
      },
    },
    {
      name: "video",
      path: (c) => `/videos/${c.videoId}`,
      signedIn: true,
      ready: async (p) => {
        await expect(p.getByTestId("stage-chart")).toBeVisible();
        await expect(p.getByTestId("licences")).toBeVisible();
      },
    },
    {
      name: "avatars",
      path: () => "/avatars",
      signedIn: true,
      ready: (p) => expect(p.getByTestId("avatar-card")).toHaveCount(1),
    },
    {
      name: "voices",
      path: () => "/voices",
      signedIn: true,
      ready: async (p) => void (await expect(p.getByTestId("voice-card").first()).toBeVisible()),
    },
    {
      name: "live",
      path: () => "/live",
      signedIn: true,
      ready: async (p) => {
        await p.getByRole("button", { name: "Connect" }).click();
        await expect(p.getByTestId("live-state")).toHaveText("Listening", { timeout: 30_000 });
        // The microphone controls in the picture: push-to-talk (Chromium's fake microphone beeps; held
        // back until the button is pressed, so the answer below is the typed message's) and its meter.
        await p.getByRole("radio", { name: "Push to talk" }).check();
        await p.getByRole("button", { name: "Use microphone" }).click();
        await expect(p.getByTestId("talk")).toBeVisible();
        await expect(p.getByTestId("mic-meter")).toBeVisible();
        await p.getByLabel("Message").fill("Tell me about the deep ocean");
        await p.getByLabel("Message").press("Enter");
        await expect(p.getByTestId("latency-chart").locator("[data-stage=firstFrameSentMs] text").last()).toHaveText(
          /[\d.]+ m?s$/,
          {
            timeout: 20_000,
          },
        );
        // The browser's own reading too, when it comes within a few seconds (the picture is the point here).
        await expect(p.getByTestId("latency-chart").locator("[data-stage=mouthMs] text").last())
          .toHaveText(/[\d.]+ m?s$/, { timeout: 8_000 })
          .catch(() => undefined);
      },
    },
    {
      name: "settings",
      path: () => "/settings",
      signedIn: true,
      ready: (p) => expect(p.getByText("build server")).toBeVisible(),
    },
    {
      name: "usage",
      path: () => "/usage",
      signedIn: true,
      ready: (p) => expect(p.getByTestId("ledger")).toBeVisible(),
    },
    {
      name: "not-found",
      path: () => "/videos/00000000-0000-4000-8000-000000000000",
      signedIn: true,
      ready: (p) => expect(p.getByRole("heading", { name: "Video not found" })).toBeVisible(),
    },
  ];

for (const theme of THEMES) {
  for (const width of Object.keys(WIDTHS)) {
    test(`every page, ${theme} theme, ${width} width${theme === "light" ? " @ci" : ""}`, async ({ browser }) => {
      test.setTimeout(240_000);
      for (const entry of PAGES.filter((p) => !ONLY || ONLY.includes(p.name))) {
        await test.step(entry.name, async () => {
          const page = await open(browser, theme, width, entry.signedIn);
          await page.goto(entry.path(content));
          await entry.ready(page);
          await shoot(page, theme, width, entry.name);
          if (entry.name === "live") await endLiveSession(page);
          await page.context().close();
        });
      }
    });
  }
}
