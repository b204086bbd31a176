"""Text that PostgreSQL can store and UTF-8 can encode.

PostgreSQL's ``text`` (and JSONB strings) cannot hold U+0000, and a lone surrogate (U+D800..U+DFFF, which
JSON can smuggle in as ``"\\ud800"``) has no UTF-8 encoding: either one fails deep inside the database
driver or an engine. Every string a user sends is checked here first, so it is refused up front with a
message that names it (the gateway's request schemas use :data:`neura.gateway.schemas.text.Text`).
"""

from __future__ import annotations

import re

from neura.errors import InputError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_reason(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "must not contain the NUL character (U+0000)"
    return f"must not contain a lone surrogate (U+{ord(char):04X}): send valid Unicode text"


def require_storable(text: str, what: str) -> str:
    """``text`` itself; :class:`InputError` naming ``what`` when it cannot be stored."""
    reason = unstorable_reason(text)
    if reason is not None:
        raise InputError(f"{what} {reason}", hint="remove control characters and invalid Unicode from it")
    return text
