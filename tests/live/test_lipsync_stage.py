"""The lip-sync stage's own arithmetic: the first clause's leading silence, where its first phoneme goes
when the engine's alignment offset puts it before the first sound, and a clause that comes in two pieces
(a streaming engine's opening, then its rest) timed exactly as if it had come whole."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest

from neura.live.frames import Frame, Speech, TimedSpeech
from neura.live.lipsync_stage import KEEP_LEAD_S, MIN_SOUNDING_S, LipSyncStage, start_phonemes_at, time_speech
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
    """Before the fix the trim cut "ɪ" away with the silence: frame 0 showed only a weakly open "n"."""
    timed = time_speech(1, 0, in_most(), trim_lead=True)
    assert abs(len(timed.samples_48k) / 48_000 - (0.3 - 0.042 + KEEP_LEAD_S)) < 0.001
    untrimmed = time_speech(1, 0, in_most(), trim_lead=False)
    assert timed.mouth[0, 0] > 0.12  # "ɪ" into "n": the jaw half open (0.07 without the fix)
    assert timed.mouth[2, 0] < 0.05  # "m": lips closed
    assert untrimmed.mouth.shape[0] > timed.mouth.shape[0]


def split(chunk: SpeechChunk, at_s: float) -> tuple[SpeechChunk, SpeechChunk]:
    """``chunk`` as a streaming engine yields it: the opening (``continues``) and the rest, each with the
    whole utterance's phonemes and words on its own timeline."""
    cut = round(at_s * chunk.sample_rate_hz)
    head = replace(chunk, samples=chunk.samples[:cut], continues=True)
    phonemes, words = chunk.shifted(-cut / chunk.sample_rate_hz)
    return head, replace(chunk, samples=chunk.samples[cut:], phonemes=phonemes, words=words)


def sentence() -> SpeechChunk:
    spans = [("_", 0.0, 0.05), ("m", 0.05, 0.12), ("a", 0.12, 0.31), ("p", 0.31, 0.37), ("o", 0.37, 0.62)]
    spans += [("_", 0.62, 0.7), ("b", 0.7, 0.76), ("i", 0.76, 1.0)]
    phonemes = [PhonemeSpan(p, start, end) for p, start, end in spans]
    words = [WordSpan("mapo", 0.05, 0.62), WordSpan("bee", 0.7, 1.0)]
    return SpeechChunk("Mapo bee.", voiced_after(0.05, 1.0), RATE_HZ, phonemes, words)


async def timed(frames: list[Speech]) -> list[TimedSpeech]:
    stage, out = LipSyncStage(ThreadPoolExecutor(1)), []

    async def collect(frame: Frame) -> None:
        assert isinstance(frame, TimedSpeech)
        out.append(frame)

    stage.push = collect  # type: ignore[method-assign]
    for frame in frames:
        await stage.process(frame)
    return out


@pytest.mark.parametrize("at_s", [0.37, 0.4104, 0.5])
def test_a_streamed_clause_is_timed_as_if_it_came_whole(at_s: float) -> None:
    whole = asyncio.run(timed([Speech(7, sentence(), 0)]))
    head, rest = split(sentence(), at_s)
    parts = asyncio.run(timed([Speech(7, head, 0), Speech(7, rest, 0)]))
    assert len(whole) == 1 and len(parts) == 2
    assert parts[0].samples_48k.size % 1920 == 0  # whole frames: the timeline places the rest right after
    assert len(parts[0].mouth) == parts[0].samples_48k.size // 1920
    assert np.allclose(np.concatenate([p.samples_48k for p in parts]), whole[0].samples_48k, atol=1e-6)
    assert np.allclose(np.concatenate([p.mouth for p in parts]), whole[0].mouth, atol=1e-6)
    assert [p.text for p in parts] == ["Mapo bee.", ""]  # the clause is announced once
    words = [(w.word, round(w.start_s + len(parts[0].mouth) / 25, 6)) for w in parts[1].words]
    assert words == [(w.word, round(w.start_s, 6)) for w in whole[0].words]


def test_a_rest_after_another_turn_began_is_timed_alone() -> None:
    head, rest = split(sentence(), 0.5)
    parts = asyncio.run(timed([Speech(7, head, 0), Speech(8, sentence(), 0), Speech(7, rest, 0)]))
    assert len(parts) == 3 and parts[2].samples_48k.size == round(rest.samples.size * 48_000 / RATE_HZ)
