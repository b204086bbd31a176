"""The fakes also run as their own processes (the live-mode benchmark starts them that way)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from neura.llm import ChatMessage
from neura.llm.gemini import GeminiLLM
from neura.llm.openai_compat import OpenAICompatLLM

REPO = Path(__file__).resolve().parents[2]
REPLY = "A fixed reply of about ten words, read from a file."


@contextmanager
def standalone(module: str, *args: str) -> Iterator[str]:
    """Start ``python -m module --port 0 ...`` and yield the URL it prints; stop it with SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://\S+", line)
        assert match, f"no URL in {line!r}"
        yield match.group(0)
    finally:
        process.terminate()
        assert process.wait(timeout=10) is not None


async def test_openai_server_command_line_serves_the_reply_file(tmp_path: Path) -> None:
    reply_file = tmp_path / "reply.txt"
    reply_file.write_text(REPLY + "\n")
    with standalone("tests.fakes.openai_server", "--reply-file", str(reply_file), "--ttft-ms", "10") as url:
        llm = OpenAICompatLLM(base_url=url, model="qwen/qwen3-vl-4b")
        assert await llm.complete([ChatMessage("user", "hi")]) == REPLY
        await llm.aclose()


async def test_openai_server_command_line_takes_turns_between_several_reply_files(tmp_path: Path) -> None:
    files = [tmp_path / "first.txt", tmp_path / "second.txt"]
    files[0].write_text("Sure, here is a quick overview.")
    files[1].write_text("The main difference between these two approaches is cost.")
    args = [arg for path in files for arg in ("--reply-file", str(path))]
    with standalone("tests.fakes.openai_server", *args, "--ttft-ms", "0") as url:
        llm = OpenAICompatLLM(base_url=url, model="qwen/qwen3-vl-4b")
        answers = [await llm.complete([ChatMessage("user", "hi")]) for _ in range(3)]
        await llm.aclose()
    assert answers == [files[0].read_text(), files[1].read_text(), files[0].read_text()]


async def test_gemini_server_command_line_serves_the_reply_file_to_its_key(tmp_path: Path) -> None:
    reply_file = tmp_path / "reply.txt"
    reply_file.write_text(REPLY)
    with standalone("tests.fakes.gemini_server", "--api-key", "k1", "--reply-file", str(reply_file)) as url:
        llm = GeminiLLM(api_key="k1", base_url=url)
        assert await llm.complete([ChatMessage("user", "hi")]) == REPLY
        await llm.aclose()
