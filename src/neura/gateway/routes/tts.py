"""NEURA's voice over HTTP: ``POST /v1/tts`` (audio with word and phoneme timings) and
``POST /v1/audio/speech`` (OpenAI-compatible: raw audio bytes). Streaming lives in ``tts_stream``."""

from __future__ import annotations

import base64
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from neura.encode.audio import CONTENT_TYPES, AudioFormat, change_tempo, encode_audio
from neura.errors import InputError
from neura.gateway.deps import SettingsDep, SpeechUser, State
from neura.gateway.ratelimit import RateLimited, SpeechRateLimited
from neura.gateway.schemas.text import Text
from neura.gateway.schemas.voices import VoiceField, parse_voice
from neura.gateway.speech import (
    MAX_TEXT_CHARS,
    PhonemeTiming,
    Speech,
    WordTiming,
    check_text,
    load_engine,
    metered,
    phoneme_timings,
    run_speech_work,
    synthesize,
    word_timings,
)
from neura.tts import TTSEngine, VoiceRef

router = APIRouter(tags=["speech"], dependencies=[RateLimited, SpeechRateLimited])

OPENAI_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar"}
)
"""OpenAI's voice names: each is accepted and speaks with NEURA's default voice."""
MODEL_ALIASES = frozenset({"neura-tts", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"})
_AUDIO_RESPONSES = {t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(set(CONTENT_TYPES.values()))}


class TTSRequest(BaseModel):
    text: Text = Field(description=f"What to say: 1 to {MAX_TEXT_CHARS} characters of plain text (several sentences)")
    voice: VoiceField = None
    format: AudioFormat = Field("wav", description="wav (16-bit PCM), mp3, opus (in Ogg), aac (ADTS), flac or pcm")
    sample_rate_hz: int | None = Field(
        None, ge=8000, le=48000, description="resample to this rate (default: the voice's own; opus: 48000)"
    )


class AudioPayload(BaseModel):
    format: AudioFormat
    content_type: str
    sample_rate_hz: int
    duration_s: float
    base64: str = Field(description="the whole audio file, base64-encoded")


class Alignment(BaseModel):
    words: list[WordTiming]
    phonemes: list[PhonemeTiming] = Field(description="contiguous from 0 to duration_s; '_' is silence")
    alphabet: str = Field(description="'ipa' (piper, espeak) or 'arpabet' (forced alignment)")


class Sentence(BaseModel):
    text: str = Field(description="the sentence as written")
    start_s: float
    end_s: float


class TTSResponse(BaseModel):
    audio: AudioPayload
    alignment: Alignment
    sentences: list[Sentence]
    voice: str = Field(description="the id of the voice that spoke")
    credits_charged: int = Field(description="one credit per started 1,000 characters")


async def _speak(engine: TTSEngine, text: str) -> tuple[Speech, list[Sentence]]:
    speech = Speech(engine.sample_rate_hz)
    sentences = []
    async for chunk in synthesize(engine, text):
        speech.add(chunk)
        sentences.append(
            Sentence(
                text=chunk.text,
                start_s=round(speech.duration_s - chunk.duration_s, 3),
                end_s=round(speech.duration_s, 3),
            )
        )
    return speech, sentences


def _wants_raw_audio(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "audio/" in accept and "application/json" not in accept


@router.post(
    "/v1/tts",
    operation_id="synthesizeSpeech",
    summary="Speak text: audio with word and phoneme timings",
    response_model=TTSResponse,
    responses={200: {"content": _AUDIO_RESPONSES, "description": "JSON by default; raw audio with Accept: audio/*"}},
)
async def tts(
    body: TTSRequest, request: Request, response: Response, user: SpeechUser, settings: SettingsDep, state: State
) -> TTSResponse | Response:
    """Synthesise `text` with NEURA's voice.

    **JSON (default)**: the whole audio file base64-encoded in `audio`, plus `alignment`: every spoken word
    and phoneme with its start and end in seconds on the audio's timeline (what drives an avatar's lips),
    and `sentences` (for subtitles). Sentences are separated by 0.25 s of silence.

    **Raw audio**: send `Accept: audio/*` (or a specific type such as `audio/mpeg`, without
    `application/json`) to get just the audio bytes, with `X-Audio-Duration-S` and `X-Sample-Rate-Hz`
    headers. Use JSON when you need the timings, or the WebSocket `/v1/tts/stream` to get them sentence by
    sentence while the rest is still being spoken.

    **Credits**: one per started 1,000 characters (`credits_charged`; headers `X-Credits-Charged` and
    `X-Credits-Remaining`), given back if the synthesis fails.

    Errors: 413 `text_too_long` past 5000 characters, 422 for empty text, an unknown voice or a sample
    rate the format cannot carry, 402 when the credits do not cover the text, 503 when the voice's
    engine is not installed here.
    """
    text = check_text(body.text)
    engine = await load_engine(settings, body.voice)
    async with metered(state, user.id, len(text), "POST /v1/tts") as bill:
        speech, sentences = await _speak(engine, text)
        data, rate_hz = await run_speech_work(
            encode_audio, speech.samples, speech.sample_rate_hz, body.format, out_rate_hz=body.sample_rate_hz
        )
    duration_s = round(speech.duration_s, 3)
    phonemes, words = speech.timings()
    if _wants_raw_audio(request):
        headers = {"X-Audio-Duration-S": str(duration_s), "X-Sample-Rate-Hz": str(rate_hz), **bill.headers()}
        return Response(data, media_type=CONTENT_TYPES[body.format], headers=headers)
    response.headers.update(bill.headers())
    return TTSResponse(
        audio=AudioPayload(
            format=body.format,
            content_type=CONTENT_TYPES[body.format],
            sample_rate_hz=rate_hz,
            duration_s=duration_s,
            base64=base64.b64encode(data).decode("ascii"),
        ),
        alignment=Alignment(words=word_timings(words), phonemes=phoneme_timings(phonemes), alphabet=speech.alphabet),
        sentences=sentences,
        voice=engine.voice.id,
        credits_charged=bill.credits,
    )


# --- OpenAI-compatible


class OpenAIVoice(BaseModel):
    id: Text


class SpeechRequest(BaseModel):
    """OpenAI's `POST /v1/audio/speech` body, field for field."""

    model: Text = Field(description="'neura-tts' (or OpenAI's names as aliases: tts-1, tts-1-hd, gpt-4o-mini-tts)")
    input: Text = Field(description=f"the text to speak, at most {MAX_TEXT_CHARS} characters")
    voice: Text | OpenAIVoice = Field(
        description="an OpenAI voice name (alloy, echo, ...: NEURA's default voice), 'default', an engine name "
        "or a NEURA voice id ('espeak:en-gb'); also as {'id': ...}"
    )
    instructions: Text | None = Field(None, description="accepted for compatibility; NEURA's voices ignore it")
    response_format: AudioFormat = Field("mp3", description="mp3, opus, aac, flac, wav or pcm (24 kHz s16le)")
    speed: float = Field(1.0, ge=0.25, le=4.0, description="0.25 to 4.0; changes tempo, not pitch")
    stream_format: Literal["audio", "sse"] | None = Field(None, description="only 'audio' is supported")


def _neura_voice(voice: str | OpenAIVoice) -> VoiceRef | None:
    name = voice.id if isinstance(voice, OpenAIVoice) else voice
    return None if name.strip().lower() in OPENAI_VOICES else parse_voice(name)


@router.post(
    "/v1/audio/speech",
    operation_id="createSpeech",
    summary="OpenAI-compatible text to speech: raw audio bytes",
    response_class=Response,
    responses={200: {"content": _AUDIO_RESPONSES, "description": "the audio file"}},
)
async def audio_speech(body: SpeechRequest, user: SpeechUser, settings: SettingsDep, state: State) -> Response:
    """A drop-in for OpenAI's `audio.speech.create`: point the `openai` SDK's `base_url` at
    `https://<host>/v1` with a NEURA API key or access token as `api_key`.

    Returns the audio bytes with their Content-Type (`pcm` is raw 16-bit little-endian mono at 24 kHz,
    like OpenAI's; the other formats carry their rate). Errors keep NEURA's JSON shape with the same
    statuses OpenAI uses for them (422 for an unknown model or voice, 413 for too much text, 402 when
    the credits do not cover it). Credits as for `POST /v1/tts`.
    """
    if body.model.strip().lower() not in MODEL_ALIASES:
        raise InputError(f"unknown model '{body.model}'", hint=f"use one of {', '.join(sorted(MODEL_ALIASES))}")
    if body.stream_format == "sse":
        raise InputError("stream_format 'sse' is not supported", hint="use 'audio', or the WebSocket /v1/tts/stream")
    text = check_text(body.input)
    engine = await load_engine(settings, _neura_voice(body.voice))
    async with metered(state, user.id, len(text), "POST /v1/audio/speech") as bill:
        speech, _ = await _speak(engine, text)
        samples = speech.samples
        if body.speed != 1.0:
            samples = await run_speech_work(change_tempo, samples, speech.sample_rate_hz, body.speed)
        rate = 24000 if body.response_format == "pcm" else None
        data, _ = await run_speech_work(
            encode_audio, samples, speech.sample_rate_hz, body.response_format, out_rate_hz=rate
        )
    return Response(data, media_type=CONTENT_TYPES[body.response_format], headers=bill.headers())
