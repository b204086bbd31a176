"use client";

import { useSearchParams } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";

import { api, call } from "@/api/client";
import { ApiError, asApiError } from "@/api/errors";
import type { LiveServerMessage, LiveState as LiveStateMessage, LiveVoiceMode } from "@/api/realtime";
import { AudioLevel } from "@/lib/live/audio-level";
import { MouthWatch } from "@/lib/live/mouth-watch";
import { microphoneError, openMicrophone } from "@/lib/live/microphone";
import { LiveSession } from "@/lib/live/session";
import { useMe } from "@/lib/me";
import { useApi } from "@/lib/useApi";

import { ErrorNotice } from "../ui";
import { ConnectionStats } from "./ConnectionStats";
import { LatencyChart, type TurnTiming } from "./LatencyChart";
import { LiveChat, type Line } from "./LiveChat";
import { LiveSetup, type SetupChoice } from "./LiveSetup";
import { MicControls, type MicStatus } from "./MicControls";

type Phase = "setup" | "connecting" | "live" | "ended";
type LiveState = LiveStateMessage["state"];
type VoiceMode = LiveVoiceMode["mode"];

const HEARD_DBFS = -45; // the avatar's voice has started (silence is digital zero)
const CLOSE_REASONS: Record<string, string> = {
  deleted: "You ended the session.",
  idle: "The session ended after a while without messages.",
  disconnected: "The connection was lost.",
  credits: "You have run out of credits.",
  plan_minutes_used: "This month's live minutes are used up.",
  shutdown: "The server is restarting.",
};

export function LiveStudio() {
  const params = useSearchParams();
  const { refreshMe } = useMe();
  const avatars = useApi(() => call(() => api.GET("/v1/avatars", { params: { query: { limit: 100 } } })), []);
  const voices = useApi(() => call(() => api.GET("/v1/voices")), []);
  const [phase, setPhase] = useState<Phase>("setup");
  const [error, setError] = useState<ApiError | undefined>();
  const [state, setState] = useState<LiveState>("listening");
  const [lines, setLines] = useState<Line[]>([]);
  const [turns, setTurns] = useState<TurnTiming[]>([]);
  const [endReason, setEndReason] = useState<string | null>(null);
  const [voiceInput, setVoiceInput] = useState<boolean | null>(null); // null: not known yet
  const [mic, setMic] = useState<MicStatus>({ state: "off" });
  const [voiceMode, setVoiceMode] = useState<VoiceMode>("hands_free");
  const [talking, setTalking] = useState(false);
  const [userSpeaking, setUserSpeaking] = useState(false);
  const [channelOpen, setChannelOpen] = useState(false);
  const [peer, setPeer] = useState<RTCPeerConnection | null>(null);
  const [audioContext, setAudioContext] = useState<AudioContext | null>(null);
  const session = useRef<LiveSession | null>(null);
  const video = useRef<HTMLVideoElement | null>(null);
  const ring = useRef<HTMLDivElement | null>(null);
  const audio = useRef<{ context: AudioContext; level: AudioLevel | null } | null>(null);
  const mouth = useRef<MouthWatch | null>(null);
  const pending = useRef<TurnTiming[]>([]);
  const microphone = useRef<MediaStreamTrack | null>(null);
  const avatarState = useRef<LiveState>("listening"); // for barge-in: was the avatar speaking?
  const speechEndedAt = useRef<number | null>(null); // when the user last stopped speaking
  const talkingNow = useRef(false);
  const bargeIn = useRef(false); // the user started speaking while the avatar spoke
  const ended = useRef<(reason: string) => Promise<void>>(async () => undefined);
  // ?connect=1 (the "Talk live" links): connect once, as soon as the page can; not again after an end.
  const [autoConnect, setAutoConnect] = useState(params.get("connect") === "1");

  const updateTurn = useCallback((match: (t: TurnTiming) => boolean, change: Partial<TurnTiming>) => {
    setTurns((all) => all.map((t) => (match(t) ? { ...t, ...change } : t)));
  }, []);

  /** A turn's first lip-synced frame on screen, timed from `sentAtMs`. */
  const watchMouth = useCallback((sentAtMs: number) => {
    void mouth.current?.nextOpenMouth(sentAtMs).then((presentedMs) => {
      setTurns((all) =>
        all.map((t) => (t.sentAtMs === sentAtMs ? { ...t, mouthMs: Math.max(0, presentedMs - sentAtMs) } : t)),
      );
    });
  }, []);

  /** The avatar was stopped (Interrupt, or the user spoke over it): the chart says so. */
  const markInterrupted = useCallback(() => {
    setTurns((all) => all.map((t, i) => (i === all.length - 1 ? { ...t, interrupted: true } : t)));
  }, []);

  const onMessage = useCallback(
    (message: LiveServerMessage) => {
      switch (message.type) {
        case "state":
          // Speech over the avatar stops it unless the server took it for a noise or an "mm-hm".
          if (avatarState.current === "speaking" && message.state !== "speaking" && bargeIn.current) markInterrupted();
          bargeIn.current = false;
          setState(message.state);
          avatarState.current = message.state;
          if (mouth.current) mouth.current.listening = message.state !== "speaking";
          break;
        case "user_speech":
          setUserSpeaking(message.speaking);
          if (message.speaking) {
            if (avatarState.current === "speaking") bargeIn.current = true;
          } else if (message.ignored) {
            bargeIn.current = false; // a cough, a back-channel, the avatar's own voice: not a turn
            setLines((all) => all.filter((l) => !(l.role === "user" && l.turnId === message.turn_id && !l.final)));
          } else {
            speechEndedAt.current = performance.now();
          }
          break;
        case "transcript": {
          if (message.role === "user") {
            const sent = pending.current.findIndex((t) => t.text === message.text.trim());
            if (sent >= 0) {
              const turn = pending.current.splice(sent, 1)[0];
              if (turn)
                updateTurn((t) => t === turn || (t.turnId === null && t.sentAtMs === turn.sentAtMs), {
                  turnId: message.turn_id,
                });
              break;
            }
            // Spoken: what the server has understood so far (each partial is the whole text until now).
            if (message.final) {
              const sentAtMs = speechEndedAt.current ?? performance.now();
              speechEndedAt.current = null;
              setUserSpeaking(false);
              setTurns((all) => [
                ...all.slice(-19),
                { turnId: message.turn_id, text: message.text, sentAtMs, voice: true },
              ]);
              watchMouth(sentAtMs);
            }
          }
          const role = message.role;
          setLines((all) => {
            const index = all.findIndex((l) => l.role === role && l.turnId === message.turn_id);
            if (index < 0) return [...all, { role, turnId: message.turn_id, text: message.text, final: message.final }];
            const line = all[index]!;
            // The avatar's partials are clause after clause; the user's are the whole text so far.
            const text = message.final || role === "user" ? message.text : `${line.text} ${message.text}`.trim();
            return all.map((l, i) => (i === index ? { ...l, text, final: message.final } : l));
          });
          break;
        }
        case "latency":
          updateTurn((t) => t.turnId === message.turn_id, {
            llmFirstTokenMs: message.llm_first_token_ms,
            firstClauseMs: message.first_clause_ms,
            firstAudioMs: message.first_audio_ms,
            firstAudioSentMs: message.first_audio_sent_ms,
            firstFrameSentMs: message.first_frame_sent_ms,
          });
          break;
        case "error":
          setError(new ApiError(-1, message.code, message.message, message.hint ?? null));
          setLines((all) => [
            ...all,
            { role: "system", turnId: message.turn_id ?? -1, text: message.message, final: true },
          ]);
          break;
        case "closed":
          void ended.current(CLOSE_REASONS[message.reason] ?? `The session ended (${message.reason}).`);
          break;
        default:
          break;
      }
    },
    [updateTurn, markInterrupted, watchMouth],
  );

  const stopMedia = useCallback(() => {
    mouth.current?.stop();
    mouth.current = null;
    audio.current?.level?.close();
    void audio.current?.context.close();
    audio.current = null;
    microphone.current?.stop();
    microphone.current = null;
    talkingNow.current = false;
    setMic({ state: "off" });
    setTalking(false);
    setUserSpeaking(false);
    setAudioContext(null);
    setPeer(null);
  }, []);

  const connect = useCallback(
    async (choice: SetupChoice) => {
      setAutoConnect(false);
      setError(undefined);
      setEndReason(null);
      setLines([]);
      setTurns([]);
      setState("listening");
      setVoiceInput(null);
      avatarState.current = "listening";
      setPhase("connecting");
      // Created on the click (a user gesture), so the browser lets the avatar's voice play.
      const context = new AudioContext();
      audio.current = { context, level: null };
      setAudioContext(context);
      try {
        const opened = await LiveSession.open(
          { avatar_id: choice.avatarId, voice: choice.voice, persona: choice.persona || null },
          {
            onMessage,
            onTrack: (stream) => {
              const element = video.current;
              if (!element) return;
              if (element.srcObject !== stream) element.srcObject = stream;
              void element.play().catch(() => undefined);
              if (stream.getAudioTracks().length && audio.current && !audio.current.level) {
                audio.current.level = new AudioLevel(audio.current.context, stream);
              }
              if (!mouth.current) mouth.current = new MouthWatch(element);
            },
            onConnection: (connection) => {
              if (connection === "failed") {
                void ended.current("The media connection failed (no route between this browser and the server).");
              }
            },
            onChannelOpen: () => setChannelOpen(true),
            onVoiceInput: setVoiceInput,
          },
        );
        session.current = opened;
        setPeer(opened.pc);
        setPhase("live");
        refreshMe();
      } catch (caught) {
        stopMedia();
        setError(asApiError(caught));
        setPhase("setup");
      }
    },
    [onMessage, refreshMe, stopMedia],
  );

  /** The session is over (ended here, by the server, or by the network): release everything. */
  const finish = useCallback(
    async (reason: string) => {
      const current = session.current;
      session.current = null;
      setChannelOpen(false);
      stopMedia();
      setPhase("ended");
      setEndReason(reason);
      try {
        await current?.close(); // DELETE is idempotent: fine when the server ended it first
      } catch (caught) {
        setError(asApiError(caught));
      }
      refreshMe();
    },
    [refreshMe, stopMedia],
  );
  useEffect(() => {
    ended.current = finish;
  }, [finish]);
  const end = useCallback(() => finish(CLOSE_REASONS.deleted ?? "The session has ended."), [finish]);

  useEffect(
    () => () => {
      void session.current?.close().catch(() => undefined);
      stopMedia();
    },
    [stopMedia],
  );

  // The speaking ring follows the avatar's voice (WebAudio), and the first sound of a turn is timed.
  useEffect(() => {
    if (phase !== "live") return;
    let frame = 0;
    const tick = () => {
      const level = audio.current?.level;
      if (level && ring.current) {
        const meter = level.meter();
        ring.current.style.setProperty("--level", meter.toFixed(3));
        const db = level.dbfs();
        const now = performance.now();
        setTurns((all) => {
          const last = all[all.length - 1];
          if (!last || last.heardMs !== undefined || db < HEARD_DBFS || now - last.sentAtMs < 20) return all;
          return all.map((t) => (t === last ? { ...t, heardMs: now - t.sentAtMs } : t));
        });
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [phase]);

  const send = useCallback(
    async (text: string) => {
      const current = session.current;
      if (!current) return;
      const sentAtMs = performance.now();
      const turn: TurnTiming = { turnId: null, text, sentAtMs };
      pending.current.push(turn);
      setTurns((all) => [...all.slice(-19), turn]);
      setLines((all) => [...all, { role: "user", turnId: -1, text, final: true }]);
      watchMouth(sentAtMs);
      try {
        if (!current.send({ type: "message", text })) await current.say(text);
      } catch (caught) {
        setError(asApiError(caught));
      }
    },
    [watchMouth],
  );

  const interrupt = useCallback(() => {
    const current = session.current;
    if (!current) return;
    current.send({ type: "interrupt" });
    markInterrupted();
  }, [markInterrupted]);

  /** Push-to-talk: the track is on (and the server listens) only while pressed. */
  const talk = useCallback(
    (pressed: boolean) => {
      const track = microphone.current;
      if (!track || voiceMode !== "push_to_talk" || talkingNow.current === pressed) return;
      talkingNow.current = pressed;
      track.enabled = pressed;
      setTalking(pressed);
      if (pressed && avatarState.current === "speaking") markInterrupted(); // pressing stops the avatar
      if (!pressed) speechEndedAt.current = performance.now();
      session.current?.send({ type: "talk", pressed });
    },
    [voiceMode, markInterrupted],
  );

  const onVoiceMode = useCallback((mode: VoiceMode) => {
    setVoiceMode(mode);
    talkingNow.current = false;
    setTalking(false);
    if (!microphone.current) return; // sent when the microphone is turned on
    microphone.current.enabled = mode === "hands_free";
    session.current?.send({ type: "voice_mode", mode });
  }, []);

  /** Asked on the click: the browser's prompt, then the track replaces the offer's empty one. */
  const enableMic = useCallback(async () => {
    const current = session.current;
    if (!current) return;
    setMic({ state: "asking" });
    try {
      const track = await openMicrophone();
      if (session.current !== current) {
        track.stop(); // the session ended while the browser asked
        return;
      }
      track.enabled = voiceMode === "hands_free";
      await current.setMicrophone(track);
      microphone.current = track;
      current.send({ type: "voice_mode", mode: voiceMode });
      track.onended = () => setMic({ state: "error", message: "The microphone was disconnected." });
      setMic({ state: "on", track });
    } catch (caught) {
      setMic({ state: "error", message: microphoneError(caught).message });
    }
  }, [voiceMode]);

  const disableMic = useCallback(() => {
    talk(false);
    void session.current?.setMicrophone(null).catch(() => undefined);
    microphone.current?.stop();
    microphone.current = null;
    setMic({ state: "off" });
  }, [talk]);

  const latest = turns[turns.length - 1];
  const busy = state === "thinking" || state === "speaking";
  const hearing = (userSpeaking || talking) && state !== "speaking";

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Live studio</h1>
          <p>Talk to an avatar in real time. It answers out loud; every turn&apos;s latency is measured below.</p>
        </div>
        {phase === "live" ? (
          <button type="button" className="btn" onClick={end}>
            End session
          </button>
        ) : null}
      </div>
      {error ? <ErrorNotice error={error} /> : null}
      <div className="live-grid">
        <section className="card live-stage" aria-label="Avatar">
          <div className={`live-video state-${state}`} ref={ring} data-phase={phase}>
            <video ref={video} playsInline autoPlay aria-label="The avatar's video" data-testid="live-video" />
            {phase !== "live" ? (
              <div className="live-overlay">
                {phase === "connecting" ? (
                  <p role="status">
                    <span className="spinner" aria-hidden="true" /> Connecting…
                  </p>
                ) : phase === "ended" ? (
                  <p role="status">{endReason ?? "The session has ended."}</p>
                ) : (
                  <p>Choose an avatar and connect to start.</p>
                )}
              </div>
            ) : null}
            {phase === "live" ? (
              <span
                className={`state-chip state-${hearing ? "hearing" : state}`}
                role="status"
                aria-live="polite"
                data-testid="live-state"
              >
                {hearing
                  ? "Hearing you…"
                  : state === "speaking"
                    ? "Speaking"
                    : state === "thinking"
                      ? "Thinking…"
                      : "Listening"}
              </span>
            ) : null}
          </div>
          {phase === "live" ? (
            <div className="btn-row" style={{ marginTop: "0.75rem" }}>
              <button type="button" className="btn" onClick={interrupt} disabled={!busy} aria-keyshortcuts="Escape">
                Interrupt
              </button>
            </div>
          ) : null}
          {phase === "live" ? (
            <MicControls
              available={voiceInput}
              status={mic}
              mode={voiceMode}
              talking={talking}
              context={audioContext}
              onEnable={enableMic}
              onDisable={disableMic}
              onMode={onVoiceMode}
              onTalk={talk}
            />
          ) : null}
          {phase === "live" && peer ? <ConnectionStats pc={peer} /> : null}
        </section>

        <section className="card live-side" aria-label={phase === "live" ? "Conversation" : "Session settings"}>
          {phase === "live" ? (
            <LiveChat lines={lines} onSend={send} onInterrupt={interrupt} busy={busy} ready={channelOpen} />
          ) : (
            <LiveSetup
              avatars={avatars.data?.items ?? []}
              voices={voices.data?.items ?? []}
              loading={avatars.loading || voices.loading}
              error={avatars.error ?? voices.error}
              connecting={phase === "connecting"}
              again={phase === "ended"}
              initialAvatar={params.get("avatar")}
              autoConnect={autoConnect}
              onConnect={connect}
            />
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="latency-title" style={{ marginTop: "1rem" }}>
        <h2 id="latency-title">Latency, stage by stage</h2>
        {latest ? (
          <LatencyChart turn={latest} />
        ) : (
          <p className="muted">Send a message: this chart shows how long each stage of the answer took.</p>
        )}
        {turns.length > 1 ? <TurnHistory turns={turns} /> : null}
      </section>
    </>
  );
}

function TurnHistory({ turns }: { turns: TurnTiming[] }) {
  return (
    <details style={{ marginTop: "0.75rem" }}>
      <summary>Earlier turns</summary>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Message</th>
              <th className="num">First word</th>
              <th className="num">First audio</th>
              <th className="num">Heard</th>
              <th className="num">Lips moving</th>
            </tr>
          </thead>
          <tbody>
            {turns
              .slice(0, -1)
              .reverse()
              .map((t) => (
                <tr key={t.sentAtMs}>
                  <td>{t.text}</td>
                  <td className="num">{t.llmFirstTokenMs ? `${Math.round(t.llmFirstTokenMs)} ms` : "–"}</td>
                  <td className="num">{t.firstAudioMs ? `${Math.round(t.firstAudioMs)} ms` : "–"}</td>
                  <td className="num">{t.heardMs ? `${Math.round(t.heardMs)} ms` : "–"}</td>
                  <td className="num">{t.mouthMs ? `${Math.round(t.mouthMs)} ms` : "–"}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
