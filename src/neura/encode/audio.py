"""Audio in memory: float32 mono samples <-> encoded bytes (WAV, MP3, Opus, AAC, FLAC, raw PCM) with PyAV.

``encode_audio`` resamples as needed and returns the whole file; ``decode_audio_bytes`` reads any audio
file FFmpeg knows (WAV, MP3, Ogg/Opus, M4A/AAC, FLAC, WebM) into float32 mono at one sample rate;
``change_tempo`` speeds speech up or slows it down without changing its pitch (FFmpeg's ``atempo``).
Everything here is blocking and CPU-bound: call it from a worker thread on a server.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.filter import Graph

from neura.errors import InputError, PayloadTooLargeError

AudioFormat = Literal["wav", "mp3", "opus", "aac", "flac", "pcm"]
AUDIO_FORMATS: tuple[AudioFormat, ...] = get_args(AudioFormat)


@dataclass(frozen=True)
class _Codec:
    container: str
    codec: str
    content_type: str
    bit_rate: int | None
    sample_rates_hz: frozenset[int] | None  # None: any rate


_MP3_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
_CODECS: dict[str, _Codec] = {
    "mp3": _Codec("mp3", "libmp3lame", "audio/mpeg", 64_000, _MP3_RATES),
    "opus": _Codec("ogg", "libopus", "audio/ogg; codecs=opus", 32_000, frozenset({8000, 12000, 16000, 24000, 48000})),
    "aac": _Codec("adts", "aac", "audio/aac", 64_000, _MP3_RATES | {64000, 88200, 96000}),
    "flac": _Codec("flac", "flac", "audio/flac", None, None),
}
CONTENT_TYPES: dict[AudioFormat, str] = {
    "wav": "audio/wav",
    "pcm": "audio/pcm",  # raw signed 16-bit little-endian mono, no header
    "mp3": "audio/mpeg",
    "opus": "audio/ogg; codecs=opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
}
DEFAULT_OPUS_RATE_HZ = 48000
MIN_SAMPLE_RATE_HZ = 8000
MAX_SAMPLE_RATE_HZ = 48000


class AudioDecodeError(InputError):
    """The uploaded bytes are not audio FFmpeg can read, or hold no usable sound."""


def output_sample_rate(fmt: AudioFormat, source_rate_hz: int, requested_hz: int | None = None) -> int:
    """The sample rate an ``fmt`` file will have: ``requested_hz`` when the format allows it (else an
    :class:`InputError` naming the allowed rates), otherwise the source rate or the format's nearest."""
    codec = _CODECS.get(fmt)
    allowed = codec.sample_rates_hz if codec else None
    if requested_hz is not None:
        if not MIN_SAMPLE_RATE_HZ <= requested_hz <= MAX_SAMPLE_RATE_HZ or (allowed and requested_hz not in allowed):
            choices = sorted(allowed) if allowed else f"{MIN_SAMPLE_RATE_HZ}..{MAX_SAMPLE_RATE_HZ}"
            raise InputError(
                f"{fmt} audio cannot have a sample rate of {requested_hz} Hz",
                hint=f"use one of {choices}, or leave sample_rate_hz out",
            )
        return requested_hz
    if fmt == "opus":
        return DEFAULT_OPUS_RATE_HZ
    if allowed and source_rate_hz not in allowed:
        return min(allowed, key=lambda rate: (abs(rate - source_rate_hz), rate))
    return source_rate_hz


def _frame(samples: npt.NDArray[np.float32], sample_rate_hz: int) -> av.AudioFrame:
    mono = np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(mono, format="flt", layout="mono")
    frame.sample_rate = sample_rate_hz
    frame.pts = 0
    frame.time_base = Fraction(1, sample_rate_hz)
    return frame


def _mono(frame: av.AudioFrame) -> npt.NDArray[np.float32]:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)


def resample(samples: npt.NDArray[np.float32], from_hz: int, to_hz: int) -> npt.NDArray[np.float32]:
    """float32 mono resampled with FFmpeg's swresample."""
    if from_hz == to_hz or samples.size == 0:
        return np.asarray(samples, dtype=np.float32)
    resampler = AudioResampler(format="flt", layout="mono", rate=to_hz)
    frames = [*resampler.resample(_frame(samples, from_hz)), *resampler.resample(None)]
    return np.concatenate([_mono(f) for f in frames])


def to_pcm16(samples: npt.NDArray[np.float32]) -> bytes:
    """Signed 16-bit little-endian PCM."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def _wav(pcm: bytes, sample_rate_hz: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate_hz)
        out.writeframes(pcm)
    return buffer.getvalue()


def _compressed(codec: _Codec, samples: npt.NDArray[np.float32], sample_rate_hz: int) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=codec.container) as container:
        stream = container.add_stream(codec.codec, rate=sample_rate_hz, layout="mono")
        assert isinstance(stream, AudioStream)
        if codec.bit_rate:
            stream.bit_rate = codec.bit_rate
        sample_format = stream.codec_context.format.name
        resampler = AudioResampler(format=sample_format, layout="mono", rate=sample_rate_hz)
        for frame in [*resampler.resample(_frame(samples, sample_rate_hz)), *resampler.resample(None)]:
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def encode_audio(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, fmt: AudioFormat, *, out_rate_hz: int | None = None
) -> tuple[bytes, int]:
    """``samples`` (float32 mono in [-1, 1]) as a whole ``fmt`` file; returns (bytes, its sample rate)."""
    if fmt not in AUDIO_FORMATS:
        raise InputError(f"unknown audio format '{fmt}'", hint=f"use one of {', '.join(AUDIO_FORMATS)}")
    rate_hz = output_sample_rate(fmt, sample_rate_hz, out_rate_hz)
    audio = resample(np.asarray(samples, dtype=np.float32).reshape(-1), sample_rate_hz, rate_hz)
    if fmt == "pcm":
        return to_pcm16(audio), rate_hz
    if fmt == "wav":
        return _wav(to_pcm16(audio), rate_hz), rate_hz
    return _compressed(_CODECS[fmt], audio, rate_hz), rate_hz


def change_tempo(samples: npt.NDArray[np.float32], sample_rate_hz: int, speed: float) -> npt.NDArray[np.float32]:
    """Speech played ``speed`` times faster (0.25 .. 4.0), pitch unchanged (FFmpeg ``atempo``)."""
    if not 0.25 <= speed <= 4.0:
        raise InputError(f"speed must be between 0.25 and 4.0, not {speed}")
    if abs(speed - 1.0) < 1e-6 or samples.size == 0:
        return np.asarray(samples, dtype=np.float32)
    graph = Graph()
    node = graph.add_abuffer(
        format="flt", sample_rate=sample_rate_hz, layout="mono", time_base=Fraction(1, sample_rate_hz)
    )
    factors = []
    remaining = speed
    while remaining < 0.5:  # one atempo stage handles 0.5 .. 100
        factors.append(0.5)
        remaining /= 0.5
    factors.append(remaining)
    for factor in factors:
        stage = graph.add("atempo", f"{factor:.6f}")
        node.link_to(stage)
        node = stage
    sink = graph.add("abuffersink")
    node.link_to(sink)
    graph.configure()
    graph.push(_frame(samples, sample_rate_hz))
    graph.push(None)
    pieces: list[npt.NDArray[np.float32]] = []
    while True:
        try:
            out = graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            break
        assert isinstance(out, av.AudioFrame)
        pieces.append(_mono(out))
    return np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)


def decode_audio_bytes(
    data: bytes, *, sample_rate_hz: int = 16000, max_duration_s: float = 600.0
) -> npt.NDArray[np.float32]:
    """An audio file's first audio stream as float32 mono at ``sample_rate_hz``.

    Raises :class:`AudioDecodeError` (422) when the bytes are not audio or hold none, and
    :class:`PayloadTooLargeError` (413) when the sound is longer than ``max_duration_s``."""
    if not data:
        raise AudioDecodeError("the audio file is empty")
    limit = int(max_duration_s * sample_rate_hz)
    pieces: list[npt.NDArray[np.float32]] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                raise AudioDecodeError("the file has no audio stream", hint="use a WAV, MP3, Ogg, M4A or FLAC file")
            stream = container.streams.audio[0]
            resampler = AudioResampler(format="flt", layout="mono", rate=sample_rate_hz)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    piece = _mono(out)
                    total += piece.size
                    if total > limit:
                        raise PayloadTooLargeError(
                            f"the recording is longer than the limit of {max_duration_s:g} s",
                            hint="cut it into shorter parts and send each one",
                        )
                    pieces.append(piece)
            pieces.extend(_mono(out) for out in resampler.resample(None))
    except av.error.FFmpegError as exc:
        if not pieces:
            raise AudioDecodeError(
                f"the file is not audio that can be decoded ({exc.strerror or type(exc).__name__})",
                hint="use a WAV, MP3, Ogg, M4A or FLAC file",
            ) from None
        # a truncated file: keep what decoded before the damage (it is checked for sound below)
    audio = np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)
    if audio.size == 0:
        raise AudioDecodeError("the file holds no audio samples", hint="the file may be truncated or empty")
    return audio
