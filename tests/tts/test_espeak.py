"""espeak-ng specifics: the ctypes layout, speed, determinism, long input."""

from __future__ import annotations

import ctypes
import time
from pathlib import Path

import numpy as np
import pytest

from neura.tts import UnknownVoiceError
from neura.tts.espeak import EspeakEngine
from neura.tts.espeak_lib import EVENT_PHONEME, EVENT_WORD, _Event, espeak_library
from tests.tts.conftest import median_pitch_hz


def test_event_struct_matches_speak_lib_h() -> None:
    assert ctypes.sizeof(_Event) == 40  # 6 ints, a pointer, an 8-byte union (64-bit)
    assert _Event.user_data.offset == 24 and _Event.id.offset == 32


def test_events_carry_words_and_ipa_phonemes() -> None:
    speech = espeak_library().synthesize("Hello world", "en-us")
    words = [e for e in speech.events if e.kind == EVENT_WORD]
    phonemes = [e.phoneme for e in speech.events if e.kind == EVENT_PHONEME and e.phoneme]
    assert [(w.text_position, w.length) for w in words] == [(0, 5), (6, 5)]
    assert "".join(phonemes).replace("ˈ", "") == "həloʊwɜːld"
    samples = [e.sample for e in speech.events]
    assert samples == sorted(samples) and samples[-1] <= speech.samples.size


def test_text_to_ipa() -> None:
    assert espeak_library().text_to_ipa("hello there", "en-us") == [["h", "ə", "l", "ˈoʊ"], ["ð", "ˈɛɹ"]]


def test_much_faster_than_real_time(espeak: EspeakEngine) -> None:
    text = "Speed matters when previews must be instant. " * 10
    started = time.perf_counter()
    audio_s = sum(c.duration_s for c in espeak.synthesize(text))
    assert audio_s / (time.perf_counter() - started) > 50  # 300-1000x on an idle core


def test_same_samples_after_other_speech(espeak: EspeakEngine) -> None:
    runs = []
    for other in ("Something else.", "A much longer sentence, with a pause, in between the two runs!"):
        runs.append(next(iter(espeak.synthesize("Please remember the fish, and the chips."))).samples)
        list(espeak.synthesize(other))
    assert np.array_equal(runs[0], runs[1])


def test_a_long_sentence_without_punctuation_is_split(espeak: EspeakEngine) -> None:
    sentence = " ".join(["the committee discussed the budget and the schedule"] * 14)  # ~700 characters
    chunks = list(espeak.synthesize(sentence))
    assert len(chunks) >= 3
    assert all(len(c.text) <= 300 and c.duration_s < 25 for c in chunks)
    assert " ".join(c.text for c in chunks) == sentence
    assert sum(len(c.words) for c in chunks) == len(sentence.split())


def test_other_voices_and_unknown_ones(tts_cache_dir: Path) -> None:
    british = EspeakEngine("en-gb", cache_dir=tts_cache_dir)
    assert british.voice.id == "espeak:en-gb" and british.voice.language == "en-GB"
    assert next(iter(british.synthesize("Tomato."))).words[0].word == "Tomato"
    with pytest.raises(UnknownVoiceError, match="no voice named 'xx-nowhere'"):
        EspeakEngine("xx-nowhere", cache_dir=tts_cache_dir)


def test_a_female_variant_speaks_higher_and_as_steadily(tts_cache_dir: Path, espeak: EspeakEngine) -> None:
    female = EspeakEngine("en-us+f3", cache_dir=tts_cache_dir)
    assert female.voice.gender == "female" and espeak.voice.gender == "male"
    text = "Hello there, how are you today? I am fine, thank you."
    low = np.concatenate([c.samples for c in espeak.synthesize(text)])
    high = np.concatenate([c.samples for c in female.synthesize(text)])
    assert median_pitch_hz(low, espeak.sample_rate_hz) < 130 < 160 < median_pitch_hz(high, female.sample_rate_hz)
    list(espeak.synthesize("Something else in between."))
    assert np.array_equal(high, np.concatenate([c.samples for c in female.synthesize(text)]))
