"""Script drafts over real HTTP: the script agent of prompt videos, against a local server that speaks
the OpenAI chat protocol (LM Studio's), and against none at all. A draft costs one credit, given back
when no script comes back, and its text is a script that POST /v1/videos takes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from neura.config import Settings
from neura.gateway.app import create_app
from neura.script import Script
from tests.corpus.cases import FILES
from tests.fakes.openai_server import FakeOpenAIServer
from tests.platform import users
from tests.platform.videos import balance, set_account
from tests.platform.workers import clear_queues
from tests.servers import free_port, serve_in_thread

NARRATION = (
    "Plants catch sunlight with their green leaves. They mix it with water and air to make sugar, "
    "their food. The oxygen we breathe is what they leave behind."
)  # 28 words: a 10-second script is 25 words, give or take 20 %
DRAFTS_PER_MINUTE = 3


def answer(narration: str = NARRATION) -> str:
    scene = {"narration": narration, "caption": "Plants make food from light"}
    return json.dumps({"title": "How plants eat light", "scenes": [scene]})


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def llm(llm_server: FakeOpenAIServer) -> FakeOpenAIServer:
    llm_server.reset()
    llm_server.behaviour.ttft_ms = 0
    llm_server.behaviour.tokens_per_s = 0
    llm_server.behaviour.replies = [answer()]
    return llm_server


@pytest.fixture(scope="module")
def gateway(platform_settings: Settings, llm_server: FakeOpenAIServer) -> Iterator[str]:
    """A gateway whose language model is the fake server (LLM_PROVIDER=auto: LM Studio in ENV=test).
    No worker runs here: a video submitted is dropped from the queue at the end."""
    settings = platform_settings.model_copy(
        update={
            "lmstudio_base_url": llm_server.base_url,
            "lmstudio_model": llm_server.model,
            "llm_timeout_s": 10.0,
            "script_drafts_per_minute": DRAFTS_PER_MINUTE,
        }
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url
    clear_queues(platform_settings)


@pytest.fixture
def http(gateway: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway, timeout=60.0) as client:
        yield client


def draft(http: httpx.Client, user: users.TestUser, **body: object) -> httpx.Response:
    return http.post(
        "/v1/scripts", json={"prompt": "How do plants eat?", "duration_s": 10, **body}, headers=user.headers
    )


def test_a_draft_is_the_models_script_in_the_format_a_video_takes(
    http: httpx.Client, llm: FakeOpenAIServer, database_url: str
) -> None:
    user = users.signup(http)
    before = balance(database_url, user)
    response = draft(http, user)
    assert response.status_code == 200, response.text
    body = response.json()

    assert body["title"] == "How plants eat light"
    assert body["text"] == f"# How plants eat light\n\n{NARRATION}\n"
    assert body["scenes"] == [{"narration": NARRATION, "caption": "Plants make food from light"}]
    assert body["words"] == 28 and body["target_duration_s"] == 10
    assert body["llm"] == {"provider": "lmstudio", "model": llm.model}
    assert body["attempts"] == 1 and body["warnings"] == []
    script = Script.from_text(body["text"])  # what a submission reads
    assert script.title == body["title"] and [s.narration for s in script.scenes] == [NARRATION]

    (request,) = llm.chat_requests  # the agent's request: the schema and the word budget, as JSON
    assert "How do plants eat?" in request["messages"][-1]["content"]
    assert "25 words of narration" in request["messages"][0]["content"]
    assert request["response_format"]["type"] in ("json_object", "json_schema")

    assert body["credits_charged"] == 1
    assert response.headers["X-Credits-Charged"] == "1"
    assert int(response.headers["X-Credits-Remaining"]) == before - 1 == balance(database_url, user)


def test_the_draft_renders_as_estimated(http: httpx.Client, llm: FakeOpenAIServer) -> None:
    user = users.signup(http)
    body = draft(http, user).json()
    estimate = http.post("/v1/videos/estimate", json={"script": body["text"]}, headers=user.headers)
    assert estimate.status_code == 200, estimate.text
    assert estimate.json()["target_duration_s"] == body["estimated_duration_s"]
    submitted = http.post("/v1/videos", json={"script": body["text"], "resolution": "512"}, headers=user.headers)
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["target_duration_s"] == body["estimated_duration_s"]


def test_a_short_first_answer_is_revised(http: httpx.Client, llm: FakeOpenAIServer) -> None:
    llm.behaviour.replies = [answer("Plants eat light."), answer()]
    response = draft(http, users.signup(http))
    assert response.status_code == 200, response.text
    assert response.json()["attempts"] == 2 and response.json()["words"] == 28
    assert "You wrote 3 words" in llm.chat_requests[1]["messages"][-1]["content"]


def test_an_answer_with_nothing_to_speak_is_422_and_refunded(
    http: httpx.Client, llm: FakeOpenAIServer, database_url: str
) -> None:
    llm.behaviour.replies = ["{}"]
    user = users.signup(http)
    before = balance(database_url, user)
    response = draft(http, user)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "llm_output"
    assert len(llm.chat_requests) == 2  # the first answer and its revision
    assert balance(database_url, user) == before


def test_no_reachable_language_model_is_503_and_refunded(platform_settings: Settings, database_url: str) -> None:
    closed_port_url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    settings = platform_settings.model_copy(update={"lmstudio_base_url": closed_port_url})
    with serve_in_thread(create_app(settings)) as url, httpx.Client(base_url=url, timeout=60.0) as http:
        user = users.signup(http)
        before = balance(database_url, user)
        response = draft(http, user)
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "llm_unavailable" and "cannot reach" in error["message"]
    assert balance(database_url, user) == before


def test_bad_requests_are_refused_before_any_charge(
    http: httpx.Client, llm: FakeOpenAIServer, database_url: str
) -> None:
    user = users.signup(http)
    before = balance(database_url, user)
    for body, status in [
        ({"prompt": "   "}, 422),
        ({"duration_s": 2}, 422),
        ({"duration_s": 601}, 422),
        ({"voice": "piper"}, 422),  # no such field
        ({"duration_s": 120}, 403),  # the free plan's videos last up to 60 s
    ]:
        response = draft(http, user, **body)
        assert response.status_code == status, (body, response.text)
    assert http.post("/v1/scripts", json={"prompt": "x"}).status_code == 401
    set_account(database_url, user, credits=0)
    assert draft(http, user).status_code == 402
    assert llm.chat_requests == []
    assert balance(database_url, user) == 0 < before


def test_drafts_are_rate_limited_per_user(http: httpx.Client, llm: FakeOpenAIServer, database_url: str) -> None:
    user, other = users.signup(http), users.signup(http)
    for _ in range(DRAFTS_PER_MINUTE):
        assert draft(http, user).status_code == 200
    before = balance(database_url, user)
    refused = draft(http, user)
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert "script drafts" in refused.json()["error"]["message"]
    assert balance(database_url, user) == before  # a refused draft costs nothing
    assert draft(http, other).status_code == 200  # the limit is per user


def test_the_openapi_document_describes_drafts(http: httpx.Client) -> None:
    operation = http.get("/openapi.json").json()["paths"]["/v1/scripts"]["post"]
    assert operation["operationId"] == "draftScript"
    assert "one per draft" in operation["description"] and "SCRIPT_DRAFTS_PER_MINUTE" in operation["description"]
    assert {"402", "403", "422", "429", "502", "503"} <= set(operation["responses"])


def test_a_prompt_injection_stays_the_users_topic_and_reaches_no_secret(
    http: httpx.Client, llm: FakeOpenAIServer, platform_settings: Settings
) -> None:
    """The corpus's injection text as a prompt: it travels only as the user's message (never in the
    system prompt), the model is told nothing secret, and what comes back is still just a script."""
    injection = (FILES / "prompt_injection_script.txt").read_text()
    user = users.signup(http)
    response = draft(http, user, prompt=injection)
    assert response.status_code == 200, response.text
    assert set(response.json()) >= {"title", "text", "scenes"}
    (request,) = llm.chat_requests
    system = [m["content"] for m in request["messages"] if m["role"] == "system"]
    assert system and all("Ignore all previous instructions" not in text for text in system)
    assert any("Ignore all previous instructions" in m["content"] for m in request["messages"] if m["role"] == "user")
    everything = json.dumps(request)
    for secret in (platform_settings.secret_key, str(platform_settings.database_url), user.access_token):
        assert secret not in everything
