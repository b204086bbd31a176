"""The media timeline: speech placed on frame boundaries after what was already rendered, audio read by
position and the mouth track pushed into the renderer's stream from the same frame, and a cut that fades
the voice and closes the mouth. The renderer is the tests' fake (the contract test covers the real ones)."""

from __future__ import annotations

import numpy as np

from neura.live.events import LiveEvent, SpeechCut, SpeechStarted, StageReached, TurnPlayed
from neura.live.frames import TimedSpeech
from neura.live.timeline import SAMPLES_PER_VIDEO_FRAME, SpeechTimeline
from neura.media import WordSpan
from neura.render.seam import CLOSE_FRAMES, RenderStream
from tests.fakes.renderer import FakeRenderer

RATE = 48_000


def video() -> RenderStream:
    renderer = FakeRenderer()
    return renderer.stream(renderer.prepare(np.zeros((64, 64, 3), np.uint8), size_px=64), output="i420")


def opening(stream: RenderStream) -> float:
    """The mouth's opening in the next frame the stream renders."""
    return float(stream.render_next(1)[0].mouth[0])


def speech(turn_id: int, seconds: float, level: float = 0.5) -> TimedSpeech:
    samples = np.full(round(seconds * RATE), level, dtype=np.float32)
    frames = int(np.ceil(seconds * 25))
    mouth = np.tile(np.array([0.6, 0.1, 0.0, 0.0, 0.0], dtype=np.float32), (frames, 1))
    words = [WordSpan("one", 0.0, seconds / 2), WordSpan("two", seconds / 2, seconds)]
    return TimedSpeech(turn_id, "one two", 0, samples, mouth, words)


def run_audio(timeline: SpeechTimeline, first_frame: int, count: int) -> np.ndarray:
    return np.concatenate([timeline.read_audio(k * 960, 960) for k in range(first_frame, first_frame + count)])


def test_speech_starts_on_the_first_frame_not_yet_taken_and_voice_and_mouth_share_it() -> None:
    events: list[LiveEvent] = []
    stream = video()
    timeline = SpeechTimeline(events.append, stream)
    run_audio(timeline, 0, 5)  # 100 ms of silence sent
    stream.render_next(3)  # frames 0..2 rendered for the video track
    segment = timeline.schedule(speech(1, 0.5))
    assert segment.start_sample == 3 * SAMPLES_PER_VIDEO_FRAME  # frame 3 = 120 ms = audio frame 6
    audio = run_audio(timeline, 5, 10)
    assert np.all(audio[:960] == 0) and np.all(audio[960:] == 0.5)  # speech from sample 5760 on
    assert opening(stream) == np.float32(0.6)
    assert any(isinstance(e, SpeechStarted) for e in events)
    second = timeline.schedule(speech(1, 0.2))
    assert second.start_sample == segment.start_sample + 13 * SAMPLES_PER_VIDEO_FRAME  # right after, on a frame


def test_turn_played_comes_after_its_last_sample_and_first_frame_when_sent() -> None:
    events: list[LiveEvent] = []
    stream = video()
    timeline = SpeechTimeline(events.append, stream)
    timeline.schedule(speech(7, 0.1))
    timeline.end_turn(7)
    stream.render_next(1)
    timeline.frame_sent(0)
    run_audio(timeline, 0, 4)  # 80 of its 100 ms
    assert not any(isinstance(e, TurnPlayed) for e in events)
    run_audio(timeline, 4, 1)
    kinds = [(type(e).__name__, getattr(e, "stage", None)) for e in events]
    assert ("StageReached", "first_frame_sent") in kinds and ("StageReached", "first_audio_sent") in kinds
    assert kinds[-1] == ("TurnPlayed", None)


def test_a_cut_fades_the_voice_at_once_drops_the_rest_and_closes_the_mouth() -> None:
    events: list[LiveEvent] = []
    stream = video()
    timeline = SpeechTimeline(events.append, stream)
    timeline.schedule(speech(1, 1.0))
    timeline.schedule(speech(1, 1.0))
    run_audio(timeline, 0, 20)  # 400 ms played
    stream.render_next(11)
    timeline.cut()
    after = run_audio(timeline, 20, 5)
    assert 0 < np.abs(after[:120]).max() <= 0.5 and np.all(after[120:] == 0)  # 2.5 ms fade, then silence
    poses = [opening(stream) for _ in range(CLOSE_FRAMES + 2)]
    assert 0 < poses[0] < 0.6 and poses[CLOSE_FRAMES] == 0 and poses[-1] == 0
    [cut] = [e for e in events if isinstance(e, SpeechCut)]
    assert cut.spoken == "one"  # "two" starts at 0.5 s: never heard
    assert not timeline.busy
    assert not any(isinstance(e, StageReached) and e.turn_id != 1 for e in events)
