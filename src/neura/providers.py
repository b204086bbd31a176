"""Provider tables: each engine family (llm, tts, stt, render) is one table of named factories.

A family module builds its table once, at import, with one line per provider::

    TTS = ProviderTable[TTSEngine]("tts", setting="TTS_PROVIDER")
    TTS.add("piper", _piper, "Piper neural voices (bundled)")
    TTS.add("xtts", _xtts, "Coqui XTTS v2 voice cloning", extra="xtts")

A factory imports its vendor SDK inside itself, so a provider that is not installed costs nothing
until it is chosen. Choosing one is configuration (a setting, a request field, a CLI flag): the names
that settings, API schemas and ``--help`` offer all come from :meth:`ProviderTable.names`, so adding a
provider is one module and one ``add`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from neura.errors import InputError

T = TypeVar("T")


@dataclass(frozen=True)
class Provider(Generic[T]):
    name: str
    factory: Callable[..., T]
    summary: str
    extra: str | None = None  # the pip extra that installs what it needs ("neura[<extra>]")


class UnknownProviderError(InputError):
    """A provider name that is not in the table (a typo, not a missing install)."""


class ProviderTable(Generic[T]):
    def __init__(self, kind: str, *, setting: str) -> None:
        self.kind = kind  # "tts", "llm", ...: used in messages
        self.setting = setting  # the environment key that picks the default
        self._providers: dict[str, Provider[T]] = {}

    def add(self, name: str, factory: Callable[..., T], summary: str, *, extra: str | None = None) -> None:
        key = name.strip().lower()
        if key in self._providers:
            raise ValueError(f"{self.kind} provider {key!r} is registered twice")
        self._providers[key] = Provider(key, factory, summary, extra)

    def names(self) -> tuple[str, ...]:
        return tuple(self._providers)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._providers

    def get(self, name: str) -> Provider[T]:
        provider = self._providers.get(name.strip().lower())
        if provider is None:
            raise UnknownProviderError(
                f"there is no {self.kind} engine named {name!r}",
                hint=f"choose one of: {', '.join(self.names())} ({self.setting})",
            )
        return provider

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        """Build provider ``name``: :class:`UnknownProviderError` for a name not in the table; the
        factory's own :class:`~neura.errors.EngineUnavailableError` when it is not installed here."""
        return self.get(name).factory(*args, **kwargs)
