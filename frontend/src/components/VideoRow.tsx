"use client";

import Link from "next/link";
import { useEffect, useState } from "react";

import { formatSeconds, relativeTime, stageName, videoTitle } from "@/lib/format";
import { downloadLink, isActive, useVideoProgress, type Video } from "@/lib/videos";

import { Icon } from "./Icon";
import { ProgressBar, StatusBadge } from "./ui";

function Thumbnail({ video }: { video: Video }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    if (video.status !== "succeeded" || !video.artifacts.includes("thumbnail")) return;
    let live = true;
    downloadLink(video.id, "thumbnail")
      .then((url) => live && setSrc(url))
      .catch(() => undefined); // the row still reads well without its picture
    return () => {
      live = false;
    };
  }, [video.id, video.status, video.artifacts]);
  // eslint-disable-next-line @next/next/no-img-element -- a signed, short-lived URL: nothing to optimise
  if (src) return <img className="thumb" src={src} alt="" />;
  return (
    <span className="thumb">
      <Icon name="video" size={22} />
    </span>
  );
}

/** One video in a list: picture, name, live status and progress, length and cost. */
export function VideoRow({ video, onChange, live }: { video: Video; onChange: () => void; live: boolean }) {
  const progress = useVideoProgress(video, onChange, live);
  const title = videoTitle(video);
  const active = isActive(progress.status);
  return (
    <li>
      <Link href={`/videos/${video.id}`} className="video-item" data-testid="video-row" data-status={progress.status}>
        <Thumbnail video={video} />
        <div style={{ minWidth: 0 }} className="stack-sm">
          <div className="video-title">{title}</div>
          <div className="video-meta">
            {relativeTime(video.created_at)} · {video.resolution === "512" ? "square" : "720p"}
            {video.duration_s ? ` · ${formatSeconds(video.duration_s)}` : ""}
            {video.credits_charged !== null ? ` · ${video.credits_charged} credits` : ""}
          </div>
          {active ? (
            <div style={{ marginTop: "0.4rem" }}>
              <ProgressBar value={progress.progress} label={`Progress of ${title}`} />
              <div className="video-meta" aria-live="polite">
                {stageName(progress.stage)} · {Math.round(progress.progress * 100)} %
              </div>
            </div>
          ) : null}
          {progress.status === "failed" && progress.error ? (
            <div className="video-meta neg">{progress.error}</div>
          ) : null}
        </div>
        <div className="video-side">
          <StatusBadge status={progress.status} />
        </div>
      </Link>
    </li>
  );
}
