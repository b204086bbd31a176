"""Transcribing a recording file: decode it, refuse what holds no speech, transcribe what does.

Used by ``neura transcribe``, ``POST /v1/audio/transcriptions`` and ``POST /v1/align`` without a
transcript. Refusals come before any transcription (and before any charge): not audio or truncated
beyond use (422 / exit 65), longer than ``max_duration_s`` (413), silent or without a voice (422).
Audio in a video file (MP4, WebM, MKV) is accepted: its first audio track is transcribed.
Blocking and CPU-heavy: call from a worker thread on a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neura.encode.audio import AudioDecodeError, decode_audio_bytes
from neura.stt.base import SAMPLE_RATE_HZ, Samples, STTEngine, TranscribeOptions, Transcript
from neura.stt.vad import SpeechSegment, VadConfig, speech_segments

SILENCE_PEAK = 0.003
"""Below about -50 dBFS everywhere: a silent recording."""


class NoSpeechError(AudioDecodeError):
    """The recording decodes, but holds no voice (silence, or only noise or music)."""


@dataclass(frozen=True)
class Recording:
    """A decoded recording at 16 kHz with the stretches where someone speaks."""

    samples: Samples
    speech: tuple[SpeechSegment, ...]

    @property
    def duration_s(self) -> float:
        return self.samples.size / SAMPLE_RATE_HZ


def read_recording(data: bytes, *, max_duration_s: float, vad: VadConfig | None = None) -> Recording:
    """Decode ``data`` (any audio FFmpeg reads, or a video's audio track) and find its speech.

    :class:`AudioDecodeError` (422) for bytes that are not audio, :class:`PayloadTooLargeError` (413)
    past ``max_duration_s``, :class:`NoSpeechError` (422) when nobody speaks in it."""
    samples = decode_audio_bytes(data, sample_rate_hz=SAMPLE_RATE_HZ, max_duration_s=max_duration_s)
    duration_s = samples.size / SAMPLE_RATE_HZ
    if float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise NoSpeechError(
            f"the recording is silent ({duration_s:.1f} s without sound)", hint="check the microphone and record again"
        )
    speech = tuple(speech_segments(samples, vad or VadConfig(min_speech_ms=120, end_silence_ms=300)))
    if not speech:
        raise NoSpeechError(
            f"no speech was found in the recording ({duration_s:.1f} s of sound without a voice)",
            hint="use a recording in which someone speaks",
        )
    return Recording(samples, speech)


def read_file(path: Path) -> bytes:
    """A recording's bytes; :class:`AudioDecodeError` (exit 65) when it cannot be read."""
    try:
        return path.expanduser().read_bytes()
    except FileNotFoundError:
        raise AudioDecodeError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise AudioDecodeError(f"{path} is a folder, not a recording") from None
    except OSError as exc:
        raise AudioDecodeError(f"cannot read {path}: {exc.strerror}") from None


def transcribe_recording(engine: STTEngine, recording: Recording, options: TranscribeOptions) -> Transcript:
    """The recording's transcript. Whisper reads the whole recording (pauses help it punctuate);
    segments it decoded where the detector heard no voice are dropped (Whisper invents words in
    long silences)."""
    transcript = engine.transcribe(recording.samples, options)
    kept = tuple(s for s in transcript.segments if _overlaps_speech(s.start_s, s.end_s, recording.speech))
    if len(kept) == len(transcript.segments):
        return transcript
    text = " ".join(s.text for s in kept if s.text)
    return Transcript(text, transcript.language, transcript.duration_s, kept, transcript.model)


def _overlaps_speech(start_s: float, end_s: float, speech: tuple[SpeechSegment, ...], margin_s: float = 0.2) -> bool:
    return any(start_s < s.end_s + margin_s and end_s > s.start_s - margin_s for s in speech)
