"""Provider ``"gemini"``: Google's Gemini API through the ``google-genai`` SDK, streaming over SSE."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from neura.config import Settings
from neura.errors import LLMError, LLMUnavailableError
from neura.llm.base import (
    NO_LLM_FIELDS,
    START_LM_STUDIO,
    UNAVAILABLE_HINT,
    WRITE_IT_YOURSELF,
    BaseLLM,
    ChatMessage,
    JsonSchema,
    ProbeAnswer,
    RetryPolicy,
)

GOOGLE_ENDPOINT = "https://generativelanguage.googleapis.com"
_KEY_HINT = (
    f"set GEMINI_API_KEY to a key from https://aistudio.google.com/apikey, or {START_LM_STUDIO}, or {WRITE_IT_YOURSELF}"
)


class GeminiLLM(BaseLLM):
    name = "gemini"
    setup_hint = "check GEMINI_API_KEY and GEMINI_MODEL"  # how to make it answer

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "gemini-2.5-flash",
        base_url: str = "",
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(retry=retry)
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url or GOOGLE_ENDPOINT
        self.timeout_s = timeout_s
        self._api_key = api_key.strip()
        self._client: genai.Client | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, retry: RetryPolicy | None = None) -> GeminiLLM:
        return cls(
            api_key=settings.gemini_api_key,
            model=settings.gemini_model,
            base_url=settings.gemini_base_url,
            timeout_s=settings.llm_timeout_s,
            retry=retry,
        )

    async def client(self) -> genai.Client:
        """The SDK client, built on first use in a worker thread (its TLS setup blocks for ~0.2 s)."""
        if not self._api_key:
            raise LLMUnavailableError(
                "Gemini is not configured: GEMINI_API_KEY is empty", hint=_KEY_HINT, fields=NO_LLM_FIELDS
            )
        if self._client is None:
            options = types.HttpOptions(
                base_url=self.base_url or None,
                timeout=round(self.timeout_s * 1000),  # milliseconds; None would mean "wait forever"
            )
            client = await asyncio.to_thread(genai.Client, api_key=self._api_key, http_options=options)
            if self._client is None:
                self._client = client
            else:  # another request built one meanwhile
                await client.aio.aclose()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aio.aclose()
            self._client = None

    async def _stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float,
        max_tokens: int | None,
        json_mode: bool,
        json_schema: JsonSchema | None,
    ) -> AsyncIterator[str]:
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        contents = [
            types.Content(role="model" if m.role == "assistant" else "user", parts=[types.Part(text=m.content)])
            for m in messages
            if m.role != "system"
        ]
        if not contents:  # Gemini needs at least one turn: the instructions become the request
            contents, system = [types.Content(role="user", parts=[types.Part(text=system)])], ""
        config = types.GenerateContentConfig(
            system_instruction=system or None,
            temperature=temperature,
            max_output_tokens=max_tokens,
            response_mime_type="application/json" if json_mode else None,
            # Gemini constrains its output to a JSON Schema given here ($defs and $ref included)
            response_json_schema=dict(json_schema.schema) if json_schema is not None else None,
        )
        client = await self.client()
        # The SDK nests several async generators and closes the HTTP response only when the innermost
        # one ends, so the stream is read in a task: stopping early cancels it, which closes the response.
        pieces: asyncio.Queue[str | Exception | None] = asyncio.Queue()

        async def pump() -> None:
            try:
                # The SDK sends the request on the first iteration: errors surface in either place.
                stream = await client.aio.models.generate_content_stream(
                    model=self.model, contents=contents, config=config
                )
                async for response in stream:
                    for text in _answer_texts(response):
                        pieces.put_nowait(text)
                pieces.put_nowait(None)
            except (genai_errors.APIError, httpx2.HTTPError, ValueError) as error:
                translated = self._translate(error)
                translated.__cause__ = error
                pieces.put_nowait(translated)
            except Exception as error:  # not ours to judge: hand it to the consumer unchanged
                pieces.put_nowait(error)

        reader = asyncio.create_task(pump())
        try:
            while (piece := await pieces.get()) is not None:
                if isinstance(piece, Exception):
                    raise piece
                yield piece
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    def _translate(self, error: Exception) -> LLMError:
        where = f"Gemini ({self.model}) at {self.endpoint}"
        if isinstance(error, httpx2.TimeoutException):
            return LLMUnavailableError(
                f"{where} did not answer within {self.timeout_s:g} s", hint=UNAVAILABLE_HINT, fields=NO_LLM_FIELDS
            )
        if isinstance(error, httpx2.HTTPError):
            return LLMUnavailableError(
                f"cannot reach {where}: {error or type(error).__name__}", hint=UNAVAILABLE_HINT, fields=NO_LLM_FIELDS
            )
        if isinstance(error, genai_errors.APIError):
            code, status = error.code, error.status or ""
            detail = (error.message or str(error))[:300]
            if code in (401, 403) or _bad_api_key(error):
                return LLMUnavailableError(
                    f"{where} refused the API key (HTTP {code} {status}: {detail})",
                    hint=_KEY_HINT,
                    fields=NO_LLM_FIELDS,
                )
            if code == 404:
                return LLMError(
                    f"{where} has no model {self.model!r} (HTTP 404: {detail})",
                    hint="set GEMINI_MODEL to a model your key can use, e.g. gemini-2.5-flash",
                )
            retryable = code in (408, 429) or code >= 500
            return LLMError(f"{where} answered HTTP {code} {status}: {detail}", retryable=retryable)
        return LLMError(f"{where} sent an unreadable answer ({error})")

    async def probe(self, timeout_s: float) -> ProbeAnswer:
        """``models.get`` of the configured model: the key works and the model exists (nothing is billed)."""
        client = await self.client()  # LLMUnavailableError without GEMINI_API_KEY
        config = types.GetModelConfig(http_options=types.HttpOptions(timeout=round(timeout_s * 1000)))
        started = time.perf_counter()
        try:
            model = await client.aio.models.get(model=self.model, config=config)
        except httpx2.TimeoutException as error:
            raise LLMUnavailableError(f"no answer within {timeout_s:g} s") from error
        except httpx2.HTTPError as error:
            raise LLMUnavailableError(f"cannot connect ({error or type(error).__name__})") from error
        except genai_errors.APIError as error:
            if error.code in (401, 403) or _bad_api_key(error):
                raise LLMUnavailableError(
                    f"Gemini refused the API key (HTTP {error.code})", hint="check GEMINI_API_KEY"
                ) from error
            if error.code == 404:
                raise LLMError(f"Gemini has no model {self.model!r}", hint="check GEMINI_MODEL") from error
            raise LLMError(f"Gemini answered HTTP {error.code} {error.status or ''}".rstrip()) from error
        name = (model.name or self.model).removeprefix("models/")
        return ProbeAnswer([name], (time.perf_counter() - started) * 1000)


def _answer_texts(response: types.GenerateContentResponse) -> list[str]:
    """The answer text of the first candidate, without "thought" parts (Gemini 2.5's reasoning)."""
    candidate = response.candidates[0] if response.candidates else None
    if candidate is None or candidate.content is None or not candidate.content.parts:
        return []
    return [part.text for part in candidate.content.parts if part.text and not part.thought]


def _bad_api_key(error: genai_errors.APIError) -> bool:
    """Gemini answers an invalid key with 400 INVALID_ARGUMENT and reason API_KEY_INVALID."""
    return error.code == 400 and ("API_KEY_INVALID" in str(error.details) or "API key" in (error.message or ""))
