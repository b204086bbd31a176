"""Recordings for the corpus, made at test time: an upload that decodes to hours, a video with no
sound track, a video whose sound track is speech."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np

from neura.encode.audio import resample
from tests.stt.samples import RATE_HZ


def two_hour_mp3() -> bytes:
    """Two hours of tone as plain MP3 frames (8 kbit/s): 7.3 MB, under the upload limit."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3", options={"write_xing": "0", "id3v2_version": "0"}) as container:
        stream = container.add_stream("libmp3lame", rate=8000, layout="mono")
        stream.bit_rate = 8000
        tone = (0.3 * np.sin(2 * np.pi * 300 * np.arange(80000) / 8000)).astype(np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 8000, 0, Fraction(1, 8000)
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=8000)
        for out in [*resampler.resample(frame), *resampler.resample(None)]:
            container.mux(stream.encode(out))
        container.mux(stream.encode(None))
    return buffer.getvalue() * 720  # ten seconds, 720 times


def video_without_sound() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(10):
            image = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 20, np.uint8), format="rgb24")
            container.mux(stream.encode(image))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def webm_video_with(samples: np.ndarray) -> bytes:
    """A WebM video (VP8) with the speech as its Opus sound track."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        video = container.add_stream("libvpx", rate=10)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = container.add_stream("libopus", rate=48000, layout="mono")
        for i in range(int(samples.size / RATE_HZ * 10)):
            image = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 128, np.uint8), format="rgb24")
            image.pts = i
            container.mux(video.encode(image))
        container.mux(video.encode(None))
        sound = av.AudioFrame.from_ndarray(
            resample(samples, RATE_HZ, 48000).reshape(1, -1), format="flt", layout="mono"
        )
        sound.sample_rate, sound.pts, sound.time_base = 48000, 0, Fraction(1, 48000)
        resampler = av.AudioResampler(format=audio.codec_context.format.name, layout="mono", rate=48000, frame_size=960)
        for out in [*resampler.resample(sound), *resampler.resample(None)]:
            container.mux(audio.encode(out))
        container.mux(audio.encode(None))
    return buffer.getvalue()
