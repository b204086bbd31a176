"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

import { api, call } from "@/api/client";
import { asApiError, type ApiError } from "@/api/errors";
import { formatDateTime, formatSeconds, stageName, videoTitle } from "@/lib/format";
import { useMe } from "@/lib/me";
import type { Sidecar } from "@/lib/sidecar";
import { useApi } from "@/lib/useApi";
import { downloadLink, isActive, useVideoProgress, type ArtifactKind, type Video } from "@/lib/videos";

import { Icon } from "../Icon";
import { ConfirmButton, Empty, ErrorNotice, Loading, Notice, ProgressBar, StatusBadge } from "../ui";
import { StageChart } from "./StageChart";

type Links = Partial<Record<ArtifactKind, string>>;
const DOWNLOADS: { kind: ArtifactKind; label: string; file: string }[] = [
  { kind: "mp4", label: "MP4 video", file: "video.mp4" },
  { kind: "srt", label: "SRT subtitles", file: "subtitles.srt" },
  { kind: "vtt", label: "VTT subtitles", file: "subtitles.vtt" },
];

function useArtifacts(video: Video | undefined): { links: Links; sidecar: Sidecar | null; error: ApiError | null } {
  const [links, setLinks] = useState<Links>({});
  const [sidecar, setSidecar] = useState<Sidecar | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (!video || video.status !== "succeeded") return;
    let live = true;
    const kinds = video.artifacts.filter((k): k is ArtifactKind =>
      ["mp4", "srt", "vtt", "thumbnail", "sidecar"].includes(k),
    );
    Promise.all(kinds.map(async (kind) => [kind, await downloadLink(video.id, kind)] as const))
      .then(async (pairs) => {
        if (!live) return;
        const found: Links = Object.fromEntries(pairs);
        setLinks(found);
        if (found.sidecar) {
          const answer = await fetch(found.sidecar);
          if (answer.ok && live) setSidecar((await answer.json()) as Sidecar);
        }
      })
      .catch((caught: unknown) => live && setError(asApiError(caught)));
    return () => {
      live = false;
    };
  }, [video]);
  return { links, sidecar, error };
}

export function VideoDetail({ id }: { id: string }) {
  const router = useRouter();
  const { refreshMe } = useMe();
  const loaded = useApi(
    () => call(() => api.GET("/v1/videos/{video_id}", { params: { path: { video_id: id } } })),
    [id],
  );
  const [actionError, setActionError] = useState<ApiError | undefined>();
  const [deleting, setDeleting] = useState(false);

  if (loaded.error?.status === 404 || loaded.error?.status === 422) {
    return (
      <Empty title="Video not found">
        <p>There is no video of yours at this address. It may have been deleted.</p>
        <Link className="btn btn-primary" href="/dashboard">
          Back to your videos
        </Link>
      </Empty>
    );
  }
  if (loaded.error) return <ErrorNotice error={loaded.error} onRetry={loaded.reload} />;
  if (!loaded.data) return <Loading label="Loading the video" lines={4} />;

  const remove = async () => {
    setDeleting(true);
    try {
      await call(() => api.DELETE("/v1/videos/{video_id}", { params: { path: { video_id: id } } }));
      refreshMe();
      router.push("/dashboard");
    } catch (caught) {
      setActionError(asApiError(caught));
      setDeleting(false);
    }
  };

  return (
    <VideoView
      video={loaded.data}
      onChange={() => {
        loaded.reload();
        refreshMe();
      }}
      onDelete={remove}
      deleting={deleting}
      actionError={actionError}
      setActionError={setActionError}
    />
  );
}

function VideoView({
  video,
  onChange,
  onDelete,
  deleting,
  actionError,
  setActionError,
}: {
  video: Video;
  onChange: () => void;
  onDelete: () => void;
  deleting: boolean;
  actionError: ApiError | undefined;
  setActionError: (e: ApiError | undefined) => void;
}) {
  const progress = useVideoProgress(video, onChange);
  const { links, sidecar, error: linkError } = useArtifacts(video);
  const [cancelling, setCancelling] = useState(false);
  const title = videoTitle(video);
  const active = isActive(progress.status);
  const scriptText = video.script ?? sidecarScript(sidecar);

  const cancel = async () => {
    setCancelling(true);
    try {
      await call(() => api.POST("/v1/videos/{video_id}/cancel", { params: { path: { video_id: video.id } } }));
      onChange();
    } catch (caught) {
      setActionError(asApiError(caught));
    } finally {
      setCancelling(false);
    }
  };

  return (
    <>
      <div className="page-head">
        <div style={{ minWidth: 0 }}>
          <p className="small">
            <Link href="/dashboard">← Your videos</Link>
          </p>
          <h1 style={{ overflowWrap: "anywhere" }}>{title}</h1>
          <p className="row">
            <StatusBadge status={progress.status} />
            <span>Created {formatDateTime(video.created_at)}</span>
          </p>
        </div>
        <div className="btn-row">
          {active ? (
            <button type="button" className="btn" onClick={cancel} disabled={cancelling || video.cancel_requested}>
              {cancelling ? <span className="spinner" aria-hidden="true" /> : null} Cancel
            </button>
          ) : null}
          <ConfirmButton label="Delete" confirmLabel="Delete this video" onConfirm={onDelete} busy={deleting} />
        </div>
      </div>
      {actionError ? <ErrorNotice error={actionError} /> : null}
      {linkError ? <ErrorNotice error={linkError} title="The video's files could not be loaded." /> : null}

      <div className="video-grid">
        <div className="stack">
          <section className="card player-card" aria-label="Video">
            {progress.status === "succeeded" && links.mp4 ? (
              <video
                controls
                playsInline
                preload="metadata"
                poster={links.thumbnail}
                src={links.mp4}
                data-testid="player"
                className={video.resolution === "512" ? "player player-square" : "player"}
              >
                {links.vtt ? <track kind="subtitles" srcLang="en" label="English" src={links.vtt} default /> : null}
              </video>
            ) : progress.status === "succeeded" ? (
              <div className="player player-placeholder">
                <Loading label="Loading the player" lines={1} />
              </div>
            ) : active ? (
              <div className="player player-placeholder" data-testid="rendering">
                <div style={{ width: "min(420px, 90%)" }}>
                  <p style={{ fontWeight: 650 }} aria-live="polite">
                    {stageName(progress.stage) || "Waiting"} · {Math.round(progress.progress * 100)} %
                  </p>
                  {progress.message ? <p className="small muted">{progress.message}</p> : null}
                  <ProgressBar value={progress.progress} label="Rendering progress" />
                  <p className="small muted" style={{ marginTop: "0.5rem" }}>
                    You can leave this page: the video keeps rendering.
                  </p>
                </div>
              </div>
            ) : (
              <div className="player player-placeholder">
                <div style={{ maxWidth: 480, textAlign: "center" }}>
                  <p style={{ fontWeight: 650 }}>
                    {progress.status === "failed" ? "This video failed." : "This video was cancelled."}
                  </p>
                  {progress.error ? <p className="muted">{progress.error}</p> : null}
                  <Link className="btn" href="/videos/new">
                    Make another
                  </Link>
                </div>
              </div>
            )}
            {progress.status === "succeeded" ? (
              <div className="btn-row" style={{ marginTop: "0.9rem" }} aria-label="Downloads" role="group">
                {DOWNLOADS.map(({ kind, label, file }) =>
                  links[kind] ? (
                    <a key={kind} className="btn btn-sm" href={links[kind]} download={file}>
                      <Icon name="download" /> {label}
                    </a>
                  ) : null,
                )}
              </div>
            ) : null}
          </section>

          {sidecar?.warnings?.length ? (
            <Notice kind="warn">
              {sidecar.warnings.map((w) => (
                <p key={w}>{w}</p>
              ))}
            </Notice>
          ) : null}

          {sidecar?.timings_s ? (
            <section className="card" aria-labelledby="timings-title">
              <h2 id="timings-title">How long each stage took</h2>
              <StageChart timings={sidecar.timings_s} videoS={video.duration_s} wallS={wallSeconds(video)} />
            </section>
          ) : null}

          <section className="card" aria-labelledby="script-title">
            <h2 id="script-title">Script</h2>
            {scriptText ? (
              <div className="script-text" data-testid="script">
                {scriptBody(scriptText).map((scene, i) => (
                  <p key={i}>{scene}</p>
                ))}
              </div>
            ) : (
              <p className="muted">
                {video.prompt
                  ? `Written from the topic “${video.prompt}” ${active ? "while the video renders" : ""}.`
                  : "No script."}
              </p>
            )}
            {sidecar?.llm ? (
              <p className="small muted">
                Written by {[sidecar.llm.provider, sidecar.llm.model].filter(Boolean).join(" · ")}.
              </p>
            ) : null}
          </section>
        </div>

        <div className="stack">
          <section className="card" aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <dl className="details">
              <dt>Length</dt>
              <dd>
                {formatSeconds(video.duration_s ?? video.target_duration_s)}
                {video.duration_s ? "" : " (target)"}
              </dd>
              <dt>Format</dt>
              <dd>{video.resolution === "512" ? "Square 512×512" : "720p presenter (1280×720)"}</dd>
              <dt>Voice</dt>
              <dd>{sidecar?.voice?.name ?? video.voice}</dd>
              <dt>Captions</dt>
              <dd>{video.captions ? "burnt in" : "subtitles only"}</dd>
              <dt>Credits</dt>
              <dd>
                {video.credits_charged !== null
                  ? `${video.credits_charged} charged`
                  : `${video.credits_reserved} reserved`}
              </dd>
            </dl>
          </section>

          {sidecar?.models?.length ? (
            <section className="card" aria-labelledby="licences-title">
              <h2 id="licences-title">Models and licences</h2>
              <ul className="licences" data-testid="licences">
                {sidecar.models.map((m) => (
                  <li key={m.name}>
                    <strong>{m.name}</strong> <span className="badge">{m.kind}</span>
                    <div className="small">{m.license}</div>
                    {m.used_for ? <div className="small muted">{m.used_for}</div> : null}
                  </li>
                ))}
              </ul>
              {sidecar.license ? <p className="small muted">NEURA itself: {sidecar.license}.</p> : null}
            </section>
          ) : null}
        </div>
      </div>
    </>
  );
}

function sidecarScript(sidecar: Sidecar | null): string | null {
  const scenes = sidecar?.script?.scenes;
  if (!scenes?.length) return null;
  const body = scenes.map((s) => s.narration).join("\n\n");
  return sidecar?.script?.title ? `# ${sidecar.script.title}\n\n${body}` : body;
}

/** The scenes of a script, without its "# Title" line (the page's heading shows the title). */
function scriptBody(text: string): string[] {
  const lines = text.split("\n");
  const body = lines[0]?.trim().startsWith("#") ? lines.slice(1).join("\n") : text;
  return body
    .split(/\n\s*\n/)
    .map((scene) => scene.trim())
    .filter(Boolean);
}

/** Seconds from a worker starting the video to its end (null until both are known). */
function wallSeconds(video: Video): number | null {
  if (!video.started_at || !video.finished_at) return null;
  return (new Date(video.finished_at).getTime() - new Date(video.started_at).getTime()) / 1000;
}
