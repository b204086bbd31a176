"""Voices: what ``GET /v1/voices`` lists, and the ``voice`` field every speaking request takes.

A ``voice`` field is parsed into a :class:`~neura.tts.voices.VoiceRef` by the schema itself. A voice
that cannot be one (an unknown engine, a bare id no engine owns, a path) is an
:class:`~neura.tts.voices.UnknownVoiceError`: it leaves validation as it is, so the client gets the
same 422 ``unknown_voice`` (with the choices in its hint) from every endpoint. Whether the voice is
installed on this server is checked by the route (:func:`neura.gateway.speech.check_voice`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, PlainSerializer, PlainValidator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from neura.tts.base import Gender
from neura.tts.providers import TTS
from neura.tts.voices import VOICE_ID_CHARS, UnknownVoiceError, VoiceRef, choices_hint

DEFAULT = "default"
"""What a request may write for the deployment's default voice (same as leaving the field out)."""
PATTERN = rf"^(?:(?:{'|'.join(map(re.escape, TTS.names()))}):)?{VOICE_ID_CHARS}$"


def parse_voice(value: Any) -> VoiceRef | None:
    """A request's voice: None or "default" for the deployment's default, else a VoiceRef."""
    if value is None or isinstance(value, VoiceRef):
        return value
    if not isinstance(value, str) or not re.fullmatch(PATTERN, value.strip()):
        shown = value if isinstance(value, str) else type(value).__name__
        raise UnknownVoiceError(f"{shown!r} is not a voice id", hint=choices_hint())
    return None if value.strip().lower() == DEFAULT else VoiceRef.parse(value)


def voice_json_schema() -> dict[str, Any]:
    return {
        "anyOf": [{"type": "string", "pattern": PATTERN, "maxLength": 100}, {"type": "null"}],
        "description": (
            f"a voice id from GET /v1/voices ('espeak:en-gb', or 'en-gb' alone), an engine "
            f"({', '.join(TTS.names())}: its default voice), or '{DEFAULT}'/null for this server's voice"
        ),
        # reads the engines' default voices, which imports their modules: only when a schema is asked for
        "examples": [f"{name}:{TTS.create(name).default_voice}" for name in TTS.names()[:2]],
    }


@dataclass(frozen=True)
class LazyJsonSchema:
    """Like pydantic's ``WithJsonSchema``, built when the JSON schema is (``/openapi.json``, ``neura
    schemas``), not when the model is defined: an API process starts without the engines' modules."""

    build: Callable[[], dict[str, Any]]

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return self.build()


VoiceField = Annotated[
    VoiceRef | None,
    PlainValidator(parse_voice),
    PlainSerializer(lambda ref: None if ref is None else str(ref), return_type=str | None),
    LazyJsonSchema(voice_json_schema),
]


class VoicePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    engine: str
    language: str
    gender: Gender
    name: str
    license: str
    engine_license: str
    description: str


class VoiceList(BaseModel):
    items: list[VoicePublic]
