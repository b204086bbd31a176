"use client";

import { useEffect, useState } from "react";

type Figures = {
  framesDecoded: number;
  fps: number | null;
  width: number | null;
  height: number | null;
  rttMs: number | null;
  jitterMs: number | null;
};

/** What getStats() says about the media: frames decoded, frame rate, size, round trip, jitter. */
export function ConnectionStats({ pc }: { pc: RTCPeerConnection }) {
  const [figures, setFigures] = useState<Figures | null>(null);
  useEffect(() => {
    let live = true;
    const read = async () => {
      const report = await pc.getStats();
      const next: Figures = { framesDecoded: 0, fps: null, width: null, height: null, rttMs: null, jitterMs: null };
      report.forEach((stat: Record<string, unknown>) => {
        if (stat.type === "inbound-rtp" && stat.kind === "video") {
          next.framesDecoded = Number(stat.framesDecoded ?? 0);
          next.fps = typeof stat.framesPerSecond === "number" ? stat.framesPerSecond : null;
          next.width = typeof stat.frameWidth === "number" ? stat.frameWidth : null;
          next.height = typeof stat.frameHeight === "number" ? stat.frameHeight : null;
        }
        if (stat.type === "inbound-rtp" && stat.kind === "audio" && typeof stat.jitter === "number") {
          next.jitterMs = stat.jitter * 1000;
        }
        if (stat.type === "candidate-pair" && stat.nominated && typeof stat.currentRoundTripTime === "number") {
          next.rttMs = stat.currentRoundTripTime * 1000;
        }
      });
      if (live) setFigures(next);
    };
    const timer = setInterval(() => void read().catch(() => undefined), 1000);
    void read().catch(() => undefined);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [pc]);

  if (!figures) return null;
  return (
    <dl className="conn-stats small muted" data-testid="connection-stats">
      <div>
        <dt>Frames decoded</dt>
        <dd data-testid="frames-decoded">{figures.framesDecoded}</dd>
      </div>
      <div>
        <dt>Frame rate</dt>
        <dd>{figures.fps !== null ? `${figures.fps} fps` : "–"}</dd>
      </div>
      <div>
        <dt>Size</dt>
        <dd>{figures.width ? `${figures.width}×${figures.height}` : "–"}</dd>
      </div>
      <div>
        <dt>Round trip</dt>
        <dd>{figures.rttMs !== null ? `${figures.rttMs.toFixed(1)} ms` : "–"}</dd>
      </div>
      <div>
        <dt>Audio jitter</dt>
        <dd>{figures.jitterMs !== null ? `${figures.jitterMs.toFixed(1)} ms` : "–"}</dd>
      </div>
    </dl>
  );
}
