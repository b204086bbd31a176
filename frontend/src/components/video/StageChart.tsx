import { formatSeconds } from "@/lib/format";
import { orderedStages } from "@/lib/sidecar";

const COLORS = ["var(--stage-1)", "var(--stage-2)", "var(--stage-3)", "var(--stage-4)", "var(--stage-5)", "var(--stage-6)"];

/**
 * Where the render's time went: one bar for the whole render split into its stages (script, avatar,
 * voice, frames, encoding, ...), then one labelled bar per stage.
 */
export function StageChart({ timings, videoS }: { timings: Record<string, number>; videoS: number | null }) {
  const stages = orderedStages(timings).filter((s) => s.seconds > 0);
  const total = stages.reduce((sum, s) => sum + s.seconds, 0);
  if (!stages.length || total <= 0) return <p className="muted">No timings were recorded for this video.</p>;
  const width = 640;
  const labelW = 110;
  const valueW = 64;
  const barW = width - labelW - valueW;
  const rowH = 24;
  const stackTop = 4;
  const rowsTop = 44;
  const height = rowsTop + stages.length * rowH + 4;
  const longest = Math.max(...stages.map((s) => s.seconds));
  const starts = stages.map((_, i) => stages.slice(0, i).reduce((sum, s) => sum + s.seconds, 0));
  const summary = stages.map((s) => `${s.label} ${formatSeconds(s.seconds)}`).join(", ");
  return (
    <figure style={{ margin: 0 }}>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        role="img"
        aria-label={`Render time ${formatSeconds(total)}: ${summary}`}
        data-testid="stage-chart"
        style={{ height: "auto", fontFamily: "inherit" }}
      >
        {stages.map((s, i) => {
          const x = ((starts[i] ?? 0) / total) * width;
          const w = (s.seconds / total) * width;
          return <rect key={`stack-${s.key}`} x={x} y={stackTop} width={Math.max(1, w - 1.5)} height={22} rx={3} fill={COLORS[i % COLORS.length]} />;
        })}
        {stages.map((s, i) => {
          const y = rowsTop + i * rowH;
          return (
            <g key={s.key}>
              <text x={0} y={y + 15} fontSize="12" fill="var(--text-2)">
                {s.label}
              </text>
              <rect x={labelW} y={y + 4} width={Math.max(2, (s.seconds / longest) * barW)} height={14} rx={4} fill={COLORS[i % COLORS.length]} />
              <text x={width} y={y + 15} fontSize="12" textAnchor="end" fill="var(--text)" fontWeight={600}>
                {formatSeconds(s.seconds)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="small muted">
        Rendered in {formatSeconds(total)}
        {videoS ? ` for ${formatSeconds(videoS)} of video (${(total / videoS).toFixed(2)}× real time)` : ""}.
      </figcaption>
    </figure>
  );
}
