"""Realtime messages checked against their published JSON Schema (what ``neura schemas`` prints and the
web app's types are generated from): every test client that reads a data channel, a TTS stream or a
video's events passes what it receives through :func:`check_message`."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from neura.gateway.schemas.realtime import realtime_json_schema


@cache
def validator(definition: str) -> Draft202012Validator:
    schema = realtime_json_schema()
    return Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]})


def check_message(definition: str, message: Any) -> Any:
    """``message`` unchanged; AssertionError naming the problem when the schema ``definition`` refuses it."""
    errors = sorted(validator(definition).iter_errors(message), key=str)
    assert not errors, f"{definition} refuses {message!r}: {errors[0].message}"
    return message
