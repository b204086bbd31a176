"use client";

import { formatSeconds } from "@/lib/format";
import { orderedStages } from "@/lib/sidecar";

import { BarRows } from "../charts/BarRows";

const COLORS = [
  "var(--stage-1)",
  "var(--stage-2)",
  "var(--stage-3)",
  "var(--stage-4)",
  "var(--stage-5)",
  "var(--stage-6)",
];
const OVERLAPPING = new Set(["tts", "render", "encode"]);

/**
 * Where the render's time went: one bar per stage (script, avatar, voice, frames, encoding, ...).
 * The voice, the frames and the encoder run at the same time (their bars are each one's busy time),
 * so the bars add up to more than the render took: the caption gives the real wall-clock time.
 */
export function StageChart({
  timings,
  videoS,
  wallS,
}: {
  timings: Record<string, number>;
  videoS: number | null;
  wallS: number | null;
}) {
  const stages = orderedStages(timings).filter((s) => s.seconds > 0);
  if (!stages.length) return <p className="muted">No timings were recorded for this video.</p>;
  const longest = Math.max(...stages.map((s) => s.seconds));
  const summary = stages.map((s) => `${s.label} ${formatSeconds(s.seconds)}`).join(", ");
  const overlapping = stages.filter((s) => OVERLAPPING.has(s.key)).length > 1;
  return (
    <figure style={{ margin: 0 }}>
      <BarRows
        testId="stage-chart"
        label={`Time per render stage: ${summary}`}
        scale={longest}
        rows={stages.map((s, i) => ({
          key: s.key,
          label: s.label,
          value: s.seconds,
          text: formatSeconds(s.seconds),
          color: COLORS[i % COLORS.length] ?? "var(--accent)",
        }))}
      />
      <figcaption className="small muted">
        {wallS !== null ? `The render took ${formatSeconds(wallS)}` : "Rendered"}
        {videoS ? ` for ${formatSeconds(videoS)} of video` : ""}
        {wallS !== null && videoS ? ` (${(wallS / videoS).toFixed(2)}× real time)` : ""}.
        {overlapping ? " Voice, frames and encoding run at the same time: each bar is that stage's busy time." : ""}
      </figcaption>
    </figure>
  );
}
