"use client";

import { useState, type ReactNode } from "react";

import type { ApiError } from "@/api/errors";

import { Icon } from "./Icon";

/** An API error as people read it: what happened, what to do (the gateway's hint), and an id to quote. */
export function ErrorNotice({ error, title, onRetry }: { error: ApiError; title?: string; onRetry?: () => void }) {
  return (
    <div className="notice notice-error" role="alert" data-error-code={error.code}>
      <Icon name="alert" />
      <div className="stack" style={{ gap: "0.25rem" }}>
        <p className="notice-title">{title ?? error.message}</p>
        {title ? <p>{error.message}</p> : null}
        {error.hint ? <p className="small">{error.hint}</p> : null}
        {error.retryAfterS ? <p className="small">You can try again in {Math.ceil(error.retryAfterS)} s.</p> : null}
        {error.requestId ? (
          <p className="small muted">
            Request id: <span className="mono">{error.requestId}</span>
          </p>
        ) : null}
        {onRetry ? (
          <div>
            <button type="button" className="btn btn-sm" onClick={onRetry}>
              Try again
            </button>
          </div>
        ) : null}
      </div>
    </div>
  );
}

export function Notice({ kind, children }: { kind: "info" | "warn" | "ok"; children: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === "warn" ? "status" : undefined}>
      <Icon name={kind === "ok" ? "check" : kind === "warn" ? "alert" : "info"} />
      <div>{children}</div>
    </div>
  );
}

export function Loading({ label = "Loading…", lines = 3 }: { label?: string; lines?: number }) {
  return (
    <div role="status" aria-live="polite" className="stack" style={{ gap: "0.6rem" }}>
      <span className="visually-hidden">{label}</span>
      {Array.from({ length: lines }, (_, i) => (
        <div
          key={i}
          className="skeleton"
          style={{ height: i === 0 ? "1.4rem" : "3.2rem", width: i === 0 ? "40%" : "100%" }}
        />
      ))}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
    >
      <div style={{ width: `${percent}%` }} />
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status === "running" ? "rendering" : status}</span>;
}

/** A destructive action that asks once more in place (no modal, keyboard friendly). */
export function ConfirmButton({
  label,
  confirmLabel,
  onConfirm,
  busy,
  small,
}: {
  label: string;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  small?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const size = small ? " btn-sm" : "";
  if (!asking) {
    return (
      <button type="button" className={`btn btn-danger${size}`} onClick={() => setAsking(true)} disabled={busy}>
        <Icon name="trash" /> {label}
      </button>
    );
  }
  return (
    <span className="btn-row" role="group" aria-label={confirmLabel}>
      <button type="button" className={`btn btn-danger-solid${size}`} onClick={onConfirm} disabled={busy} autoFocus>
        {busy ? <span className="spinner" aria-hidden="true" /> : null} {confirmLabel}
      </button>
      <button type="button" className={`btn${size}`} onClick={() => setAsking(false)} disabled={busy}>
        Keep it
      </button>
    </span>
  );
}
