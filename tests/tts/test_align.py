"""Forced alignment with pocketsphinx: real speech in, words and ARPAbet phones out; clear errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from neura.errors import InputError
from neura.tts import SILENCE_PHONEME, AlignmentError, align_words
from neura.tts.align import resample
from neura.tts.arpabet import ipa_to_arpabet
from neura.tts.espeak import EspeakEngine


def test_aligns_words_and_phones_of_real_speech(espeak: EspeakEngine) -> None:
    (chunk,) = espeak.synthesize("Hello NEURA, it is 5 p.m. on the twenty-sixth.")
    words, phones = align_words(chunk.samples, chunk.sample_rate_hz, chunk.text)
    assert [w.word for w in words] == ["Hello", "NEURA", "it", "is", "five", "p.m.", "on", "the", "twenty-sixth"]
    for ours, engine_word in zip(words, chunk.words, strict=True):
        assert abs(ours.start_s - engine_word.start_s) < 0.1, (ours, engine_word)
    assert phones[0].start_s == 0.0 and phones[-1].end_s == pytest.approx(chunk.duration_s)
    assert {p.phoneme for p in phones} >= {"HH", "AH", "L", "OW", SILENCE_PHONEME}
    for before, after in itertools.pairwise(phones):
        assert before.end_s == after.start_s


def test_any_sample_rate(espeak: EspeakEngine) -> None:
    (chunk,) = espeak.synthesize("Recorded at forty eight kilohertz.")
    upsampled = resample(chunk.samples, chunk.sample_rate_hz, 48000)
    assert upsampled.size == round(chunk.samples.size * 48000 / chunk.sample_rate_hz)
    words, _ = align_words(upsampled, 48000, chunk.text)
    reference, _ = align_words(chunk.samples, chunk.sample_rate_hz, chunk.text)
    assert [w.start_s for w in words] == pytest.approx([w.start_s for w in reference], abs=0.02)
    pcm16 = (chunk.samples * 32767).astype(np.int16)  # integer PCM is scaled, not clipped
    assert [w.start_s for w in align_words(pcm16, chunk.sample_rate_hz, chunk.text)[0]] == pytest.approx(
        [w.start_s for w in reference], abs=0.02
    )


@pytest.mark.parametrize(
    ("samples", "transcript", "message"),
    [
        (np.zeros(0, dtype=np.float32), "hello", "empty"),
        (np.zeros(100, dtype=np.float32), "hello", "shorter than"),
        (np.zeros((2, 22050), dtype=np.float32), "hello", "mono"),
        (np.zeros(22050, dtype=np.float32), "", "no words"),
        (np.zeros(22050, dtype=np.float32), "... !!", "no words"),
    ],
)
def test_clear_errors(samples: np.ndarray, transcript: str, message: str) -> None:
    with pytest.raises(AlignmentError, match=message) as caught:
        align_words(samples, 22050, transcript)
    assert isinstance(caught.value, InputError) and caught.value.hint


def test_words_that_are_not_said_do_not_align(espeak: EspeakEngine) -> None:
    (chunk,) = espeak.synthesize("Yes.")
    with pytest.raises(AlignmentError, match="could not be aligned"):
        align_words(chunk.samples, chunk.sample_rate_hz, " ".join(["extraordinarily complicated"] * 12))


def test_ipa_to_arpabet() -> None:
    assert ipa_to_arpabet(["h", "ə", "l", "ˈoʊ"]) == ["HH", "AH", "L", "OW"]
    assert ipa_to_arpabet(["tʃ", "ˈɜː", "tʃ"]) == ["CH", "ER", "CH"]
    assert ipa_to_arpabet(["n", "ˈʊɹ", "ɹ", "ə"]) == ["N", "UH", "R", "R", "AH"]
    assert ipa_to_arpabet(["?"]) == []
