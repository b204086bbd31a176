"use client";

import { useEffect, useRef } from "react";

import type { LiveVoiceMode } from "@/api/realtime";

import { AudioLevel } from "@/lib/live/audio-level";

import { Icon } from "../Icon";
import { Segmented } from "../Segmented";

export type MicStatus =
  | { state: "off" }
  | { state: "asking" }
  | { state: "on"; track: MediaStreamTrack }
  | { state: "error"; message: string };

const MODES = [
  { value: "hands_free", label: "Hands-free" },
  { value: "push_to_talk", label: "Push to talk" },
] as const;

/** Typing in a field: the space bar is a space there, not push-to-talk. */
function typing(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLInputElement && !["radio", "checkbox", "button"].includes(target.type))
  );
}

/**
 * Voice input: the microphone is asked for when the user turns it on (never before), then
 * hands-free (the server listens all the time; speaking over the avatar stops it) or push-to-talk
 * (hold the button or the space bar), with a live level meter. Where the session takes no voice
 * input it says so, and typing is the way to talk.
 */
export function MicControls({
  available,
  status,
  mode,
  talking,
  context,
  onEnable,
  onDisable,
  onMode,
  onTalk,
}: {
  available: boolean | null;
  status: MicStatus;
  mode: LiveVoiceMode["mode"];
  talking: boolean;
  context: AudioContext | null;
  onEnable: () => void;
  onDisable: () => void;
  onMode: (mode: LiveVoiceMode["mode"]) => void;
  onTalk: (pressed: boolean) => void;
}) {
  const meter = useRef<HTMLSpanElement | null>(null);
  const track = status.state === "on" ? status.track : null;
  const pushToTalk = track !== null && mode === "push_to_talk";

  // The meter listens to a copy of the track, which stays on while push-to-talk mutes the one sent:
  // the user sees that the microphone works before pressing.
  useEffect(() => {
    if (!track || !context) return;
    const probe = track.clone();
    probe.enabled = true;
    const level = new AudioLevel(context, new MediaStream([probe]));
    let frame = 0;
    let count = 0;
    const tick = () => {
      const value = level.meter();
      const element = meter.current;
      if (element) {
        element.style.setProperty("--level", value.toFixed(3));
        if (count++ % 8 === 0) element.setAttribute("aria-valuenow", String(Math.round(value * 100)));
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(frame);
      level.close();
      probe.stop();
    };
  }, [track, context]);

  useEffect(() => {
    if (!pushToTalk) return;
    const down = (event: KeyboardEvent) => {
      if (event.code !== "Space" || typing(event.target)) return;
      event.preventDefault(); // no page scroll, no click on a focused button
      if (!event.repeat) onTalk(true);
    };
    const up = (event: KeyboardEvent) => {
      if (event.code !== "Space" || typing(event.target)) return;
      event.preventDefault();
      onTalk(false);
    };
    const release = () => onTalk(false); // a key or button let go outside the window
    window.addEventListener("keydown", down);
    window.addEventListener("keyup", up);
    window.addEventListener("blur", release);
    return () => {
      window.removeEventListener("keydown", down);
      window.removeEventListener("keyup", up);
      window.removeEventListener("blur", release);
    };
  }, [pushToTalk, onTalk]);

  if (available === null) return null; // asked when the data channel opens
  if (!available) {
    return (
      <p className="small muted" data-testid="mic-unavailable">
        This server takes no voice input: type your messages.
      </p>
    );
  }

  return (
    <div className="mic" role="group" aria-label="Voice input" data-testid="mic">
      <Segmented name="mic-mode" label="How you talk" options={MODES} value={mode} onChange={onMode} />
      {track ? (
        <>
          {pushToTalk ? (
            <button
              type="button"
              className={`btn talk-btn${talking ? " btn-primary" : ""}`}
              aria-pressed={talking}
              aria-keyshortcuts="Space"
              data-testid="talk"
              onPointerDown={(event) => {
                event.currentTarget.setPointerCapture(event.pointerId);
                onTalk(true);
              }}
              onPointerUp={() => onTalk(false)}
              onPointerCancel={() => onTalk(false)}
              onContextMenu={(event) => event.preventDefault()} // a long press on a phone
            >
              <Icon name="mic" /> {talking ? "Talking…" : "Hold to talk (Space)"}
            </button>
          ) : null}
          <span
            className={`mic-meter${pushToTalk && !talking ? " mic-meter-idle" : ""}`}
            ref={meter}
            role="meter"
            aria-label="Microphone level"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={0}
            data-testid="mic-meter"
          />
          <button type="button" className="btn btn-sm" onClick={onDisable}>
            Turn microphone off
          </button>
        </>
      ) : (
        <button type="button" className="btn" onClick={onEnable} disabled={status.state === "asking"}>
          <Icon name="mic" /> {status.state === "asking" ? "Asking for the microphone…" : "Use microphone"}
        </button>
      )}
      {status.state === "error" ? (
        <p className="mic-error small" role="alert" data-testid="mic-error">
          {status.message}
        </p>
      ) : null}
    </div>
  );
}
