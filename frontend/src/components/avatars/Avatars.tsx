"use client";

import Link from "next/link";
import { useEffect, useRef, useState, type ChangeEvent, type DragEvent, type FormEvent } from "react";

import { api, call, request } from "@/api/client";
import { ApiError, asApiError } from "@/api/errors";
import type { Avatar } from "@/lib/avatars";
import { gatewayHas } from "@/lib/features";
import { formatDate } from "@/lib/format";
import { useApi } from "@/lib/useApi";

import { Icon } from "../Icon";
import { ConfirmButton, Empty, ErrorNotice, Loading, Notice } from "../ui";
import { FacePreview } from "./FacePreview";

const MAX_UPLOAD_BYTES = 10_000_000; // the gateway's default MAX_UPLOAD_BYTES
const TITLES: Record<string, string> = {
  no_face: "No face found in this photo",
  face_too_small: "The face is too small",
  unsupported_media_type: "This file is not a photo NEURA can use",
  payload_too_large: "This photo is too large",
  image: "This image could not be read",
};

export function Avatars() {
  const avatars = useApi(() => call(() => api.GET("/v1/avatars", { params: { query: { limit: 100 } } })), []);
  const [created, setCreated] = useState<Avatar | null>(null);
  const items = avatars.data?.items ?? [];
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Avatars</h1>
          <p>Make an avatar from one photo of a face: front-facing, well lit, at least 80 pixels tall.</p>
        </div>
      </div>
      <div className="avatars-layout">
        <Upload
          onCreated={(avatar) => {
            setCreated(avatar);
            avatars.reload();
          }}
        />
        {created ? <Created avatar={created} /> : null}
      </div>
      <section aria-labelledby="yours" style={{ marginTop: "2rem" }}>
        <h2 id="yours">Your avatars</h2>
        {avatars.error ? <ErrorNotice error={avatars.error} onRetry={avatars.reload} /> : null}
        {avatars.loading && !avatars.data ? <Loading label="Loading your avatars" /> : null}
        {avatars.data && items.length === 0 ? (
          <Empty title="No avatars yet">
            <p>Until you upload one, videos and live sessions use the built-in presenter.</p>
          </Empty>
        ) : null}
        <ul className="cards avatar-cards">
          {items.map((avatar) => (
            <AvatarCard key={avatar.id} avatar={avatar} onDeleted={avatars.reload} />
          ))}
        </ul>
      </section>
    </>
  );
}

function Upload({ onCreated }: { onCreated: (avatar: Avatar) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [nameTyped, setNameTyped] = useState(false); // a name the user typed is kept; else the file's
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement | null>(null);

  useEffect(
    () => () => {
      if (preview) URL.revokeObjectURL(preview);
    },
    [preview],
  );

  const choose = (chosen: File | null | undefined) => {
    setError(null);
    if (!chosen) return;
    if (chosen.size > MAX_UPLOAD_BYTES) {
      setError(
        new ApiError(
          413,
          "payload_too_large",
          `The photo is ${(chosen.size / 1e6).toFixed(1)} MB; the limit is 10 MB.`,
          "Upload a smaller photo.",
        ),
      );
      return;
    }
    setFile(chosen);
    setPreview(URL.createObjectURL(chosen));
    if (!nameTyped) setName(chosen.name.replace(/\.[^.]+$/, ""));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    const form = new FormData();
    form.append("file", file);
    if (name.trim()) form.append("name", name.trim());
    try {
      const answer = await request("/v1/avatars", { method: "POST", body: form });
      onCreated((await answer.json()) as Avatar);
      setFile(null);
      setPreview(null);
      setName("");
      setNameTyped(false);
      if (input.current) input.current.value = "";
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    choose(event.dataTransfer.files[0]);
  };

  return (
    <form className="card upload" onSubmit={submit} aria-labelledby="upload-title">
      <h2 id="upload-title">New avatar</h2>
      <label
        className={`dropzone${dragging ? " dragging" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={drop}
      >
        {preview ? (
          // eslint-disable-next-line @next/next/no-img-element -- a local object URL
          <img src={preview} alt="The photo you chose" className="dropzone-preview" />
        ) : (
          <span className="stack" style={{ alignItems: "center", gap: "0.3rem" }}>
            <Icon name="upload" size={28} />
            <strong>Choose a photo</strong>
            <span className="small muted">or drop it here · JPEG, PNG or WebP, up to 10 MB</span>
          </span>
        )}
        <input
          ref={input}
          type="file"
          accept="image/jpeg,image/png,image/webp"
          className="visually-hidden"
          aria-label="Photo"
          onChange={(e: ChangeEvent<HTMLInputElement>) => choose(e.target.files?.[0])}
        />
      </label>
      {busy ? (
        <p role="status" className="row small" style={{ marginTop: "0.6rem" }}>
          <span className="spinner" aria-hidden="true" /> Finding the face and preparing the avatar (a few seconds)…
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} title={TITLES[error.code]} /> : null}
      <div className="field" style={{ marginTop: "0.75rem" }}>
        <label htmlFor="avatar-name">Name</label>
        <input
          id="avatar-name"
          type="text"
          maxLength={200}
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            setNameTyped(true);
          }}
        />
      </div>
      <button type="submit" className="btn btn-primary" disabled={!file || busy} style={{ width: "100%" }}>
        Make avatar
      </button>
    </form>
  );
}

function Created({ avatar }: { avatar: Avatar }) {
  const [sample, setSample] = useState(false);
  useEffect(() => {
    void gatewayHas("/v1/avatars/{avatar_id}/sample").then(setSample);
  }, []);
  return (
    <section className="card" aria-labelledby="created-title" data-testid="created-avatar">
      <h2 id="created-title">“{avatar.name}” is ready</h2>
      <div className="created-media">
        <FacePreview avatar={avatar} />
        {sample ? (
          <video
            className="avatar-sample"
            src={`/v1/avatars/${avatar.id}/sample`}
            autoPlay
            loop
            muted
            playsInline
            aria-label={`A short sample of ${avatar.name} speaking`}
          />
        ) : null}
      </div>
      {avatar.warnings.length ? (
        <Notice kind="warn">
          {avatar.warnings.map((w) => (
            <p key={w}>{w}</p>
          ))}
        </Notice>
      ) : (
        <Notice kind="ok">Face found: {avatar.face_px} px tall. It will animate well.</Notice>
      )}
      <div className="btn-row">
        <Link className="btn btn-primary" href={`/live?avatar=${avatar.id}&connect=1`}>
          <Icon name="live" /> See it move live
        </Link>
        <Link className="btn" href={`/videos/new?avatar=${avatar.id}`}>
          <Icon name="video" /> Make a video
        </Link>
      </div>
    </section>
  );
}

function AvatarCard({ avatar, onDeleted }: { avatar: Avatar; onDeleted: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const remove = async () => {
    setBusy(true);
    try {
      await call(() => api.DELETE("/v1/avatars/{avatar_id}", { params: { path: { avatar_id: avatar.id } } }));
      onDeleted();
    } catch (caught) {
      setError(asApiError(caught));
      setBusy(false);
    }
  };
  return (
    <li className="card avatar-card" data-testid="avatar-card">
      {/* eslint-disable-next-line @next/next/no-img-element -- served by the API with the session cookie */}
      <img src={avatar.preview_url} alt={`Avatar ${avatar.name}`} width={512} height={512} loading="lazy" />
      <h3 title={avatar.name}>{avatar.name}</h3>
      <p className="small muted">
        {avatar.width}×{avatar.height} photo · face {avatar.face_px} px · {formatDate(avatar.created_at)}
      </p>
      {avatar.warnings.map((w) => (
        <p key={w} className="small" style={{ color: "var(--warn)" }}>
          {w}
        </p>
      ))}
      {error ? <ErrorNotice error={error} /> : null}
      <div className="btn-row">
        <Link
          className="btn btn-sm"
          href={`/videos/new?avatar=${avatar.id}`}
          aria-label={`Make a video with ${avatar.name}`}
        >
          Video
        </Link>
        <Link
          className="btn btn-sm"
          href={`/live?avatar=${avatar.id}&connect=1`}
          aria-label={`Talk live with ${avatar.name}`}
        >
          Live
        </Link>
        <ConfirmButton small label="Delete" confirmLabel={`Delete ${avatar.name}`} onConfirm={remove} busy={busy} />
      </div>
    </li>
  );
}
