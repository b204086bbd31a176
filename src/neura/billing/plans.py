"""Plans: what each tier may do. One credit buys one second of rendered video, a tenth of a live
minute, 1,000 characters of speech (text to speech, or a transcript to align), or a minute of
recording transcribed (speech to text)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Plan:
    name: str
    monthly_credits: int
    max_video_s: int
    max_resolution: str  # "512" | "720p"
    concurrent_jobs: int
    live_minutes: int
    concurrent_live_sessions: int

    def allows_resolution(self, resolution: str) -> bool:
        order = ["512", "720p"]
        return order.index(resolution) <= order.index(self.max_resolution)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PLANS: dict[str, Plan] = {
    "free": Plan("free", 300, 60, "720p", 1, 5, 1),
    "creator": Plan("creator", 3_000, 300, "720p", 3, 60, 2),
    "pro": Plan("pro", 20_000, 600, "720p", 10, 300, 5),
}

CREDITS_PER_LIVE_MINUTE = 10
SPEECH_CHARS_PER_CREDIT = 1000  # text spoken (/v1/tts, /v1/audio/speech, /v1/tts/stream) or aligned (/v1/align)
TRANSCRIPTION_SECONDS_PER_CREDIT = 60  # recorded audio transcribed (/v1/audio/transcriptions, /v1/align without text)
RESERVE_MARGIN = 1.25  # a prompt's real length can overshoot its target: reserve a margin, settle on the truth


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
