"""The media timeline: speech placed on the session clock, read by the audio and the video track.

Time is counted in 48 kHz samples from the session clock's start; video frame ``n`` shows time
``n / 25`` s, that is sample ``n * 1920``. A clause is placed at a frame boundary no earlier than the
first audio sample not yet sent and the first frame the renderer has not rendered yet, right after the
clause before it. The audio track then reads its samples *by position on the same timeline*, and the
renderer's stream (:mod:`neura.render.seam`) is pushed the clause's audio and mouth track from the same
frame, so lips and voice cannot drift apart however long the session.

:meth:`SpeechTimeline.cut` is what an interrupt does here: the clause playing is faded out over 2.5 ms
at the next unsent sample, everything after it is dropped, and the renderer's buffer is cleared (the
mouth closes over two frames).

:meth:`SpeechTimeline.hold` pauses the voice where it is (the user may be barging in: the avatar falls
silent within one audio packet, before anyone knows whether it was a real interruption) and clears the
renderer's buffer; :meth:`SpeechTimeline.release` plays on from there: what was held moves later by
whole video frames and is pushed to the renderer again, so voice and lips stay together. A cut while
held drops what was held.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from neura.live.events import EventSink, SpeechCut, SpeechStarted, StageReached, TurnPlayed
from neura.live.frames import Frame, HoldSpeech, HoldTurn, Interrupt, PlayTurn, ResumeSpeech, TimedSpeech, TurnEnd
from neura.live.processor import Processor
from neura.media import WordSpan
from neura.render.seam import RenderStream, SpeechTrack

log = logging.getLogger(__name__)

AUDIO_RATE_HZ = 48_000
FPS = 25
SAMPLES_PER_VIDEO_FRAME = AUDIO_RATE_HZ // FPS  # 1920
FADE_SAMPLES = 120  # 2.5 ms: no click, and the next frame is silent


@dataclass
class Segment:
    """One clause on the timeline."""

    turn_id: int
    text: str
    start_sample: int  # a multiple of SAMPLES_PER_VIDEO_FRAME
    samples: npt.NDArray[np.float32]
    mouth: npt.NDArray[np.float32]  # pose of frames start_frame, start_frame + 1, ...
    words: list[WordSpan] = field(default_factory=list)
    audio_started: bool = False

    @property
    def start_frame(self) -> int:
        return self.start_sample // SAMPLES_PER_VIDEO_FRAME

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self.samples)

    @property
    def end_frame(self) -> int:
        return self.start_frame + len(self.mouth)


class SpeechTimeline:
    """Places speech on the session's media time: its audio for the audio track, and (pushed into the
    renderer's stream) its mouth track for the video, both from the same frame."""

    def __init__(self, events: EventSink, video: RenderStream) -> None:
        self._events = events
        self._video = video  # the avatar's frames: speech is pushed in, an interrupt clears its buffer
        self._segments: list[Segment] = []
        self._audio_cursor = 0  # first sample not yet read by the audio track
        self._turn_ends: dict[int, int] = {}  # turn -> sample after its last clause
        self._first_frames: dict[int, int] = {}  # frame index -> turn whose first clause starts there
        self._audio_reported_turn = -1
        self._scheduled_turn = -1
        self._held_from: int | None = None  # the sample where a hold stopped the voice

    @property
    def _video_cursor(self) -> int:
        """The first frame the renderer has not rendered yet (speech can start there at the earliest)."""
        return self._video.next_pts

    # --- state
    @property
    def audio_cursor(self) -> int:
        return self._audio_cursor

    @property
    def busy(self) -> bool:
        """Speech is queued, playing or held."""
        return self.held or (bool(self._segments) and self._segments[-1].end_sample > self._audio_cursor)

    @property
    def held(self) -> bool:
        return self._held_from is not None

    @property
    def _playhead(self) -> int:
        """Where the voice is: the next unsent sample, or where a hold stopped it."""
        return self._audio_cursor if self._held_from is None else self._held_from

    def queued_s(self) -> float:
        end = self._segments[-1].end_sample if self._segments else 0
        return max(0, end - self._playhead) / AUDIO_RATE_HZ

    def earliest_start(self) -> int:
        if self._held_from is not None:  # placed after what is held; moved with it on release
            start = self._held_from
        else:
            start = max(self._audio_cursor, self._video_cursor * SAMPLES_PER_VIDEO_FRAME)
        if self._segments:
            start = max(start, self._segments[-1].end_sample)
        return math.ceil(start / SAMPLES_PER_VIDEO_FRAME) * SAMPLES_PER_VIDEO_FRAME

    # --- what the pipeline's sink does
    def schedule(self, speech: TimedSpeech) -> Segment:
        # the renderer may pass the frame asked for meanwhile (it renders on another thread): the frame
        # it answers is where both the voice and the mouth start
        track = SpeechTrack(speech.samples_48k, AUDIO_RATE_HZ, speech.mouth)
        start_frame = self._video.push_speech(track, start_pts=self.earliest_start() // SAMPLES_PER_VIDEO_FRAME)
        start_sample = start_frame * SAMPLES_PER_VIDEO_FRAME
        before = self._segments[-1] if self._segments else None
        if not speech.text and before is not None and before.turn_id == speech.turn_id:
            gap_ms = (start_sample - before.end_sample) / AUDIO_RATE_HZ * 1000
            if gap_ms > 0:  # the rest of a streamed clause came after its opening had been heard
                log.warning("live turn %d: a clause's rest came %.0f ms late (a pause)", speech.turn_id, gap_ms)
        segment = Segment(speech.turn_id, speech.text, start_sample, speech.samples_48k, speech.mouth, speech.words)
        if speech.turn_id > self._scheduled_turn:  # the turn's first clause
            self._scheduled_turn = speech.turn_id
            self._first_frames.setdefault(segment.start_frame, speech.turn_id)
        self._segments.append(segment)
        return segment

    def end_turn(self, turn_id: int) -> None:
        """Nothing more comes for ``turn_id``: report :class:`TurnPlayed` once its last clause has played."""
        ends = [s.end_sample for s in self._segments if s.turn_id == turn_id]
        self._turn_ends[turn_id] = max([self._audio_cursor, *ends])

    def hold(self) -> None:
        """Pause the voice at the next unsent sample (nothing happens when nothing is playing or queued)."""
        if self._held_from is None and self.busy:
            self._held_from = self._audio_cursor
            self._video.clear_buffer()  # the mouth closes with the voice; release pushes the rest again

    def release(self) -> None:
        """Play on from where :meth:`hold` stopped: what was held moves later by whole video frames."""
        held, self._held_from = self._held_from, None
        if held is None:
            return
        now = max(self._audio_cursor, self._video_cursor * SAMPLES_PER_VIDEO_FRAME)
        shift = math.ceil(max(0, now - held) / SAMPLES_PER_VIDEO_FRAME) * SAMPLES_PER_VIDEO_FRAME
        for segment in self._segments:
            if segment.end_sample > held:
                if segment.start_sample < held:  # what was heard before the hold is not heard again
                    heard, frames_heard = (
                        held - segment.start_sample,
                        held // SAMPLES_PER_VIDEO_FRAME - segment.start_frame,
                    )
                    segment.samples = np.concatenate([np.zeros(heard, np.float32), segment.samples[heard:]])
                    segment.mouth = np.concatenate(
                        [np.zeros_like(segment.mouth[:frames_heard]), segment.mouth[frames_heard:]]
                    )
                segment.start_sample += shift
                self._push_from(segment, max(segment.start_frame, self._video_cursor))
        self._turn_ends = {turn: end + shift if end >= held else end for turn, end in self._turn_ends.items()}
        held_frame, frames = held // SAMPLES_PER_VIDEO_FRAME, shift // SAMPLES_PER_VIDEO_FRAME
        self._first_frames = {f + frames if f >= held_frame else f: t for f, t in self._first_frames.items()}

    def _push_from(self, segment: Segment, frame: int) -> None:
        """Push ``segment``'s speech from ``frame`` on into the renderer's stream (what is before it has
        been heard already)."""
        skip_frames = frame - segment.start_frame
        if skip_frames >= len(segment.mouth):
            return
        samples = segment.samples[skip_frames * SAMPLES_PER_VIDEO_FRAME :]
        self._video.push_speech(SpeechTrack(samples, AUDIO_RATE_HZ, segment.mouth[skip_frames:]), start_pts=frame)

    def cut(self) -> None:
        """Stop speaking now: fade the clause playing, drop the rest, close the mouth."""
        cursor = self._playhead
        self._held_from = None
        kept: list[Segment] = []
        for segment in self._segments:
            if segment.start_sample < cursor < segment.end_sample:
                kept.append(self._truncate(segment, cursor))
            elif segment.end_sample <= cursor:
                kept.append(segment)
        self._segments = kept
        self._turn_ends.clear()
        self._first_frames = {f: t for f, t in self._first_frames.items() if f < self._video_cursor}
        self._video.clear_buffer()  # the renderer closes the mouth over a couple of frames

    def _truncate(self, segment: Segment, cursor: int) -> Segment:
        keep = min(len(segment.samples), cursor - segment.start_sample + FADE_SAMPLES)
        samples = segment.samples[:keep].copy()
        fade = samples[cursor - segment.start_sample :]
        fade *= np.linspace(1.0, 0.0, len(fade), dtype=np.float32)
        heard_s = (cursor - segment.start_sample) / AUDIO_RATE_HZ
        spoken = " ".join(w.word for w in segment.words if w.start_s < heard_s)
        self._events(SpeechCut(segment.turn_id, spoken))
        frames = max(0, self._video_cursor - segment.start_frame)
        return Segment(segment.turn_id, segment.text, segment.start_sample, samples, segment.mouth[:frames], [], True)

    # --- what the tracks do
    def read_audio(self, first_sample: int, count: int) -> npt.NDArray[np.float32]:
        """Samples ``first_sample .. first_sample + count - 1`` (silence where nothing is placed)."""
        out = np.zeros(count, dtype=np.float32)
        end = first_sample + count
        audible_end = end if self._held_from is None else min(end, self._held_from)
        for segment in self._segments:
            lo, hi = max(first_sample, segment.start_sample), min(audible_end, segment.end_sample)
            if hi <= lo:
                continue
            out[lo - first_sample : hi - first_sample] = segment.samples[
                lo - segment.start_sample : hi - segment.start_sample
            ]
            if not segment.audio_started:
                segment.audio_started = True
                self._started(segment)
        self._audio_cursor = max(self._audio_cursor, end)
        self._report_played_turns()
        self._forget_played()
        return out

    def frame_sent(self, frame_index: int) -> None:
        """The video track sent ``frame_index``: report a turn's first frame."""
        turn_id = self._first_frames.pop(frame_index, None)
        if turn_id is not None:
            self._events(StageReached(turn_id, "first_frame_sent"))
        for stale in [f for f in self._first_frames if f < frame_index]:  # skipped frames
            self._events(StageReached(self._first_frames.pop(stale), "first_frame_sent"))

    # --- bookkeeping
    def _started(self, segment: Segment) -> None:
        if segment.turn_id > self._audio_reported_turn:
            self._audio_reported_turn = segment.turn_id
            self._events(StageReached(segment.turn_id, "first_audio_sent"))
        if segment.text:  # the rest of a streamed clause goes on without text of its own
            self._events(SpeechStarted(segment.turn_id, segment.text))

    def _report_played_turns(self) -> None:
        if self._held_from is not None:
            return
        for turn_id, end in list(self._turn_ends.items()):
            if end <= self._audio_cursor:
                del self._turn_ends[turn_id]
                self._events(TurnPlayed(turn_id))

    def _forget_played(self) -> None:
        if self._held_from is not None:
            self._segments = [s for s in self._segments if s.end_sample > self._held_from]
            return
        self._segments = [
            s for s in self._segments if s.end_sample > self._audio_cursor or s.end_frame > self._video_cursor
        ]


class SpeechOutput(Processor):
    """The pipeline's sink: places speech on the timeline; an interrupt cuts it.

    A speculative turn (:class:`~neura.live.frames.HoldTurn`) is kept here, off the timeline, until the
    turn controller confirms it (:class:`~neura.live.frames.PlayTurn`): nothing of it is heard or rendered
    before. An interrupt drops what is kept."""

    def __init__(self, timeline: SpeechTimeline) -> None:
        super().__init__()
        self.timeline = timeline
        self._cut_turn = -1  # speech of turns up to this one is never placed (late frames of a cut turn)
        self._held_turn: int | None = None  # the speculative turn whose speech is kept
        self._kept: list[TimedSpeech | TurnEnd] = []

    @property
    def kept(self) -> int:
        """Frames of the speculative turn waiting for its confirmation."""
        return len(self._kept)

    async def process(self, frame: Frame) -> None:
        if isinstance(frame, TimedSpeech | TurnEnd) and frame.turn_id == self._held_turn:
            self._kept.append(frame)
        elif isinstance(frame, TimedSpeech | TurnEnd):
            self._place(frame)
        elif isinstance(frame, HoldTurn):
            self._held_turn, self._kept = frame.turn_id, []
        elif isinstance(frame, PlayTurn) and frame.turn_id == self._held_turn:
            kept, self._held_turn, self._kept = self._kept, None, []
            for held in kept:
                self._place(held)
        elif isinstance(frame, HoldSpeech):
            self.timeline.hold()
        elif isinstance(frame, ResumeSpeech):
            self.timeline.release()
        elif isinstance(frame, Interrupt):
            self._held_turn, self._kept = None, []
            self._cut_turn = max(self._cut_turn, frame.up_to_turn)
            self.timeline.cut()

    def _place(self, frame: TimedSpeech | TurnEnd) -> None:
        if frame.turn_id <= self._cut_turn:
            return
        if isinstance(frame, TimedSpeech):
            self.timeline.schedule(frame)
        else:
            self.timeline.end_turn(frame.turn_id)
