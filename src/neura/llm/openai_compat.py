"""Provider ``"lmstudio"``: any OpenAI-compatible chat server (LM Studio, llama.cpp's llama-server, vLLM)
through the official ``openai`` SDK, streaming over server-sent events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import openai
from openai import AsyncOpenAI

from neura.config import Settings
from neura.errors import LLMError, LLMUnavailableError
from neura.llm.base import (
    NO_LLM_FIELDS,
    START_LM_STUDIO,
    UNAVAILABLE_HINT,
    USE_GEMINI,
    WRITE_IT_YOURSELF,
    BaseLLM,
    ChatMessage,
    JsonSchema,
    ProbeAnswer,
    RetryPolicy,
)
from neura.llm.reasoning import ThinkFilter

# Structured output, best first. A server answers HTTP 400 naming ``response_format`` for a kind it does
# not take (LM Studio refuses "json_object" and takes "json_schema"; llama-server takes both; some take
# neither): the provider then tries the next kind and remembers the refusal, so later requests to the
# same server go straight to what it takes. The last resort is a plain request (the prompt asks for JSON).
JSON_OBJECT: dict[str, Any] = {"type": "json_object"}
ANY_OBJECT = JsonSchema("answer", {"type": "object"})
MAX_CONNECTIONS = 100  # streams at once to one server
KEPT_CONNECTIONS = 4  # idle connections kept for reuse; the others are closed when their answer ends
KEEPALIVE_S = 4.0  # an idle connection older than this is closed at the next request (uvicorn drops at 5)


def _json_schema_format(schema: JsonSchema) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": schema.name, "schema": dict(schema.schema)}}


def response_formats(json_schema: JsonSchema | None) -> list[dict[str, Any] | None]:
    """What to ask for, best first: the caller's schema (then any JSON object), or for JSON without a
    schema a JSON object (then a schema that any object matches); a plain request last."""
    if json_schema is not None:
        return [_json_schema_format(json_schema), JSON_OBJECT, None]
    return [JSON_OBJECT, _json_schema_format(ANY_OBJECT), None]


class OpenAICompatLLM(BaseLLM):
    name = "lmstudio"
    setup_hint = f"{START_LM_STUDIO} (LMSTUDIO_BASE_URL, LMSTUDIO_MODEL)"  # how to make it answer

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "lm-studio",
        timeout_s: float = 60.0,
        connect_timeout_s: float = 3.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(retry=retry)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.endpoint = self.base_url
        self._api_key = api_key or "not-needed"
        self._timeout = openai.Timeout(timeout_s, connect=connect_timeout_s)
        self.timeout_s = timeout_s
        self._client: AsyncOpenAI | None = None
        self.refused_formats: set[str] = set()  # response_format types this server answered 400 to

    @classmethod
    def from_settings(cls, settings: Settings, *, retry: RetryPolicy | None = None) -> OpenAICompatLLM:
        return cls(
            base_url=settings.lmstudio_base_url,
            model=settings.lmstudio_model,
            api_key=settings.lmstudio_api_key,
            timeout_s=settings.llm_timeout_s,
            connect_timeout_s=settings.llm_connect_timeout_s,
            retry=retry,
        )

    async def client(self) -> AsyncOpenAI:
        """The SDK client, built on first use in a worker thread (its TLS setup blocks for ~50 ms)."""
        if self._client is None:
            client = await asyncio.to_thread(self._new_client)
            if self._client is None:
                self._client = client
            else:  # another request built one meanwhile
                await client.close()
        return self._client

    def _new_client(self) -> AsyncOpenAI:
        # The SDK keeps up to 100 idle connections; a server that closes idle ones (LM Studio, uvicorn
        # after 5 s) leaves each half-closed here until it is next used: after a burst of concurrent
        # live turns, dozens. A few kept for reuse are enough (a local server costs ~1 ms to reconnect).
        limits = type(openai.DEFAULT_CONNECTION_LIMITS)(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=KEPT_CONNECTIONS, keepalive_expiry=KEEPALIVE_S
        )
        return AsyncOpenAI(
            base_url=self.base_url,
            api_key=self._api_key,
            timeout=self._timeout,
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(limits=limits, timeout=self._timeout),
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
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
        formats: list[dict[str, Any] | None] = response_formats(json_schema) if json_mode else [None]
        stream = await self._open(messages, temperature=temperature, max_tokens=max_tokens, formats=formats)
        think = ThinkFilter()
        try:
            async for chunk in stream:
                for choice in chunk.choices[:1]:  # a usage-only chunk has no choices
                    text = think.feed(choice.delta.content or "")
                    if text:
                        yield text
            tail = think.flush()
            if tail:
                yield tail
        except openai.OpenAIError as error:
            raise self._translate(error) from error
        except ValueError as error:  # a data line that is not JSON
            raise LLMError(
                f"the language model server at {self.endpoint} sent an unreadable stream ({error})",
                hint="check that LMSTUDIO_BASE_URL points at an OpenAI-compatible server",
            ) from error
        finally:
            await stream.close()

    async def _open(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float,
        max_tokens: int | None,
        formats: list[dict[str, Any] | None],
    ) -> openai.AsyncStream[Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if max_tokens is not None:
            request["max_tokens"] = max_tokens
        client = await self.client()
        for response_format in formats:
            if response_format is not None and response_format["type"] in self.refused_formats:
                continue
            if response_format is not None:
                request["response_format"] = response_format
            else:
                request.pop("response_format", None)
            try:
                stream: openai.AsyncStream[Any] = await client.chat.completions.create(**request)
                return stream
            except openai.BadRequestError as error:
                if response_format is None or not _about_response_format(error):
                    raise self._translate(error) from error
                self.refused_formats.add(response_format["type"])
            except openai.OpenAIError as error:
                raise self._translate(error) from error
        raise AssertionError("the last format, a plain request, either answers or raises")

    def _translate(self, error: openai.OpenAIError) -> LLMError:
        where = f"the language model server (LM Studio) at {self.endpoint}"
        if isinstance(error, openai.APITimeoutError):
            return LLMUnavailableError(
                f"{where} did not answer within {self.timeout_s:g} s", hint=UNAVAILABLE_HINT, fields=NO_LLM_FIELDS
            )
        if isinstance(error, openai.APIConnectionError):
            reason = str(error.__cause__ or error) or "connection failed"
            return LLMUnavailableError(f"cannot reach {where}: {reason}", hint=UNAVAILABLE_HINT, fields=NO_LLM_FIELDS)
        if isinstance(error, openai.APIStatusError):
            status, detail = error.status_code, _detail(error)
            if status in (401, 403):
                return LLMUnavailableError(
                    f"{where} refused our credentials (HTTP {status}: {detail})",
                    hint=f"set LMSTUDIO_API_KEY to the server's key, or {USE_GEMINI}, or {WRITE_IT_YOURSELF}",
                    fields=NO_LLM_FIELDS,
                )
            if _model_missing(error):
                return LLMUnavailableError(
                    f"{where} has no model {self.model!r} loaded (HTTP {status}: {detail})",
                    hint=f"load {self.model} in LM Studio or set LMSTUDIO_MODEL to a loaded model "
                    f"(GET {self.base_url}/models lists them), or {USE_GEMINI}, or {WRITE_IT_YOURSELF}",
                    fields=NO_LLM_FIELDS,
                )
            retryable = status == 408 or status == 429 or status >= 500
            return LLMError(f"{where} answered HTTP {status}: {detail}", retryable=retryable)
        return LLMError(f"{where} failed: {error}")

    async def probe(self, timeout_s: float) -> ProbeAnswer:
        """The ids ``GET /models`` lists (LM Studio: the models it has; llama-server: the one it serves)."""
        client = await self.client()
        started = time.perf_counter()
        try:
            page = await client.models.list(timeout=timeout_s)
        except openai.APITimeoutError as error:
            raise LLMUnavailableError(f"no answer within {timeout_s:g} s") from error
        except openai.APIConnectionError as error:
            raise LLMUnavailableError(f"cannot connect ({error.__cause__ or error})") from error
        except openai.APIStatusError as error:
            if error.status_code in (401, 403):
                raise LLMUnavailableError(
                    f"the server refused the credentials (HTTP {error.status_code})", hint="check LMSTUDIO_API_KEY"
                ) from error
            raise LLMError(f"the server answered GET /models with HTTP {error.status_code}") from error
        except openai.OpenAIError as error:  # an unreadable body
            raise LLMError(f"the server's model list is unreadable ({type(error).__name__})") from error
        return ProbeAnswer([model.id for model in page.data], (time.perf_counter() - started) * 1000)


def _detail(error: openai.APIStatusError) -> str:
    body = error.body  # the SDK hands over the "error" member of the JSON body when there is one
    if isinstance(body, dict):
        body = body.get("message") or body.get("error")
    if isinstance(body, str) and body:
        return body[:300]
    return error.message[:300]


def _about_response_format(error: openai.APIStatusError) -> bool:
    text = f"{error.message} {error.body}".lower()
    return "response_format" in text or "json_object" in text or "json_schema" in text


def _model_missing(error: openai.APIStatusError) -> bool:
    text = f"{error.message} {error.body}".lower()
    return "no models loaded" in text or "model_not_found" in text
