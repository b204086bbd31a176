"""One JSON Schema document of every realtime message (``neura schemas``), for generated client types.

Its ``$defs`` hold each message model and one union per direction of each channel:

- ``LiveClientMessage`` / ``LiveServerMessage``: the live session's data channel ``"neura"``;
- ``TTSStreamClientMessage`` / ``TTSStreamServerMessage``: ``WS /v1/tts/stream`` (JSON messages; the
  audio follows each ``chunk`` as a binary message);
- ``VideoEvent``: a video's progress (SSE ``/v1/videos/{id}/events``), and ``VideoEventsSocketMessage``:
  what ``WS /v1/videos/{id}/events/ws`` sends (those events, keep-alives, an error).

The unions are discriminated on ``type``. Messages a server sends list every field as required (each is
always present, null when it has no value); messages a client sends mark the optional ones.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import TypeAdapter

from neura.gateway.errors import RealtimeError
from neura.gateway.routes.events import VideoKeepalive
from neura.gateway.schemas.tts_stream import TTSStreamClientMessage, TTSStreamServerMessage
from neura.jobs.events import VideoEvent
from neura.live.protocol import LiveClientMessage, LiveServerMessage

SCHEMA_ID = "https://neura.local/schemas/realtime.json"
_CHANNELS: dict[str, tuple[Any, Literal["validation", "serialization"]]] = {
    "LiveClientMessage": (LiveClientMessage, "validation"),
    "LiveServerMessage": (LiveServerMessage, "serialization"),
    "TTSStreamClientMessage": (TTSStreamClientMessage, "validation"),
    "TTSStreamServerMessage": (TTSStreamServerMessage, "serialization"),
    "VideoEvent": (VideoEvent, "serialization"),
    "VideoKeepalive": (VideoKeepalive, "serialization"),
    "RealtimeError": (RealtimeError, "serialization"),
}


def realtime_json_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for name, (message_type, mode) in _CHANNELS.items():
        schema = TypeAdapter(message_type).json_schema(mode=mode, ref_template="#/$defs/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            if defs.setdefault(def_name, definition) != definition:
                raise RuntimeError(f"two realtime messages define {def_name} differently")
        if name not in defs:
            defs[name] = {"title": name, **schema}
    defs["VideoEventsSocketMessage"] = {
        "title": "VideoEventsSocketMessage",
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in ("VideoEvent", "VideoKeepalive", "RealtimeError")],
    }
    channels = [*(name for name in _CHANNELS if name.endswith("Message") or name == "VideoEvent")]
    channels.append("VideoEventsSocketMessage")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "NeuraRealtime",
        "description": __doc__,
        "type": "object",
        "properties": {name: {"$ref": f"#/$defs/{name}"} for name in channels},
        "$defs": dict(sorted(defs.items())),
    }
