"""Speech on the gateway: choosing a voice, running TTS and alignment off the event loop, and the JSON
shapes of timings shared by ``/v1/tts``, ``/v1/audio/speech``, ``/v1/tts/stream`` and ``/v1/align``.

All speech work of a gateway process runs on **one** worker thread, in arrival order: the engines share
espeak-ng, whose library keeps global state, and one thread leaves the other core to the event loop.
Speech recognition (``/v1/audio/transcriptions``) has a thread of its own (:func:`run_stt_work`), so a
long recording being transcribed does not hold up speech synthesis.
Scale out with more gateway processes (they are stateless). Work is stepped one sentence at a time, so
a cancelled request (a closed WebSocket) stops after the sentence in progress.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from prometheus_client import Histogram
from pydantic import BaseModel, Field

from neura.billing import charge, credits_for_speech, credits_for_transcription, give_back
from neura.config import Settings
from neura.errors import InputError, PayloadTooLargeError, PaymentRequiredError, ScriptError
from neura.gateway.credits import credit_headers
from neura.gateway.state import AppState
from neura.media import PhonemeSpan, SpeechChunk, WordSpan
from neura.tts import TTSEngine, VoiceRef, create_tts, find_voice
from neura.tts.chunking import with_pause
from neura.tts.normalize import foreign_script

MAX_TEXT_CHARS = 5000
"""Longest text one request may speak (about five minutes of speech)."""
SENTENCE_PAUSE_S = 0.25
"""Silence between two sentences, as in rendered videos."""

SYNTHESIS_SECONDS = Histogram(
    "neura_tts_synthesis_seconds",
    "Wall time to synthesise one sentence on the gateway (queueing included)",
    buckets=(0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10),
)

T = TypeVar("T")


class TextTooLongError(PayloadTooLargeError):
    """More text than one request may speak."""


class EmptyTextError(InputError):
    """The text has no word to speak."""


@lru_cache(maxsize=1)
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="neura-speech")


async def run_speech_work(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` on the speech thread. Cancelling the caller returns at once; the call
    in progress finishes on its thread and its result is dropped."""
    return await asyncio.get_running_loop().run_in_executor(_executor(), partial(function, *args, **kwargs))


STT_THREADS = 2
"""CPU threads of one transcription: its thread waits on them, so the event loop still gets its share."""


@lru_cache(maxsize=1)
def _stt_executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="neura-stt")


async def run_stt_work(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Like :func:`run_speech_work`, on the speech recognition thread (decoding uploads, transcribing)."""
    return await asyncio.get_running_loop().run_in_executor(_stt_executor(), partial(function, *args, **kwargs))


# --- metering: speech costs credits (see neura.billing.plans), charged before the work and given back
# when it fails, so a caller pays only for speech (or alignment) it received


@dataclass(frozen=True)
class SpeechBill:
    credits: int
    balance: int  # after the charge

    def headers(self) -> dict[str, str]:
        return credit_headers(self.credits, self.balance)


async def charge_speech(
    state: AppState, user_id: uuid.UUID, chars: int, what: str, *, audio_s: float | None = None
) -> SpeechBill:
    """Charge ``chars`` characters of speech, or ``audio_s`` seconds of recording transcribed;
    PaymentRequiredError (402) when the balance is too low."""
    if audio_s is not None:
        credits, note, hint = credits_for_transcription(audio_s), f"{what}: {audio_s:.1f} s", "send a shorter recording"
    else:
        credits, note, hint = credits_for_speech(chars), f"{what}: {chars} characters", "send less text"
    try:
        async with state.sessions() as session, session.begin():
            balance = await charge(session, user_id, credits, "speech", note)
    except PaymentRequiredError as exc:
        raise PaymentRequiredError(exc.message, hint=f"{hint}, or upgrade your plan") from None
    return SpeechBill(credits, balance)


@asynccontextmanager
async def metered(
    state: AppState, user_id: uuid.UUID, chars: int, what: str, *, audio_s: float | None = None
) -> AsyncIterator[SpeechBill]:
    """Charge (``chars`` of text, or ``audio_s`` of recording to transcribe), run the body, and give the
    credits back if it fails (or the caller goes away)."""
    bill = await charge_speech(state, user_id, chars, what, audio_s=audio_s)
    try:
        yield bill
    except BaseException:
        # shielded: a second cancellation (the client gone, the server stopping) must not lose the refund
        await asyncio.shield(_give_back(state, user_id, bill.credits, f"{what} failed"))
        raise


async def _give_back(state: AppState, user_id: uuid.UUID, credits: int, note: str) -> None:
    async with state.sessions() as session, session.begin():
        await give_back(session, user_id, credits, "speech_refund", note)


# --- voices


def check_text(text: str) -> str:
    """``text`` stripped; InputError when empty, TextTooLongError past :data:`MAX_TEXT_CHARS`."""
    if len(text) > MAX_TEXT_CHARS:
        raise TextTooLongError(
            f"the text is {len(text)} characters long; one request may speak at most {MAX_TEXT_CHARS}",
            hint="split it into several requests, or send it piece by piece over /v1/tts/stream",
        )
    stripped = text.strip()
    if not any(ch.isalnum() for ch in stripped):
        raise EmptyTextError("the text is empty: there is nothing to speak", hint="give at least one word")
    script = foreign_script(stripped)
    if script:  # refused before it is charged, rather than failing (and refunded) in the voice
        raise ScriptError(
            f"the text is written in {script} script; NEURA's voices speak English",
            hint="write the text in English (Latin letters)",
        )
    return stripped


def check_voice(settings: Settings, voice: VoiceRef | None) -> VoiceRef:
    """The voice a request asked for (None: this server's default), if it is one of GET /v1/voices:
    refuse now what would fail later, an unknown voice (422) or one whose engine is not installed here
    (503), without loading a model."""
    ref = voice or VoiceRef.configured(settings)
    find_voice(ref, settings)
    return ref


def _load_engine(settings: Settings, voice: VoiceRef | None) -> TTSEngine:
    return create_tts(check_voice(settings, voice), settings)


async def load_engine(settings: Settings, voice: VoiceRef | None) -> TTSEngine:
    """The engine for ``voice`` (None: this server's default voice), checked as :func:`check_voice` does.
    Loading a model the first time takes seconds, so it happens on the speech thread."""
    return await run_speech_work(_load_engine, settings, voice)


async def synthesize(engine: TTSEngine, text: str) -> AsyncIterator[SpeechChunk]:
    """``engine.synthesize(text)`` stepped on the speech thread, one chunk (sentence) at a time."""
    chunks = await run_speech_work(engine.synthesize, text)
    while True:
        started = time.perf_counter()
        chunk = await run_speech_work(next, chunks, None)
        if chunk is None:
            return
        SYNTHESIS_SECONDS.observe(time.perf_counter() - started)
        yield chunk


# --- joining sentences and their timings


@dataclass
class Speech:
    """Sentences joined on one timeline, with a pause between them."""

    sample_rate_hz: int
    chunks: list[SpeechChunk] = field(default_factory=list)

    def add(self, chunk: SpeechChunk, pause_s: float = SENTENCE_PAUSE_S) -> None:
        if self.chunks and pause_s > 0:
            self.chunks[-1] = with_pause(self.chunks[-1], pause_s)
        self.chunks.append(chunk)

    @property
    def duration_s(self) -> float:
        return sum(chunk.duration_s for chunk in self.chunks)

    @property
    def alphabet(self) -> str:
        return self.chunks[-1].alphabet if self.chunks else "ipa"

    @property
    def samples(self) -> npt.NDArray[np.float32]:
        return np.concatenate([c.samples for c in self.chunks]) if self.chunks else np.zeros(0, np.float32)

    def timings(self) -> tuple[list[PhonemeSpan], list[WordSpan]]:
        """Every phoneme and word on the joined timeline."""
        phonemes: list[PhonemeSpan] = []
        words: list[WordSpan] = []
        start_s = 0.0
        for chunk in self.chunks:
            shifted_phonemes, shifted_words = chunk.shifted(start_s)
            phonemes += shifted_phonemes
            words += shifted_words
            start_s += chunk.duration_s
        return phonemes, words


class WordTiming(BaseModel):
    word: str = Field(description="the spoken word (numbers and symbols are spelled out: '$5' -> 'five', 'dollars')")
    start_s: float
    end_s: float


class PhonemeTiming(BaseModel):
    phoneme: str = Field(description="an IPA or ARPAbet symbol; '_' is silence")
    start_s: float
    end_s: float


def word_timings(words: list[WordSpan], offset_s: float = 0.0) -> list[WordTiming]:
    return [WordTiming(word=w.word, start_s=_ms(w.start_s + offset_s), end_s=_ms(w.end_s + offset_s)) for w in words]


def phoneme_timings(phonemes: list[PhonemeSpan], offset_s: float = 0.0) -> list[PhonemeTiming]:
    return [
        PhonemeTiming(phoneme=p.phoneme, start_s=_ms(p.start_s + offset_s), end_s=_ms(p.end_s + offset_s))
        for p in phonemes
    ]


def _ms(seconds: float) -> float:
    return round(seconds, 3)
