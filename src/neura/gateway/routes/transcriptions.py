"""``POST /v1/audio/transcriptions``: OpenAI-compatible speech to text (the ``openai`` SDK's
``audio.transcriptions.create`` works against it), with NEURA's Whisper models."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from neura.encode.subtitles import Cue, to_srt, to_vtt, wrap_words
from neura.errors import EngineUnavailableError, PayloadTooLargeError, PaymentRequiredError
from neura.gateway.deps import SettingsDep, SpeechUser, State
from neura.gateway.errors import raises
from neura.gateway.ratelimit import RateLimited, SpeechRateLimited
from neura.gateway.schemas.text import STORABLE
from neura.gateway.speech import STT_THREADS, metered, run_stt_work
from neura.stt import STTEngine, TranscribeOptions, Transcript, create_stt
from neura.stt.base import check_language
from neura.stt.models import WHISPER_LANGUAGES
from neura.stt.recordings import read_recording, transcribe_recording
from neura.stt.registry import check_model_name

router = APIRouter(tags=["speech"], dependencies=[RateLimited, SpeechRateLimited])

ResponseFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
Granularity = Literal["word", "segment"]


class TranscriptionText(BaseModel):
    text: str
    usage: dict[str, Any] = Field(description='{"type": "duration", "seconds": N}: the audio billed')


class TranscriptionWord(BaseModel):
    word: str
    start: float
    end: float


class TranscriptionSegment(BaseModel):
    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float


class TranscriptionVerbose(BaseModel):
    task: str = "transcribe"
    language: str = Field(description="the language's English name, lower case ('english')")
    duration: float
    text: str
    words: list[TranscriptionWord] | None = None
    segments: list[TranscriptionSegment] | None = None
    usage: dict[str, Any]


def _usage(transcript: Transcript) -> dict[str, Any]:
    return {"type": "duration", "seconds": math.ceil(transcript.duration_s)}


def _verbose(transcript: Transcript, granularities: set[str]) -> TranscriptionVerbose:
    words = segments = None
    if "word" in granularities:
        words = [TranscriptionWord(word=w.word, start=w.start_s, end=w.end_s) for w in transcript.words]
    if "segment" in granularities:
        segments = [
            TranscriptionSegment(
                id=i,
                seek=round(s.start_s * 100),
                start=s.start_s,
                end=s.end_s,
                text=" " + s.text,
                tokens=list(s.tokens),
                temperature=s.temperature,
                avg_logprob=round(s.avg_logprob, 4),
                compression_ratio=round(s.compression_ratio, 4),
                no_speech_prob=round(s.no_speech_prob, 4),
            )
            for i, s in enumerate(transcript.segments)
        ]
    return TranscriptionVerbose(
        language=WHISPER_LANGUAGES.get(transcript.language, transcript.language),
        duration=round(transcript.duration_s, 3),
        text=transcript.text,
        words=words,
        segments=segments,
        usage=_usage(transcript),
    )


def _cues(transcript: Transcript) -> list[Cue]:
    return [Cue(s.start_s, s.end_s, tuple(wrap_words(s.text.split(), 42))) for s in transcript.segments if s.text]


def _render(transcript: Transcript, response_format: ResponseFormat, granularities: set[str]) -> Response:
    if response_format == "json":
        return JSONResponse(TranscriptionText(text=transcript.text, usage=_usage(transcript)).model_dump())
    if response_format == "verbose_json":
        return JSONResponse(_verbose(transcript, granularities).model_dump(exclude_none=True))
    if response_format == "text":
        return Response(transcript.text + "\n", media_type="text/plain; charset=utf-8")
    if response_format == "srt":
        return Response(to_srt(_cues(transcript)), media_type="application/x-subrip; charset=utf-8")
    return Response(to_vtt(_cues(transcript)), media_type="text/vtt; charset=utf-8")


@router.post(
    "/v1/audio/transcriptions",
    operation_id="createTranscription",
    summary="OpenAI-compatible speech to text: a recording's transcript, with word timings on request",
    responses={
        402: {"description": "too few credits for the recording's minutes"},
        413: {"description": "the file is larger than MAX_UPLOAD_BYTES, or longer than STT_MAX_DURATION_S"},
        422: {"description": "not audio, no sound or no voice in it, an unknown model or language"},
        503: {"description": "the speech recognition model is not installed here"},
        200: {
            "description": "json: {text, usage}; verbose_json: {task, language, duration, text, words?, segments?, "
            "usage}; text, srt, vtt: plain text",
            "model": TranscriptionVerbose,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    },
)
@raises(PaymentRequiredError, EngineUnavailableError)
async def transcriptions(
    user: SpeechUser,
    settings: SettingsDep,
    state: State,
    file: Annotated[
        UploadFile, File(description="WAV, MP3, Ogg/Opus, WebM, M4A/AAC or FLAC; or a video, whose audio is used")
    ],
    model: Annotated[
        str, Form(description="'whisper-1' (STT_MODEL), 'base', 'tiny.en' or one in STT_MODEL_DIR"), STORABLE
    ] = "whisper-1",
    language: Annotated[str | None, Form(description="ISO 639-1 code of the spoken language ('en')"), STORABLE] = None,
    prompt: Annotated[
        str | None, Form(description="text that came before: names and spellings to expect"), STORABLE
    ] = None,
    response_format: Annotated[ResponseFormat, Form()] = "json",
    temperature: Annotated[float, Form(ge=0.0, le=1.0, description="0: greedy, hotter only if it fails")] = 0.0,
    timestamp_granularities: Annotated[
        list[Granularity] | None,
        Form(alias="timestamp_granularities[]", description="verbose_json: 'word' and/or 'segment' (default)"),
    ] = None,
) -> Response:
    """A drop-in for OpenAI's `audio.transcriptions.create`: point the `openai` SDK's `base_url` at
    `https://<host>/v1` with a NEURA API key or access token as `api_key`.

    Responses have OpenAI's shapes: `json` `{"text"}`, `verbose_json` with `language`, `duration`,
    `segments` and (with `timestamp_granularities[]=word`) every word's `start` and `end` in seconds;
    `text`, `srt` and `vtt` as plain text.

    **Credits**: one per started minute of recording (headers `X-Credits-Charged`, `X-Credits-Remaining`),
    charged once the recording is known to hold speech and given back if the transcription fails.
    Nothing is charged for a refused upload.

    Errors: 413 past `MAX_UPLOAD_BYTES` or `STT_MAX_DURATION_S` (default 10 minutes); 422 for a file
    that is not audio (or a video without sound), a silent recording or one without a voice, an
    unknown model or a language the model does not understand; 402 without the credits; 503 when the
    model is not installed here.
    """
    data = await file.read()
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLargeError(
            f"the audio file is larger than {settings.max_upload_bytes} bytes",
            hint="send a shorter or more compressed recording (e.g. Opus or MP3)",
        )
    name = check_model_name(settings, model)
    engine: STTEngine = await run_stt_work(create_stt, settings, name, threads=STT_THREADS)
    options = TranscribeOptions(
        language=check_language(engine.model, language),
        prompt=prompt,
        temperature=temperature,
        word_timestamps="word" in set(timestamp_granularities or ()) or response_format in ("srt", "vtt"),
    )
    recording = await run_stt_work(read_recording, data, max_duration_s=settings.stt_max_duration_s)
    async with metered(state, user.id, 0, "POST /v1/audio/transcriptions", audio_s=recording.duration_s) as bill:
        transcript = await run_stt_work(transcribe_recording, engine, recording, options)
    response = _render(transcript, response_format, set(timestamp_granularities or ("segment",)))
    response.headers.update(bill.headers())
    return response
