"""GET /v1/llm/providers over real HTTP: the configured providers probed with their (free) models
call, against local servers that speak LM Studio's and Gemini's protocols, and a port where nothing
listens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from neura.config import Settings
from neura.gateway.app import create_app
from neura.llm.probe import CACHE_S
from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.openai_server import FakeOpenAIServer
from tests.platform import users
from tests.servers import free_port, serve_in_thread


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeOpenAIServer, FakeGeminiServer]]:
    with FakeOpenAIServer() as lmstudio, FakeGeminiServer() as gemini:
        yield lmstudio, gemini


def llm_settings(platform_settings: Settings, lmstudio_url: str, gemini: FakeGeminiServer, **more: Any) -> Settings:
    return platform_settings.model_copy(
        update={
            "lmstudio_base_url": lmstudio_url,
            "gemini_api_key": gemini.api_key,
            "gemini_base_url": gemini.base_url,
            "gemini_model": gemini.model,
            **more,
        }
    )


def providers(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=30.0) as http:
        user_headers = headers if headers is not None else users.signup(http).headers
        return http.get("/v1/llm/providers", headers=user_headers)


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in body["items"]}


def test_reachable_providers_answer_with_their_latency(
    platform_settings: Settings, fakes: tuple[FakeOpenAIServer, FakeGeminiServer]
) -> None:
    lmstudio, gemini = fakes
    lmstudio.reset()
    gemini.reset()
    settings = llm_settings(platform_settings, lmstudio.base_url, gemini, lmstudio_model=lmstudio.model)
    with serve_in_thread(create_app(settings)) as url:
        response = providers(url)
        assert response.status_code == 200, response.text
        body = response.json()
        again = providers(url).json()

    assert body["llm_provider"] == "auto"
    assert [item["name"] for item in body["items"]] == ["lmstudio", "gemini"]  # LM Studio, then Gemini (its key is set)
    found = by_name(body)
    assert found["lmstudio"] | {"latency_ms": 0, "summary": ""} == {
        "name": "lmstudio",
        "summary": "",
        "model": lmstudio.model,
        "chain_position": 1,
        "reachable": True,
        "latency_ms": 0,
        "model_listed": True,
        "error": None,
        "hint": None,
    }
    assert found["gemini"]["reachable"] is True and found["gemini"]["chain_position"] == 2
    assert found["gemini"]["model"] == gemini.model and found["gemini"]["model_listed"] is True
    for item in body["items"]:
        assert 0 < item["latency_ms"] < 2000
    # each was asked for its models, never for a (paid) completion
    assert [(r.method, r.path) for r in lmstudio.requests] == [("GET", "/v1/models")]
    assert [r.method for r in gemini.requests] == ["GET"] and gemini.generate_requests == []
    # the second call within CACHE_S is answered from the cache
    assert again["items"] == body["items"] and again["age_s"] <= CACHE_S
    assert len(lmstudio.requests) == 1


def test_unreachable_and_misconfigured_providers_say_why(
    platform_settings: Settings, fakes: tuple[FakeOpenAIServer, FakeGeminiServer]
) -> None:
    _, gemini = fakes
    closed_port = free_port()  # nothing listens there
    settings = llm_settings(platform_settings, f"http://127.0.0.1:{closed_port}/v1", gemini, gemini_model="gemini-0")
    with serve_in_thread(create_app(settings)) as url:
        response = providers(url)
    assert response.status_code == 200, response.text
    found = by_name(response.json())
    lmstudio = found["lmstudio"]
    assert lmstudio["reachable"] is False and lmstudio["latency_ms"] is None and lmstudio["model_listed"] is None
    assert lmstudio["error"].startswith("cannot connect")
    assert str(closed_port) not in lmstudio["error"]  # errors name no address
    wrong_model = found["gemini"]
    assert wrong_model["reachable"] is False
    assert (wrong_model["error"], wrong_model["hint"]) == ("Gemini has no model 'gemini-0'", "check GEMINI_MODEL")

    unconfigured = llm_settings(platform_settings, f"http://127.0.0.1:{closed_port}/v1", gemini, gemini_api_key="")
    with serve_in_thread(create_app(unconfigured)) as url:
        gemini_item = by_name(providers(url).json())["gemini"]
    assert gemini_item["reachable"] is False and "GEMINI_API_KEY is empty" in gemini_item["error"]


def test_the_chain_comes_first_in_its_order(
    platform_settings: Settings, fakes: tuple[FakeOpenAIServer, FakeGeminiServer]
) -> None:
    lmstudio, gemini = fakes
    settings = llm_settings(platform_settings, lmstudio.base_url, gemini, llm_provider="gemini")
    with serve_in_thread(create_app(settings)) as url:
        body = providers(url).json()
    assert body["llm_provider"] == "gemini"
    assert [(i["name"], i["chain_position"]) for i in body["items"]] == [("gemini", 1), ("lmstudio", None)]


def test_credentials_are_required(client: httpx.Client) -> None:
    response = client.get("/v1/llm/providers")
    assert response.status_code == 401
    assert client.get("/openapi.json").json()["paths"]["/v1/llm/providers"]["get"]["operationId"] == "listLlmProviders"
