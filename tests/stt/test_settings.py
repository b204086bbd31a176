"""STT_PROVIDER is checked against the provider table, cheaply."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from neura.config import Settings


def test_an_unknown_stt_provider_is_refused_naming_the_choices() -> None:
    assert Settings(_env_file=None, STT_PROVIDER=" Whisper ").stt_provider == "whisper"  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="whisper"):
        Settings(_env_file=None, STT_PROVIDER="kaldi")  # type: ignore[call-arg]


def test_checking_the_stt_provider_imports_no_engine_and_no_numpy() -> None:
    code = (
        "import sys; from neura.config import Settings; Settings(_env_file=None, STT_PROVIDER='whisper');"
        " heavy = ('numpy', 'onnxruntime', 'av', 'faster_whisper', 'ctranslate2', 'neura.stt.whisper');"
        " print([name for name in heavy if name in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
