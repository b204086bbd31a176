"""``GET /v1/voices/{voice_id}/sample``: one fixed sentence in a voice, made once and kept (no credits).

Made on the speech thread like all speech of the gateway, under a Redis lock so that one voice and
format is never synthesised twice at once; stored for every later request.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from neura.assets.samples import VOICE_SAMPLE_SENTENCE, voice_sample_key
from neura.config import Settings
from neura.encode.audio import CONTENT_TYPES, encode_audio
from neura.errors import NotFoundError
from neura.gateway.deps import State
from neura.gateway.ranges import object_response
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.text import STORABLE, Text
from neura.gateway.schemas.voices import parse_voice
from neura.gateway.single_flight import one_at_a_time
from neura.gateway.speech import Speech, check_voice, load_engine, run_speech_work, synthesize
from neura.storage import exists
from neura.tts import UnknownVoiceError, VoiceRef

SampleFormat = Literal["mp3", "wav", "opus"]
EXTENSIONS: dict[SampleFormat, str] = {"mp3": "mp3", "wav": "wav", "opus": "ogg"}
MEDIA_TYPES: dict[str, SampleFormat] = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/wave": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "opus",
    "audio/opus": "opus",
}
DEFAULT_FORMAT: SampleFormat = "mp3"

router = APIRouter(prefix="/v1/voices", tags=["voices"], dependencies=[RateLimited])


def sample_format(query: SampleFormat | None, accept: str | None) -> SampleFormat:
    """``?format=`` when given, else the first audio type of ``Accept`` we make, else mp3."""
    if query is not None:
        return query
    for item in (accept or "").split(","):
        media_type = item.split(";", 1)[0].strip().lower()
        if media_type in MEDIA_TYPES:
            return MEDIA_TYPES[media_type]
    return DEFAULT_FORMAT


def sample_voice(settings: Settings, voice_id: str) -> VoiceRef:
    """The voice ``voice_id`` names, if this server lists it: 404 for an unknown one, 503 when its
    engine is not installed here."""
    try:
        return check_voice(settings, parse_voice(voice_id))
    except UnknownVoiceError as exc:
        raise NotFoundError(exc.message, hint=exc.hint) from None


async def synthesize_sample(settings: Settings, voice: VoiceRef, audio_format: SampleFormat) -> bytes:
    """:data:`VOICE_SAMPLE_SENTENCE` spoken by ``voice``, encoded, on the speech thread."""
    engine = await load_engine(settings, voice)
    speech = Speech(engine.sample_rate_hz)
    async for chunk in synthesize(engine, VOICE_SAMPLE_SENTENCE):
        speech.add(chunk)
    data, _ = await run_speech_work(encode_audio, speech.samples, speech.sample_rate_hz, audio_format)
    return data


@router.get(
    "/{voice_id}/sample",
    operation_id="getVoiceSample",
    response_class=StreamingResponse,
    summary="Listen to a voice: one fixed sentence (mp3, wav or opus); no credits",
    description=f'The voice says "{VOICE_SAMPLE_SENTENCE}". `voice_id` is an id as `GET /v1/voices` lists it '
    "(`piper:en_US-joe-medium`, `espeak:en-gb`; URL-encode spaces), or `default` for this server's voice. "
    "`format` (mp3, wav or opus in Ogg) chooses the encoding, else the first of `audio/mpeg`, `audio/wav` and "
    "`audio/ogg` that `Accept` names, else mp3. Made once per voice and format, then served from storage "
    "(Range requests answered). No credentials needed, like `GET /v1/voices`.",
    responses={
        200: {"content": {CONTENT_TYPES[f]: {} for f in EXTENSIONS}, "description": "the audio file"},
        206: {"description": "the requested byte range"},
        404: {"description": "no such voice here (GET /v1/voices lists them)"},
        503: {"description": "the voice's engine is not installed here"},
    },
)
async def get_voice_sample(
    voice_id: Text,
    state: State,
    audio_format: Annotated[SampleFormat | None, Query(alias="format")] = None,
    accept: Annotated[str | None, Header(max_length=1000), STORABLE] = None,
    range_header: Annotated[str | None, Header(alias="Range", max_length=200), STORABLE] = None,
) -> StreamingResponse:
    voice = sample_voice(state.settings, voice_id)
    chosen = sample_format(audio_format, accept)
    key = voice_sample_key(voice, EXTENSIONS[chosen])
    if not await exists(state.storage, key):
        async with one_at_a_time(state.redis, f"voice-sample:{key}"):
            if not await exists(state.storage, key):
                data = await synthesize_sample(state.settings, voice, chosen)
                await state.storage.put_bytes(key, data, CONTENT_TYPES[chosen])
    headers = {"Cache-Control": "public, max-age=3600", "Vary": "Accept"}
    return await object_response(state.storage, key, range_header, headers)
