"""``--prompt``: an LLM writes the script, sized to the duration, then the video is rendered.

The LLM is a local server speaking LM Studio's (OpenAI) and Gemini's exact wire protocols."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neura.config import Settings
from neura.encode import probe
from neura.errors import LLMOutputError
from neura.pipeline import RenderRequest, render_video
from tests.fakes.fixtures import *  # noqa: F403
from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.openai_server import FakeOpenAIServer

SCRIPT_JSON = json.dumps(
    {
        "title": "Why leaves are green",
        "scenes": [
            {
                "narration": "Leaves are green because of chlorophyll. It soaks up red and blue light "
                "and bounces the green light back to our eyes.",
                "caption": "Chlorophyll reflects green",
            },
            {
                "narration": "With that light, a plant turns water and air into sugar. That is photosynthesis.",
                "caption": "Light becomes food",
            },
        ],
    }
)


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, NEURA_CACHE_DIR=tmp_path / "cache", LLM_TIMEOUT_S=5.0, **overrides)  # type: ignore[call-arg]


def test_prompt_to_video_through_lm_studio(tmp_path: Path, openai_server: FakeOpenAIServer) -> None:
    openai_server.behaviour.replies = [SCRIPT_JSON]
    settings = _settings(tmp_path, LMSTUDIO_BASE_URL=openai_server.base_url, LLM_PROVIDER="lmstudio")
    request = RenderRequest(tmp_path / "leaves.mp4", prompt="Why are leaves green?", duration_s=12, resolution="512")
    result = render_video(request, settings)

    asked = json.dumps(openai_server.chat_requests[0])
    assert "Why are leaves green?" in asked and "words" in asked  # the duration became a word budget
    sidecar = json.loads(result.sidecar_path.read_text())  # type: ignore[union-attr]
    assert sidecar["script"]["title"] == "Why leaves are green"
    assert sidecar["script"]["source"] == "prompt"
    assert sidecar["llm"]["provider"] == "lmstudio"
    assert probe(result.output_path).video_codec == "h264"
    assert 6 < result.duration_s < 20


def test_production_prefers_gemini_and_falls_back_to_lm_studio(
    tmp_path: Path, openai_server: FakeOpenAIServer, gemini_server: FakeGeminiServer
) -> None:
    gemini_server.behaviour.fail_with = [503] * 10  # Gemini is down
    openai_server.behaviour.replies = [SCRIPT_JSON]
    settings = _settings(
        tmp_path,
        ENV="production",
        GEMINI_API_KEY=gemini_server.api_key,
        GEMINI_BASE_URL=gemini_server.base_url,
        LMSTUDIO_BASE_URL=openai_server.base_url,
    )
    request = RenderRequest(tmp_path / "fallback.mp4", prompt="Why are leaves green?", duration_s=12, resolution="512")
    result = render_video(request, settings)
    assert gemini_server.generate_requests, "Gemini is asked first in production"
    assert json.loads(result.sidecar_path.read_text())["llm"]["provider"] == "lmstudio"  # type: ignore[union-attr]


def test_unusable_llm_output_fails_clearly_and_writes_nothing(tmp_path: Path, openai_server: FakeOpenAIServer) -> None:
    openai_server.behaviour.replies = ["Sure! Here is a lovely script about leaves, no JSON though."]
    settings = _settings(tmp_path, LMSTUDIO_BASE_URL=openai_server.base_url, LLM_PROVIDER="lmstudio")
    with pytest.raises(LLMOutputError, match="the reply holds no narration") as caught:
        render_video(RenderRequest(tmp_path / "bad.mp4", prompt="Leaves?", duration_s=12), settings)
    assert caught.value.fields == {"script": None}  # the CLI shows --script, the API names the field
    assert len(openai_server.chat_requests) == 2, "one revision is asked for before giving up"
    assert not list(tmp_path.glob("*.mp4"))
