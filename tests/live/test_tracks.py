"""The tracks pace against one monotonic clock: frame k leaves at start + k * period, whatever the
work per frame, so nothing drifts; audio is 20 ms Opus packets stamped in 48 kHz samples, video VP8
packets at 25 fps stamped in 90 kHz."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import av
import numpy as np
import numpy.typing as npt
import pytest
from aiortc.mediastreams import MediaStreamError

from neura.live.clock import MediaClock
from neura.live.events import discard
from neura.live.timeline import SpeechTimeline
from neura.live.tracks import AvatarAudioTrack, AvatarVideoTrack


class TinyFrames:
    def render(self, frame_index: int, mouth: npt.NDArray[np.float32]) -> av.VideoFrame:
        time.sleep(0.012)  # some work per frame
        return av.VideoFrame(64, 64, "yuv420p")  # black; VP8 needs even sizes


async def test_audio_and_video_share_one_clock_and_do_not_drift() -> None:
    clock, timeline = MediaClock(), SpeechTimeline(discard)
    audio = AvatarAudioTrack(clock, timeline)
    video = AvatarVideoTrack(clock, timeline, TinyFrames(), ThreadPoolExecutor(1))
    audio_times: list[float] = []
    video_times: list[float] = []

    async def pull_audio() -> None:
        for k in range(100):  # 2 s
            packet = await audio.recv()
            audio_times.append(clock.media_s())
            assert (packet.pts, packet.time_base.denominator) == (k * 960, 48_000)

    async def pull_video() -> None:
        for n in range(50):  # 2 s
            packet = await video.recv()
            video_times.append(clock.media_s())
            assert packet.pts == n * 3600 and packet.time_base.denominator == 90_000

    await asyncio.gather(pull_audio(), pull_video())
    audio_error = [t - k * 0.02 for k, t in enumerate(audio_times)]
    video_error = [t - n * 0.04 for n, t in enumerate(video_times)]
    for errors in (audio_error, video_error):
        assert np.median(np.abs(errors)) < 0.005 and max(np.abs(errors)) < 0.04  # one late frame, not more
        assert abs(np.median(errors[-10:]) - np.median(errors[:10])) < 0.005  # lateness does not accumulate
    assert video.frames_skipped == 0 and audio.frames_skipped == 0
    audio.stop()
    await video.aclose()


class BrokenFrames:
    def render(self, frame_index: int, mouth: npt.NDArray[np.float32]) -> av.VideoFrame:
        raise RuntimeError("the rig is corrupt")


async def test_a_frame_that_cannot_be_made_ends_the_video_track() -> None:
    video = AvatarVideoTrack(MediaClock(), SpeechTimeline(discard), BrokenFrames(), ThreadPoolExecutor(1))
    ended = asyncio.Event()
    video.on("ended", ended.set)
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(video.recv(), 2.0)
    assert ended.is_set() and video.readyState == "ended" and video.failed
    await video.aclose()
