"""``WS /v1/tts/stream``: speak text while it is still being written (an LLM's tokens, a user typing).

The protocol is :data:`PROTOCOL` (also served in the OpenAPI description of ``GET /v1/tts/stream``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from prometheus_client import Histogram

from neura.billing.plans import SPEECH_CHARS_PER_CREDIT
from neura.encode.audio import to_pcm16
from neura.errors import NeuraError, ScriptError
from neura.gateway.deps import authenticate, credentials
from neura.gateway.errors import error_code  # the same codes as HTTP errors
from neura.gateway.ratelimit import limit_user  # the same counters as the HTTP routes
from neura.gateway.schemas.text import Text
from neura.gateway.speech import (
    MAX_TEXT_CHARS,
    SENTENCE_PAUSE_S,
    charge_speech,
    load_engine,
    phoneme_timings,
    synthesize,
    word_timings,
)
from neura.gateway.state import AppState
from neura.media import PhonemeSpan, SpeechChunk
from neura.storable import unstorable_reason
from neura.tts import TTSEngine, split_clauses, split_sentences

log = logging.getLogger("neura.gateway.tts")
router = APIRouter(tags=["speech"])

PROTOCOL = """Streaming text to speech over a **WebSocket**: JSON in text messages, audio in binary messages.

1. Connect to `/v1/tts/stream?access_token=<JWT>` (browsers cannot set headers on a WebSocket; an API
   key works as `?api_key=nk_...`, and other clients may send the usual headers instead), optionally
   with `&voice=<voice id or engine>`. The server answers
   `{"type": "ready", "voice", "sample_rate_hz", "encoding": "pcm_s16le", "channels": 1, "max_message_chars"}`.
2. The client sends, as often and in pieces as small as it likes:
   - `{"type": "text", "text": "..."}`: text to append (partial sentences are fine; at most 5000
     characters a message, and at most 20000 waiting to be spoken);
   - `{"type": "flush"}`: speak what is buffered now, even without a sentence end;
   - `{"type": "cancel"}`: drop everything not yet spoken (barge-in); answered by `{"type": "cancelled"}`
     (after `end`, `done` follows it);
   - `{"type": "end"}`: no more text: the rest is spoken, then
     `{"type": "done", "chunks", "duration_s", "credits_charged"}` and the socket closes with 1000.
3. Each sentence is synthesised as soon as it is complete (a long one clause by clause, and the very
   first one from its first finished clause, so that speech starts sooner). For each the
   server sends a JSON message
   `{"type": "chunk", "seq", "text", "start_s", "duration_s", "sample_rate_hz", "words", "phonemes",
   "alphabet", "latency_ms"}` **immediately followed by one binary message**: its audio as signed 16-bit
   little-endian mono PCM at `sample_rate_hz`, `duration_s` long (the sentence, then its pause).
   Chunks come in order (`seq` 0, 1, ...) and play back to back: `start_s` is the chunk's place on the
   stream's timeline, and its word and phoneme times (`{"word"|"phoneme", "start_s", "end_s"}`) are on
   that same timeline. `latency_ms`: the server's time from the sentence being complete to its audio
   being sent.
4. Credits: one per started 1,000 characters spoken, charged a block at a time just before the text
   that needs it is spoken (text cancelled before it is spoken costs nothing; a block is not given
   back when the stream ends early).
5. Errors: `{"type": "error", "code", "message"}`, then the socket closes with **1008** (authentication,
   a malformed message, an unknown voice, idle for 5 minutes, `payment_required` when the credits run
   out), **1009** (a message or the waiting text is
   too big), **1003** (a binary message from the client), **1013** (rate limited: a connection counts
   as one speech request, `SPEECH_PER_MINUTE`, and each message against `TTS_STREAM_MESSAGES_PER_MINUTE`)
   or **1011** (the server failed). Text with U+0000 or a lone surrogate is refused with 1008.

Backpressure: a sentence is synthesised only after the previous one was handed to the network, and a
send waits while the client is not reading. A client that disconnects stops the synthesis after the
sentence in progress.
"""

MAX_QUEUED_CHARS = 20_000
"""Text received but not yet spoken, at most; a client sending faster is told to slow down (1009)."""
LONG_SENTENCE_CHARS = 200
"""An unfinished sentence longer than this is spoken clause by clause as its clauses complete."""
CLAUSE_PAUSE_S = 0.1
IDLE_TIMEOUT_S = 300.0
FIRST_AUDIO_SECONDS = Histogram(
    "neura_tts_stream_first_audio_seconds",
    "WebSocket TTS: time from the first complete sentence to its audio being sent",
    buckets=(0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5),
)
_SENTENCE_END = tuple(".!?…\"')]”’")


class StreamError(Exception):
    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


class SentenceBuffer:
    """Text arriving in pieces -> sentences, each returned as soon as it is complete.

    A sentence is complete when text after it starts a new one, or when it ends with sentence punctuation
    followed by whitespace (the splitter's own rules decide: "Dr. " or "3." stay open). An unfinished
    sentence gives up its finished clauses when it grows long, or at once when ``eager`` (the first
    words of a stream: the listener hears something sooner)."""

    def __init__(self) -> None:
        self.text = ""

    def push(self, text: str, *, eager: bool = False) -> list[str]:
        self.text += text
        sentences = split_sentences(self.text)
        if not sentences:
            return []
        trailing = self.text[len(self.text.rstrip()) :]
        *complete, last = sentences
        if trailing and len(split_sentences(self.text + "X")) > len(sentences):
            complete.append(last)  # "... end. " + a capital would start a new sentence: this one is done
            self.text = ""
        else:
            self.text = last + trailing
            if (eager and not complete) or len(last) > LONG_SENTENCE_CHARS:
                *clauses, rest = split_clauses(last)
                complete += clauses
                self.text = rest + trailing
        return complete

    def flush(self) -> list[str]:
        sentences = split_sentences(self.text)
        self.text = ""
        return sentences


@dataclass(frozen=True)
class _Piece:
    text: str
    ready_at: float  # perf_counter when it became complete
    pause_s: float


class _Stream:
    def __init__(self, websocket: WebSocket, engine: TTSEngine, state: AppState, user_id: uuid.UUID) -> None:
        self.ws = websocket
        self.engine = engine
        self.state = state
        self.user_id = user_id
        self.paid_chars = 0  # characters the credits charged so far cover
        self.spoken_chars = 0
        self.credits_charged = 0
        self.buffer = SentenceBuffer()
        self.queue: asyncio.Queue[_Piece | None] = asyncio.Queue()
        self.queued_chars = 0
        self.generation = 0  # bumped by "cancel": pieces of an older generation are dropped
        self.send_lock = asyncio.Lock()  # a chunk's JSON and its audio go out together
        self.seq = 0
        self.timeline_s = 0.0
        self.ended = False
        self.speaking = False
        self.first_audio_sent = False
        self.pieces_queued = 0

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen(), name="tts-stream-listen")
        speaker = asyncio.create_task(self._speak(), name="tts-stream-speak")
        tasks = (listener, speaker)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raises the first failure
            if speaker in done:  # "end" was received and everything was spoken
                summary = {"chunks": self.seq, "duration_s": round(self.timeline_s, 3)}
                await self._send({"type": "done", **summary, "credits_charged": self.credits_charged})
                await _stop(tasks)
                await self.ws.close(1000)
        except WebSocketDisconnect:
            log.debug("tts stream: the client left; synthesis stopped")
        except StreamError as exc:
            await _stop(tasks)
            await _close_with_error(self.ws, exc.code, exc.message, exc.close_code)
        except NeuraError as exc:
            await _stop(tasks)
            await _close_with_neura_error(self.ws, exc)
        except Exception:
            log.exception("tts stream failed")
            await _stop(tasks)
            await _close_with_error(self.ws, "internal", "internal server error", 1011)
        finally:
            await _stop(tasks)

    async def _send(self, message: dict[str, Any], audio: bytes | None = None) -> None:
        async with self.send_lock:
            await self.ws.send_text(json.dumps(message, ensure_ascii=False))
            if audio is not None:
                await self.ws.send_bytes(audio)

    # --- receiving

    async def _receive(self) -> dict[str, Any]:
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), IDLE_TIMEOUT_S)
                break
            except TimeoutError:
                if not (self.speaking or self.queue.qsize()):
                    raise StreamError("idle_timeout", f"no message for {IDLE_TIMEOUT_S:g} s", 1008) from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("text") is None:
            raise StreamError("unsupported_data", "send JSON text messages; audio only flows to the client", 1003)
        raw: str = message["text"]
        if len(raw) > 4 * MAX_TEXT_CHARS:
            raise StreamError("message_too_big", f"a message may carry at most {MAX_TEXT_CHARS} characters", 1009)
        try:
            data = json.loads(raw)
        except ValueError:
            raise StreamError("invalid_message", "a message is not valid JSON", 1008) from None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise StreamError("invalid_message", 'a message must be a JSON object with a "type"', 1008)
        return data

    async def _listen(self) -> None:
        while True:
            message = await self._receive()
            await limit_user(self.state.redis, self.state.settings, "tts_stream_messages", self.user_id)
            kind = message["type"]
            if self.ended and kind != "cancel":
                raise StreamError("invalid_message", f"'{kind}' after 'end'", 1008)
            if kind == "text":
                text = message.get("text")
                if not isinstance(text, str):
                    raise StreamError("invalid_message", '"text" must be a string', 1008)
                unstorable = unstorable_reason(text)
                if unstorable is not None:
                    raise StreamError("invalid_message", f'"text" {unstorable}', 1008)
                if len(text) > MAX_TEXT_CHARS:
                    raise StreamError(
                        "message_too_big", f"a message may carry at most {MAX_TEXT_CHARS} characters", 1009
                    )
                self._enqueue(self.buffer.push(text, eager=not self.pieces_queued), final=False)
            elif kind == "flush":
                self._enqueue(self.buffer.flush(), final=True)
            elif kind == "end":
                self._enqueue(self.buffer.flush(), final=True)
                self.ended = True
                self.queue.put_nowait(None)
            elif kind == "cancel":
                await self._cancel()
            else:
                raise StreamError("invalid_message", f"unknown message type '{kind}'", 1008)

    def _enqueue(self, sentences: list[str], *, final: bool) -> None:
        now = time.perf_counter()
        for index, text in enumerate(sentences):
            ends_sentence = text.endswith(_SENTENCE_END)
            last_of_flush = final and index == len(sentences) - 1
            pause_s = SENTENCE_PAUSE_S if ends_sentence else 0.0 if last_of_flush else CLAUSE_PAUSE_S
            self.queue.put_nowait(_Piece(text, now, pause_s))
            self.queued_chars += len(text)
            self.pieces_queued += 1
        if self.queued_chars + len(self.buffer.text) > MAX_QUEUED_CHARS:
            raise StreamError(
                "too_much_text",
                f"more than {MAX_QUEUED_CHARS} characters are waiting to be spoken; send more as audio arrives",
                1009,
            )

    async def _cancel(self) -> None:
        self.generation += 1
        self.buffer.text = ""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_chars = 0
        if self.ended:
            self.queue.put_nowait(None)  # still ends: "done" follows
        await self._send({"type": "cancelled"})

    # --- speaking

    async def _speak(self) -> None:
        while True:
            piece = await self.queue.get()
            if piece is None:
                return
            self.queued_chars = max(0, self.queued_chars - len(piece.text))
            generation = self.generation
            await self._pay_for(piece.text)
            if generation != self.generation:  # cancelled while it was being paid for: not spoken
                self.spoken_chars -= len(piece.text)
                continue
            self.speaking = True
            try:
                async for chunk in synthesize(self.engine, piece.text):
                    if generation != self.generation:
                        break  # cancelled while it was being made
                    await self._send_chunk(chunk, piece)
            except ScriptError:
                self.spoken_chars -= len(piece.text)  # nothing speakable (only symbols): skipped, free
                continue
            finally:
                self.speaking = False

    async def _pay_for(self, text: str) -> None:
        """Charge a credit per started 1,000 characters spoken, a block at a time, before speaking them;
        PaymentRequiredError (the stream closes with code 1008, "payment_required") when they run out."""
        self.spoken_chars += len(text)
        if self.spoken_chars <= self.paid_chars:
            return
        bill = await charge_speech(self.state, self.user_id, self.spoken_chars - self.paid_chars, "/v1/tts/stream")
        self.paid_chars += bill.credits * SPEECH_CHARS_PER_CREDIT
        self.credits_charged += bill.credits

    async def _send_chunk(self, chunk: SpeechChunk, piece: _Piece) -> None:
        phonemes = list(chunk.phonemes)
        samples = chunk.samples
        if piece.pause_s > 0:
            pause = round(piece.pause_s * chunk.sample_rate_hz)
            samples = np.concatenate([samples, np.zeros(pause, np.float32)])
            end_s = chunk.duration_s + pause / chunk.sample_rate_hz
            if phonemes and phonemes[-1].phoneme == "_":
                phonemes[-1] = PhonemeSpan("_", phonemes[-1].start_s, end_s)
            else:
                phonemes.append(PhonemeSpan("_", chunk.duration_s, end_s))
        duration_s = samples.size / chunk.sample_rate_hz
        latency_s = time.perf_counter() - piece.ready_at
        header = {
            "type": "chunk",
            "seq": self.seq,
            "text": chunk.text,
            "start_s": round(self.timeline_s, 3),
            "duration_s": round(duration_s, 3),
            "sample_rate_hz": chunk.sample_rate_hz,
            "words": [w.model_dump() for w in word_timings(chunk.words, self.timeline_s)],
            "phonemes": [p.model_dump() for p in phoneme_timings(phonemes, self.timeline_s)],
            "alphabet": chunk.alphabet,
            "latency_ms": round(latency_s * 1000, 1),
        }
        await self._send(header, to_pcm16(samples))
        if not self.first_audio_sent:
            self.first_audio_sent = True
            FIRST_AUDIO_SECONDS.observe(latency_s)
        self.seq += 1
        self.timeline_s += duration_s


async def _stop(tasks: tuple[asyncio.Task[None], ...]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _close_with_error(websocket: WebSocket, code: str, message: str, close_code: int) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_text(json.dumps({"type": "error", "code": code, "message": message}))
        await websocket.close(close_code, reason=message[:120])


async def _close_with_neura_error(websocket: WebSocket, exc: NeuraError) -> None:
    close_code = {413: 1009, 429: 1013}.get(exc.http_status, 1011 if exc.http_status >= 500 else 1008)
    text = exc.message if not exc.hint else f"{exc.message} ({exc.hint})"
    await _close_with_error(websocket, error_code(exc), text, close_code)


class UpgradeRequiredError(NeuraError):
    http_status = 426


@router.get(
    "/v1/tts/stream",
    summary="Streaming text to speech (a WebSocket: this plain GET only answers 426)",
    description=PROTOCOL,
    status_code=426,
    responses={426: {"description": "connect with a WebSocket client instead"}},
)
async def tts_stream_over_http() -> None:
    raise UpgradeRequiredError(
        "/v1/tts/stream is a WebSocket endpoint", hint="connect with ws:// or wss://; the protocol is in /docs"
    )


@router.websocket("/v1/tts/stream")
async def tts_stream(websocket: WebSocket, voice: Text | None = None) -> None:
    """Streaming text to speech: see :data:`PROTOCOL`."""
    await websocket.accept()
    state: AppState = websocket.app.state.neura
    try:
        user = await authenticate(state, credentials(websocket.headers, websocket.query_params))
        await limit_user(state.redis, state.settings, "speech", user.id)  # a connection is one speech request
        engine = await load_engine(state.settings, voice)
        await websocket.send_json(
            {
                "type": "ready",
                "voice": engine.voice.id,
                "sample_rate_hz": engine.sample_rate_hz,
                "encoding": "pcm_s16le",
                "channels": 1,
                "max_message_chars": MAX_TEXT_CHARS,
            }
        )
    except NeuraError as exc:
        await _close_with_neura_error(websocket, exc)
        return
    except WebSocketDisconnect:
        return
    await _Stream(websocket, engine, state, user.id).run()
