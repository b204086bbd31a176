"""``POST /v1/align``: word and phoneme timings of a user's own recording, from its transcript.

With them, the user's own voice can drive an avatar video instead of NEURA's. Forced alignment is
pocketsphinx (BSD, the en-us model ships in its wheel), about 37x faster than real time on one core.
Without a transcript, Whisper (:mod:`neura.stt`) writes one first ("Whisper alignment").
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel, Field

from neura.config import Settings
from neura.db.models import User
from neura.encode.audio import AudioDecodeError, decode_audio_bytes
from neura.errors import InputError, PayloadTooLargeError
from neura.gateway.deps import SettingsDep, SpeechUser, State
from neura.gateway.ratelimit import RateLimited, SpeechRateLimited
from neura.gateway.schemas.text import STORABLE
from neura.gateway.speech import (
    STT_THREADS,
    PhonemeTiming,
    WordTiming,
    metered,
    phoneme_timings,
    run_speech_work,
    run_stt_work,
    word_timings,
)
from neura.gateway.state import AppState
from neura.media import PhonemeSpan, WordSpan
from neura.stt import TranscribeOptions, create_stt
from neura.stt.recordings import NoSpeechError, read_recording, transcribe_recording
from neura.tts.align import align_words

router = APIRouter(tags=["speech"], dependencies=[RateLimited, SpeechRateLimited])

MAX_DURATION_S = 600.0
MAX_TRANSCRIPT_CHARS = 20_000
ALIGN_RATE_HZ = 16000  # pocketsphinx's model rate: decode straight to it
SILENCE_PEAK = 0.01  # below -40 dBFS everywhere: nothing to align


class AlignResponse(BaseModel):
    words: list[WordTiming] = Field(description="every spoken word of the transcript, in order")
    phonemes: list[PhonemeTiming] = Field(description="ARPAbet phones, contiguous from 0 to duration_s; '_' silence")
    alphabet: str = "arpabet"
    duration_s: float
    transcript: str = Field(description="the transcript aligned: the one given, or what Whisper heard")


def _align(data: bytes, transcript: str) -> tuple[list[WordSpan], list[PhonemeSpan], float]:
    samples: npt.NDArray[np.float32] = decode_audio_bytes(
        data, sample_rate_hz=ALIGN_RATE_HZ, max_duration_s=MAX_DURATION_S
    )
    duration_s = samples.size / ALIGN_RATE_HZ
    if float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise AudioDecodeError(
            f"the recording is silent ({duration_s:.1f} s without sound)", hint="check the microphone and record again"
        )
    words, phonemes = align_words(samples, ALIGN_RATE_HZ, transcript)
    return words, phonemes, duration_s


@router.post(
    "/v1/align", operation_id="alignSpeech", summary="Align a recording with its transcript: word and phoneme timings"
)
async def align(
    user: SpeechUser,
    settings: SettingsDep,
    state: State,
    response: Response,
    audio: Annotated[UploadFile, File(description="WAV, MP3, Ogg/Opus, M4A/AAC, FLAC or WebM; at most 10 minutes")],
    transcript: Annotated[
        str | None,
        Form(description="exactly what the recording says (English); left out: transcribed first"),
        STORABLE,
    ] = None,
) -> AlignResponse:
    """Force-align an uploaded recording with its transcript.

    Returns when each word and ARPAbet phone of the transcript is spoken (seconds from the recording's
    start, 10 ms resolution, about 20 ms from true phone starts on clean speech), ready to drive an
    avatar's lips with the user's own voice.

    Without `transcript`, the recording is transcribed first (English, the configured Whisper model)
    and the answer's `transcript` says what was heard.

    Limits: the upload is at most `MAX_UPLOAD_BYTES` (413), the recording at most 10 minutes (413), the
    transcript at most 20000 characters (413). Not audio, truncated beyond use, silent or too short: 422
    with a message saying which. Credits: one per started 1,000 characters of transcript, or without a
    transcript one per started minute of recording (headers `X-Credits-Charged`, `X-Credits-Remaining`),
    given back when the work fails; 402 without them.
    """
    if transcript is not None:
        if len(transcript) > MAX_TRANSCRIPT_CHARS:
            raise PayloadTooLargeError(f"the transcript is longer than {MAX_TRANSCRIPT_CHARS} characters")
        if not any(ch.isalnum() for ch in transcript):
            raise InputError("the transcript is empty", hint="give the words spoken in the recording, or leave it out")
    data = await audio.read()
    if len(data) > settings.max_upload_bytes:  # the body limit already refuses most; a form adds a little
        raise PayloadTooLargeError(f"the audio file is larger than {settings.max_upload_bytes} bytes")
    if transcript is None:
        return await _transcribe_and_align(data, user, settings, state, response)
    async with metered(state, user.id, len(transcript), "POST /v1/align") as bill:
        words, phonemes, duration_s = await run_speech_work(_align, data, transcript)
    response.headers.update(bill.headers())
    return AlignResponse(
        words=word_timings(words),
        phonemes=phoneme_timings(phonemes),
        duration_s=round(duration_s, 3),
        transcript=transcript,
    )


async def _transcribe_and_align(
    data: bytes, user: User, settings: Settings, state: AppState, response: Response
) -> AlignResponse:
    engine = await run_stt_work(create_stt, settings, threads=STT_THREADS)
    recording = await run_stt_work(
        read_recording, data, max_duration_s=min(MAX_DURATION_S, settings.stt_max_duration_s)
    )
    async with metered(state, user.id, 0, "POST /v1/align (transcribed)", audio_s=recording.duration_s) as bill:
        options = TranscribeOptions(language="en", word_timestamps=False)
        heard = await run_stt_work(transcribe_recording, engine, recording, options)
        if not any(ch.isalnum() for ch in heard.text):
            raise NoSpeechError("no words were recognised in the recording", hint="upload a recording of clear speech")
        words, phonemes = await run_speech_work(align_words, recording.samples, ALIGN_RATE_HZ, heard.text)
    response.headers.update(bill.headers())
    return AlignResponse(
        words=word_timings(words),
        phonemes=phoneme_timings(phonemes),
        duration_s=round(recording.duration_s, 3),
        transcript=heard.text,
    )
