"use client";

import { useEffect, useState, type FormEvent } from "react";

import { api, call, request } from "@/api/client";
import { asApiError, type ApiError } from "@/api/errors";
import { gatewayHas } from "@/lib/features";
import { formatDateTime, formatInt, relativeTime } from "@/lib/format";
import { useMe } from "@/lib/me";
import { useApi } from "@/lib/useApi";

import { Icon } from "../Icon";
import { ConfirmButton, Empty, ErrorNotice, Loading, Notice } from "../ui";

type Provider = {
  name: string;
  model?: string | null;
  reachable: boolean;
  latency_ms?: number | null;
  error?: string | null;
};

export function Settings() {
  const { me } = useMe();
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Settings</h1>
          <p>Your account, API keys for scripts, and the language models this server can reach.</p>
        </div>
      </div>
      <div className="grid grid-2" style={{ alignItems: "start" }}>
        <section className="card" aria-labelledby="account-title">
          <h2 id="account-title">Account</h2>
          {me ? (
            <dl className="details">
              <dt>Email</dt>
              <dd>{me.email}</dd>
              <dt>Plan</dt>
              <dd style={{ textTransform: "capitalize" }}>{me.plan}</dd>
              <dt>Credits</dt>
              <dd>{formatInt(me.credits)}</dd>
              <dt>Videos</dt>
              <dd>
                up to {me.limits.max_video_s} s at {me.limits.max_resolution}, {me.limits.concurrent_jobs} at a time
              </dd>
              <dt>Live</dt>
              <dd>
                {me.limits.live_minutes} minutes a month, {me.limits.concurrent_live_sessions} session(s) at once
              </dd>
              <dt>Member since</dt>
              <dd>{formatDateTime(me.created_at)}</dd>
            </dl>
          ) : (
            <Loading lines={2} />
          )}
        </section>
        <Providers />
      </div>
      <ApiKeys />
    </>
  );
}

function Providers() {
  const [offered, setOffered] = useState<boolean | null>(null);
  const [providers, setProviders] = useState<Provider[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    void gatewayHas("/v1/llm/providers").then(async (has) => {
      setOffered(has);
      if (!has) return;
      try {
        const answer = await request("/v1/llm/providers");
        setProviders(((await answer.json()) as { items: Provider[] }).items);
      } catch (caught) {
        setError(asApiError(caught));
      }
    });
  }, []);
  return (
    <section className="card" aria-labelledby="llm-title">
      <h2 id="llm-title">Language models</h2>
      <p className="small muted">Write scripts from a topic and answer in live sessions.</p>
      {error ? <ErrorNotice error={error} /> : null}
      {offered === null ? <Loading lines={1} /> : null}
      {offered === false ? (
        <Notice kind="info">
          This server does not report which language models it can reach. Scripts you write yourself and the voices work
          without one.
        </Notice>
      ) : null}
      {providers ? (
        <ul className="licences" data-testid="providers">
          {providers.map((p) => (
            <li key={p.name} className="row spread">
              <span>
                <strong>{p.name}</strong> {p.model ? <span className="small muted">{p.model}</span> : null}
                {p.error ? <span className="small muted"> · {p.error}</span> : null}
              </span>
              <span className={`badge ${p.reachable ? "badge-succeeded" : "badge-failed"}`}>
                {p.reachable ? `reachable${p.latency_ms ? ` · ${Math.round(p.latency_ms)} ms` : ""}` : "unreachable"}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function ApiKeys() {
  const keys = useApi(() => call(() => api.GET("/v1/api-keys", { params: { query: { limit: 100 } } })), []);
  const [name, setName] = useState("");
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [copied, setCopied] = useState(false);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await call(() => api.POST("/v1/api-keys", { body: { name: name.trim() } }));
      setSecret({ name: created.name, key: created.key });
      setCopied(false);
      setName("");
      keys.reload();
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: string) => {
    try {
      await call(() => api.DELETE("/v1/api-keys/{key_id}", { params: { path: { key_id: id } } }));
      keys.reload();
    } catch (caught) {
      setError(asApiError(caught));
    }
  };

  const items = keys.data?.items ?? [];
  return (
    <section className="card" aria-labelledby="keys-title" style={{ marginTop: "1rem" }}>
      <h2 id="keys-title">API keys</h2>
      <p className="small muted">
        For scripts and the <span className="mono">neura live</span> command: send{" "}
        <span className="mono">X-API-Key: nk_…</span>. The API is documented at <a href="/docs">/docs</a>.
      </p>
      <form onSubmit={create} className="row" style={{ alignItems: "flex-end", marginBottom: "1rem" }}>
        <div className="field" style={{ flex: "1 1 220px", marginBottom: 0 }}>
          <label htmlFor="key-name">New key&apos;s name</label>
          <input
            id="key-name"
            type="text"
            maxLength={100}
            placeholder="e.g. build server"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <button type="submit" className="btn btn-primary" disabled={busy || !name.trim()}>
          <Icon name="key" /> Create key
        </button>
      </form>
      {error ? <ErrorNotice error={error} /> : null}
      {secret ? (
        <div className="notice notice-ok" role="status" data-testid="new-key">
          <Icon name="check" />
          <div className="stack" style={{ gap: "0.4rem", minWidth: 0 }}>
            <p className="notice-title">Key “{secret.name}” created. Copy it now: it is not shown again.</p>
            <code className="mono secret">{secret.key}</code>
            <div>
              <button
                type="button"
                className="btn btn-sm"
                onClick={() =>
                  void navigator.clipboard?.writeText(secret.key).then(
                    () => setCopied(true),
                    () => setCopied(false),
                  )
                }
              >
                <Icon name="copy" /> {copied ? "Copied" : "Copy"}
              </button>
            </div>
          </div>
        </div>
      ) : null}
      {keys.error ? <ErrorNotice error={keys.error} onRetry={keys.reload} /> : null}
      {keys.loading && !keys.data ? <Loading lines={2} /> : null}
      {keys.data && items.length === 0 ? <Empty title="No API keys" /> : null}
      {items.length ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Created</th>
                <th>Last used</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td className="mono">{key.prefix}…</td>
                  <td>{formatDateTime(key.created_at)}</td>
                  <td>{key.last_used_at ? relativeTime(key.last_used_at) : "never"}</td>
                  <td>
                    <ConfirmButton
                      small
                      label="Revoke"
                      confirmLabel={`Revoke ${key.name}`}
                      onConfirm={() => void revoke(key.id)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
