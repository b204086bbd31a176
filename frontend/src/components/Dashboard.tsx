"use client";

import Link from "next/link";

import { api, call } from "@/api/client";
import { formatInt } from "@/lib/format";
import { useMe } from "@/lib/me";
import { useApi } from "@/lib/useApi";
import { isActive } from "@/lib/videos";

import { Icon } from "./Icon";
import { VideoRow } from "./VideoRow";
import { Empty, ErrorNotice, Loading } from "./ui";

const LIVE_STREAMS_MAX = 3; // event streams open at once (a browser allows 6 connections per origin)

export function Dashboard() {
  const { me, refreshMe } = useMe();
  const videos = useApi(() => call(() => api.GET("/v1/videos", { params: { query: { limit: 12 } } })), []);
  const items = videos.data?.items ?? [];
  let streams = 0;

  const changed = () => {
    videos.reload();
    refreshMe();
  };

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Dashboard</h1>
          <p>Your plan, your credits and your latest videos.</p>
        </div>
        <div className="btn-row">
          <Link href="/live" className="btn">
            <Icon name="live" /> Talk live
          </Link>
          <Link href="/videos/new" className="btn btn-primary">
            <Icon name="plus" /> New video
          </Link>
        </div>
      </div>

      <section className="grid grid-3" aria-label="Your account" style={{ marginBottom: "2rem" }}>
        <div className="card stat">
          <span className="label">Credits</span>
          <span className="value" data-testid="credits">
            {me ? formatInt(me.credits) : "…"}
          </span>
          <span className="small muted">1 credit = 1 s of video · 10 = a live minute</span>
        </div>
        <div className="card stat">
          <span className="label">Plan</span>
          <span className="value" style={{ textTransform: "capitalize" }}>
            {me?.plan ?? "…"}
          </span>
          <span className="small muted">
            {me
              ? `videos up to ${me.limits.max_video_s} s at ${me.limits.max_resolution}, ${me.limits.concurrent_jobs} at a time`
              : ""}
          </span>
        </div>
        <div className="card stat">
          <span className="label">Live minutes a month</span>
          <span className="value">{me ? formatInt(me.limits.live_minutes) : "…"}</span>
          <span className="small muted">{me ? `${me.limits.concurrent_live_sessions} session(s) at once` : ""}</span>
        </div>
      </section>

      <section aria-labelledby="recent">
        <div className="row spread" style={{ marginBottom: "0.75rem" }}>
          <h2 id="recent" style={{ margin: 0 }}>
            Recent videos
          </h2>
        </div>
        {videos.error ? <ErrorNotice error={videos.error} onRetry={videos.reload} /> : null}
        {videos.loading && !videos.data ? <Loading label="Loading your videos" /> : null}
        {videos.data && items.length === 0 ? (
          <Empty title="No videos yet">
            <p>Write a script or give a topic, pick an avatar and a voice: your first video takes about a minute.</p>
            <Link href="/videos/new" className="btn btn-primary">
              <Icon name="plus" /> Make your first video
            </Link>
          </Empty>
        ) : null}
        {items.length > 0 ? (
          <ul className="video-list">
            {items.map((video) => {
              const live = isActive(video.status) && streams++ < LIVE_STREAMS_MAX;
              return <VideoRow key={video.id} video={video} onChange={changed} live={live} />;
            })}
          </ul>
        ) : null}
      </section>
    </>
  );
}
