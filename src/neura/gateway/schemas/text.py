"""``Text``: the type of every string a request carries (JSON fields, query, path, header and form
parameters). It refuses, with a 422 that names the field, what PostgreSQL cannot store or UTF-8 cannot
encode (see :mod:`neura.storable`), before any other check runs.

    name: Annotated[Text, Field(max_length=100)]
    cursor: Annotated[Text | None, Query(max_length=200)] = None
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
