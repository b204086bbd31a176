"""The language model server dies in the middle of an answer: a live turn ends with a clear error on
the data channel and the session goes on (the next turn is answered once the server is back); a script
draft gets a 503 that says the model could not be reached, and the next draft works."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from neura.config import Settings
from neura.gateway.app import create_app
from neura.gateway.server import uvicorn_options
from tests.faults.llm_process import LLMProcess
from tests.live.peer_client import LivePeer
from tests.platform import users
from tests.platform.videos import set_account
from tests.servers import free_port, serve_in_thread

REPLY = (
    "Let me tell you about the sea. The ocean covers most of our planet, and it holds mountains taller "
    "than any on land. Whales sing to each other across hundreds of miles, and tiny plankton make much of "
    "the oxygen that we breathe."
)
TOKENS_PER_S = 8.0  # slow enough to be killed mid-answer


@pytest.fixture(scope="module")
def llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMProcess]:
    server = LLMProcess(tmp_path_factory.mktemp("llm"), REPLY, tokens_per_s=TOKENS_PER_S).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def llm_gateway(fault_settings: Settings, llm: LLMProcess) -> Iterator[str]:
    port = free_port()
    settings = fault_settings.model_copy(
        update={
            "llm_provider": "lmstudio",
            "lmstudio_base_url": llm.base_url,
            "llm_timeout_s": 10.0,
            "llm_connect_timeout_s": 1.0,
            "webrtc_host_addresses": "127.0.0.1",
            "public_base_url": f"http://127.0.0.1:{port}",
        }
    )
    with serve_in_thread(create_app(settings), port=port, **uvicorn_options(settings)) as url:
        yield url


@pytest.fixture
async def http(llm_gateway: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=llm_gateway, timeout=120.0) as client:  # session start-up: slow when loaded
        yield client


def avatar_final(turn_id: int):  # type: ignore[no-untyped-def]
    return lambda m: m["type"] == "transcript" and m["role"] == "avatar" and m["final"] and m["turn_id"] == turn_id


async def test_the_llm_dies_mid_answer_in_a_live_turn(
    http: httpx.AsyncClient, llm: LLMProcess, database_url: str
) -> None:
    with httpx.Client(base_url=str(http.base_url)) as client:
        user = users.signup(client)
    await asyncio.to_thread(set_account, database_url, user, plan="pro", credits=1000)
    created = await http.post("/v1/live/sessions", json={}, headers=user.headers)
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    async with LivePeer() as peer:
        await peer.connect(http, session_id, user.headers)
        peer.say("Tell me about the sea.")
        await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "speaking", 30.0)
        llm.kill()  # the stream stops in the middle of a sentence
        mark = len(peer.messages)
        error = await peer.wait_for(lambda m: m["type"] == "error" and m.get("turn_id") == 1, 30.0)
        assert error["code"] == "llm_unavailable", error
        assert error["hint"], error
        await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "listening", 30.0, after=mark)

        llm.start()
        peer.say("Try again, please.")
        again = await peer.wait_for(avatar_final(2), 60.0)
        assert again["text"] == REPLY
        state = await http.get(f"/v1/live/sessions/{session_id}", headers=user.headers)
        assert state.status_code == 200 and state.json()["status"] == "open", state.text
        assert (await http.delete(f"/v1/live/sessions/{session_id}", headers=user.headers)).status_code == 204


def test_the_llm_dies_while_drafting_a_script(llm_gateway: str, llm: LLMProcess) -> None:
    with httpx.Client(base_url=llm_gateway, timeout=60.0) as client:
        user = users.signup(client)
        body = {"prompt": "why is the sea blue", "duration_s": 15}
        outcome: list[httpx.Response] = []
        started = time.monotonic()
        ask = lambda: outcome.append(client.post("/v1/scripts", json=body, headers=user.headers))  # noqa: E731
        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(1.0)  # the model is answering (slowly)
        llm.kill()
        asker.join(timeout=60)
        [failed] = outcome
        assert failed.status_code == 503, failed.text
        error = failed.json()["error"]
        assert error["code"] == "llm_unavailable" and error["hint"], error
        assert time.monotonic() - started < 30
        assert client.get("/v1/me", headers=user.headers).status_code == 200  # the gateway goes on
        llm.start()
        drafted = client.post("/v1/scripts", json=body, headers=user.headers)
        assert drafted.status_code == 200, drafted.text
