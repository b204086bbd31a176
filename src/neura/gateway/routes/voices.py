"""Voices usable on this deployment (public)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from neura.gateway.deps import SettingsDep
from neura.gateway.ratelimit import RateLimited
from neura.gateway.schemas.voices import VoiceList, VoicePublic
from neura.tts import list_voices

router = APIRouter(prefix="/v1/voices", tags=["voices"], dependencies=[RateLimited])


@router.get("", operation_id="listVoices", summary="Voices installed here, with their engine, language and licence")
async def voices(settings: SettingsDep) -> VoiceList:
    found = await asyncio.to_thread(list_voices, settings)  # reads voice files from disk
    return VoiceList(items=[VoicePublic.model_validate(voice) for voice in found])
