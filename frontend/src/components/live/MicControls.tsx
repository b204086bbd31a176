"use client";

import { useEffect, useRef } from "react";

import { AudioLevel } from "@/lib/live/audio-level";

import { Icon } from "../Icon";
import { Segmented } from "../Segmented";

export type MicMode = "off" | "push" | "hands-free";

const MIC_MODES = [
  { value: "push", label: "Push to talk" },
  { value: "hands-free", label: "Hands-free" },
] as const;

/**
 * Voice input: push-to-talk (hold the button or the space bar) or hands-free (the server listens all
 * the time; speaking over the avatar interrupts it), with a live microphone level from WebAudio.
 * Shown disabled, with the reason, until the server announces voice input for the session.
 */
export function MicControls({
  available,
  mode,
  onMode,
  track,
  context,
  onTalk,
}: {
  available: boolean;
  mode: MicMode;
  onMode: (mode: MicMode) => void;
  track: MediaStreamTrack | null;
  context: AudioContext | null;
  onTalk: (on: boolean) => void;
}) {
  const meter = useRef<HTMLSpanElement | null>(null);

  useEffect(() => {
    if (!available || !track || !context) return;
    const level = new AudioLevel(context, new MediaStream([track]));
    let frame = 0;
    const tick = () => {
      meter.current?.style.setProperty("--level", (track.enabled ? level.meter() : 0).toFixed(3));
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(frame);
      level.close();
    };
  }, [available, track, context]);

  useEffect(() => {
    if (!available || mode !== "push" || !track) return;
    const down = (event: KeyboardEvent) => {
      if (
        event.code === "Space" &&
        !(event.target instanceof HTMLTextAreaElement) &&
        !(event.target instanceof HTMLInputElement)
      ) {
        event.preventDefault();
        onTalk(true);
      }
    };
    const up = (event: KeyboardEvent) => {
      if (event.code === "Space") onTalk(false);
    };
    window.addEventListener("keydown", down);
    window.addEventListener("keyup", up);
    return () => {
      window.removeEventListener("keydown", down);
      window.removeEventListener("keyup", up);
    };
  }, [available, mode, track, onTalk]);

  const talk = (on: boolean) => {
    if (mode === "push") onTalk(on);
  };

  return (
    <div className="mic" role="group" aria-label="Voice input">
      <Segmented
        name="mic-mode"
        label="Microphone"
        options={MIC_MODES}
        value={mode}
        onChange={onMode}
        disabled={!available}
      />
      {available && mode === "push" ? (
        <button
          type="button"
          className="btn"
          onPointerDown={() => talk(true)}
          onPointerUp={() => talk(false)}
          onPointerLeave={() => talk(false)}
          aria-keyshortcuts="Space"
        >
          <Icon name="mic" /> Hold to talk
        </button>
      ) : null}
      <span className="mic-meter" ref={meter} aria-hidden="true" />
      {!available ? (
        <span className="small muted">Voice input is not offered by this server yet: type instead.</span>
      ) : null}
    </div>
  );
}
