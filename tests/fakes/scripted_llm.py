"""An in-memory :class:`~neura.llm.LLMProvider` with scripted answers: for tests of code that *uses* a
language model (the script agent, the live session) and needs no HTTP.

    llm = ScriptedLLM(["first answer", "second answer"])
    await ScriptAgent(llm).write(...)
    llm.calls[1].messages[-1].content          # what the second request said
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from neura.errors import LLMError
from neura.llm.base import ChatMessage, JsonSchema

Reply = str | LLMError | Callable[[Sequence[ChatMessage]], str]


@dataclass(frozen=True)
class Call:
    messages: tuple[ChatMessage, ...]
    temperature: float
    max_tokens: int | None
    json_mode: bool
    json_schema: JsonSchema | None = None


class ScriptedLLM:
    """Answers the n-th request with ``replies[n]`` (the last repeats): a string (streamed word by word),
    an :class:`LLMError` (raised), or a function of the messages."""

    def __init__(
        self, replies: Sequence[Reply], *, name: str = "scripted", model: str = "scripted-1", delay_s: float = 0.0
    ) -> None:
        self.replies = list(replies)
        self.name = name
        self.model = model
        self.endpoint = f"memory://{name}"
        self.delay_s = delay_s  # between pieces
        self.calls: list[Call] = []

    async def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.7,
        max_tokens: int | None = None,
        json_mode: bool = False,
        json_schema: JsonSchema | None = None,
    ) -> AsyncIterator[str]:
        self.calls.append(
            Call(tuple(messages), temperature, max_tokens, json_mode or json_schema is not None, json_schema)
        )
        reply = self.replies[min(len(self.calls), len(self.replies)) - 1]
        if isinstance(reply, LLMError):
            raise reply
        text = reply if isinstance(reply, str) else reply(messages)
        for i, word in enumerate(text.split(" ")):
            await asyncio.sleep(self.delay_s)
            yield word if i == 0 else " " + word

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.7,
        max_tokens: int | None = None,
        json_mode: bool = False,
        json_schema: JsonSchema | None = None,
    ) -> str:
        pieces = self.stream_chat(
            messages, temperature=temperature, max_tokens=max_tokens, json_mode=json_mode, json_schema=json_schema
        )
        return "".join([piece async for piece in pieces])
