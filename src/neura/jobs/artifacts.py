"""Where a video's files live in object storage.

Each run writes under its own folder (``users/<user>/videos/<video>/r<attempt>/``), so a run that lost
its claim can delete what it uploaded without touching the files of the run that won. A run killed in
the middle of its upload (SIGKILL, a lost machine) cannot delete anything: whoever finishes the video
(the next run, the sweeper, a cancellation) calls :func:`discard_other_runs`, so no object outlives its
video's end except the winning run's files.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from neura.pipeline import RenderResult
    from neura.storage import Storage

CONTENT_TYPES = {
    "mp4": "video/mp4",
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
    "thumbnail": "image/jpeg",
    "sidecar": "application/json",
}
FILE_NAMES = {
    "mp4": "video.mp4",
    "srt": "video.srt",
    "vtt": "video.vtt",
    "thumbnail": "thumbnail.jpg",
    "sidecar": "video.json",
}


def video_prefix(user_id: uuid.UUID, video_id: uuid.UUID) -> str:
    return f"users/{user_id}/videos/{video_id}"


def run_prefix(user_id: uuid.UUID, video_id: uuid.UUID, attempt: int) -> str:
    return f"{video_prefix(user_id, video_id)}/r{attempt}"


async def discard_other_runs(
    storage: Storage, user_id: uuid.UUID, video_id: uuid.UUID, attempts: int, *, kept: int | None = None
) -> None:
    """Delete the folders of runs 1..``attempts`` of a finished video, except run ``kept`` (the one whose
    files the video serves; None when it ended without files). Storage errors propagate."""
    for attempt in range(1, attempts + 1):
        if attempt != kept:
            await storage.delete_prefix(run_prefix(user_id, video_id, attempt))


def result_files(result: RenderResult) -> dict[str, Path]:
    """The files a render wrote, by artifact kind."""
    files = {
        "mp4": result.output_path,
        "srt": result.srt_path,
        "vtt": result.vtt_path,
        "thumbnail": result.thumbnail_path,
        "sidecar": result.sidecar_path,
    }
    return {kind: path for kind, path in files.items() if path is not None}
