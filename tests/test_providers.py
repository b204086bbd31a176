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


def test_settings_take_provider_names_from_the_tables() -> None:
    from pydantic import ValidationError

    from neura.config import Settings
    from neura.llm import AUTO, LLM
    from neura.tts import TTS

    for name in TTS.names():
        assert Settings(_env_file=None, TTS_PROVIDER=name.upper()).tts_provider == name
    for name in (AUTO, *LLM.names()):
        assert Settings(_env_file=None, LLM_PROVIDER=name).llm_provider == name
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, TTS_PROVIDER="festival")
    assert "festival" in str(caught.value) and all(name in str(caught.value) for name in TTS.names())
    with pytest.raises(ValidationError, match="lmstudio, gemini"):
        Settings(_env_file=None, LLM_PROVIDER="gpt-17")


def test_settings_validation_imports_no_engine_and_no_sdk() -> None:
    """Reading the tables' names (what settings validation does) costs no engine, SDK or numpy import."""
    import subprocess
    import sys

    code = (
        "import sys; from neura.config import Settings; Settings(_env_file=None, TTS_PROVIDER='espeak',"
        " LLM_PROVIDER='gemini'); heavy = ('numpy', 'onnxruntime', 'piper', 'openai', 'google.genai', 'torch',"
        " 'neura.tts.piper', 'neura.tts.espeak', 'neura.llm.gemini', 'neura.llm.openai_compat');"
        " print([name for name in heavy if name in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_llm_table_builds_its_providers_and_names_the_choices() -> None:
    from neura.config import Settings
    from neura.llm import LLM, create_llm

    settings = Settings(_env_file=None, LLM_PROVIDER="lmstudio")
    assert LLM.names() == ("lmstudio", "gemini")
    assert create_llm(settings).name == "lmstudio"
    with pytest.raises(UnknownProviderError) as caught:
        create_llm(settings, "gpt-17")
    assert "lmstudio, gemini" in (caught.value.hint or "") and "LLM_PROVIDER" in (caught.value.hint or "")
