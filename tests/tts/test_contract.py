"""The TTSEngine contract, checked on real audio from every engine that runs here (piper, espeak), and
from an engine without timings of its own (XTTS's path through BaseTTS: forced alignment)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from neura.errors import ScriptError
from neura.media import SpeechChunk
from neura.tts import SILENCE_PHONEME, TTSEngine, normalize_text, speech_words, split_sentences
from neura.tts.espeak import EspeakEngine
from neura.tts.piper import PiperEngine
from tests.tts.conftest import TimelessEngine, rms

TEXT = "Hello there, my friend. It costs $5.50 on Nov 26, 2026! Is it twenty-six of the best?"
QUIET_RMS = 0.02


@pytest.fixture(scope="module", params=["piper", "espeak", "timeless"])
def engine(
    request: pytest.FixtureRequest, piper: PiperEngine, espeak: EspeakEngine, timeless: TimelessEngine
) -> TTSEngine:
    engines: dict[str, TTSEngine] = {"piper": piper, "espeak": espeak, "timeless": timeless}
    return engines[request.param]


@pytest.fixture(scope="module")
def chunks(engine: TTSEngine) -> list[SpeechChunk]:
    return list(engine.synthesize(TEXT))


def test_is_a_tts_engine(engine: TTSEngine) -> None:
    assert isinstance(engine, TTSEngine)
    assert engine.voice.engine == engine.name
    assert engine.voice.id.startswith(f"{engine.name}:")
    assert engine.voice.license and engine.voice.engine_license
    assert engine.sample_rate_hz == 22050


def test_one_chunk_per_sentence_with_the_written_text(engine: TTSEngine, chunks: list[SpeechChunk]) -> None:
    assert [c.text for c in chunks] == split_sentences(TEXT)
    for chunk in chunks:
        assert chunk.samples.dtype == np.float32 and chunk.samples.ndim == 1
        assert 0.5 < chunk.duration_s < 10
        assert float(np.max(np.abs(chunk.samples))) <= 1.0
        assert chunk.alphabet == ("arpabet" if isinstance(engine, TimelessEngine) else "ipa")


def test_phonemes_are_contiguous_and_cover_the_audio(chunks: list[SpeechChunk]) -> None:
    for chunk in chunks:
        spans = chunk.phonemes
        assert spans[0].start_s == 0.0
        assert spans[-1].end_s == pytest.approx(chunk.duration_s, abs=1e-9)
        assert sum(p.end_s - p.start_s for p in spans) == pytest.approx(chunk.duration_s, abs=1e-6)
        for before, after in itertools.pairwise(spans):
            assert before.end_s == after.start_s
            assert after.end_s > after.start_s
        assert all("ˈ" not in p.phoneme and "ˌ" not in p.phoneme for p in spans)
        sounding = [p for p in spans if p.phoneme != SILENCE_PHONEME]
        assert len(sounding) >= 3 * len(chunk.words) // 2


def test_words_are_the_spoken_words_in_order(chunks: list[SpeechChunk]) -> None:
    for chunk in chunks:
        assert [w.word for w in chunk.words] == speech_words(normalize_text(chunk.text))
        for before, after in zip(chunk.words, chunk.words[1:], strict=False):
            assert before.start_s < after.start_s
            assert before.end_s <= after.start_s + 1e-9
        for word in chunk.words:
            assert 0 <= word.start_s < word.end_s <= chunk.duration_s


def test_audio_sounds_in_words_and_is_quiet_at_the_end(engine: TTSEngine, chunks: list[SpeechChunk]) -> None:
    for chunk in chunks:
        rate = chunk.sample_rate_hz
        for word in chunk.words:
            assert rms(chunk.samples[int(word.start_s * rate) : int(word.end_s * rate)]) > QUIET_RMS, word
        edge = int(0.01 * rate)  # what sits between two sentences: the model's own quiet end (and start)
        assert rms(chunk.samples[-edge:]) < QUIET_RMS
        if engine.name == "piper":  # espeak-ng starts right away; the pipeline's pause precedes it
            assert rms(chunk.samples[:edge]) < QUIET_RMS


def test_pauses_are_quieter_than_speech(chunks: list[SpeechChunk]) -> None:
    chunk = chunks[0]  # "Hello there, my friend." has a comma pause
    rate = chunk.sample_rate_hz
    inner = [p for p in chunk.phonemes[1:-1] if p.phoneme == SILENCE_PHONEME]
    assert inner, "the comma should give a pause"
    pause = max(inner, key=lambda p: p.end_s - p.start_s)
    edge_s = 0.02  # a forced aligner's boundaries are 10-20 ms off: judge the pause inside them
    assert pause.end_s - pause.start_s > 3 * edge_s
    assert rms(chunk.samples[int((pause.start_s + edge_s) * rate) : int((pause.end_s - edge_s) * rate)]) < QUIET_RMS


def test_same_text_same_samples(engine: TTSEngine) -> None:
    first = [c.samples for c in engine.synthesize("Determinism matters, every single time.")]
    engine_chunks = list(engine.synthesize("Something else in between."))
    second = [c.samples for c in engine.synthesize("Determinism matters, every single time.")]
    assert engine_chunks
    assert len(first) == len(second) == 1
    assert np.array_equal(first[0], second[0])


@pytest.mark.parametrize("text", ["", "   ", "...", "— ! ?"])
def test_nothing_to_say_is_a_script_error(engine: TTSEngine, text: str) -> None:
    with pytest.raises(ScriptError):
        list(engine.synthesize(text))


def test_chunks_come_one_by_one(engine: TTSEngine) -> None:
    iterator = iter(engine.synthesize("First sentence here. Second sentence there."))
    assert next(iterator).text == "First sentence here."
    assert next(iterator).text == "Second sentence there."
    assert next(iterator, None) is None
