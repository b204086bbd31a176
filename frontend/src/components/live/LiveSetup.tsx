"use client";

import { useEffect, useId, useRef, useState, type FormEvent } from "react";

import type { ApiError } from "@/api/errors";
import type { components } from "@/api/schema";
import type { Avatar } from "@/lib/avatars";

import { ErrorNotice } from "../ui";

type Voice = components["schemas"]["VoicePublic"];

export type SetupChoice = { avatarId: string | null; voice: string | null; persona: string };

const PERSONAS: { name: string; text: string }[] = [
  { name: "Friendly guide", text: "" },
  {
    name: "Patient teacher",
    text: "You are a patient teacher for curious 12-year-olds. Explain with everyday examples and check understanding with one short question.",
  },
  {
    name: "Support agent",
    text: "You are a calm customer-support agent for a software product. Ask one clarifying question when needed and give clear next steps.",
  },
  {
    name: "Interview coach",
    text: "You are an interview coach. Ask one practice question at a time and give short, specific feedback on the answer.",
  },
];

/** Live voices speak with an engine (piper, espeak, xtts); a voice id is "engine:voice". */
function engineOf(voiceId: string): string {
  return voiceId.split(":", 1)[0] ?? voiceId;
}

export function LiveSetup({
  avatars,
  voices,
  loading,
  error,
  connecting,
  again,
  initialAvatar,
  autoConnect,
  onConnect,
}: {
  avatars: Avatar[];
  voices: Voice[];
  loading: boolean;
  error: ApiError | undefined;
  connecting: boolean;
  again: boolean;
  initialAvatar: string | null;
  autoConnect: boolean;
  onConnect: (choice: SetupChoice) => void;
}) {
  const id = useId();
  const [avatarId, setAvatarId] = useState<string>(initialAvatar ?? "");
  const [voice, setVoice] = useState<string>("");
  const [personaName, setPersonaName] = useState(PERSONAS[0]?.name ?? "");
  const [persona, setPersona] = useState("");
  const started = useRef(false);
  const engines = [...new Map(voices.map((v) => [engineOf(v.id), v])).values()];

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    onConnect({ avatarId: avatarId || null, voice: voice ? engineOf(voice) : null, persona });
  };

  useEffect(() => {
    // Straight away: the avatar comes from the link, the lists are not needed to connect.
    if (autoConnect && !started.current) {
      started.current = true;
      onConnect({ avatarId: avatarId || null, voice: null, persona: "" });
    }
  }, [autoConnect, avatarId, onConnect]);

  return (
    <form onSubmit={submit}>
      <h2>{again ? "Start another session" : "Set up the session"}</h2>
      {error ? <ErrorNotice error={error} /> : null}
      <div className="field">
        <label htmlFor={`${id}-avatar`}>Avatar</label>
        <select id={`${id}-avatar`} value={avatarId} onChange={(e) => setAvatarId(e.target.value)}>
          <option value="">Built-in presenter (public-domain portrait)</option>
          {avatars.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-voice`}>Voice</label>
        <select id={`${id}-voice`} value={voice} onChange={(e) => setVoice(e.target.value)}>
          <option value="">Default voice</option>
          {engines.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name} · {v.language} ({v.engine})
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-persona-name`}>Persona</label>
        <select
          id={`${id}-persona-name`}
          value={personaName}
          onChange={(e) => {
            setPersonaName(e.target.value);
            setPersona(PERSONAS.find((p) => p.name === e.target.value)?.text ?? persona);
          }}
        >
          {PERSONAS.map((p) => (
            <option key={p.name}>{p.name}</option>
          ))}
          <option>Custom</option>
        </select>
        <label htmlFor={`${id}-persona`} className="visually-hidden">
          Persona instructions
        </label>
        <textarea
          id={`${id}-persona`}
          rows={3}
          maxLength={4000}
          placeholder="Who the avatar is and how it should answer (optional)"
          value={persona}
          onChange={(e) => {
            setPersona(e.target.value);
            setPersonaName("Custom");
          }}
        />
      </div>
      <button type="submit" className="btn btn-primary" disabled={connecting || loading} style={{ width: "100%" }}>
        {connecting ? <span className="spinner" aria-hidden="true" /> : null}
        {connecting ? "Connecting…" : "Connect"}
      </button>
      <p className="small muted" style={{ marginTop: "0.75rem" }}>
        A live minute costs 10 credits, charged a minute at a time from when you connect.
      </p>
    </form>
  );
}
