"""The input stages on real engines (Silero VAD, the configured Whisper), without WebRTC: the final decode
starts at the first hint of a pause and is reused when the pause lasts; voice that goes on gets a fresh
final over the whole stretch."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest

from neura.config import Settings
from neura.live.frames import Frame, Transcript, UserAudio, UserPausing, UserStartedSpeaking, UserStoppedSpeaking
from neura.live.hearing import TranscriptionStage, VoiceActivityStage
from neura.live.processor import Processor
from neura.stt import STTEngine, create_stt
from neura.stt.base import Samples, TranscribeOptions
from neura.stt.base import Transcript as SpokenText
from neura.stt.streaming import StreamingTranscriber
from neura.stt.vad import VadConfig
from tests.live.test_turn_taking import _Sink as EverySink  # keeps every frame, audio too
from tests.stt.samples import RATE_HZ, spoken

PIECE = RATE_HZ // 50  # 20 ms, as the microphone delivers it


class CountingEngine:
    """The real engine, counting the decodes at the final's beam size."""

    def __init__(self, engine: STTEngine) -> None:
        self.engine = engine
        self.model = engine.model
        self.finals = 0

    def transcribe(self, samples: Samples, options: TranscribeOptions | None = None) -> SpokenText:
        if options is not None and options.beam_size > 1:
            self.finals += 1
        return self.engine.transcribe(samples, options)

    def stream(self, options: TranscribeOptions | None = None) -> StreamingTranscriber:
        return StreamingTranscriber(self, options or TranscribeOptions())  # type: ignore[arg-type]


class _Sink(Processor):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Frame] = []

    async def queue_frame(self, frame: Frame) -> None:
        if not isinstance(frame, UserAudio):
            self.frames.append(frame)


@pytest.fixture(scope="module")
def engine() -> STTEngine:
    return create_stt(Settings(STT_MODEL_DIR=None))  # type: ignore[call-arg]


async def _hear(engine: CountingEngine, audio: npt.NDArray[np.float32]) -> list[Frame]:
    config = VadConfig(min_speech_ms=250, end_silence_ms=200, pausing_ms=100)
    vad = VoiceActivityStage(config)
    with ThreadPoolExecutor(max_workers=1) as executor:
        stage = TranscriptionStage(engine, executor, beam_size=5)  # type: ignore[arg-type]
        sink = _Sink()
        vad.link(stage, lambda event: None)
        stage.link(sink, lambda event: None)
        for i in range(0, audio.size - PIECE + 1, PIECE):
            await vad.process(UserAudio(audio[i : i + PIECE], i, i / RATE_HZ, 0.0))
            await asyncio.sleep(0)
        for _ in range(400):  # the decodes run in the executor
            if any(isinstance(f, Transcript) and f.final for f in sink.frames):
                break
            await asyncio.sleep(0.05)
        await stage.stop()
    return sink.frames


def _trimmed(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Without the silence the voice leaves before and after the words."""
    loud = np.flatnonzero(np.abs(samples) > 0.02)
    return samples[loud[0] : loud[-1] + 1]


async def test_the_final_decoded_at_the_first_hint_of_a_pause_is_the_final(engine: STTEngine) -> None:
    counting = CountingEngine(engine)
    question = spoken("piper", "What is the capital of Australia?", pad_s=0.3).samples
    frames = await _hear(counting, np.concatenate([question, np.zeros(RATE_HZ // 2, np.float32)]))
    kinds = [type(f).__name__ for f in frames]
    assert kinds.index("UserPausing") < kinds.index("UserStoppedSpeaking")
    pausing = next(f for f in frames if isinstance(f, UserPausing))
    stopped = next(f for f in frames if isinstance(f, UserStoppedSpeaking))
    assert pausing.end_sample == stopped.end_sample  # the same end of speech: 100 ms earlier
    final = next(f for f in frames if isinstance(f, Transcript) and f.final)
    assert "australia" in final.text.lower()
    assert counting.finals == 1  # decoded once, at the hint, and reused at the stop


async def test_voice_after_a_short_pause_gets_a_final_over_the_whole_stretch(engine: STTEngine) -> None:
    counting = CountingEngine(engine)
    first = _trimmed(spoken("piper", "Tell me about the ocean", pad_s=0.0).samples)
    rest = _trimmed(spoken("piper", "and the whales in it.", pad_s=0.0).samples)
    quiet = np.zeros(int(0.3 * RATE_HZ), np.float32)
    pause = np.zeros(int(0.24 * RATE_HZ), np.float32)  # the VAD hears ~150 ms of it: a hint, not a stop
    audio = np.concatenate([quiet, first, pause, rest, quiet, quiet])
    frames = await _hear(counting, audio)
    assert sum(isinstance(f, UserStoppedSpeaking) for f in frames) == 1
    hint_before = quiet.size + first.size + pause.size
    assert any(isinstance(f, UserPausing) and f.end_sample < hint_before for f in frames)  # a hint mid-way
    final = next(f for f in frames if isinstance(f, Transcript) and f.final)
    assert "ocean" in final.text.lower() and "whales" in final.text.lower(), final.text
    assert counting.finals >= 2  # the early decode of the first part was not taken for the final


async def test_the_voice_activity_stage_marks_the_fading_voice_quiet() -> None:
    question = spoken("piper", "What is the capital of Australia?", pad_s=0.0).samples
    vad = VoiceActivityStage(VadConfig(min_speech_ms=250, end_silence_ms=200, pausing_ms=100))
    sink = EverySink()
    vad.link(sink, lambda event: None)
    audio = np.concatenate([question, np.zeros(RATE_HZ // 2, np.float32)])
    for i in range(0, audio.size - PIECE + 1, PIECE):
        piece = audio[i : i + PIECE]
        await vad.process(UserAudio(piece, i, i / RATE_HZ, float(np.sqrt(np.mean(piece * piece)))))
    stopped = next(f for f in sink.frames if isinstance(f, UserStoppedSpeaking))
    pieces = [f for f in sink.frames if isinstance(f, UserAudio)]
    loud = np.flatnonzero(np.abs(question) > 0.02)
    fading = [f for f in pieces if loud[-1] < f.first_sample and f.first_sample + PIECE <= stopped.end_sample + 3000]
    assert fading and all(f.quiet for f in fading)  # the detector still hears voice there; the level does not
    middle = [f for f in pieces if loud[0] + RATE_HZ // 2 < f.first_sample < loud[-1] - RATE_HZ // 2]
    assert middle and sum(f.quiet for f in middle) < len(middle) // 4  # words: seldom quiet


async def test_no_partial_starts_on_a_quiet_piece_so_the_final_never_waits_behind_one(engine: STTEngine) -> None:
    """A partial decode (150-250 ms) started as the voice fades would hold up that pause's final."""
    counting = CountingEngine(engine)
    calls: list[float] = []
    real = counting.transcribe

    def transcribe(samples: Samples, options: TranscribeOptions | None = None) -> SpokenText:
        calls.append(samples.size / RATE_HZ)
        return real(samples, options)

    counting.transcribe = transcribe  # type: ignore[method-assign]
    question = spoken("piper", "What is the capital of Australia?", pad_s=0.0).samples
    with ThreadPoolExecutor(max_workers=1) as executor:
        stage = TranscriptionStage(counting, executor, beam_size=5, partial_interval_ms=200)  # type: ignore[arg-type]
        stage.link(_Sink(), lambda event: None)
        await stage.process(UserStartedSpeaking(0, 0.0))
        for i in range(0, RATE_HZ // 2, PIECE):  # 500 ms, every piece quiet: no partial
            await stage.process(UserAudio(question[i : i + PIECE], i, i / RATE_HZ, 0.1, quiet=True))
        await asyncio.sleep(0.3)
        assert calls == []
        i = RATE_HZ // 2
        await stage.process(UserAudio(question[i : i + PIECE], i, i / RATE_HZ, 0.1))  # the voice again
        for _ in range(100):
            if calls:
                break
            await asyncio.sleep(0.02)
        await stage.stop()
    assert len(calls) == 1
