"""Samples that show what an avatar or a voice will look and sound like, made once and kept in storage.

An avatar's sample is a short square video (:data:`AVATAR_SAMPLE_PHRASE`, a blink, about 2.5 s at
512x512) rendered by the offline pipeline itself, so it is what the avatar's videos will look like. A
voice's sample is :data:`VOICE_SAMPLE_SENTENCE` in that voice. Both are stored under keys that name what
they were made from (voice, phrase, version), so changing any of it makes new ones.

:func:`render_avatar_sample` is blocking and CPU-heavy (face mesh, TTS, rendering and x264: a second or
two): call it from a worker thread. It is the one function to move when rendering leaves the API process.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from functools import lru_cache
from pathlib import Path

from neura.assets.avatars import avatar_prefix
from neura.config import Settings
from neura.render.seam import RenderAsset
from neura.tts.voices import VoiceRef

SAMPLE_VERSION = 1
AVATAR_SAMPLE_PHRASE = "Hello, nice to meet you!"
AVATAR_SAMPLE_PX = 512  # the sample is a square render: the avatar's asset of this size draws it
VOICE_SAMPLE_SENTENCE = "Hello! This is how I sound when I read your script aloud."
BLINK_WINDOW_S = (0.5, 1.5)
"""The first blink starts in this window: after the clip has begun, and over well before it ends."""


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join((f"v{SAMPLE_VERSION}", *parts)).encode()).hexdigest()[:16]


def avatar_sample_key(user_id: uuid.UUID, avatar_id: uuid.UUID, voice: VoiceRef) -> str:
    """Under the avatar's prefix, so deleting the avatar deletes its samples."""
    return f"{avatar_prefix(user_id, avatar_id)}sample-{_digest(str(voice), AVATAR_SAMPLE_PHRASE)}.mp4"


def voice_sample_key(voice: VoiceRef, extension: str) -> str:
    return f"samples/voices/{_digest(str(voice), VOICE_SAMPLE_SENTENCE)}.{extension}"


@lru_cache(maxsize=1)
def blink_seed() -> int:
    """The smallest idle-motion seed whose first blink starts inside :data:`BLINK_WINDOW_S`."""
    from neura.avatar import IdleMotion

    first_s, last_s = BLINK_WINDOW_S
    for seed in range(10_000):
        starts = IdleMotion(seed).blink_starts(last_s)
        if starts and starts[0] >= first_s:
            return seed
    raise RuntimeError(f"no idle-motion seed blinks first between {first_s} and {last_s} s")


def render_avatar_sample(
    photo: bytes | None, settings: Settings, voice: VoiceRef, *, asset: RenderAsset | None = None
) -> bytes:
    """The avatar's sample as MP4 bytes: its stored renderer ``asset`` (else the photo, prepared now)
    rendered at 512x512 by the offline pipeline, saying :data:`AVATAR_SAMPLE_PHRASE` in ``voice`` and
    blinking once. Blocking."""
    from neura.pipeline.offline import render_video
    from neura.pipeline.request import RenderRequest

    with tempfile.TemporaryDirectory(prefix="neura-sample-") as folder:
        output = Path(folder) / "sample.mp4"
        request = RenderRequest(
            output_path=output,
            script_text=AVATAR_SAMPLE_PHRASE,
            avatar=photo,
            avatar_asset=asset,
            avatar_name="the avatar",
            resolution="512",
            voice=voice,
            seed=blink_seed(),
            write_subtitles=False,
            write_thumbnail=False,
            write_sidecar=False,
        )
        render_video(request, settings)
        return output.read_bytes()
