"""Voices the TTS engines offer here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class VoicePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    engine: str
    language: str
    name: str
    license: str
    engine_license: str
    description: str


class VoiceList(BaseModel):
    items: list[VoicePublic]
