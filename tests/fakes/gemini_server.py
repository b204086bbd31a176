"""A fake Gemini API (``generativelanguage.googleapis.com``) over real HTTP, as ``google-genai`` calls it.

    with FakeGeminiServer() as server:
        client = genai.Client(api_key=server.api_key, http_options=HttpOptions(base_url=server.base_url))

Serves ``POST /{version}/models/{model}:generateContent`` (one ``GenerateContentResponse``) and
``:streamGenerateContent?alt=sse`` (server-sent events, one ``GenerateContentResponse`` each, with
``candidates[0].content.parts[].text`` and ``usageMetadata``; the last carries ``finishReason``), and
``GET /{version}/models/{model}`` (the model's ``Model`` resource, 404 for another model).
A structured-output request (``generationConfig.responseJsonSchema`` or ``responseSchema``) must
also ask for ``responseMimeType: application/json``, as Google requires; the answer is whatever the
behaviour says. Requests without the right ``x-goog-api-key`` header are refused as Google does: no key -> 403
PERMISSION_DENIED, a wrong key -> 400 INVALID_ARGUMENT with reason API_KEY_INVALID. Errors use
Google's ``{"error": {"code", "message", "status", "details"}}`` body. Standalone::

    python -m tests.fakes.gemini_server --port 8085 --api-key test-key --reply-file reply.txt
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.fakes._server import (
    Behaviour,
    FakeServer,
    RecordedRequest,
    Send,
    hang_forever,
    paced,
    send_event_stream,
    send_json,
    split_tokens,
)

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_API_KEY = "fake-gemini-key"
_PATH = re.compile(
    r"^/(?P<version>v1[a-z0-9]*)/models/(?P<model>[^:]+):(?P<method>generateContent|streamGenerateContent)$"
)
_MODEL_PATH = re.compile(r"^/(?P<version>v1[a-z0-9]*)/models/(?P<model>[^:/]+)$")
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class FakeGeminiServer(FakeServer):
    def __init__(
        self,
        behaviour: Behaviour | None = None,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str = DEFAULT_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(behaviour, host=host, port=port)
        self.model = model
        self.api_key = api_key

    @property
    def base_url(self) -> str:
        """What ``HttpOptions(base_url=...)`` / GEMINI_BASE_URL takes (the SDK adds the version)."""
        return self.origin

    @property
    def generate_requests(self) -> list[dict[str, Any]]:
        """The JSON bodies of the generate requests received so far."""
        return [r.json for r in self.requests if _PATH.match(r.path)]

    async def handle(self, request: RecordedRequest, send: Send) -> None:
        model_get = _MODEL_PATH.match(request.path) if request.method == "GET" else None
        match = _PATH.match(request.path)
        if model_get is None and (request.method != "POST" or match is None):
            return await _error(send, 404, f"The requested URL {request.path} was not found on this server.")
        refusal = self._refusal(request)
        if refusal is not None:
            return await _error(send, *refusal[:2], reason=refusal[2])
        if model_get is not None:
            return await self._model(send, model_get["model"], model_get["version"])
        assert match is not None
        model = match["model"].removeprefix("models/")
        if model != self.model:
            return await _error(
                send, 404, f"models/{model} is not found for API version {match['version']}, or is not supported."
            )
        failure = self.next_failure()
        if failure is not None:
            return await _error(send, *failure)
        if self.behaviour.hang == "before_headers":
            return await hang_forever()
        body = request.json
        if not body or not body.get("contents"):
            return await _error(send, 400, "* GenerateContentRequest.contents: contents is not specified")
        refusal = _refuse_generation_config(body.get("generationConfig") or {})
        if refusal is not None:
            return await _error(send, 400, refusal)
        tokens = split_tokens(self.next_reply(request))
        prompt_tokens = sum(len(str(p.get("text", "")).split()) for c in body["contents"] for p in c.get("parts", []))
        streaming = match["method"] == "streamGenerateContent"
        if self.behaviour.garbage:
            return await self._garbage(send)
        if streaming and "alt=sse" in request.query:
            return await send_event_stream(send, self._events(tokens, prompt_tokens))
        responses = [r async for r in self._responses(tokens, prompt_tokens)]
        if streaming:  # without alt=sse Google streams one JSON array
            return await send_json(send, 200, responses)
        parts = [p for r in responses for p in r["candidates"][0]["content"]["parts"]]
        whole = responses[-1]
        whole["candidates"][0]["content"]["parts"] = parts
        await send_json(send, 200, whole)

    def _refusal(self, request: RecordedRequest) -> tuple[int, str, str | None] | None:
        """Google's answer to a missing or wrong API key (status, message, reason); None when it is right."""
        key = request.headers.get("x-goog-api-key")
        if not key:
            return (
                403,
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
                None,
            )
        if key != self.api_key:
            return 400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"
        return None

    async def _model(self, send: Send, model: str, version: str) -> None:
        """``models.get``: the Model resource of the served model."""
        if model.removeprefix("models/") != self.model:
            return await _error(send, 404, f"models/{model} is not found for API version {version}.")
        resource = {
            "name": f"models/{self.model}",
            "version": "001",
            "displayName": self.model,
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
        }
        await send_json(send, 200, resource)

    async def _events(self, tokens: list[str], prompt_tokens: int) -> AsyncIterator[bytes]:
        async for response in self._responses(tokens, prompt_tokens):
            yield b"data: " + json.dumps(response).encode() + b"\r\n\r\n"

    async def _responses(self, tokens: list[str], prompt_tokens: int) -> AsyncIterator[dict[str, Any]]:
        sent = 0

        def response(parts: list[dict[str, Any]], last: bool) -> dict[str, Any]:
            candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
            if last:
                candidate["finishReason"] = "STOP"
            usage = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": sent}
            usage["totalTokenCount"] = prompt_tokens + sent
            return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": self.model, "responseId": "fake"}

        if self.behaviour.thought:
            yield response([{"text": self.behaviour.thought, "thought": True}], last=False)
        if not tokens:
            await asyncio.sleep(self.behaviour.ttft_ms / 1000)
            yield response([], last=True)
        async for token in paced(tokens, self.behaviour):
            sent += 1
            yield response([{"text": token}], last=sent == len(tokens))

    async def _garbage(self, send: Send) -> None:
        async def events() -> AsyncIterator[bytes]:
            await asyncio.sleep(self.behaviour.ttft_ms / 1000)
            yield b"data: {this is not json\r\n\r\n"

        await send_event_stream(send, events())


def _refuse_generation_config(config: dict[str, Any]) -> str | None:
    """Google's 400 for a structured-output request it cannot take: a schema needs the JSON MIME type,
    ``responseSchema`` and ``responseJsonSchema`` exclude each other, and a JSON Schema is an object."""
    schema = config.get("responseJsonSchema")
    if schema is None and config.get("responseSchema") is None:
        return None
    if config.get("responseMimeType") != "application/json":
        return "* GenerateContentRequest.generation_config.response_mime_type: must be application/json for a schema"
    if schema is not None and config.get("responseSchema") is not None:
        return "* GenerateContentRequest.generation_config: response_schema and response_json_schema are exclusive"
    if schema is not None and not isinstance(schema, dict):
        return "* GenerateContentRequest.generation_config.response_json_schema: must be a JSON object"
    return None


async def _error(send: Send, status: int, message: str, *, reason: str | None = None) -> None:
    error: dict[str, Any] = {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}
    if reason:
        info = {"reason": reason, "domain": "googleapis.com"}
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", **info}]
    await send_json(send, status, {"error": error})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8085, help="0: any free port (printed on start)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--reply-file", type=Path, help="the answer to every request (default: a greeting)")
    parser.add_argument("--ttft-ms", type=float, default=50.0, help="time to first token")
    parser.add_argument("--tokens-per-s", type=float, default=80.0)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    behaviour = Behaviour(ttft_ms=args.ttft_ms, tokens_per_s=args.tokens_per_s)
    if args.reply_file:
        behaviour.replies = [args.reply_file.read_text(encoding="utf-8").strip()]
    server = FakeGeminiServer(behaviour, model=args.model, api_key=args.api_key, host=args.host, port=args.port)
    print(f"fake Gemini API on {server.base_url} (model {server.model}, key {server.api_key})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
