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

/**
 * Where the render's time went: one bar for the whole render split into its stages (script, avatar,
 * voice, frames, encoding, ...), then one labelled bar per stage.
 */
export function StageChart({ timings, videoS }: { timings: Record<string, number>; videoS: number | null }) {
  const stages = orderedStages(timings).filter((s) => s.seconds > 0);
  const total = stages.reduce((sum, s) => sum + s.seconds, 0);
  if (!stages.length || total <= 0) return <p className="muted">No timings were recorded for this video.</p>;
  const starts = stages.map((_, i) => stages.slice(0, i).reduce((sum, s) => sum + s.seconds, 0));
  const longest = Math.max(...stages.map((s) => s.seconds));
  const summary = stages.map((s) => `${s.label} ${formatSeconds(s.seconds)}`).join(", ");
  return (
    <figure style={{ margin: 0 }}>
      <BarRows
        testId="stage-chart"
        label={`Render time ${formatSeconds(total)}: ${summary}`}
        scale={longest}
        top={(width) =>
          stages.map((s, i) => (
            <rect
              key={`stack-${s.key}`}
              x={((starts[i] ?? 0) / total) * width}
              y={4}
              width={Math.max(1, (s.seconds / total) * width - 1.5)}
              height={22}
              rx={3}
              fill={COLORS[i % COLORS.length]}
            />
          ))
        }
        rows={stages.map((s, i) => ({
          key: s.key,
          label: s.label,
          value: s.seconds,
          text: formatSeconds(s.seconds),
          color: COLORS[i % COLORS.length] ?? "var(--accent)",
        }))}
      />
      <figcaption className="small muted">
        Rendered in {formatSeconds(total)}
        {videoS ? ` for ${formatSeconds(videoS)} of video (${(total / videoS).toFixed(2)}× real time)` : ""}.
      </figcaption>
    </figure>
  );
}
