"use client";

import Link from "next/link";
import { useState } from "react";

import { api, call } from "@/api/client";
import type { components } from "@/api/schema";
import { formatDateTime, formatInt } from "@/lib/format";
import { useApi } from "@/lib/useApi";

import { Empty, ErrorNotice, Loading } from "../ui";

type Entry = components["schemas"]["CreditEntryPublic"];
const PAGE = 25;

const REASONS: Record<string, string> = {
  signup: "Sign-up credits",
  grant: "Credits added",
  reserve: "Reserved for a video",
  settle: "Video finished: unused part returned",
  refund: "Video refunded",
  live: "Live session",
  speech: "Speech",
  align: "Alignment",
};

function reason(entry: Entry): string {
  return REASONS[entry.reason] ?? entry.reason.replaceAll("_", " ");
}

/** The balance over the entries shown, oldest to newest, as a small line chart. */
function BalanceChart({ entries }: { entries: Entry[] }) {
  const points = [...entries].reverse().map((e) => e.balance_after);
  if (points.length < 2) return null;
  const width = 600;
  const height = 120;
  const max = Math.max(...points, 1);
  const min = Math.min(...points, 0);
  const x = (i: number) => (i / (points.length - 1)) * (width - 8) + 4;
  const y = (v: number) => height - 8 - ((v - min) / (max - min || 1)) * (height - 16);
  const path = points.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      width="100%"
      role="img"
      aria-label={`Balance over the last ${points.length} changes: from ${formatInt(points[0] ?? 0)} to ${formatInt(points[points.length - 1] ?? 0)} credits`}
      style={{ height: "auto", marginBottom: "0.75rem" }}
    >
      <path d={`${path} L${x(points.length - 1)},${height} L${x(0)},${height} Z`} fill="var(--accent-soft)" />
      <path d={path} fill="none" stroke="var(--accent)" strokeWidth={2.5} strokeLinejoin="round" />
    </svg>
  );
}

export function Usage() {
  const [offset, setOffset] = useState(0);
  const ledger = useApi(
    () => call(() => api.GET("/v1/me/credits", { params: { query: { limit: PAGE, offset } } })),
    [offset],
  );
  const entries = ledger.data?.items ?? [];
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Usage</h1>
          <p>Every change to your credits: what you spent, what came back.</p>
        </div>
      </div>
      <div className="grid grid-3" style={{ marginBottom: "1rem" }}>
        <div className="card stat">
          <span className="label">Balance</span>
          <span className="value" data-testid="balance">
            {ledger.data ? formatInt(ledger.data.balance) : "…"}
          </span>
        </div>
        <div className="card stat">
          <span className="label">Prices</span>
          <span className="small">1 credit = 1 s of video, 6 s of live, or 1,000 characters of speech.</span>
        </div>
        <div className="card stat">
          <span className="label">Plans</span>
          <span className="small">
            See your plan&apos;s limits on the <Link href="/dashboard">dashboard</Link>.
          </span>
        </div>
      </div>
      <section className="card" aria-labelledby="ledger-title">
        <h2 id="ledger-title">Credits ledger</h2>
        {ledger.error ? <ErrorNotice error={ledger.error} onRetry={ledger.reload} /> : null}
        {ledger.loading && !ledger.data ? <Loading label="Loading the ledger" /> : null}
        {ledger.data && entries.length === 0 ? <Empty title="No credit changes yet" /> : null}
        {entries.length ? (
          <>
            <BalanceChart entries={entries} />
            <div className="table-wrap">
              <table data-testid="ledger">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>What</th>
                    <th className="num">Change</th>
                    <th className="num">Balance</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((entry) => (
                    <tr key={entry.id}>
                      <td>{formatDateTime(entry.created_at)}</td>
                      <td>
                        {entry.video_id ? (
                          <Link href={`/videos/${entry.video_id}`}>{reason(entry)}</Link>
                        ) : (
                          reason(entry)
                        )}
                        {entry.note ? <span className="small muted"> · {entry.note}</span> : null}
                      </td>
                      <td className={`num ${entry.delta >= 0 ? "pos" : "neg"}`}>
                        {entry.delta > 0 ? "+" : ""}
                        {formatInt(entry.delta)}
                      </td>
                      <td className="num">{formatInt(entry.balance_after)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
        <div className="btn-row" style={{ marginTop: "0.75rem" }}>
          <button
            type="button"
            className="btn btn-sm"
            disabled={offset === 0}
            onClick={() => setOffset(Math.max(0, offset - PAGE))}
          >
            Newer
          </button>
          <button
            type="button"
            className="btn btn-sm"
            disabled={ledger.data?.next_offset == null}
            onClick={() => setOffset(ledger.data?.next_offset ?? offset + PAGE)}
          >
            Older
          </button>
        </div>
      </section>
    </>
  );
}
