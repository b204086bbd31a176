/**
 * When did the avatar's mouth first move on screen? Every presented video frame
 * (requestVideoFrameCallback) is reduced to the mouth region of NEURA's portrait framing (the rig
 * centres the face: the mouth sits around 49-63 % of the height, 38-62 % of the width) in grey levels.
 * While the avatar listens, the page learns that region's idle look (a running average) and how far
 * idle frames stray from it (blinks, breathing and head motion move it a little). After a message, the
 * first frame that differs from the idle look by clearly more than any idle frame did (an opening
 * mouth shows its dark inside, teeth and tongue), or whose share of dark pixels (much darker than the
 * idle region's median: the inside of an open mouth) clearly exceeds any idle frame's, is the turn's
 * first lip-synced frame, timed on the browser's clock (the frame's presentation time). The dark
 * share sees lips that just part: the whole region's difference alone saw only a wide-open mouth, three
 * or four frames later. In bench/web.py, which compares the page's reading with face landmarks, it now
 * fires on the frame before the one whose inner-lip gap first exceeds 4 % of the mouth's width (the
 * lips parting), 24-90 ms after the server sent the first speaking frame: never before it.
 */
const SIZE_PX = 192;
const DARK_RATIO = 0.65; // a pixel darker than this share of the idle region's median: the mouth's inside
const DARK_MARGIN = 0.005; // and half a percent of the region more of them than any idle frame had
const REGION = { x0: 0.38, x1: 0.62, y0: 0.49, y1: 0.63 };
const IDLE_FRAMES_MIN = 12; // about half a second of idle frames before a turn can be judged
const WARM_UP_FRAMES = 6; // the first frames of a stream (the decoder settling) teach nothing
const STRAY_DECAY = 0.98; // per frame: what idle frames did a second or two ago still counts

type FrameCallback = (now: DOMHighResTimeStamp, metadata: VideoFrameCallbackMetadata) => void;
type VideoWithFrames = HTMLVideoElement & {
  requestVideoFrameCallback(callback: FrameCallback): number;
  cancelVideoFrameCallback(handle: number): void;
};

export class MouthWatch {
  private readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private handle = 0;
  private idle: Float32Array | null = null; // the region's idle look (running average)
  private idleStrayMax = 0; // the most an idle frame differed from it
  private darkLevel = 0; // grey level under which a pixel counts as dark (from the idle region's median)
  private idleDarkMax = 0; // the largest share of dark pixels an idle frame had
  private idleFrames = 0;
  private waiting: { sinceMs: number; resolve: (ms: number) => void } | null = null;
  private stopped = false;
  framesPresented = 0;
  firstFrameMs: number | null = null;
  onFirstFrame: ((presentedMs: number) => void) | null = null;

  constructor(private readonly video: HTMLVideoElement) {
    this.canvas = document.createElement("canvas");
    this.canvas.width = SIZE_PX;
    this.canvas.height = SIZE_PX;
    const context = this.canvas.getContext("2d", { willReadFrequently: true });
    if (!context) throw new Error("no 2D canvas");
    this.context = context;
    if (!("requestVideoFrameCallback" in video)) return;
    this.handle = (video as VideoWithFrames).requestVideoFrameCallback(this.frame);
  }

  /** Resolves with the presentation time (performance.now() clock) of the first open-mouth frame after sinceMs. */
  nextOpenMouth(sinceMs: number): Promise<number> {
    return new Promise((resolve) => {
      this.waiting = { sinceMs, resolve };
    });
  }

  /** Whether the avatar's mouth is known to be at rest (listening or thinking, not speaking): the
   * idle look is learnt only then. */
  listening = true;

  stop(): void {
    this.stopped = true;
    if (this.handle && "cancelVideoFrameCallback" in this.video) {
      (this.video as VideoWithFrames).cancelVideoFrameCallback(this.handle);
    }
  }

  private readonly frame: FrameCallback = (now, metadata) => {
    if (this.stopped) return;
    this.framesPresented += 1;
    const presentedMs = metadata.presentationTime ?? now;
    if (this.firstFrameMs === null) {
      this.firstFrameMs = presentedMs;
      this.onFirstFrame?.(presentedMs);
    }
    const region = this.region();
    if (region) this.judge(region, presentedMs);
    this.handle = (this.video as VideoWithFrames).requestVideoFrameCallback(this.frame);
  };

  private judge(region: Float32Array, presentedMs: number): void {
    const idle = this.idle;
    const stray = idle ? meanAbsDiff(region, idle) : 0;
    const dark = darkShare(region, this.darkLevel);
    const waiting = this.waiting;
    const learnt = this.idleFrames >= IDLE_FRAMES_MIN;
    const opened = stray > this.idleStrayMax * 1.5 + 3 || dark > this.idleDarkMax + DARK_MARGIN;
    if (waiting && learnt && presentedMs >= waiting.sinceMs && opened) {
      this.waiting = null;
      waiting.resolve(presentedMs);
      return;
    }
    if (!this.listening) return;
    this.idleFrames += 1;
    if (!idle || this.idleFrames <= WARM_UP_FRAMES) {
      this.idle = region;
      this.darkLevel = DARK_RATIO * median(region);
      return;
    }
    this.idleStrayMax = Math.max(this.idleStrayMax * STRAY_DECAY, stray);
    this.idleDarkMax = Math.max(this.idleDarkMax * STRAY_DECAY, dark);
    for (let i = 0; i < idle.length; i++) idle[i] = 0.9 * (idle[i] ?? 0) + 0.1 * (region[i] ?? 0);
    this.darkLevel = DARK_RATIO * median(idle);
  }

  /** The mouth region of the current frame, in grey levels (0-255). */
  private region(): Float32Array | null {
    const { videoWidth: w, videoHeight: h } = this.video;
    if (!w || !h) return null;
    this.context.drawImage(this.video, 0, 0, SIZE_PX, SIZE_PX);
    const x = Math.round(REGION.x0 * SIZE_PX);
    const y = Math.round(REGION.y0 * SIZE_PX);
    const width = Math.round((REGION.x1 - REGION.x0) * SIZE_PX);
    const height = Math.round((REGION.y1 - REGION.y0) * SIZE_PX);
    const { data } = this.context.getImageData(x, y, width, height);
    const out = new Float32Array(width * height);
    for (let i = 0, j = 0; i < data.length; i += 4, j++) {
      out[j] = 0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0);
    }
    return out;
  }
}

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

/** The share of `region`'s pixels darker than `level`. */
function darkShare(region: Float32Array, level: number): number {
  let dark = 0;
  for (let i = 0; i < region.length; i++) if ((region[i] ?? 255) < level) dark += 1;
  return region.length ? dark / region.length : 0;
}

function median(values: Float32Array): number {
  const sorted = Float32Array.from(values).sort();
  return sorted.length ? (sorted[sorted.length >> 1] ?? 0) : 0;
}
