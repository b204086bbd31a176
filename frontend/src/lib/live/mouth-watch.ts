/**
 * When did the avatar's mouth first move on screen? Every presented video frame
 * (requestVideoFrameCallback) is reduced to the mouth region of NEURA's portrait framing (the rig
 * centres the face: the mouth sits around 50-62 % of the height, 38-62 % of the width) and the share
 * of its pixels much darker than the region's idle median: an open mouth shows its dark inside.
 * The idle level is learnt while the avatar listens; a turn's first frame clearly above it is the
 * first lip-synced frame, timed on the browser's clock (the frame's presentation time).
 */
const SIZE_PX = 96;
const REGION = { x0: 0.38, x1: 0.62, y0: 0.49, y1: 0.63 };
const DARK = 0.55; // a pixel darker than 55 % of the idle median luminance
const MARGIN = 0.03; // this much more dark area than ever seen idle

type FrameCallback = (now: DOMHighResTimeStamp, metadata: VideoFrameCallbackMetadata) => void;
type VideoWithFrames = HTMLVideoElement & {
  requestVideoFrameCallback(callback: FrameCallback): number;
  cancelVideoFrameCallback(handle: number): void;
};

export type FrameSample = { presentedMs: number; dark: number };

export class MouthWatch {
  private readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private handle = 0;
  private idleMedian = 0;
  private idleDarkMax = 0;
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

  /** Learning the idle mouth only while the avatar is known to be silent. */
  listening = true;

  stop(): void {
    this.stopped = true;
    if (this.handle && "cancelVideoFrameCallback" in this.video) {
      (this.video as VideoWithFrames).cancelVideoFrameCallback(this.handle);
    }
  }

  private readonly frame: FrameCallback = (_now, metadata) => {
    if (this.stopped) return;
    this.framesPresented += 1;
    const presentedMs = metadata.presentationTime ?? _now;
    if (this.firstFrameMs === null) {
      this.firstFrameMs = presentedMs;
      this.onFirstFrame?.(presentedMs);
    }
    const dark = this.measure();
    if (this.listening && !this.waiting) {
      this.idleFrames += 1;
      this.idleDarkMax = Math.max(this.idleDarkMax * 0.999, dark);
    }
    const waiting = this.waiting;
    if (waiting && presentedMs >= waiting.sinceMs && this.idleFrames >= 5 && dark > this.idleDarkMax + MARGIN) {
      this.waiting = null;
      waiting.resolve(presentedMs);
    }
    this.handle = (this.video as VideoWithFrames).requestVideoFrameCallback(this.frame);
  };

  private measure(): number {
    const { videoWidth: w, videoHeight: h } = this.video;
    if (!w || !h) return 0;
    this.context.drawImage(this.video, 0, 0, SIZE_PX, SIZE_PX);
    const x = Math.round(REGION.x0 * SIZE_PX);
    const y = Math.round(REGION.y0 * SIZE_PX);
    const width = Math.round((REGION.x1 - REGION.x0) * SIZE_PX);
    const height = Math.round((REGION.y1 - REGION.y0) * SIZE_PX);
    const { data } = this.context.getImageData(x, y, width, height);
    const luma: number[] = [];
    for (let i = 0; i < data.length; i += 4) {
      luma.push(0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0));
    }
    if (this.listening && !this.waiting) {
      const sorted = [...luma].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
      this.idleMedian = this.idleMedian ? 0.9 * this.idleMedian + 0.1 * median : median;
    }
    const threshold = this.idleMedian * DARK;
    let dark = 0;
    for (const value of luma) if (value < threshold) dark += 1;
    return dark / luma.length;
  }
}
