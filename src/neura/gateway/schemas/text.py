"""The check every string a request carries goes through (JSON fields, query, path, header and form
parameters): it refuses, with a 422 that names the field, what PostgreSQL cannot store or UTF-8 cannot
encode (see :mod:`neura.storable`).

    text: Text                                                        # no other constraint
    name: Annotated[str | None, STORABLE] = Field(None, max_length=100)   # a field's own Field: as usual
    sdp: Annotated[str, Field(max_length=200_000), STORABLE]          # constraints inside: STORABLE last
    cursor: Annotated[str | None, Query(max_length=200), STORABLE] = None

``STORABLE`` must act after the length and pattern constraints (a field's ``= Field(...)`` constraints
do; inside ``Annotated`` put it last). Before them, pydantic checks them after the validator with
generic messages ("at most 5 items") and ``strip_whitespace`` too late; not ``Text | None =
Field(max_length=...)`` for that reason. ``tests/platform/test_unstorable_text.py`` checks every route.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from neura.storable import unstorable_reason


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        reason = unstorable_reason(value)
        if reason is not None:
            raise PydanticCustomError("unstorable_text", reason)
    return value


STORABLE = BeforeValidator(_storable)
"""The validator itself (tests look for it on every string a route accepts)."""

Text = Annotated[str, STORABLE]
