import { formatMs } from "@/lib/format";

export type TurnTiming = {
  turnId: number | null;
  text: string;
  sentAtMs: number;
  llmFirstTokenMs?: number | null;
  firstClauseMs?: number | null;
  firstAudioMs?: number | null;
  firstAudioSentMs?: number | null;
  firstFrameSentMs?: number | null;
  heardMs?: number | null;
  mouthMs?: number | null;
  interrupted?: boolean;
};

const ROWS: { key: keyof TurnTiming; label: string; where: "server" | "browser"; color: string }[] = [
  { key: "llmFirstTokenMs", label: "Language model: first word", where: "server", color: "var(--stage-1)" },
  { key: "firstClauseMs", label: "First phrase ready", where: "server", color: "var(--stage-2)" },
  { key: "firstAudioMs", label: "Voice: first audio", where: "server", color: "var(--stage-3)" },
  { key: "firstFrameSentMs", label: "First speaking frame sent", where: "server", color: "var(--stage-4)" },
  { key: "heardMs", label: "Voice heard here", where: "browser", color: "var(--stage-5)" },
  { key: "mouthMs", label: "Lips moving on screen", where: "browser", color: "var(--stage-6)" },
];

/**
 * One turn's latency, stage by stage, as a picture: each bar runs from the moment the message was
 * sent to the moment that stage was reached (server stages from the gateway's latency message,
 * browser stages measured here with WebAudio and requestVideoFrameCallback).
 */
export function LatencyChart({ turn }: { turn: TurnTiming }) {
  const values = ROWS.map((row) => ({ ...row, ms: turn[row.key] as number | null | undefined }));
  const known = values.map((v) => v.ms ?? 0);
  const scaleMs = Math.max(300, Math.ceil(Math.max(...known) / 100) * 100);
  const width = 640;
  const labelW = 200;
  const valueW = 70;
  const barW = width - labelW - valueW;
  const rowH = 26;
  const top = 8;
  const height = top + values.length * rowH + 28;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round((f * scaleMs) / 10) * 10);
  const summary = values
    .filter((v) => v.ms !== null && v.ms !== undefined)
    .map((v) => `${v.label}: ${formatMs(v.ms)}`)
    .join("; ");
  return (
    <figure style={{ margin: 0 }}>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        role="img"
        aria-label={`Latency of turn ${turn.turnId ?? ""}: ${summary || "waiting for figures"}`}
        data-testid="latency-chart"
        style={{ maxWidth: "100%", height: "auto", fontFamily: "inherit" }}
      >
        {ticks.map((tick) => {
          const x = labelW + (tick / scaleMs) * barW;
          return (
            <g key={tick}>
              <line x1={x} x2={x} y1={top - 2} y2={height - 22} stroke="var(--border)" strokeDasharray="3 3" />
              <text x={x} y={height - 6} textAnchor="middle" fontSize="11" fill="var(--muted)">
                {tick} ms
              </text>
            </g>
          );
        })}
        {values.map((row, i) => {
          const y = top + i * rowH;
          const w = row.ms ? Math.max(2, (row.ms / scaleMs) * barW) : 0;
          return (
            <g key={row.key} data-stage={row.key}>
              <text x={0} y={y + 16} fontSize="12" fill="var(--text-2)">
                {row.label}
                <tspan fill="var(--muted)" fontSize="10">{row.where === "browser" ? "  (browser)" : ""}</tspan>
              </text>
              <rect x={labelW} y={y + 5} width={barW} height={14} rx={4} fill="var(--surface-2)" />
              {w ? <rect x={labelW} y={y + 5} width={w} height={14} rx={4} fill={row.color} /> : null}
              <text x={width} y={y + 16} fontSize="12" textAnchor="end" fill="var(--text)" fontWeight={600}>
                {row.ms === null || row.ms === undefined ? "…" : formatMs(row.ms)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="small muted">
        Milliseconds after the message was sent{turn.interrupted ? " · this answer was interrupted" : ""}.
      </figcaption>
    </figure>
  );
}
