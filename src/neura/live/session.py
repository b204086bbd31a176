"""One live conversation: a peer connection, its data channel, the pipeline and the media tracks.

The session turns what happens into what the user sees: it starts turns, interrupts them, forwards
the pipeline's events (state, transcripts, latency figures, errors) over the data channel and keeps
the conversation's history. It knows nothing of HTTP, the database or billing (the manager does).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from aiortc import RTCDataChannel, RTCIceCandidate, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from neura.errors import ConflictError, InputError, InvalidMessageError, NeuraError
from neura.live.chunker import ChunkPolicy, ClauseChunker
from neura.live.clock import MediaClock
from neura.live.conversation import Conversation
from neura.live.deadlines import DeadlineExecutor
from neura.live.errors import MediaStoppedError
from neura.live.events import (
    ErrorRaised,
    LiveEvent,
    SpeculativeReply,
    SpeechCut,
    SpeechStarted,
    StageReached,
    State,
    TurnInterrupted,
    TurnPlayed,
    UserSpeech,
    UserTranscript,
    VoiceBargeIn,
    VoiceTurn,
)
from neura.live.frames import TalkButton, UserText, VoiceMode
from neura.live.hearing import EchoGuard, TranscriptionStage, VoiceActivityStage
from neura.live.lipsync_stage import LipSyncStage
from neura.live.llm_stage import LLMStage
from neura.live.microphone import hear_sooner, listen
from neura.live.peer import forward_keyframe_requests, new_peer_connection
from neura.live.processor import Pipeline, Processor
from neura.live.protocol import (
    CHANNEL_LABEL,
    LiveClosed,
    LiveError,
    LiveInterrupt,
    LiveLatency,
    LivePing,
    LivePong,
    LiveSay,
    LiveServerMessage,
    LiveState,
    LiveTalk,
    LiveTranscript,
    LiveUserSpeech,
    LiveVoiceMode,
    check_text,
    parse_client_message,
)
from neura.live.timeline import FPS, SpeechOutput, SpeechTimeline
from neura.live.tracks import MAX_LEAD_S, AvatarAudioTrack, AvatarVideoTrack
from neura.live.tts_stage import TTSStage
from neura.live.turn_taking import TurnController, VoiceConfig
from neura.live.turns import Turn, TurnCounter, TurnLog
from neura.live.whep import IceRestartError, ice_ufrag, is_mdns_name, without_mdns_candidates
from neura.llm import LLMProvider
from neura.render.seam import RenderStream
from neura.stt.base import STTEngine
from neura.tts import TTSEngine

log = logging.getLogger(__name__)

STAGE_METRIC = {
    "llm_first_token": "llm_first_token",
    "first_audio": "first_tts_audio",
    "first_frame_sent": "first_frame_sent",
}
MEDIA_STAGES = frozenset({"first_audio_sent", "first_frame_sent"})  # both reached: the latency message goes out


@dataclass(frozen=True)
class SessionEngines:
    """What a session is built from (shared, per process, by the manager)."""

    llm: LLMProvider
    tts: TTSEngine
    first_clause_tts: TTSEngine  # the same voice, faster per call (more threads): what the user waits for
    video: RenderStream  # the avatar's frames (I420, 25 fps): speech is pushed into it
    speech_executor: DeadlineExecutor  # TTS, the clause due soonest first
    lipsync_executor: Executor  # resampling and mouth tracks
    render_executor: Executor  # avatar frames (render and encode)
    stt: STTEngine | None = None  # None: the session takes text only
    stt_executor: Executor | None = None  # speech recognition: a worker of its own, never behind TTS


class LiveSession:
    def __init__(
        self,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        engines: SessionEngines,
        conversation: Conversation,
        ice_servers: list[dict[str, Any]],
        *,
        chunk_policy: ChunkPolicy | None = None,
        observe_stage: Callable[[str, float], None] | None = None,  # metric stage name, seconds
        admit: Callable[[], Awaitable[None]] | None = None,  # before each message: raises to refuse it
        voice: VoiceConfig | None = None,  # how the microphone is heard (when engines.stt is set)
    ) -> None:
        self.id = session_id
        self.user_id = user_id
        self.conversation = conversation
        self.ice_servers = ice_servers
        self.voice_id = engines.tts.voice.id  # "engine:voice", as GET /v1/voices lists it
        self.created_s = time.monotonic()
        self.last_activity_s = self.created_s
        self.state: State = "listening"
        self.turns = TurnLog()
        self.close_reason: str | None = None
        self.end_requested = asyncio.Event()  # the session wants to end (disconnect): the manager closes it
        self.end_reason = ""
        self.closed = asyncio.Event()
        self._observe_stage = observe_stage
        self._admit = admit
        self._events: asyncio.Queue[LiveEvent] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.turn_ids = TurnCounter()
        self.microphone = False  # the client sends its microphone (a sendrecv audio transceiver)
        self._avatar_said: deque[str] = deque(maxlen=4)  # the latest clauses spoken (the echo check by words)
        self._early: dict[int, list[StageReached]] = {}  # stages of a speculative reply, before its turn starts
        self._closing = False
        self.pc: RTCPeerConnection | None = None
        self.channel: RTCDataChannel | None = None
        self.connected_s: float | None = None  # when the peer connection first connected
        self.local_ufrag: str | None = None  # this end's ICE credentials: the WHEP ETag
        self.remote_ufrag: str | None = None

        self.clock = MediaClock()
        self.timeline = SpeechTimeline(self._events.put_nowait, engines.video)
        self.pipeline = Pipeline(
            [
                *self._hearing(engines, voice or VoiceConfig()),
                LLMStage(engines.llm, conversation),
                ClauseChunker(chunk_policy),
                TTSStage(
                    engines.tts,
                    engines.speech_executor,
                    first_clause_tts=engines.first_clause_tts,
                    queued_s=self.timeline.queued_s,
                    rendered_ahead_s=engines.video.batch_frames / FPS + MAX_LEAD_S,
                ),
                LipSyncStage(engines.lipsync_executor),
                SpeechOutput(self.timeline),
            ],
            self._events.put_nowait,
        )
        self.audio = AvatarAudioTrack(self.clock, self.timeline)
        self.video = AvatarVideoTrack(self.clock, self.timeline, engines.video, engines.render_executor)
        self.video.on("ended", self._on_video_ended)

    def _hearing(self, engines: SessionEngines, voice: VoiceConfig) -> list[Processor]:
        """The input side (microphone -> voice activity -> transcripts -> turns), when there is an STT."""
        if engines.stt is None or engines.stt_executor is None:
            return []
        echo = EchoGuard(lambda: self.audio.levels, threshold=voice.echo_correlation)
        return [
            VoiceActivityStage(voice.vad, echo),
            TranscriptionStage(
                engines.stt,
                engines.stt_executor,
                beam_size=voice.stt_beam_size,
                partial_interval_ms=voice.stt_partial_ms,
            ),
            TurnController(
                self.turn_ids,
                lambda: self.speaking,
                voice,
                avatar_text=lambda: " ".join(self._avatar_said),
                admit=self._admit,
            ),
        ]

    @property
    def hears(self) -> bool:
        """Whether this session can take the user's voice (a speech recognition engine is loaded)."""
        return isinstance(self.pipeline.processors[0], VoiceActivityStage)

    # --- lifecycle
    def start(self) -> None:
        self.pipeline.start()
        self._spawn(self._pump_events(), "events")

    async def accept_offer(self, sdp: str, kind: str) -> RTCSessionDescription:
        """Answer the client's SDP offer. The offer may come without candidates (trickle ICE: they follow
        through :meth:`add_remote_candidates`). The answer has this end's candidates: aiortc gathers them
        before it answers (host candidates take a few milliseconds; a configured STUN/TURN server longer)."""
        if kind != "offer":
            raise InputError(f"expected an SDP offer, got {kind!r}")
        if self.pc is not None:
            raise ConflictError("this live session already has a peer connection", hint="create a new session")
        if self._closing:
            raise ConflictError("this live session has ended")
        self.pc = pc = new_peer_connection(self.ice_servers)
        pc.on("datachannel", self._on_datachannel)
        pc.on("connectionstatechange", self._on_connection_state)
        pc.on("track", self._on_track)
        pc.addTrack(self.audio)
        forward_keyframe_requests(pc.addTrack(self.video), self.video.request_keyframe)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=without_mdns_candidates(sdp), type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except ValueError as exc:  # aiortc's complaint about an unusable offer: the client may try again
            self.pc = None
            await pc.close()
            log.info("unusable SDP offer for live session %s: %s", self.id, exc)
            raise InputError(
                "the SDP offer cannot be used: it is not a WebRTC offer with audio, video and a data channel",
                hint="send pc.localDescription.sdp of an RTCPeerConnection after createOffer()",
            ) from exc
        self.touch()
        local = pc.localDescription
        self.local_ufrag, self.remote_ufrag = ice_ufrag(local.sdp), ice_ufrag(sdp)
        return RTCSessionDescription(sdp=local.sdp, type=local.type)

    async def add_remote_candidates(
        self, candidates: list[RTCIceCandidate], *, end: bool = False, ufrag: str | None = None
    ) -> None:
        """Trickle ICE: the client's candidates as it gathers them (``end``: it has no more), added in
        the background. A browser's mDNS host candidates (``<uuid>.local``, Chrome's default) are skipped,
        not resolved: resolving them would multicast DNS queries on the server's network, and the
        browser's own connectivity checks reveal its address anyway (a peer-reflexive candidate)."""
        if self.pc is None:
            raise ConflictError("this live session has no SDP offer yet", hint="send the offer first")
        if self._closing:
            raise ConflictError("this live session has ended")
        if ufrag is not None and self.remote_ufrag is not None and ufrag != self.remote_ufrag:
            raise IceRestartError("ICE restarts are not supported", hint="start a new session")
        self.touch()
        usable = [c for c in candidates if not is_mdns_name(c.ip)]
        self._spawn(self._add_candidates(self.pc, [*usable, *([None] if end else [])]), "candidates")

    async def _add_candidates(self, pc: RTCPeerConnection, candidates: list[RTCIceCandidate | None]) -> None:
        for candidate in candidates:
            try:
                await pc.addIceCandidate(candidate)
            except (OSError, ValueError) as exc:  # an invalid address; a transport closed meanwhile
                log.info("live session %s: remote candidate %s not added: %s", self.id, candidate, exc)

    async def close(self, reason: str) -> None:
        """End the session: tell the client, stop the pipeline and tracks, close the peer connection."""
        if self._closing:
            await self.closed.wait()
            return
        self._closing = True
        self.close_reason = reason
        self._send(LiveClosed(reason=reason))
        await self.pipeline.stop()
        await self._flush_channel()
        self.audio.stop()
        await self.video.aclose()
        if self.pc is not None:
            await self.pc.close()
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.closed.set()

    async def _flush_channel(self, timeout_s: float = 0.2) -> None:
        """Give the last data-channel messages (the "closed" notice) a moment to leave."""
        deadline = time.monotonic() + timeout_s
        while self.channel is not None and self.channel.bufferedAmount > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def request_end(self, reason: str) -> None:
        if not self.end_requested.is_set():
            self.end_reason = reason
            self.end_requested.set()

    # --- turns
    async def say(self, text: str, *, received_s: float | None = None) -> int:
        """Start a turn answering ``text`` (interrupting the one in progress). Returns its id."""
        text = check_text(text)
        received_s = received_s or time.monotonic()
        if self._closing:
            raise ConflictError("this live session has ended")
        if self._admit is not None:
            await self._admit()  # rate limits: each message is a paid language-model call
        self.touch()
        if self.turns.current is not None:
            await self._interrupt("barge_in")
        turn = Turn(self.turn_ids.next(), text, received_s)
        self.turns.start(turn)
        self._send(LiveTranscript(role="user", turn_id=turn.turn_id, text=text, final=True))
        self._set_state("thinking", turn.turn_id)
        await self.pipeline.push(UserText(turn.turn_id, text))
        return turn.turn_id

    async def interrupt(self) -> bool:
        """Stop speaking now; False when there was nothing to interrupt."""
        self.touch()
        if self.turns.current is None and not self.timeline.busy:
            return False
        await self._interrupt("user")
        return True

    async def _interrupt(self, reason: str) -> None:
        await self.pipeline.interrupt(reason, self.turn_ids.last)
        current = self.turns.current
        if current is not None:
            self._events.put_nowait(TurnInterrupted(current.turn_id))

    def touch(self) -> None:
        self.last_activity_s = time.monotonic()

    @property
    def speaking(self) -> bool:
        return self.turns.current is not None or self.timeline.busy

    # --- events -> statistics, history and the data channel
    async def _pump_events(self) -> None:
        while True:
            event = await self._events.get()
            try:
                self._handle(event)
            except Exception:  # never let one bad event stop the reporting of the rest
                log.exception("live session %s: cannot handle %s", self.id, type(event).__name__)

    def _handle(self, event: LiveEvent) -> None:
        if isinstance(event, ErrorRaised):
            self._on_error(event)
            return
        if isinstance(event, UserSpeech | UserTranscript | VoiceTurn | VoiceBargeIn):
            self._on_voice(event)
            return
        if isinstance(event, SpeculativeReply):
            self._early = {} if event.cancelled else {event.turn_id: []}  # only the latest one's stages count
            return
        turn = self.turns.get(getattr(event, "turn_id", -1))
        if turn is None and isinstance(event, StageReached) and event.turn_id in self._early:
            self._early[event.turn_id].append(event)  # timed when (if) the turn is confirmed
            return
        if turn is None or turn.finished:
            return
        if isinstance(event, StageReached):
            if turn.reach(event.stage, event.at_s):
                value_ms = turn.stages_ms[event.stage]
                self.turns.record(event.stage, value_ms)
                metric = STAGE_METRIC.get(event.stage)
                if metric is not None and self._observe_stage is not None:
                    self._observe_stage(metric, value_ms / 1000.0)
                if event.stage in MEDIA_STAGES and turn.stages_ms.keys() >= MEDIA_STAGES:
                    self._send(LiveLatency.of(turn))
        elif isinstance(event, SpeechStarted):
            turn.spoken.append(event.text)
            self._avatar_said.append(event.text)
            self._set_state("speaking", turn.turn_id)
            self._send(LiveTranscript(role="avatar", turn_id=turn.turn_id, text=event.text, final=False))
        elif isinstance(event, SpeechCut):
            if turn.spoken:
                turn.spoken[-1] = event.spoken
        elif isinstance(event, TurnPlayed | TurnInterrupted):
            turn.interrupted = isinstance(event, TurnInterrupted)
            self._finish(turn)

    def _on_voice(self, event: UserSpeech | UserTranscript | VoiceTurn | VoiceBargeIn) -> None:
        self.touch()
        if isinstance(event, UserSpeech):
            self._send(LiveUserSpeech(speaking=event.speaking, turn_id=event.turn_id, ignored=event.ignored))
        elif isinstance(event, UserTranscript):
            self._send(LiveTranscript(role="user", turn_id=event.turn_id, text=event.text, final=False))
        elif isinstance(event, VoiceBargeIn):
            current = self.turns.current
            if current is not None and current.turn_id < event.turn_id:
                current.interrupted = True
                self._finish(current)
        else:  # the spoken turn starts, timed from the end of the speech
            turn = Turn(event.turn_id, event.text, event.at_s)
            self.turns.start(turn)
            self._send(LiveTranscript(role="user", turn_id=turn.turn_id, text=turn.user_text, final=True))
            self._set_state("thinking", turn.turn_id)
            for stage in self._early.pop(turn.turn_id, []):  # its speculative reply got this far already
                self._handle(stage)
            self._early.clear()

    def _finish(self, turn: Turn) -> None:
        turn.finished = True
        self.conversation.record(turn.user_text, turn.spoken_text)
        self._send(LiveTranscript(role="avatar", turn_id=turn.turn_id, text=turn.spoken_text, final=True))
        if self.turns.current is None:
            self._set_state("listening", turn.turn_id)

    def _on_error(self, event: ErrorRaised) -> None:
        turn = self.turns.get(event.turn_id) if event.turn_id is not None else None
        if turn is not None:
            turn.error = event.code
        self._send(LiveError.of(event.error, event.turn_id))

    def _set_state(self, state: State, turn_id: int | None) -> None:
        if state != self.state:
            self.state = state
            self._send(LiveState(state=state, turn_id=turn_id))

    # --- WebRTC callbacks
    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label != CHANNEL_LABEL:
            return
        self.channel = channel
        channel.on("message", self._on_channel_message)
        channel.on("close", self._on_channel_closed)
        self._send(LiveState(state=self.state, turn_id=self.turn_ids.last or None))

    def _on_channel_message(self, raw: str | bytes) -> None:
        received_s = time.monotonic()
        try:
            message = parse_client_message(raw)
        except InputError as error:
            self._send(LiveError.of(error))
            return
        if isinstance(message, LiveSay):
            self._spawn(self._guarded(self.say(message.text, received_s=received_s)), "say")
        elif isinstance(message, LiveInterrupt):
            self._spawn(self._guarded(self.interrupt()), "interrupt")
        elif isinstance(message, LivePing):
            self._send(LivePong(id=message.id))
        elif not self.microphone:
            self._send(LiveError.of(_no_microphone(self.hears)))
        elif isinstance(message, LiveVoiceMode):
            self._spawn(self.pipeline.push(VoiceMode(message.mode)), "voice-mode")
        elif isinstance(message, LiveTalk):
            self._spawn(self.pipeline.push(TalkButton(message.pressed, received_s)), "talk")

    def _on_track(self, track: MediaStreamTrack) -> None:
        """The client's microphone: heard when this session has speech recognition, else ignored."""
        if track.kind != "audio" or not self.hears or self.microphone:
            return
        self.microphone = True
        log.info("live session %s: the client sends its microphone", self.id)
        if self.pc is not None:
            for receiver in self.pc.getReceivers():
                if receiver.track is track:
                    hear_sooner(receiver)
        self._spawn(listen(track, self.pipeline.push), "microphone")

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except NeuraError as error:
            self._send(LiveError.of(error))

    def _on_video_ended(self) -> None:
        if self.video.failed and not self._closing:  # a session without video cannot go on
            self._send(LiveError.of(MediaStoppedError("the avatar's video stopped", hint="start a new session")))
            self.request_end("media_error")

    def _on_connection_state(self) -> None:
        if self.pc is not None and self.pc.connectionState == "connected" and self.connected_s is None:
            self.connected_s = time.monotonic()
        if self.pc is not None and self.pc.connectionState in ("failed", "closed") and not self._closing:
            log.info("live session %s: peer connection %s", self.id, self.pc.connectionState)
            self.request_end("disconnected")

    def _on_channel_closed(self) -> None:
        if not self._closing:  # the page went away (its peer connection closed the channel)
            log.info("live session %s: data channel closed", self.id)
            self.request_end("disconnected")

    def notify(self, message: LiveServerMessage) -> None:
        """Send ``message`` on the data channel (dropped when the channel is not open)."""
        self._send(message)

    # --- plumbing
    def _send(self, message: LiveServerMessage) -> None:
        channel = self.channel
        if channel is not None and channel.readyState == "open":
            channel.send(message.model_dump_json())

    def _spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=f"live-{self.id}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- reporting
    def snapshot(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "status": "closing" if self._closing else "open",
            "state": self.state,
            "voice": self.voice_id,
            "connection": self.pc.connectionState if self.pc is not None else "new",
            "microphone": self.microphone,
            "age_s": round(time.monotonic() - self.created_s, 1),
            "turns": [turn.as_dict() for turn in self.turns.turns],
            "turn_count": self.turns.count,
            "latency_ms": self.turns.summary(),
            "media": {
                "audio_frames_sent": self.audio.frames_sent,
                "video_frames_sent": self.video.frames_sent,
                "video_frames_skipped": self.video.frames_skipped,
                "audio_frames_skipped": self.audio.frames_skipped,
                "video_render_lead_ms": round(self.video.lead_s * 1000, 1),
            },
        }


def _no_microphone(hears: bool) -> InvalidMessageError:
    if hears:
        return InvalidMessageError(
            "this session has no microphone track",
            hint="offer the microphone as an audio transceiver with direction sendrecv",
        )
    return InvalidMessageError("this server takes text only (LIVE_VOICE is off)", hint="send text messages")
