"""``WS /v1/tts/stream``: speak text while it is still being written (an LLM's tokens, a user typing).

The protocol is :data:`PROTOCOL` (also served in the OpenAPI description of ``GET /v1/tts/stream``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from prometheus_client import Histogram
from pydantic import BaseModel, ValidationError

from neura.billing.plans import SPEECH_CHARS_PER_CREDIT
from neura.encode.audio import to_pcm16
from neura.errors import (
    IdleTimeoutError,
    InvalidMessageError,
    NeuraError,
    PayloadTooLargeError,
    ScriptError,
    UnsupportedMediaTypeError,
)
from neura.gateway.deps import authenticate, request_credentials
from neura.gateway.errors import close_with_error, raises
from neura.gateway.ratelimit import limit_user  # the same counters as the HTTP routes
from neura.gateway.schemas.text import Text
from neura.gateway.schemas.tts_stream import (
    TTS_STREAM_CLIENT_MESSAGE,
    TTSStreamCancel,
    TTSStreamCancelled,
    TTSStreamChunk,
    TTSStreamClientMessage,
    TTSStreamDone,
    TTSStreamEnd,
    TTSStreamFlush,
    TTSStreamReady,
)
from neura.gateway.schemas.voices import parse_voice
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
from neura.media import SpeechChunk
from neura.tts import TTSEngine, split_clauses, split_sentences
from neura.tts.chunking import with_pause

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
5. Errors: `{"type": "error", "code", "message", "hint"}` (the same codes as the HTTP API's), then the
   socket closes with **4000 + the HTTP status** of the error: 4401 (authentication), 4402
   (`payment_required`: the credits ran out), 4408 (`idle_timeout`: no message for 5 minutes), 4413
   (`payload_too_large`, `too_much_text`: a message or the waiting text is too big), 4415
   (`unsupported_media_type`: a binary message from the client), 4422 (`invalid_message`,
   `unknown_voice`), 4429 (`rate_limited`: the connection counts as one request); **1011** when the
   server failed.

Every message's JSON Schema: `neura schemas` (`TTSStream*` and `RealtimeError`).

Backpressure: a sentence is synthesised only after the previous one was handed to the network, and a
send waits while the client is not reading. A client that disconnects stops the synthesis after the
sentence in progress.
"""

MAX_QUEUED_CHARS = 20_000
"""Text received but not yet spoken, at most; a client sending faster is told to slow down (4413, "too_much_text")."""
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


class TooMuchTextError(PayloadTooLargeError):
    """More text is waiting to be spoken than the stream holds."""


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
                duration_s = round(self.timeline_s, 3)
                await self._send(
                    TTSStreamDone(chunks=self.seq, duration_s=duration_s, credits_charged=self.credits_charged)
                )
                await _stop(tasks)
                await self.ws.close(1000)
        except WebSocketDisconnect:
            log.debug("tts stream: the client left; synthesis stopped")
        except Exception as exc:  # a NeuraError, or a bug: either way the client is told, then closed
            await _stop(tasks)
            await close_with_error(self.ws, exc)
        finally:
            await _stop(tasks)

    async def _send(self, message: BaseModel, audio: bytes | None = None) -> None:
        async with self.send_lock:
            await self.ws.send_text(message.model_dump_json())
            if audio is not None:
                await self.ws.send_bytes(audio)

    # --- receiving

    async def _receive(self) -> TTSStreamClientMessage:
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), IDLE_TIMEOUT_S)
                break
            except TimeoutError:
                if not (self.speaking or self.queue.qsize()):
                    raise IdleTimeoutError(f"no message for {IDLE_TIMEOUT_S:g} s") from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("text") is None:
            raise UnsupportedMediaTypeError("send JSON text messages; audio only flows to the client")
        return parse_message(message["text"])

    async def _listen(self) -> None:
        while True:
            message = await self._receive()
            await limit_user(self.state.redis, self.state.settings, "tts_stream_messages", self.user_id)
            if self.ended and not isinstance(message, TTSStreamCancel):
                raise InvalidMessageError(f"'{message.type}' after 'end'")
            if isinstance(message, TTSStreamFlush):
                self._enqueue(self.buffer.flush(), final=True)
            elif isinstance(message, TTSStreamEnd):
                self._enqueue(self.buffer.flush(), final=True)
                self.ended = True
                self.queue.put_nowait(None)
            elif isinstance(message, TTSStreamCancel):
                await self._cancel()
            else:
                self._enqueue(self.buffer.push(message.text, eager=not self.pieces_queued), final=False)

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
            raise TooMuchTextError(
                f"more than {MAX_QUEUED_CHARS} characters are waiting to be spoken", hint="send more as audio arrives"
            )

    async def _cancel(self) -> None:
        self.generation += 1
        self.buffer.text = ""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_chars = 0
        if self.ended:
            self.queue.put_nowait(None)  # still ends: "done" follows
        await self._send(TTSStreamCancelled())

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
        PaymentRequiredError (the stream closes with code 4402, "payment_required") when they run out."""
        self.spoken_chars += len(text)
        if self.spoken_chars <= self.paid_chars:
            return
        bill = await charge_speech(self.state, self.user_id, self.spoken_chars - self.paid_chars, "/v1/tts/stream")
        self.paid_chars += bill.credits * SPEECH_CHARS_PER_CREDIT
        self.credits_charged += bill.credits

    async def _send_chunk(self, spoken: SpeechChunk, piece: _Piece) -> None:
        chunk = with_pause(spoken, piece.pause_s)
        samples, phonemes, duration_s = chunk.samples, chunk.phonemes, chunk.duration_s
        latency_s = time.perf_counter() - piece.ready_at
        header = TTSStreamChunk(
            seq=self.seq,
            text=chunk.text,
            start_s=round(self.timeline_s, 3),
            duration_s=round(duration_s, 3),
            sample_rate_hz=chunk.sample_rate_hz,
            words=word_timings(chunk.words, self.timeline_s),
            phonemes=phoneme_timings(phonemes, self.timeline_s),
            alphabet=chunk.alphabet,
            latency_ms=round(latency_s * 1000, 1),
        )
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


def parse_message(raw: str) -> TTSStreamClientMessage:
    """One client message; PayloadTooLargeError or InvalidMessageError when it is not one of the protocol's."""
    if len(raw) > 4 * MAX_TEXT_CHARS:
        raise PayloadTooLargeError(f"a message may carry at most {MAX_TEXT_CHARS} characters")
    try:
        return TTS_STREAM_CLIENT_MESSAGE.validate_json(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        if problem["type"] == "string_too_long":
            raise PayloadTooLargeError(f"a message may carry at most {MAX_TEXT_CHARS} characters") from None
        if problem["type"] == "json_invalid":
            raise InvalidMessageError("a message is not valid JSON") from None
        if problem["type"] in ("union_tag_invalid", "union_tag_not_found", "model_attributes_type"):
            raise InvalidMessageError(
                'a message must be a JSON object whose "type" is text, flush, cancel or end'
            ) from None
        where = ".".join(str(part) for part in problem["loc"][1:])
        raise InvalidMessageError(f"{where or 'message'}: {problem['msg']}") from None


class UpgradeRequiredError(NeuraError):
    http_status = 426


@router.get(
    "/v1/tts/stream",
    operation_id="streamSpeech",
    summary="Streaming text to speech (a WebSocket: this plain GET only answers 426)",
    description=PROTOCOL,
    status_code=426,
    responses={426: {"description": "connect with a WebSocket client instead"}},
)
@raises(UpgradeRequiredError)
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
        user = await authenticate(state, request_credentials(websocket))
        await limit_user(state.redis, state.settings, "speech", user.id)  # a connection is one speech request
        engine = await load_engine(state.settings, parse_voice(voice))
        ready = TTSStreamReady(voice=engine.voice.id, sample_rate_hz=engine.sample_rate_hz)
        await websocket.send_text(ready.model_dump_json())
    except NeuraError as exc:
        await close_with_error(websocket, exc)
        return
    except WebSocketDisconnect:
        return
    await _Stream(websocket, engine, state, user.id).run()
