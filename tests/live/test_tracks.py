"""The tracks pace against one monotonic clock: frame k leaves at start + k * period, whatever the
work per frame, so nothing drifts; audio is 20 ms Opus packets stamped in 48 kHz samples, video VP8
packets at 25 fps stamped in 90 kHz."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from neura.live.clock import MediaClock
from neura.live.events import discard
from neura.live.frames import TimedSpeech
from neura.live.timeline import SpeechTimeline
from neura.live.tracks import AvatarAudioTrack, AvatarVideoTrack
from neura.media import HeadPose, MouthPose
from neura.render.seam import Image
from tests.fakes.renderer import FakeAsset, FakeStream

ASSET = FakeAsset(64, np.zeros((64, 64, 3), np.uint8), (16, 16, 48, 48))  # VP8 needs even sizes


class SlowStream(FakeStream):
    def _render(self, mouths: Sequence[MouthPose], heads: Sequence[HeadPose]) -> Sequence[Image]:
        time.sleep(0.012 * len(mouths))  # some work per frame
        return super()._render(mouths, heads)


class BrokenStream(FakeStream):
    def _render(self, mouths: Sequence[MouthPose], heads: Sequence[HeadPose]) -> Sequence[Image]:
        raise RuntimeError("the rig is corrupt")


# Timing-sensitive: up to two reruns, each reported.
# real-time pacing of two tracks: a scheduler stall can cost a frame.
@pytest.mark.flaky(reruns=2)
@pytest.mark.usefixtures("frozen_heap")
async def test_audio_and_video_share_one_clock_and_do_not_drift() -> None:
    stream = SlowStream(ASSET, output="i420", batch_frames=2)
    clock, timeline = MediaClock(), SpeechTimeline(discard, stream)
    audio = AvatarAudioTrack(clock, timeline)
    video = AvatarVideoTrack(clock, timeline, stream, ThreadPoolExecutor(1))
    frames = 20  # 0.8 s of speech from the start, then silence
    timeline.schedule(
        TimedSpeech(1, "hello", 0, np.full(frames * 1920, 0.5, np.float32), np.full((frames, 5), 0.5, np.float32))
    )
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
    # the first frame alone, then two a job while the speech plays, then one a job (new speech would show
    # from the next frame)
    assert stream.batches[:8] == [1] + [2] * 7 and stream.batches[-10:] == [1] * 10
    audio.stop()
    await video.aclose()


async def test_a_frame_that_cannot_be_made_ends_the_video_track() -> None:
    stream = BrokenStream(ASSET, output="i420")
    video = AvatarVideoTrack(MediaClock(), SpeechTimeline(discard, stream), stream, ThreadPoolExecutor(1))
    ended = asyncio.Event()
    video.on("ended", ended.set)
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(video.recv(), 2.0)
    assert ended.is_set() and video.readyState == "ended" and video.failed
    await video.aclose()
