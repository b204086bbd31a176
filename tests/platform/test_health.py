"""Operations endpoints on the real gateway."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from neura.config import Settings
from neura.gateway.app import create_app
from neura.gateway.server import uvicorn_options
from tests.platform.conftest import METRICS_HEADERS, METRICS_TOKEN
from tests.platform.workers import worker_env
from tests.servers import free_port, serve_in_thread, stop_process, wait_until_ready


def test_liveness(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


def test_readiness_checks_postgres_and_redis(client: httpx.Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["postgres"] == "ok"
    assert response.json()["checks"]["redis"] == "ok"


@pytest.fixture(scope="module")
def untokened_gateway(platform_settings: Settings) -> Iterator[str]:
    settings = platform_settings.model_copy(update={"metrics_token": ""})
    with serve_in_thread(create_app(settings), **uvicorn_options(settings)) as url:
        yield url


def test_metrics_are_not_served_without_a_token_setting(untokened_gateway: str) -> None:
    with httpx.Client(base_url=untokened_gateway, timeout=30.0) as http:
        response = http.get("/metrics", headers=METRICS_HEADERS)
        assert response.status_code == 404, response.text  # like a path that does not exist
        assert response.json() == {**http.get("/no-such-path").json(), "request_id": response.json()["request_id"]}


def test_metrics_answer_only_the_token(client: httpx.Client) -> None:
    client.get("/healthz")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {METRICS_TOKEN}"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, refused.text
        assert "METRICS_TOKEN" in refused.json()["error"]["hint"]
    response = client.get("/metrics", headers=METRICS_HEADERS)
    assert response.status_code == 200
    assert "neura_http_request_duration_seconds_bucket" in response.text
    assert 'route="/healthz"' in response.text


def test_a_short_metrics_token_stops_a_production_service() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, ENV="production", NEURA_SECRET_KEY="x" * 40, POSTGRES_PASSWORD="pw", METRICS_TOKEN="short"
    )
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        settings.check_production_secrets()


def test_neura_serve_exports_metrics_on_its_own_port_only(platform_settings: Settings, tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    env = {**worker_env(platform_settings), "METRICS_PORT": str(metrics_port), "METRICS_HOST": "127.0.0.1"}
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-m", "neura.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}/healthz", 60, what=f"neura serve (log: {log.name})")
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 404
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
        assert scraped.status_code == 200 and 'route="/healthz"' in scraped.text
    finally:
        stop_process(process)
        log.close()


def test_a_metrics_port_with_several_processes_is_refused(platform_settings: Settings) -> None:
    env = {**worker_env(platform_settings), "METRICS_PORT": str(free_port())}
    command = [sys.executable, "-m", "neura.cli", "serve", "--port", str(free_port()), "--workers", "2"]
    finished = subprocess.run(command, env=env, capture_output=True, timeout=60)
    assert finished.returncode == 78
    assert b"METRICS_TOKEN" in finished.stderr


def test_request_id_is_echoed(client: httpx.Client) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


def test_unknown_route_is_a_json_404(client: httpx.Client) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "not_found" and body["request_id"]


def test_openapi_is_served(client: httpx.Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "NEURA API"


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(ValueError, match="NEURA_SECRET_KEY"):
        create_app(Settings(ENV="production"))  # type: ignore[call-arg]
