"use client";

import { useEffect, useRef, useState } from "react";

import { request } from "@/api/client";
import { asApiError, type ApiError } from "@/api/errors";
import { gatewayHas } from "@/lib/features";

import { Icon } from "./Icon";

export const SAMPLE_TEXT = "Hello! This is how I sound. I can read your script or talk with you live.";

/**
 * Hear a voice: its free sample when the gateway offers one, else a short sentence through the text
 * to speech API (one credit, said on the button).
 */
export function ListenButton({
  voice,
  text = SAMPLE_TEXT,
  onError,
}: {
  voice: string;
  text?: string;
  onError?: (e: ApiError) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [playing, setPlaying] = useState(false);
  const [free, setFree] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const audio = useRef<HTMLAudioElement | null>(null);

  useEffect(() => {
    void gatewayHas("/v1/voices/{voice_id}/sample").then(setFree);
    return () => audio.current?.pause();
  }, []);

  async function listen() {
    if (playing) {
      audio.current?.pause();
      setPlaying(false);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = free
        ? await request(`/v1/voices/${encodeURIComponent(voice)}/sample`)
        : await request("/v1/tts", {
            method: "POST",
            headers: { "content-type": "application/json", accept: "audio/wav" },
            body: JSON.stringify({ text, voice, format: "wav" }),
          });
      const url = URL.createObjectURL(await answer.blob());
      audio.current?.pause();
      const element = new Audio(url);
      element.onended = () => {
        setPlaying(false);
        URL.revokeObjectURL(url);
      };
      audio.current = element;
      await element.play();
      setPlaying(true);
    } catch (caught) {
      const failure = asApiError(caught);
      setError(failure);
      onError?.(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <span className="listen">
      <button
        type="button"
        className="btn"
        onClick={listen}
        disabled={busy}
        aria-label={playing ? "Stop the sample" : `Listen to this voice${free ? "" : " (1 credit)"}`}
        title={free ? undefined : "Speaks a short sample sentence: 1 credit"}
      >
        {busy ? <span className="spinner" aria-hidden="true" /> : <Icon name={playing ? "stop" : "play"} />}
        {playing ? "Stop" : "Listen"}
      </button>
      {error && !onError ? (
        <span role="alert" className="small neg">
          {error.message}
        </span>
      ) : null}
    </span>
  );
}
