"""Plans: what each tier may do. One credit buys one second of rendered video, a tenth of a live
minute, 1,000 characters of speech (text to speech, or a transcript to align), or a minute of
recording transcribed (speech to text)."""

from __future__ import annotations

import math

from neura.limits import PLANS, Plan

__all__ = ["PLANS", "Plan", "credits_for_speech", "credits_for_video", "credits_to_reserve", "get_plan"]

CREDITS_PER_LIVE_MINUTE = 10
SPEECH_CHARS_PER_CREDIT = 1000  # text spoken (/v1/tts, /v1/audio/speech, /v1/tts/stream) or aligned (/v1/align)
TRANSCRIPTION_SECONDS_PER_CREDIT = 60  # recorded audio transcribed (/v1/audio/transcriptions, /v1/align without text)
RESERVE_MARGIN = 1.25  # a prompt's real length can overshoot its target: reserve a margin, settle on the truth
CREDITS_PER_SCRIPT_DRAFT = 1  # POST /v1/scripts: one language-model draft (given back when it fails)


def get_plan(name: str) -> Plan:
    return PLANS.get(name, PLANS["free"])


def credits_for_video(duration_s: float) -> int:
    return max(1, math.ceil(duration_s))


def credits_to_reserve(target_duration_s: float) -> int:
    return credits_for_video(target_duration_s * RESERVE_MARGIN)


def credits_for_speech(chars: int) -> int:
    """Credits for ``chars`` characters of speech: one per started 1,000."""
    return max(1, math.ceil(chars / SPEECH_CHARS_PER_CREDIT))


def credits_for_transcription(duration_s: float) -> int:
    """Credits for transcribing ``duration_s`` of audio: one per started minute."""
    return max(1, math.ceil(duration_s / TRANSCRIPTION_SECONDS_PER_CREDIT))
