"use client";

import { useEffect, useRef, useState } from "react";

import { api, call } from "@/api/client";
import type { VideoEvent } from "@/api/realtime";
import type { components } from "@/api/schema";

export type Video = components["schemas"]["VideoPublic"];
export type ArtifactKind = components["schemas"]["DownloadLink"]["kind"];
export type Progress = Pick<Video, "status" | "stage" | "progress" | "error"> & { message?: string | null };

const NAMED_EVENTS = ["state", "progress", "status", "completed", "failed", "cancelled"] as const;
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const POLL_MS = 3000;

export function isActive(status: string): boolean {
  return status === "queued" || status === "running";
}

/**
 * A video's live progress from its event stream (Server-Sent Events through the web origin, cookie
 * authenticated), or by polling (stream false, or when the stream cannot be opened). Calls onDone
 * once the video has finished.
 */
export function useVideoProgress(video: Video, onDone: () => void, stream = true): Progress {
  // Progress reported for this very video object; a newer object (a reload) starts from its own state.
  const [reported, setReported] = useState<{ video: Video; progress: Progress } | null>(null);
  const done = useRef(onDone);
  useEffect(() => {
    done.current = onDone;
  });

  useEffect(() => {
    if (!isActive(video.status)) return;
    const setProgress = (progress: Progress) => setReported({ video, progress });
    let finished = false;
    let poll: ReturnType<typeof setInterval> | undefined;
    let source: EventSource | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      source?.close();
      if (poll) clearInterval(poll);
      done.current();
    };
    const startPolling = () => {
      poll ??= setInterval(() => {
        call(() => api.GET("/v1/videos/{video_id}", { params: { path: { video_id: video.id } } }))
          .then((fresh) => {
            setProgress(fresh);
            if (!isActive(fresh.status)) finish();
          })
          .catch(() => undefined); // offline for a moment: the next poll tries again
      }, POLL_MS);
    };
    if (!stream) {
      startPolling();
    } else {
      source = new EventSource(`/v1/videos/${video.id}/events`);
      const onEvent = (message: MessageEvent<string>) => {
        const event = JSON.parse(message.data) as VideoEvent;
        setProgress({
          status: event.status,
          stage: event.stage ?? null,
          progress: event.progress,
          error: event.error ?? null,
          message: "message" in event ? event.message : null,
        });
        if (TERMINAL.has(event.type) || !isActive(event.status)) finish();
      };
      for (const name of NAMED_EVENTS) source.addEventListener(name, onEvent);
      source.onerror = () => {
        if (source?.readyState === EventSource.CLOSED && !finished) startPolling();
      };
    }
    return () => {
      finished = true;
      source?.close();
      if (poll) clearInterval(poll);
    };
  }, [video, stream]);

  return reported?.video === video ? reported.progress : video;
}

/** A signed link's path on this origin: the web server forwards /v1 to the gateway, so players,
 * <track> and download links are same-origin whatever PUBLIC_BASE_URL says. */
export function sameOrigin(url: string): string {
  const parsed = new URL(url, window.location.origin);
  return parsed.pathname + parsed.search;
}

export async function downloadLink(videoId: string, kind: ArtifactKind): Promise<string> {
  const link = await call(() =>
    api.GET("/v1/videos/{video_id}/download", { params: { path: { video_id: videoId }, query: { kind } } }),
  );
  return sameOrigin(link.url);
}
