"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";

import { api, call, request } from "@/api/client";
import { asApiError, type ApiError } from "@/api/errors";
import { gatewayHas } from "@/lib/features";
import { formatInt, formatSeconds } from "@/lib/format";
import { useMe } from "@/lib/me";
import { useApi } from "@/lib/useApi";
import { estimateCost, scriptStats } from "@/lib/cost";

import { AvatarChoices } from "../AvatarChoices";
import { Icon } from "../Icon";
import { ListenButton } from "../ListenButton";
import { Segmented } from "../Segmented";
import { ErrorNotice, Notice } from "../ui";

type Source = "script" | "prompt";
const SOURCES = [
  { value: "script", label: "My script" },
  { value: "prompt", label: "A topic (AI writes it)" },
] as const;
const FORMATS = [
  { value: "720p", label: "720p presenter" },
  { value: "512", label: "Square 512" },
] as const;
type Draft = { title?: string; text: string; llm?: { provider?: string; model?: string } | null; warnings?: string[] };

const EXAMPLE_SCRIPT = `# Three tips for better sleep

Keep the same bedtime every day, even at weekends. Your body clock loves a routine.

Put screens away half an hour before bed. Their light tells your brain it is still daytime.

Keep your bedroom cool, dark and quiet. Sweet dreams!`;

export function NewVideoForm() {
  const router = useRouter();
  const params = useSearchParams();
  const { me } = useMe();
  const avatars = useApi(() => call(() => api.GET("/v1/avatars", { params: { query: { limit: 100 } } })), []);
  const voices = useApi(() => call(() => api.GET("/v1/voices")), []);
  const [source, setSource] = useState<Source>("script");
  const [script, setScript] = useState("");
  const [prompt, setPrompt] = useState("");
  const [durationS, setDurationS] = useState(30);
  const [avatarId, setAvatarId] = useState<string>(params.get("avatar") ?? "");
  const [voice, setVoice] = useState("piper");
  const [resolution, setResolution] = useState<"720p" | "512">("720p");
  const [captions, setCaptions] = useState(false);
  const [customBackground, setCustomBackground] = useState(false);
  const [background, setBackground] = useState("#1e2a44");
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const [drafting, setDrafting] = useState(false);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [draftsOffered, setDraftsOffered] = useState(false);
  const idempotencyKey = useRef<string>("");

  useEffect(() => {
    void gatewayHas("/v1/scripts").then(setDraftsOffered);
  }, []);

  const maxS = me?.limits.max_video_s ?? 60;
  const stats = useMemo(() => scriptStats(script), [script]);
  const cost = estimateCost(source === "script" ? { script } : { durationS });
  const tooLong = cost.targetS > maxS;
  const short = me ? cost.reserve > me.credits : false;
  const empty = source === "script" ? stats.words === 0 : prompt.trim().length === 0;

  // A new submission key whenever what would be submitted changes: a double click or a retry after a
  // network failure sends the same key (the gateway returns the first video), a real change a new one.
  const body = {
    ...(source === "script" ? { script } : { prompt: prompt.trim(), duration_s: durationS }),
    avatar_id: avatarId || null,
    voice,
    resolution,
    captions,
    background: customBackground ? background : null,
  };
  const bodyKey = JSON.stringify(body);
  useEffect(() => {
    idempotencyKey.current = crypto.randomUUID();
  }, [bodyKey]);

  async function writeDraft() {
    setDrafting(true);
    setError(undefined);
    try {
      const answer = await request("/v1/scripts", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: prompt.trim(), duration_s: durationS }),
      });
      const written = (await answer.json()) as Draft;
      setDraft(written);
      setScript(written.text);
      setSource("script");
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setDrafting(false);
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const video = await call(() =>
        api.POST("/v1/videos", {
          body,
          params: { header: { "Idempotency-Key": (idempotencyKey.current ||= crypto.randomUUID()) } },
        }),
      );
      router.push(`/videos/${video.id}`);
    } catch (caught) {
      setError(asApiError(caught));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="new-video" aria-describedby={error ? "submit-error" : undefined}>
      <div className="new-video-main stack">
        <section className="card" aria-labelledby="what">
          <div className="row spread" style={{ marginBottom: "0.75rem" }}>
            <h2 id="what" style={{ margin: 0 }}>
              What should the avatar say?
            </h2>
            <Segmented name="source" label="Start from" options={SOURCES} value={source} onChange={setSource} />
          </div>

          {source === "script" ? (
            <div className="field">
              <label htmlFor="script">Script</label>
              {draft ? (
                <Notice kind="ok">
                  Draft written{draft.llm?.model ? ` by ${draft.llm.model}` : ""}. Edit anything, then render.
                  {draft.warnings?.length ? ` ${draft.warnings.join(" ")}` : ""}
                </Notice>
              ) : null}
              <textarea
                id="script"
                rows={12}
                maxLength={20000}
                value={script}
                placeholder={EXAMPLE_SCRIPT}
                onChange={(e) => setScript(e.target.value)}
                aria-describedby="script-help script-stats"
              />
              <span className="help" id="script-help">
                An optional first line <span className="mono"># Title</span>, then scenes separated by blank lines. Each
                scene&apos;s first sentence becomes its caption in the 720p layout.{" "}
                {!script ? (
                  <button type="button" className="btn btn-sm btn-ghost" onClick={() => setScript(EXAMPLE_SCRIPT)}>
                    Use the example
                  </button>
                ) : null}
              </span>
              <span className="help" id="script-stats" aria-live="polite">
                {stats.words} words · {stats.scenes} scene{stats.scenes === 1 ? "" : "s"} · about{" "}
                {formatSeconds(cost.targetS)} of video
              </span>
            </div>
          ) : (
            <>
              <div className="field">
                <label htmlFor="prompt">Topic or instructions</label>
                <textarea
                  id="prompt"
                  rows={4}
                  maxLength={2000}
                  value={prompt}
                  placeholder="Explain photosynthesis for 10-year-olds, with one everyday example."
                  onChange={(e) => setPrompt(e.target.value)}
                />
              </div>
              <div className="field">
                <label htmlFor="duration">Target length: {formatSeconds(durationS)}</label>
                <input
                  id="duration"
                  type="range"
                  min={5}
                  max={Math.max(5, maxS)}
                  step={5}
                  value={Math.min(durationS, Math.max(5, maxS))}
                  onChange={(e) => setDurationS(Number(e.target.value))}
                  aria-valuetext={formatSeconds(durationS)}
                />
                <span className="help">Your plan makes videos up to {formatSeconds(maxS)}.</span>
              </div>
              {draftsOffered ? (
                <div className="btn-row">
                  <button type="button" className="btn" onClick={writeDraft} disabled={drafting || !prompt.trim()}>
                    {drafting ? <span className="spinner" aria-hidden="true" /> : <Icon name="sparkle" />} Write the
                    script first
                  </button>
                  <span className="small muted">See and edit the draft before rendering.</span>
                </div>
              ) : (
                <p className="small muted">
                  The language model writes the script while the video renders; the video page shows it.
                </p>
              )}
            </>
          )}
        </section>

        <section className="card" aria-labelledby="who">
          <h2 id="who">Avatar</h2>
          {avatars.error ? <ErrorNotice error={avatars.error} onRetry={avatars.reload} /> : null}
          <AvatarChoices name="avatar" avatars={avatars.data?.items ?? []} value={avatarId} onChange={setAvatarId} />
          <p className="small muted" style={{ marginTop: "0.6rem" }}>
            <Link href="/avatars">Upload your own photo</Link> to make a new avatar.
          </p>
        </section>

        <section className="card" aria-labelledby="how">
          <h2 id="how">Voice and look</h2>
          <div className="grid grid-2">
            <div className="field">
              <label htmlFor="voice">Voice</label>
              <div className="row" style={{ flexWrap: "nowrap" }}>
                <select id="voice" value={voice} onChange={(e) => setVoice(e.target.value)}>
                  <option value="piper">Default voice</option>
                  {(voices.data?.items ?? []).map((v) => (
                    <option key={v.id} value={v.id}>
                      {v.name} · {v.language} ({v.engine})
                    </option>
                  ))}
                </select>
                <ListenButton voice={voice} />
              </div>
            </div>
            <fieldset>
              <legend>Format</legend>
              <div style={{ marginTop: "0.35rem" }}>
                <Segmented
                  name="resolution"
                  label="Format"
                  options={FORMATS}
                  value={resolution}
                  onChange={setResolution}
                />
              </div>
            </fieldset>
          </div>
          <div className="row" style={{ gap: "1.5rem" }}>
            <label className="check">
              <input type="checkbox" checked={captions} onChange={(e) => setCaptions(e.target.checked)} />
              Burn captions into the picture
            </label>
            <label className="check">
              <input
                type="checkbox"
                checked={customBackground}
                onChange={(e) => setCustomBackground(e.target.checked)}
              />
              Custom background
            </label>
            {customBackground ? (
              <label className="check">
                <input
                  type="color"
                  value={background}
                  onChange={(e) => setBackground(e.target.value)}
                  aria-label="Background colour"
                />
                <span className="mono">{background}</span>
              </label>
            ) : null}
          </div>
          <p className="small muted" style={{ marginTop: "0.5rem" }}>
            Subtitles (SRT and VTT) come with every video, captions burnt in or not.
          </p>
        </section>
      </div>

      <aside className="new-video-side">
        <section className="card cost-card" aria-labelledby="cost">
          <h2 id="cost">Cost</h2>
          <p className="cost-figure" data-testid="cost">
            <strong>{formatInt(cost.reserve)}</strong> credits reserved
          </p>
          <p className="small muted">
            You pay 1 credit per second of the finished video (about {formatInt(cost.expected)} here); the rest of the
            reservation comes back when it is done.
          </p>
          {me ? (
            <p className="small">
              Balance: {formatInt(me.credits)} credits
              {short ? "" : ` → at least ${formatInt(me.credits - cost.reserve)} while it renders`}
            </p>
          ) : null}
          {tooLong ? (
            <Notice kind="warn">
              About {formatSeconds(cost.targetS)}: your {me?.plan ?? ""} plan allows {formatSeconds(maxS)}. Shorten the{" "}
              {source === "script" ? "script" : "target length"}.
            </Notice>
          ) : null}
          {short && !tooLong ? <Notice kind="warn">Not enough credits for this video.</Notice> : null}
          <div id="submit-error">{error ? <ErrorNotice error={error} /> : null}</div>
          <button
            type="submit"
            className="btn btn-primary"
            style={{ width: "100%" }}
            disabled={busy || empty || tooLong}
          >
            {busy ? <span className="spinner" aria-hidden="true" /> : <Icon name="play" />} Render video
          </button>
        </section>
      </aside>
    </form>
  );
}
