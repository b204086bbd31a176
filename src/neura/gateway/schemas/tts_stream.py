"""The messages of ``WS /v1/tts/stream`` (JSON text messages; audio travels in binary messages).

The stream speaks and parses exactly these models, and ``neura schemas`` exports them as JSON Schema:
the protocol's types are the code, not a copy of it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from neura.gateway.errors import RealtimeError
from neura.gateway.schemas.text import STORABLE
from neura.gateway.speech import MAX_TEXT_CHARS, PhonemeTiming, WordTiming
from neura.media import PhonemeAlphabet

# --- client -> server


class TTSStreamText(BaseModel):
    """Text to append (partial sentences are fine)."""

    type: Literal["text"]
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS), STORABLE]


class TTSStreamFlush(BaseModel):
    """Speak what is buffered now, even without a sentence end."""

    type: Literal["flush"]


class TTSStreamCancel(BaseModel):
    """Drop everything not yet spoken (barge-in); answered by ``cancelled``."""

    type: Literal["cancel"]


class TTSStreamEnd(BaseModel):
    """No more text: the rest is spoken, then ``done`` and the socket closes with 1000."""

    type: Literal["end"]


TTSStreamClientMessage = Annotated[
    TTSStreamText | TTSStreamFlush | TTSStreamCancel | TTSStreamEnd, Field(discriminator="type")
]
TTS_STREAM_CLIENT_MESSAGE: TypeAdapter[TTSStreamClientMessage] = TypeAdapter(TTSStreamClientMessage)

# --- server -> client


class _Sent(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # every field is always sent


class TTSStreamReady(_Sent):
    type: Literal["ready"] = "ready"
    voice: str
    sample_rate_hz: int
    encoding: Literal["pcm_s16le"] = "pcm_s16le"
    channels: Literal[1] = 1
    max_message_chars: int = MAX_TEXT_CHARS


class TTSStreamChunk(_Sent):
    """A sentence (or clause) spoken; its audio follows at once as one binary message (PCM s16le mono)."""

    type: Literal["chunk"] = "chunk"
    seq: int = Field(description="0, 1, ...: chunks come in order and play back to back")
    text: str
    start_s: float = Field(description="the chunk's place on the stream's timeline")
    duration_s: float = Field(description="the audio's length: the sentence, then its pause")
    sample_rate_hz: int
    words: list[WordTiming] = Field(description="on the stream's timeline")
    phonemes: list[PhonemeTiming] = Field(description="on the stream's timeline; '_' is silence")
    alphabet: PhonemeAlphabet
    latency_ms: float = Field(description="from the sentence being complete to its audio being sent")


class TTSStreamCancelled(_Sent):
    type: Literal["cancelled"] = "cancelled"


class TTSStreamDone(_Sent):
    type: Literal["done"] = "done"
    chunks: int
    duration_s: float
    credits_charged: int


TTSStreamServerMessage = Annotated[
    TTSStreamReady | TTSStreamChunk | TTSStreamCancelled | TTSStreamDone | RealtimeError,
    Field(discriminator="type"),
]
