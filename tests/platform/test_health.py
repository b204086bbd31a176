"""Operations endpoints on the real gateway."""

from __future__ import annotations

import httpx


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


def test_metrics_are_prometheus_text(client: httpx.Client) -> None:
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "neura_http_request_duration_seconds_bucket" in response.text
    assert 'route="/healthz"' in response.text


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
    import pytest

    from neura.config import Settings
    from neura.gateway.app import create_app

    with pytest.raises(ValueError, match="NEURA_SECRET_KEY"):
        create_app(Settings(ENV="production"))  # type: ignore[call-arg]
