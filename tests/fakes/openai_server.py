"""A fake OpenAI-compatible chat server (what LM Studio and llama-server speak), over real HTTP.

    with FakeOpenAIServer() as server:                    # 127.0.0.1, a free port
        llm = OpenAICompatLLM(base_url=server.base_url, model=server.model)
        server.behaviour.replies = ["Hello there."]
        server.requests[-1].json                          # what the client sent

Serves ``POST /v1/chat/completions`` (a ``chat.completion`` JSON body, or with ``"stream": true``
server-sent events of ``chat.completion.chunk`` ending in ``data: [DONE]``, with a usage chunk when
``stream_options.include_usage`` asks for it) and ``GET /v1/models``. ``response_format`` (``text``,
``json_object``, ``json_schema`` with a name and a schema) is checked as LM Studio checks it; a server
that does not take a kind answers 400 naming it (:attr:`FakeOpenAIServer.accepted_response_formats`).
The answer is whatever the behaviour says, JSON or prose: a real small model may ignore the format
too. Errors use OpenAI's
``{"error": {"message", "type", "code"}}`` body. Standalone, for benchmarks::

    python -m tests.fakes.openai_server --port 1234 --reply-file reply.txt --ttft-ms 50 --tokens-per-s 80

``--reply-file`` may be given several times: the answers then take turns (request 1 gets the first
file, request 2 the second, ..., then the first again).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import time
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
    send_bytes,
    send_event_stream,
    send_json,
    split_tokens,
)

DEFAULT_MODEL = "qwen/qwen3-vl-4b"
_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error"}


class FakeOpenAIServer(FakeServer):
    def __init__(
        self,
        behaviour: Behaviour | None = None,
        *,
        model: str = DEFAULT_MODEL,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(behaviour, host=host, port=port)
        self.model = model
        self.api_key: str | None = None  # when set, any other bearer token gets 401
        #: ``response_format`` types the server takes; None: any. LM Studio: {"json_schema", "text"};
        #: a server without structured output: {"text"}; set() refuses every response_format.
        self.accepted_response_formats: set[str] | None = None

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def reset(self, behaviour: Behaviour | None = None) -> None:
        super().reset(behaviour)
        self.api_key = None
        self.accepted_response_formats = None

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The JSON bodies of the chat requests received so far."""
        return [r.json for r in self.requests if r.path.endswith("/chat/completions")]

    async def handle(self, request: RecordedRequest, send: Send) -> None:
        models = request.method == "GET" and request.path == "/v1/models"
        if not models and (request.method != "POST" or request.path != "/v1/chat/completions"):
            return await _error(send, 404, f"Unexpected endpoint or method. ({request.method} {request.path})")
        if self.api_key is not None and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return await _error(send, 401, "Incorrect API key provided.", code="invalid_api_key")
        if models:
            listed = [{"id": self.model, "object": "model", "created": 0, "owned_by": "fake"}]
            return await send_json(send, 200, {"object": "list", "data": listed})
        failure = self.next_failure()
        if failure is not None:
            return await _error(send, *failure)
        if self.behaviour.hang == "before_headers":
            return await hang_forever()
        body = request.json
        refusal = self._refuse_response_format(body.get("response_format"))
        if refusal is not None:
            return await send_json(send, 400, {"error": refusal})
        tokens = split_tokens(self.next_reply(request))
        if self.behaviour.garbage:
            return await self._garbage(send, stream=bool(body.get("stream")))
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return await send_event_stream(send, self._chunks(tokens, body, include_usage=include_usage))
        pieces = [token async for token in paced(tokens, self.behaviour)]
        await send_json(send, 200, self._completion("".join(pieces), body, len(tokens)))

    def _refuse_response_format(self, response_format: Any) -> str | None:
        """Why this server answers HTTP 400 to ``response_format`` (LM Studio's words), or None. A
        ``json_schema`` format must carry a name and a schema object, as OpenAI and LM Studio require."""
        if response_format is None:
            return None
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        accepted = self.accepted_response_formats
        if kind not in ("text", "json_object", "json_schema") or (accepted is not None and kind not in accepted):
            allowed = " or ".join(repr(f) for f in sorted(accepted or {"text", "json_object", "json_schema"}))
            return f"'response_format.type' must be {allowed}"
        if kind == "json_schema":
            spec = response_format.get("json_schema")
            if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
                return "'response_format.json_schema.schema' must be an object"
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(spec.get("name", ""))):
                return "'response_format.json_schema.name' must match ^[a-zA-Z0-9_-]{1,64}$"
        return None

    async def _chunks(self, tokens: list[str], body: dict[str, Any], *, include_usage: bool) -> AsyncIterator[bytes]:
        head = {"id": f"chatcmpl-fake{len(self.requests)}", "created": int(time.time()), "model": self.model}
        head |= {"object": "chat.completion.chunk", "system_fingerprint": "fake"}

        def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            return b"data: " + json.dumps(head | {"choices": choices} | extra).encode() + b"\n\n"

        def choice(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}

        yield event([choice({"role": "assistant", "content": ""})])
        async for token in paced(tokens, self.behaviour):
            yield event([choice({"content": token})])
        yield event([choice({}, "stop")])
        if include_usage:
            yield event([], usage=_usage(body, len(tokens)))
        yield b"data: [DONE]\n\n"

    def _completion(self, text: str, body: dict[str, Any], n_tokens: int) -> dict[str, Any]:
        message = {"role": "assistant", "content": text}
        return {
            "id": f"chatcmpl-fake{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": _usage(body, n_tokens),
        }

    async def _garbage(self, send: Send, *, stream: bool) -> None:
        if not stream:
            return await send_bytes(send, 200, b"<html><body>502 Bad Gateway</body></html>", "text/html")

        async def events() -> AsyncIterator[bytes]:
            await asyncio.sleep(self.behaviour.ttft_ms / 1000)
            yield b"data: {this is not json\n\n"

        await send_event_stream(send, events())


def _usage(body: dict[str, Any], completion_tokens: int) -> dict[str, int]:
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    total = prompt_tokens + completion_tokens
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": total}


async def _error(send: Send, status: int, message: str, *, code: str | None = None) -> None:
    error_type = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    await send_json(send, status, {"error": {"message": message, "type": error_type, "param": None, "code": code}})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1234, help="0: any free port (printed on start)")
    parser.add_argument(
        "--reply-file",
        type=Path,
        action="append",
        help="the answer to every request (default: a greeting); several: they take turns",
    )
    parser.add_argument("--ttft-ms", type=float, default=50.0, help="time to first token")
    parser.add_argument("--tokens-per-s", type=float, default=80.0)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    behaviour = Behaviour(ttft_ms=args.ttft_ms, tokens_per_s=args.tokens_per_s)
    if args.reply_file:
        rotation = itertools.cycle([path.read_text(encoding="utf-8").strip() for path in args.reply_file])
        behaviour.replies = lambda _request: next(rotation)
    server = FakeOpenAIServer(behaviour, model=args.model, host=args.host, port=args.port)
    print(f"fake OpenAI-compatible server on {server.base_url} (model {server.model})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
