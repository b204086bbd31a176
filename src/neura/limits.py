"""Every limit a user meets, in one place: the engines enforce these, and the CLI's ``--help``, the API's
OpenAPI descriptions and the README quote them from here (a test keeps the README in step).

Settings-driven limits (the HTTP body and upload sizes: ``MAX_BODY_BYTES``, ``MAX_UPLOAD_BYTES``) live in
:mod:`neura.config`. A light module on purpose: the command line imports it to write its help.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# --- what a video says
SCRIPT_MAX_CHARS = 20_000  # narration, all scenes together: about 20 minutes of speech
SCRIPT_MAX_SCENES = 40  # a script's paragraphs (blank-line separated)
PROMPT_MAX_CHARS = 4_000

# --- how long a video made from a prompt lasts (a script sets its own length)
DURATION_MIN_S = 5.0
DURATION_MAX_S = 600.0
DURATION_DEFAULT_S = 30.0  # the CLI's --duration and the API's duration_s alike

# --- a photo read from disk (an upload is first limited by MAX_UPLOAD_BYTES)
PHOTO_MAX_BYTES = 20_000_000
PHOTO_MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class Plan:
    """What each tier may do. One credit buys one second of rendered video, a tenth of a live minute,
    or 1,000 characters of speech."""

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

    def summary(self) -> str:
        """One line: ``free: 300 credits a month, videos up to 60 s (720p), 1 at a time, ...``."""
        return (
            f"{self.name}: {self.monthly_credits:,} credits a month, videos up to {self.max_video_s} s "
            f"({self.max_resolution}), {self.concurrent_jobs} at a time, {self.live_minutes} live minutes a month "
            f"({self.concurrent_live_sessions} at a time)"
        )


PLANS: dict[str, Plan] = {
    "free": Plan("free", 300, 60, "720p", 1, 5, 1),
    "creator": Plan("creator", 3_000, 300, "720p", 3, 60, 2),
    "pro": Plan("pro", 20_000, 600, "720p", 10, 300, 5),
}


def megabytes(n_bytes: int) -> str:
    """``20 MB`` for 20_000_000 (decimal megabytes, as the limits are set)."""
    return f"{n_bytes / 1e6:g} MB"
