"""pytest fixtures for the fake LLM servers. Import them into a conftest.py::

    from tests.fakes.fixtures import *  # noqa: F403

Each fake is started once per test session (uvicorn in a background thread, about 0.1 s) and reset
before every test that asks for it, so a test sees only its own requests and behaviour.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from neura.config import Settings
from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.openai_server import FakeOpenAIServer

__all__ = [
    "closed_port_url",
    "fake_llm_settings",
    "gemini_server",
    "gemini_server_session",
    "openai_server",
    "openai_server_session",
]


@pytest.fixture(scope="session")
def openai_server_session() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def gemini_server_session() -> Iterator[FakeGeminiServer]:
    with FakeGeminiServer() as server:
        yield server


@pytest.fixture
def openai_server(openai_server_session: FakeOpenAIServer) -> FakeOpenAIServer:
    """A fake OpenAI-compatible server (LM Studio's protocol) at ``openai_server.base_url``."""
    openai_server_session.reset()
    return openai_server_session


@pytest.fixture
def gemini_server(gemini_server_session: FakeGeminiServer) -> FakeGeminiServer:
    """A fake Gemini API at ``gemini_server.base_url`` taking ``gemini_server.api_key``."""
    gemini_server_session.reset()
    return gemini_server_session


@pytest.fixture
def closed_port_url() -> str:
    """An OpenAI-style base URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def fake_llm_settings(openai_server: FakeOpenAIServer, gemini_server: FakeGeminiServer) -> Settings:
    """Settings whose LM Studio and Gemini are the two fakes (ENV=test, short timeouts, no .env file)."""
    return Settings(
        _env_file=None,
        ENV="test",
        LLM_PROVIDER="auto",
        LMSTUDIO_BASE_URL=openai_server.base_url,
        LMSTUDIO_MODEL=openai_server.model,
        LMSTUDIO_API_KEY="lm-studio",
        GEMINI_API_KEY=gemini_server.api_key,
        GEMINI_MODEL=gemini_server.model,
        GEMINI_BASE_URL=gemini_server.base_url,
        LLM_TIMEOUT_S=5.0,
        LLM_CONNECT_TIMEOUT_S=1.0,
    )
