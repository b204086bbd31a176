"""A live session's conversation: persona, the current date and time, and history within a budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from neura.errors import InputError
from neura.llm import ChatMessage

DEFAULT_PERSONA = "You are NEURA, a friendly and knowledgeable presenter."
SPOKEN_STYLE = (
    "You are speaking out loud to the user in a live video call, as a talking avatar. "
    "Answer in one to four short spoken sentences. Never use markdown, lists, code, emojis or URLs; "
    "write numbers the way you would say them."
)
CHARS_PER_TOKEN = 4  # rough estimate of tokens for the context budget


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def resolve_timezone(name: str) -> tzinfo:
    if name.upper() in ("", "UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Paris, or UTC") from exc


@dataclass(frozen=True)
class Exchange:
    user: str
    assistant: str  # what the avatar actually said (cut short when interrupted)


class Conversation:
    """History of (user, spoken answer) exchanges; :meth:`messages` builds the prompt for the next turn.

    Oldest exchanges are dropped once the prompt would exceed ``budget_tokens`` (estimated as chars/4);
    the system prompt and the new message are always kept.
    """

    def __init__(
        self,
        persona: str | None = None,
        *,
        timezone: tzinfo = UTC,
        budget_tokens: int = 3000,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.persona = (persona or "").strip() or DEFAULT_PERSONA
        self.timezone = timezone
        self.budget_tokens = budget_tokens
        self._now = now or (lambda: datetime.now(UTC))
        self.history: list[Exchange] = []

    def system_prompt(self) -> str:
        now = self._now().astimezone(self.timezone)
        zone = now.tzname() or "UTC"
        stamp = f"{now:%A}, {now.day} {now:%B %Y}, {now:%H:%M} ({zone})"
        return f"{self.persona}\n\n{SPOKEN_STYLE}\n\nThe current date and time is {stamp}."

    def messages(self, user_text: str) -> list[ChatMessage]:
        """The prompt for answering ``user_text``: system, as much recent history as fits, the message."""
        system = ChatMessage("system", self.system_prompt())
        latest = ChatMessage("user", user_text)
        budget = self.budget_tokens - estimate_tokens(system.content) - estimate_tokens(user_text)
        kept: list[ChatMessage] = []
        for exchange in reversed(self.history):
            cost = estimate_tokens(exchange.user) + estimate_tokens(exchange.assistant)
            if cost > budget:
                break
            budget -= cost
            pair = [ChatMessage("user", exchange.user)]
            if exchange.assistant:
                pair.append(ChatMessage("assistant", exchange.assistant))
            kept = pair + kept
        return [system, *kept, latest]

    def record(self, user_text: str, spoken: str) -> None:
        self.history.append(Exchange(user_text, spoken))
        # the history itself never needs to hold more than fits in the prompt
        total = sum(estimate_tokens(e.user) + estimate_tokens(e.assistant) for e in self.history)
        while self.history and total > self.budget_tokens:
            dropped = self.history.pop(0)
            total -= estimate_tokens(dropped.user) + estimate_tokens(dropped.assistant)
