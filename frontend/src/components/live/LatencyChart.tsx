import { formatMs } from "@/lib/format";

import { BarRows } from "../charts/BarRows";

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
  /** Spoken, not typed: the browser's clock starts when the user stopped speaking. */
  voice?: boolean;
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
  const scaleMs = Math.max(300, Math.ceil(Math.max(...values.map((v) => v.ms ?? 0)) / 100) * 100);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round((f * scaleMs) / 10) * 10);
  const summary = values
    .filter((v) => v.ms !== null && v.ms !== undefined)
    .map((v) => `${v.label}: ${formatMs(v.ms)}`)
    .join("; ");
  return (
    <figure style={{ margin: 0 }}>
      <BarRows
        testId="latency-chart"
        label={`Latency of turn ${turn.turnId ?? ""}: ${summary || "waiting for figures"}`}
        scale={scaleMs}
        ticks={ticks}
        tickText={(tick) => `${tick} ms`}
        rows={values.map((v) => ({
          key: v.key,
          label: (
            <>
              {v.label}
              {v.where === "browser" ? (
                <tspan fill="var(--muted)" fontSize="11">
                  {"  "}(browser)
                </tspan>
              ) : null}
            </>
          ),
          value: v.ms ?? null,
          text: v.ms === null || v.ms === undefined ? "…" : formatMs(v.ms),
          color: v.color,
        }))}
      />
      <figcaption className="small muted">
        {turn.voice ? "Time after you stopped speaking" : "Time after the message was sent"}
        {turn.interrupted ? " · this answer was interrupted" : ""}.
      </figcaption>
    </figure>
  );
}
