"""The provider table every engine family is built on."""

from __future__ import annotations

import pytest

from neura.errors import EngineUnavailableError, InputError
from neura.providers import ProviderTable, UnknownProviderError


def _missing() -> str:
    raise EngineUnavailableError("not installed here", hint="pip install 'neura[demo]'")


def test_names_come_from_the_table_in_order_and_creation_calls_the_factory() -> None:
    table = ProviderTable[str]("demo", setting="DEMO_PROVIDER")
    table.add("first", lambda word: f"first:{word}", "the first")
    table.add("Second", lambda word: f"second:{word}", "the second")
    assert table.names() == ("first", "second")
    assert "SECOND" in table and "third" not in table and 3 not in table
    assert table.create(" Second ", "hi") == "second:hi"


def test_an_unknown_name_is_an_input_error_naming_the_choices_and_the_setting() -> None:
    table = ProviderTable[str]("demo", setting="DEMO_PROVIDER")
    table.add("only", lambda: "x", "the only one")
    with pytest.raises(UnknownProviderError) as caught:
        table.create("other")
    assert isinstance(caught.value, InputError)
    assert "only" in (caught.value.hint or "") and "DEMO_PROVIDER" in (caught.value.hint or "")


def test_a_provider_that_is_not_installed_raises_its_own_error_and_a_name_is_registered_once() -> None:
    table = ProviderTable[str]("demo", setting="DEMO_PROVIDER")
    table.add("missing", _missing, "needs an extra", extra="demo")
    assert table.get("missing").extra == "demo"
    with pytest.raises(EngineUnavailableError):
        table.create("missing")
    with pytest.raises(ValueError):
        table.add("MISSING", _missing, "again")
