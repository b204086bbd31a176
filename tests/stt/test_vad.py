"""Silero voice activity detection: speech start and end where the voice is, nothing in silence or noise."""

from __future__ import annotations

import time

import numpy as np
import pytest

from neura.stt import (
    FRAME_SAMPLES,
    SpeechEnded,
    SpeechStarted,
    VadConfig,
    VoiceActivityDetector,
    speech_segments,
)
from tests.stt.samples import RATE_HZ, SENTENCES, spoken


@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_speech_start_and_end_are_found_within_tolerance(voice: str) -> None:
    clip = spoken(voice, SENTENCES[1], pad_s=1.0)
    first, last = clip.words[0].start_s, clip.words[-1].end_s
    segments = speech_segments(clip.samples)
    assert len(segments) == 1, segments
    print(f"\n{voice}: speech {first:.2f}-{last:.2f} s, detected {segments[0].start_s:.2f}-{segments[0].end_s:.2f} s")
    assert abs(segments[0].start_s - first) <= 0.15
    assert abs(segments[0].end_s - last) <= 0.25


def test_streaming_events_come_in_order_after_their_delays() -> None:
    clip = spoken("piper", SENTENCES[0], pad_s=1.0)
    config = VadConfig(min_speech_ms=250, end_silence_ms=400)
    detector = VoiceActivityDetector(config)
    audio = np.concatenate([clip.samples, np.zeros(RATE_HZ, np.float32)])
    frames = []
    for i in range(0, audio.size, 320):  # 20 ms pieces, as WebRTC sends them: frames regroup them
        frames += detector.push(audio[i : i + 320])
    assert len(frames) == audio.size // FRAME_SAMPLES
    events = [(f.start_s, f.event) for f in frames if f.event]
    assert [type(e) for _, e in events] == [SpeechStarted, SpeechEnded]
    (started_at, started), (ended_at, ended) = events
    assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
    assert started_at - started.start_s >= 0.25 - 0.04  # confirmed after min_speech_ms of speech
    assert ended_at - ended.end_s >= 0.4 - 0.04  # declared after end_silence_ms of silence
    assert ended.start_s == started.start_s and ended.end_s > started.start_s + 2
    assert all(f.speaking for f in frames if started_at <= f.start_s < ended_at)


@pytest.mark.parametrize(
    "audio",
    [
        np.zeros(3 * RATE_HZ, np.float32),
        np.random.default_rng(3).normal(0, 0.05, 3 * RATE_HZ).astype(np.float32),
        np.random.default_rng(4).normal(0, 0.3, 3 * RATE_HZ).clip(-1, 1).astype(np.float32),
    ],
    ids=["silence", "quiet-noise", "loud-noise"],
)
def test_silence_and_noise_hold_no_speech(audio: np.ndarray) -> None:
    detector = VoiceActivityDetector()
    frames = detector.push(audio)
    assert not any(f.event for f in frames) and detector.flush() is None
    assert max(f.probability for f in frames) < 0.5


def test_a_short_burst_is_not_speech_and_thresholds_are_checked() -> None:
    clip = spoken("piper", SENTENCES[1], pad_s=0.5)
    burst = clip.samples[int(0.9 * RATE_HZ) : int(1.05 * RATE_HZ)]  # 150 ms of a voice
    quiet = np.zeros(RATE_HZ, np.float32)
    assert speech_segments(np.concatenate([quiet, burst, quiet]), VadConfig(min_speech_ms=300)) == []
    with pytest.raises(ValueError):
        VadConfig(start_probability=0.3, end_probability=0.6)


def test_a_frame_costs_well_under_its_32_ms() -> None:
    detector = VoiceActivityDetector()
    audio = spoken("piper", SENTENCES[0]).samples
    started = time.perf_counter()
    frames = detector.push(audio)
    per_frame_ms = (time.perf_counter() - started) / len(frames) * 1000
    print(f"\nVAD: {per_frame_ms:.3f} ms per 32 ms frame")
    assert per_frame_ms < 8  # generous: a loaded 2-core machine; about 0.2-0.4 ms when quiet


def test_an_onset_is_announced_early_and_dropped_when_it_is_not_speech() -> None:
    from neura.stt.vad import SpeechOnset

    clip = spoken("piper", SENTENCES[1], pad_s=0.5)
    config = VadConfig(min_speech_ms=250, end_silence_ms=200, onset_ms=96)
    frames = VoiceActivityDetector(config).push(np.concatenate([clip.samples, np.zeros(RATE_HZ, np.float32)]))
    events = [(f.start_s, f.event) for f in frames if f.event]
    assert [type(e) for _, e in events] == [SpeechOnset, SpeechStarted, SpeechEnded]
    (onset_at, _), (started_at, _), _ = events
    assert 0.25 - 0.096 - 0.04 <= started_at - onset_at <= 0.25  # announced about 150 ms before it is confirmed

    burst = clip.samples[int(0.9 * RATE_HZ) : int(1.05 * RATE_HZ)]  # 150 ms of a voice: a short sound
    quiet = np.zeros(RATE_HZ, np.float32)
    frames = VoiceActivityDetector(config).push(np.concatenate([quiet, burst, quiet]))
    events = [f.event for f in frames if f.event]
    assert len(events) == 2 and all(isinstance(e, SpeechOnset) for e in events)  # announced, then dropped
    assert [e.dropped for e in events if isinstance(e, SpeechOnset)] == [False, True]
