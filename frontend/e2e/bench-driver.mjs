// The browser half of bench/web.py: Debian's Chromium (playwright-core) on the live studio page.
//
//   node e2e/bench-driver.mjs <out.json>     (NEURA_WEB_URL, NEURA_BENCH_EMAIL, NEURA_BENCH_PASSWORD,
//                                            NEURA_BENCH_LOADS, NEURA_BENCH_TURNS set by bench/web.py)
//
// 1. Page loads: a fresh browser context opens /live?connect=1 (what "Talk live" links open) for each
//    load; the time of the first video frame presented (requestVideoFrameCallback's presentationTime,
//    on the page's clock, which starts at navigation) is "page load -> first decoded frame".
// 2. Turns, in one session: a message typed into the page; every frame presented from then until
//    1.5 s after the avatar starts speaking (10 s at most) is captured (createImageBitmap) with its presentation time, and the data channel send
//    time is recorded. The frames go back as JPEG for bench/web.py to find the first open mouth with
//    the same face landmarker bench/live.py uses. Then an interrupt, and a pause.
import { readFileSync, writeFileSync } from "node:fs";

import { chromium } from "playwright-core";

const WEB = process.env.NEURA_WEB_URL;
const LOADS = Number(process.env.NEURA_BENCH_LOADS ?? 10);
const TURNS = Number(process.env.NEURA_BENCH_TURNS ?? 10);
// Frames are captured from the send until AFTER_SPEAKING_MS after the avatar starts speaking (the
// state chip), at most CAPTURE_MAX_MS: long enough for a slow first lip-synced frame on a busy machine.
const AFTER_SPEAKING_MS = 1500;
const CAPTURE_MAX_MS = 10_000;
const ARGS = JSON.parse(readFileSync(new URL("./chromium-args.json", import.meta.url), "utf8"));

// In every page: the first presented frame of any <video>, data-channel send times, and a frame
// recorder switched on and off by the driver. Nothing here changes what the app does.
const PROBE = () => {
  window.__bench = { firstFrameMs: null, sends: [], frames: [], capturing: false, peer: {} };
  // When the peer connection was made, connected, and got its video track (page clock).
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    const peer = window.__bench.peer;
    window.__bench.pc = pc;
    peer.createdMs ??= performance.now();
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected") peer.connectedMs ??= performance.now();
    });
    pc.addEventListener("track", (event) => {
      if (event.track.kind === "video") peer.trackMs ??= performance.now();
    });
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
  const send = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (data) {
    window.__bench.sends.push({ atMs: performance.now(), data: String(data) });
    return send.call(this, data);
  };
  const watch = (video) => {
    if (video.__benchWatched) return;
    video.__benchWatched = true;
    const onFrame = (now, meta) => {
      const bench = window.__bench;
      if (bench.firstFrameMs === null && video.videoWidth) bench.firstFrameMs = meta.presentationTime ?? now;
      if (bench.capturing) {
        const atMs = meta.presentationTime ?? now;
        createImageBitmap(video).then((bitmap) => bench.frames.push({ atMs, bitmap }));
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  new MutationObserver(() => document.querySelectorAll("video").forEach(watch)).observe(document, {
    childList: true,
    subtree: true,
  });
};

async function jpegFrames(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const { atMs, bitmap } of window.__bench.frames) {
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext("2d").drawImage(bitmap, 0, 0);
      const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.92 });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let binary = "";
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      out.push({ atMs, jpeg: btoa(binary) });
      bitmap.close();
    }
    window.__bench.frames = [];
    return out;
  });
}

const browser = await chromium.launch({
  executablePath: process.env.NEURA_E2E_CHROMIUM ?? "/usr/bin/chromium",
  args: ARGS,
});
const login = await browser.newContext({ baseURL: WEB });
const answer = await login.request.post("/v1/auth/session", {
  data: { email: process.env.NEURA_BENCH_EMAIL, password: process.env.NEURA_BENCH_PASSWORD },
});
if (!answer.ok()) throw new Error(`login failed: ${answer.status()} ${await answer.text()}`);
const storageState = await login.storageState();
await login.close();

async function openLive(timeoutMs = 20_000) {
  const context = await browser.newContext({ baseURL: WEB, storageState, viewport: { width: 1280, height: 860 } });
  await context.addInitScript(PROBE);
  const page = await context.newPage();
  await page.goto("/live?connect=1");
  try {
    await page.waitForFunction(() => window.__bench.firstFrameMs !== null, null, { timeout: timeoutMs, polling: 10 });
  } catch (error) {
    const shot = `${process.env.NEURA_E2E_LOGS ?? "/tmp"}/bench-no-first-frame.png`;
    await page.screenshot({ path: shot }).catch(() => undefined);
    const text = await page
      .locator("main")
      .innerText()
      .catch(() => "(no page text)");
    console.error(`no video frame in ${timeoutMs} ms; the page says:\n${text}\n(screenshot: ${shot})`);
    throw error;
  }
  const firstFrameMs = await page.evaluate(() => window.__bench.firstFrameMs);
  const steps = await page.evaluate(() => {
    const requests = performance.getEntriesByType("resource");
    const whep = requests.find((r) => r.name.includes("/v1/live/whep"));
    const features = requests.find((r) => r.name.includes("/openapi.json"));
    const nav = performance.getEntriesByType("navigation")[0];
    return {
      domContentLoadedMs: nav?.domContentLoadedEventEnd ?? null,
      featuresDoneMs: features?.responseEnd ?? null,
      whepSentMs: whep?.startTime ?? null,
      whepAnsweredMs: whep?.responseEnd ?? null,
      ...window.__bench.peer,
    };
  });
  return { context, page, firstFrameMs, steps };
}

/** The receiving side's counters (getStats inbound-rtp) for video and audio: jitter buffer, decoding. */
function receiverCounters(page) {
  return page.evaluate(async () => {
    const out = {};
    const report = await window.__bench.pc?.getStats();
    report?.forEach((s) => {
      if (s.type !== "inbound-rtp") return;
      out[s.kind] = {
        jitterBufferDelay: s.jitterBufferDelay ?? 0,
        jitterBufferTargetDelay: s.jitterBufferTargetDelay ?? 0,
        jitterBufferEmittedCount: s.jitterBufferEmittedCount ?? 0,
        totalDecodeTime: s.totalDecodeTime ?? 0,
        framesDecoded: s.framesDecoded ?? 0,
        totalProcessingDelay: s.totalProcessingDelay ?? 0,
      };
    });
    return out;
  });
}

/** Mean milliseconds per emitted frame/sample between two counter snapshots. */
function perItemMs(before, after, kind, total, count) {
  const a = before[kind];
  const b = after[kind];
  if (!a || !b || b[count] <= a[count]) return null;
  return (1000 * (b[total] - a[total])) / (b[count] - a[count]);
}

/** A stage's figure in the page's latency chart ("212 ms"), or null when it has none. */
function readout(page, stage) {
  return page
    .getByTestId("latency-chart")
    .locator(`[data-stage=${stage}] text`)
    .last()
    .textContent({ timeout: 3000 })
    .catch(() => null);
}

/** "End session", as a user would; returns once the gateway has answered the DELETE. */
async function endSession(page) {
  try {
    const deleted = page.waitForResponse(
      (r) => r.request().method() === "DELETE" && r.url().includes("/v1/live/sessions/"),
    );
    await page.getByRole("button", { name: "End session" }).click();
    await page.getByText("You ended the session.").waitFor();
    const answer = await deleted;
    if (answer.status() !== 204) throw new Error(`DELETE of the session answered ${answer.status()}`);
  } catch (error) {
    const shot = `${process.env.NEURA_BENCH_SHOTS ?? "/tmp"}/neura-bench-web-failed.png`;
    await page.screenshot({ path: shot }).catch(() => undefined);
    console.error(`ending the session failed (screenshot: ${shot})`);
    throw error;
  }
}

const result = { loads: [], turns: [] };

// Warm-up: the first session of a gateway process loads its voice and rig.
{
  const { context, page } = await openLive(60_000);
  await endSession(page);
  await context.close();
}
for (let i = 0; i < LOADS; i++) {
  const { context, page, firstFrameMs, steps } = await openLive();
  result.loads.push({ firstFrameMs, ...steps });
  const at = (ms) => (ms == null ? "-" : ms.toFixed(0));
  console.log(
    `  load ${i + 1}: first frame ${at(firstFrameMs)} ms after navigation (page ready ${at(steps.domContentLoadedMs)}, ` +
      `WHEP offer sent ${at(steps.whepSentMs)}, answered ${at(steps.whepAnsweredMs)}, ` +
      `connected ${at(steps.connectedMs)}, video track ${at(steps.trackMs)})`,
  );
  await endSession(page);
  await context.close();
}

{
  const { context, page } = await openLive();
  const state = page.getByTestId("live-state");
  await state.filter({ hasText: "Listening" }).waitFor();
  await page.waitForTimeout(1000);
  for (let turn = 0; turn <= TURNS; turn++) {
    const before = await receiverCounters(page);
    await page.evaluate(() => {
      window.__bench.frames = [];
      window.__bench.sends = [];
      window.__bench.capturing = true;
    });
    const box = page.getByLabel("Message");
    await box.fill(`Tell me about the deep ocean, please (${turn}).`);
    await box.press("Enter");
    const started = Date.now();
    await state
      .filter({ hasText: "Speaking" })
      .waitFor({ timeout: CAPTURE_MAX_MS - AFTER_SPEAKING_MS })
      .catch(() => undefined);
    await page.waitForTimeout(Math.min(AFTER_SPEAKING_MS, CAPTURE_MAX_MS - (Date.now() - started)));
    await page.evaluate(() => {
      window.__bench.capturing = false;
    });
    const after = await receiverCounters(page);
    const receiver = {
      videoJitterBufferMs: perItemMs(before, after, "video", "jitterBufferDelay", "jitterBufferEmittedCount"),
      videoJitterTargetMs: perItemMs(before, after, "video", "jitterBufferTargetDelay", "jitterBufferEmittedCount"),
      videoDecodeMs: perItemMs(before, after, "video", "totalDecodeTime", "framesDecoded"),
      videoProcessingMs: perItemMs(before, after, "video", "totalProcessingDelay", "framesDecoded"),
      audioJitterBufferMs: perItemMs(before, after, "audio", "jitterBufferDelay", "jitterBufferEmittedCount"),
    };
    const sends = await page.evaluate(() => window.__bench.sends.filter((s) => s.data.includes('"message"')));
    const pageMouthMs = await readout(page, "mouthMs");
    const serverFrameMs = await readout(page, "firstFrameSentMs");
    const frames = await jpegFrames(page);
    await page
      .getByRole("button", { name: "Interrupt" })
      .click()
      .catch(() => undefined);
    await state.filter({ hasText: "Listening" }).waitFor({ timeout: 10_000 });
    if (turn > 0) result.turns.push({ sentMs: sends[0]?.atMs ?? null, frames, pageMouthMs, serverFrameMs, receiver });
    console.log(`  turn ${turn}${turn === 0 ? " (warm-up)" : ""}: ${frames.length} frames captured`);
    await page.waitForTimeout(300);
  }
  await endSession(page);
  await context.close();
}
await browser.close();
writeFileSync(process.argv[2], JSON.stringify(result));
