"""The fake OpenAI-compatible server as a process of its own on a fixed port, so that a test can kill
it in the middle of an answer (SIGKILL: the stream just ends) and start it again on the same port."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.servers import free_port, stop_process, wait_until_ready

REPO = Path(__file__).resolve().parents[2]


class LLMProcess:
    def __init__(self, folder: Path, reply: str, *, tokens_per_s: float) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.reply_file = folder / "reply.txt"
        self.reply_file.write_text(reply, encoding="utf-8")
        self.log_path = folder / "llm.log"
        self.tokens_per_s = tokens_per_s
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> LLMProcess:
        command = [sys.executable, "-m", "tests.fakes.openai_server", "--port", str(self.port)]
        command += ["--reply-file", str(self.reply_file), "--ttft-ms", "20", "--tokens-per-s", str(self.tokens_per_s)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        wait_until_ready(self.process, f"{self.base_url}/models", 30, "the fake language model")
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
