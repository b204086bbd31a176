"""The lip-sync stage's own arithmetic: the first clause's leading silence, and where its first phoneme
goes when the engine's alignment offset puts it before the first sound."""

from __future__ import annotations

import numpy as np

from neura.live.lipsync_stage import KEEP_LEAD_S, MIN_SOUNDING_S, start_phonemes_at, time_speech
from neura.media import PhonemeSpan, SpeechChunk, WordSpan

RATE_HZ = 22_050


def voiced_after(sound_s: float, duration_s: float) -> np.ndarray:
    """Silence until ``sound_s``, then a 200 Hz tone (loud enough to count as sound) to ``duration_s``."""
    t = np.arange(round(duration_s * RATE_HZ)) / RATE_HZ
    return np.where(t >= sound_s, 0.5 * np.sin(2 * np.pi * 200 * t), 0.0).astype(np.float32)


def in_most(sound_s: float = 0.042) -> SpeechChunk:
    """ "In most", as Piper times it after its -33 ms offset: "ɪ" ends before the audio's first sound."""
    spans = [("_", 0.0, 0.002), ("ɪ", 0.002, 0.025), ("n", 0.025, 0.106), ("m", 0.106, 0.141), ("o", 0.141, 0.3)]
    phonemes = [PhonemeSpan(p, start, end) for p, start, end in spans]
    words = [WordSpan("In", 0.002, 0.106), WordSpan("most", 0.106, 0.3)]
    return SpeechChunk("In most", voiced_after(sound_s, 0.3), RATE_HZ, phonemes, words)


def test_a_first_phoneme_the_offset_put_before_the_sound_starts_at_the_sound() -> None:
    chunk = in_most(sound_s=0.042)
    moved = start_phonemes_at(chunk, 0.042)
    by_symbol = {p.phoneme: p for p in moved.phonemes}
    assert abs(by_symbol["ɪ"].start_s - 0.042) < 1e-9
    assert by_symbol["ɪ"].end_s > by_symbol["ɪ"].start_s
    assert by_symbol["m"] == chunk.phonemes[3]  # after the next phoneme, nothing moves
    assert all(a.end_s == b.start_s for a, b in zip(moved.phonemes, moved.phonemes[1:], strict=False))
    assert moved.words[0].start_s == by_symbol["ɪ"].start_s


def test_a_first_phoneme_that_sounds_long_enough_is_left_alone() -> None:
    chunk = in_most()
    assert start_phonemes_at(chunk, chunk.phonemes[1].end_s - MIN_SOUNDING_S) is chunk


def test_the_first_clause_opens_the_mouth_for_its_first_vowel() -> None:
    """Before the fix the trim cut "ɪ" away with the silence: frame 1 showed only a weakly open "n"."""
    timed = time_speech(1, 0, in_most(), trim_lead=True)
    assert abs(len(timed.samples_48k) / 48_000 - (0.3 - 0.042 + KEEP_LEAD_S)) < 0.001
    untrimmed = time_speech(1, 0, in_most(), trim_lead=False)
    assert timed.mouth[1, 0] > 0.12  # "ɪ" into "n": the jaw half open
    assert timed.mouth[2, 0] < 0.05  # "m": lips closed
    assert untrimmed.mouth.shape[0] > timed.mouth.shape[0]
