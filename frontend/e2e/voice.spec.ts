import { writeFileSync } from "node:fs";

import { chromium, expect, test, type Browser, type Page, type TestInfo } from "@playwright/test";

import CHROMIUM_ARGS from "./chromium-args.json";
import { csrf, endLiveSession, expectAccessible, signUp } from "./helpers";

/**
 * Voice input in the live studio, with Chromium's fake microphone: a question spoken by NEURA's own
 * voice (POST /v1/tts, made when the test runs) is what the microphone hears, once
 * (`--use-file-for-fake-audio-capture=<wav>%noloop`, played from the moment the page opens the
 * microphone). The fake language model starts its answer with "You said: <the question>".
 */

const QUESTION = "What is the capital of France?";
const HEARD = /what is the capital of/i; // Whisper base hears "France" or "friends": either is this question
const EXECUTABLE = process.env.NEURA_E2E_CHROMIUM ?? "/usr/bin/chromium";
const NO_MICROPHONE = CHROMIUM_ARGS.filter((arg) => arg !== "--use-fake-device-for-media-stream");
// The microphone's prompt answered "Block". Without the fake prompt (which grants), Chromium hides this
// machine's addresses from WebRTC behind mDNS names, which nothing resolves inside `unshare -n`.
const BLOCKED = [
  ...CHROMIUM_ARGS.filter((arg) => arg !== "--use-fake-ui-for-media-stream"),
  "--deny-permission-prompts",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];

/** A 16-bit PCM WAV with `leadS` of silence before and `tailS` after its sound. */
function padWav(wav: Buffer, leadS: number, tailS: number): Buffer {
  let offset = 12;
  let format: Buffer | null = null;
  let data: Buffer | null = null;
  while (offset + 8 <= wav.length) {
    const id = wav.toString("ascii", offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    const body = wav.subarray(offset + 8, offset + 8 + size);
    if (id === "fmt ") format = body;
    if (id === "data") data = body;
    offset += 8 + size + (size % 2);
  }
  if (!format || !data) throw new Error("not a WAV file");
  const blockAlign = format.readUInt16LE(12);
  const rate = format.readUInt32LE(4);
  const silence = (s: number) => Buffer.alloc(Math.round(s * rate) * blockAlign);
  const samples = Buffer.concat([silence(leadS), data, silence(tailS)]);
  const header = Buffer.alloc(12);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(4 + 8 + format.length + 8 + samples.length, 4);
  header.write("WAVE", 8, "ascii");
  const chunk = (id: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, "ascii");
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  return Buffer.concat([header, chunk("fmt ", format), chunk("data", samples)]);
}

/** The question in NEURA's default voice, through the gateway's TTS, as a WAV file on disk. */
async function spokenQuestion(page: Page, path: string): Promise<string> {
  const answer = await page.request.post("/v1/tts", {
    data: { text: QUESTION, format: "wav", sample_rate_hz: 48000 },
    headers: { ...(await csrf(page)), accept: "audio/wav" }, // the file itself, not JSON
  });
  expect(answer.status(), await answer.text().catch(() => "")).toBe(200);
  writeFileSync(path, padWav(await answer.body(), 0.8, 2.0));
  return path;
}

/** Chromium's microphone hearing the spoken question once, from when the page opens it. */
async function hearingTheQuestion(page: Page, testInfo: TestInfo): Promise<string[]> {
  const wav = await spokenQuestion(page, testInfo.outputPath("question.wav"));
  return [...CHROMIUM_ARGS, `--use-file-for-fake-audio-capture=${wav}%noloop`];
}

/**
 * `body` in a browser of its own (its microphone is chosen at launch), signed in as `page`'s user, in
 * the live studio, connected; the browser is closed after.
 */
async function inLiveStudio(page: Page, args: string[], body: (live: Page) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: EXECUTABLE, args });
  try {
    const live = await connected(browser, page);
    await body(live);
    // End it as a user would: the plan allows one session at a time, and the next case opens another.
    await endLiveSession(live);
  } finally {
    await browser.close();
  }
}

async function connected(browser: Browser, page: Page): Promise<Page> {
  const context = await browser.newContext({
    baseURL: process.env.NEURA_WEB_URL,
    storageState: await page.context().storageState(),
    viewport: { width: 1280, height: 860 },
  });
  const live = await context.newPage();
  await live.goto("/live");
  await live.getByRole("button", { name: "Connect" }).click();
  await expect(live.getByTestId("live-state")).toHaveText("Listening", { timeout: 30_000 });
  await expect(live.getByRole("button", { name: "Use microphone" })).toBeVisible();
  return live;
}

type Peak = Window & { meterPeak?: number };

/** Keep the highest level the microphone meter shows (it is redrawn every frame; polling would miss it). */
async function followMeter(live: Page): Promise<void> {
  await live.evaluate(() => {
    new MutationObserver((changes) => {
      for (const change of changes) {
        const element = change.target as HTMLElement;
        if (element.dataset.testid !== "mic-meter") continue;
        const level = Number(element.style.getPropertyValue("--level")) || 0;
        (window as Peak).meterPeak = Math.max((window as Peak).meterPeak ?? 0, level);
      }
    }).observe(document.body, { attributes: true, attributeFilter: ["style"], subtree: true });
  });
}

async function expectAnswered(live: Page): Promise<void> {
  const transcript = live.getByTestId("transcript");
  await expect(transcript.locator("[data-role=user][data-final=true]").last()).toContainText(HEARD, {
    timeout: 30_000,
  });
  await expect(transcript.locator("[data-role=avatar]").last()).toContainText(/You said: what is the capital of/i, {
    timeout: 20_000,
  });
  await expect(live.getByText("Time after you stopped speaking")).toBeVisible();
}

test("voice: hands-free, a spoken question over the avatar stops it and is answered @ci", async ({
  page,
}, testInfo) => {
  await signUp(page);
  await inLiveStudio(page, await hearingTheQuestion(page, testInfo), async (live) => {
    // The avatar answers a typed message; the microphone is turned on while it speaks.
    await live.getByLabel("Message").fill("Tell me about the deep ocean");
    await live.getByLabel("Message").press("Enter");
    await expect(live.getByTestId("live-state")).toHaveText("Speaking", { timeout: 20_000 });
    await expect(live.getByRole("radio", { name: "Hands-free" })).toBeChecked();
    await followMeter(live);
    await live.getByRole("button", { name: "Use microphone" }).click();
    await expect(live.getByTestId("mic-meter")).toBeVisible();
    await expect
      .poll(() => live.evaluate(() => (window as Peak).meterPeak ?? 0), { timeout: 10_000 })
      .toBeGreaterThan(0.5);

    // Barge-in: the first answer stops short of its end, and the spoken question is answered.
    await expectAnswered(live);
    const first = live.getByTestId("transcript").locator("[data-role=avatar]").first();
    await expect(first).toHaveAttribute("data-final", "true");
    await expect(first).not.toContainText("make their own light");
    await expectAccessible(live, "live studio with the microphone on");

    await live.getByRole("button", { name: "Turn microphone off" }).click();
    await expect(live.getByRole("button", { name: "Use microphone" })).toBeVisible();
  });
});

test("voice: push-to-talk, heard only while Space is held @ci", async ({ page }, testInfo) => {
  await signUp(page);
  await inLiveStudio(page, await hearingTheQuestion(page, testInfo), async (live) => {
    await live.getByRole("radio", { name: "Push to talk" }).check();
    await live.getByRole("button", { name: "Use microphone" }).click();
    const hold = live.getByTestId("talk");
    await expect(hold).toBeVisible();
    await live.keyboard.down("Space");
    await expect(hold).toHaveAttribute("aria-pressed", "true");
    await expect(live.getByTestId("live-state")).toHaveText("Hearing you…");
    await live.waitForTimeout(3_500); // the question (0.8 s of silence, then about 2 s of speech)
    await live.keyboard.up("Space");
    await expect(hold).toHaveAttribute("aria-pressed", "false");
    await expectAnswered(live);
  });
});

test("voice: a blocked or missing microphone says so, and typing still works @ci", async ({ page }) => {
  await signUp(page);
  const cases = [
    { args: BLOCKED, message: /Microphone access is blocked/ },
    { args: NO_MICROPHONE, message: /No microphone was found/ },
  ];
  for (const { args, message } of cases) {
    await inLiveStudio(page, args, async (live) => {
      await live.getByRole("button", { name: "Use microphone" }).click();
      await expect(live.getByTestId("mic-error")).toHaveText(message);
      await expect(live.getByTestId("mic-error")).toContainText("You can still type");
      await expect(live.getByRole("button", { name: "Use microphone" })).toBeEnabled(); // to try again
      await live.getByLabel("Message").fill("Tell me about the deep ocean");
      await live.getByLabel("Message").press("Enter");
      await expect(live.getByTestId("transcript").locator("[data-role=avatar]")).toContainText("Great question!", {
        timeout: 20_000,
      });
    });
  }
});
