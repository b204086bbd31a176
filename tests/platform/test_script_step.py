"""The script step of prompt videos, with real worker processes, PostgreSQL, Redis and a fake
OpenAI-compatible language model over real HTTP: a prompt video is scripted, then rendered; while the
model takes its time, a worker with ONE render slot renders another video (no slot waits on the model);
a cancellation or an unusable answer ends it refunded; a worker killed mid-script is recovered and the
video charged once."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from neura.config import Settings
from tests.fakes._server import RecordedRequest, Send
from tests.fakes.openai_server import FakeOpenAIServer
from tests.platform import users
from tests.platform.streams import Event, read_sse, stages
from tests.platform.videos import balance, get, ledger, pro_member, stored_files, submit, wait_for
from tests.platform.workers import WorkerProcess, clear_queues, wait_until

NARRATION = (
    "Plants catch sunlight with their green leaves. They mix it with water and air to make sugar, "
    "their food. The oxygen we breathe is what they leave behind."
)
PROMPT = "How do plants eat?"


def answer() -> str:
    return json.dumps({"title": "How plants eat light", "scenes": [{"narration": NARRATION, "caption": "Light"}]})


class HeldLLM(FakeOpenAIServer):
    """The fake model, whose chat answers wait until the test lets them go (``release``)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.waiting = 0  # chat requests being held

    async def handle(self, request: RecordedRequest, send: Send) -> None:
        if request.path.endswith("/chat/completions"):
            self.waiting += 1
            try:
                while not self.release.is_set():
                    await asyncio.sleep(0.05)
            finally:
                self.waiting -= 1
        await super().handle(request, send)


@pytest.fixture(scope="module")
def llm() -> Iterator[HeldLLM]:
    with HeldLLM() as server:
        yield server


@pytest.fixture
def model(llm: HeldLLM) -> HeldLLM:
    llm.reset()
    llm.release.clear()
    llm.behaviour.ttft_ms = 0
    llm.behaviour.tokens_per_s = 0
    llm.behaviour.replies = [answer()]
    return llm


class Workers:
    def __init__(self, settings: Settings, folder: Path, llm: HeldLLM) -> None:
        self.settings, self.folder, self.llm = settings, folder, llm
        self.started: list[WorkerProcess] = []

    def start(self, **env: str) -> WorkerProcess:
        environment = {
            "LLM_PROVIDER": "lmstudio",
            "LMSTUDIO_BASE_URL": self.llm.base_url,
            "LMSTUDIO_MODEL": self.llm.model,
            "LLM_TIMEOUT_S": "60",
            "DRAIN_TIMEOUT_S": "0",
            **env,
        }
        log = self.folder / f"worker-{len(self.started)}.log"
        worker = WorkerProcess(self.settings, log, concurrency=1, env=environment).start()
        self.started.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.log()}" for w in self.started)


@pytest.fixture(scope="module")
def workers(platform_settings: Settings, tmp_path_factory: pytest.TempPathFactory, llm: HeldLLM) -> Iterator[Workers]:
    clear_queues(platform_settings)
    pool = Workers(platform_settings, tmp_path_factory.mktemp("script-workers"), llm)
    yield pool
    llm.release.set()
    for worker in pool.started:
        worker.stop()


@pytest.fixture
def member(gateway_url: str, database_url: str) -> users.TestUser:
    return pro_member(gateway_url, database_url)  # several videos at a time


def follow(gateway_url: str, user: users.TestUser, video_id: str) -> list[Event]:
    events: list[Event] = []
    args = (gateway_url, video_id, user.headers, events.append)
    threading.Thread(target=read_sse, args=args, daemon=True).start()
    return events


def test_a_prompt_video_is_scripted_then_rendered_and_no_render_slot_waits_on_the_model(
    client: httpx.Client,
    gateway_url: str,
    member: users.TestUser,
    model: HeldLLM,
    workers: Workers,
    database_url: str,
    platform_settings: Settings,
) -> None:
    worker = workers.start()  # one render slot
    before = balance(database_url, member)
    prompted = submit(client, member, prompt=PROMPT, duration_s=10)
    events = follow(gateway_url, member, prompted["id"])
    wait_until(lambda: model.waiting == 1, 60, "the script step to ask the model", workers)

    # while the model writes, a script video takes the worker's only render slot and finishes
    scripted = submit(client, member)
    done = wait_for(client, member, scripted["id"], timeout_s=90)
    assert done["status"] == "succeeded", workers.logs()
    writing = get(client, member, prompted["id"])
    assert (writing["status"], writing["stage"]) == ("running", "script") and model.waiting == 1

    model.release.set()
    video = wait_for(client, member, prompted["id"], timeout_s=90)
    assert video["status"] == "succeeded" and video["attempts"] == 1, workers.logs()
    assert video["prompt"] == PROMPT and video["script"] is None  # the API shows what was submitted
    reserved, charged = prompted["credits_reserved"], video["credits_charged"]
    assert charged == min(reserved, math.ceil(video["duration_s"]))
    assert ledger(database_url, prompted["id"]) == [("reserve", -reserved), ("settle", reserved - charged)]
    assert balance(database_url, member) == before - charged - done["credits_charged"]
    assert len(model.chat_requests) == 1 and PROMPT in json.dumps(model.chat_requests[0])

    # the render spoke what the model wrote, and the sidecar says so
    sidecar = json.loads(
        (
            platform_settings.storage_dir / "users" / member.user_id / "videos" / prompted["id"] / "r1/video.json"
        ).read_text()
    )
    assert sidecar["script"]["source"] == "prompt" and sidecar["llm"] == {"provider": "lmstudio", "model": model.model}
    assert " ".join(w[0] for w in sidecar["words"]).lower().startswith("plants catch sunlight")

    wait_until(lambda: events and events[-1]["type"] == "completed", 10, "the completed event", workers)
    seen = stages(events)
    assert seen.index("script") < seen.index("render"), seen
    handed = [i for i, e in enumerate(events) if e["type"] == "status" and e["status"] == "queued"]
    script_at = [i for i, e in enumerate(events) if e.get("stage") == "script" and e["type"] == "progress"]
    render_at = [i for i, e in enumerate(events) if e.get("stage") == "render"]
    assert handed and script_at[0] < handed[-1] < render_at[0], [(e["type"], e.get("stage")) for e in events]
    progress = [e["progress"] for e in events if e["type"] == "progress"]
    assert progress == sorted(progress), progress
    log = worker.log()
    assert f"video {prompted['id']}, attempt 1 took" in log and "(script step): script written" in log


def test_cancelling_a_video_while_its_script_is_written_stops_it_and_refunds(
    client: httpx.Client, member: users.TestUser, model: HeldLLM, workers: Workers, database_url: str
) -> None:
    if not any(w.process is not None and w.process.poll() is None for w in workers.started):
        workers.start()
    before = balance(database_url, member)
    video = submit(client, member, prompt=PROMPT, duration_s=10)
    wait_until(lambda: model.waiting == 1, 60, "the script step to ask the model", workers)
    cancelled_at = time.monotonic()
    assert client.post(f"/v1/videos/{video['id']}/cancel", headers=member.headers).status_code == 202
    after = wait_for(client, member, video["id"], timeout_s=10)
    assert time.monotonic() - cancelled_at < 3.0, "the script step did not stop at once"
    assert after["status"] == "cancelled" and after["credits_charged"] == 0, workers.logs()
    reserved = video["credits_reserved"]
    assert ledger(database_url, video["id"]) == [("reserve", -reserved), ("refund", reserved)]
    assert balance(database_url, member) == before
    wait_until(lambda: model.waiting == 0, 10, "the model's request to be dropped", workers)


def test_an_unusable_answer_fails_the_video_at_once_with_a_hint_and_a_refund(
    client: httpx.Client, member: users.TestUser, model: HeldLLM, workers: Workers, database_url: str
) -> None:
    if not any(w.process is not None and w.process.poll() is None for w in workers.started):
        workers.start()
    model.release.set()
    model.behaviour.replies = ["I cannot help with that."]  # prose too short to be a narration, twice
    before = balance(database_url, member)
    video = submit(client, member, prompt=PROMPT, duration_s=10)
    failed = wait_for(client, member, video["id"], timeout_s=60)
    assert failed["status"] == "failed" and failed["attempts"] == 1, workers.logs()
    assert "no usable script" in failed["error"] and "give the script yourself" in failed["error"]
    assert failed["stage"] == "script" and len(model.chat_requests) == 2  # one revision, no render
    reserved = video["credits_reserved"]
    assert ledger(database_url, video["id"]) == [("reserve", -reserved), ("refund", reserved)]
    assert balance(database_url, member) == before


def test_a_worker_stopped_mid_script_hands_the_video_back_and_the_next_one_finishes_it(
    client: httpx.Client, member: users.TestUser, model: HeldLLM, workers: Workers, database_url: str
) -> None:
    for worker in workers.started:
        worker.stop()
    first = workers.start()  # DRAIN_TIMEOUT_S=0: SIGTERM hands the script step back at once
    video = submit(client, member, prompt=PROMPT, duration_s=10)
    wait_until(lambda: model.waiting == 1, 60, "the script step to ask the model", workers)
    first.stop()
    handed_back = get(client, member, video["id"])
    assert (handed_back["status"], handed_back["attempts"]) == ("queued", 0), first.log()
    assert "handed back to the queue" in first.log()

    model.release.set()
    workers.start()  # arq runs the same job again: no sweeper needed
    done = wait_for(client, member, video["id"], timeout_s=90)
    assert done["status"] == "succeeded" and done["attempts"] == 1, workers.logs()
    reserved, charged = video["credits_reserved"], done["credits_charged"]
    assert ledger(database_url, video["id"]) == [("reserve", -reserved), ("settle", reserved - charged)]


@pytest.mark.flaky(reruns=2)  # the sweeper's timing on a busy machine
def test_a_worker_killed_mid_script_is_recovered_and_the_video_charged_once(
    client: httpx.Client,
    member: users.TestUser,
    model: HeldLLM,
    workers: Workers,
    database_url: str,
) -> None:
    for worker in workers.started:
        worker.stop()
    first = workers.start()
    before = balance(database_url, member)
    video = submit(client, member, prompt=PROMPT, duration_s=10)
    wait_until(lambda: model.waiting == 1, 60, "the script step to ask the model", workers)
    first.kill()
    assert get(client, member, video["id"])["stage"] == "script"

    model.release.set()
    workers.start()  # its sweeper finds the stale heartbeat and queues the script step again
    done = wait_for(client, member, video["id"], timeout_s=120)
    assert done["status"] == "succeeded", workers.logs()
    assert done["attempts"] == 2  # the lost script run, then the render (a written script costs no attempt)
    reserved, charged = video["credits_reserved"], done["credits_charged"]
    assert charged == min(reserved, math.ceil(done["duration_s"]))
    assert ledger(database_url, video["id"]) == [("reserve", -reserved), ("settle", reserved - charged)]
    assert balance(database_url, member) == before - charged
    assert stored_files(workers.settings.storage_dir, member, video["id"])[0].startswith("r2/")
