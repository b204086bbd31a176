"""The OpenAPI schema a generated client is built from: readable, stable operation ids, and every error
a route can answer declared with the one error schema. The last test asks the real gateway: the statuses
it answers to missing credentials, malformed ids and bodies are the ones its schema declares."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from neura.config import Settings
from neura.gateway.app import create_app
from tests.platform.users import signup

# operation id -> "METHOD path". A new route adds its line here (a readable camelCase name of its own).
OPERATIONS = {
    "getLiveness": "GET /healthz",
    "getReadiness": "GET /readyz",
    "getMetrics": "GET /metrics",
    "signup": "POST /v1/auth/signup",
    "login": "POST /v1/auth/login",
    "refreshTokens": "POST /v1/auth/refresh",
    "logout": "POST /v1/auth/logout",
    "createSession": "POST /v1/auth/session",
    "refreshSession": "POST /v1/auth/session/refresh",
    "deleteSession": "DELETE /v1/auth/session",
    "getMe": "GET /v1/me",
    "getCredits": "GET /v1/me/credits",
    "createApiKey": "POST /v1/api-keys",
    "listApiKeys": "GET /v1/api-keys",
    "revokeApiKey": "DELETE /v1/api-keys/{key_id}",
    "listPlans": "GET /v1/plans",
    "createAvatar": "POST /v1/avatars",
    "listAvatars": "GET /v1/avatars",
    "getAvatar": "GET /v1/avatars/{avatar_id}",
    "getAvatarPreview": "GET /v1/avatars/{avatar_id}/preview",
    "deleteAvatar": "DELETE /v1/avatars/{avatar_id}",
    "getAvatarSample": "GET /v1/avatars/{avatar_id}/sample",
    "listVoices": "GET /v1/voices",
    "getVoiceSample": "GET /v1/voices/{voice_id}/sample",
    "synthesizeSpeech": "POST /v1/tts",
    "createSpeech": "POST /v1/audio/speech",
    "streamSpeech": "GET /v1/tts/stream",
    "alignSpeech": "POST /v1/align",
    "createTranscription": "POST /v1/audio/transcriptions",
    "createVideo": "POST /v1/videos",
    "listVideos": "GET /v1/videos",
    "getVideo": "GET /v1/videos/{video_id}",
    "cancelVideo": "POST /v1/videos/{video_id}/cancel",
    "deleteVideo": "DELETE /v1/videos/{video_id}",
    "downloadVideo": "GET /v1/videos/{video_id}/download",
    "estimateVideo": "POST /v1/videos/estimate",
    "draftScript": "POST /v1/scripts",
    "listLlmProviders": "GET /v1/llm/providers",
    "streamVideoEvents": "GET /v1/videos/{video_id}/events",
    "getFile": "GET /v1/files/{key}",
    "createWebhook": "POST /v1/webhooks",
    "listWebhooks": "GET /v1/webhooks",
    "getWebhook": "GET /v1/webhooks/{webhook_id}",
    "listWebhookDeliveries": "GET /v1/webhooks/{webhook_id}/deliveries",
    "deleteWebhook": "DELETE /v1/webhooks/{webhook_id}",
    "createLiveSession": "POST /v1/live/sessions",
    "answerLiveOffer": "POST /v1/live/sessions/{session_id}/offer",
    "sendLiveMessage": "POST /v1/live/sessions/{session_id}/messages",
    "interruptLiveSession": "POST /v1/live/sessions/{session_id}/interrupt",
    "getLiveSession": "GET /v1/live/sessions/{session_id}",
    "deleteLiveSession": "DELETE /v1/live/sessions/{session_id}",
    "addLiveCandidates": "POST /v1/live/sessions/{session_id}/candidates",
    "createWhepSession": "POST /v1/live/whep",
    "trickleLiveCandidates": "PATCH /v1/live/sessions/{session_id}",
    "getCapabilities": "GET /v1/capabilities",
}
PUBLIC = {
    "getLiveness",
    "getReadiness",
    "getMetrics",
    "signup",
    "login",
    "refreshTokens",
    "logout",
    "listPlans",
    "listVoices",
    "getVoiceSample",
}
PUBLIC |= {"getFile", "streamSpeech"}  # a signed URL; a WebSocket's HTTP face (426)
PUBLIC |= {"createSession", "refreshSession", "deleteSession"}  # browser sessions: cookies of their own
# a signed URL; a WebSocket's HTTP face; live signalling (a session's requests, limited by its plan)
UNTHROTTLED = {"getFile", "streamSpeech"} | {op for op, route in OPERATIONS.items() if "/v1/live/sessions/" in route}
ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def spec(platform_settings: Settings) -> dict[str, Any]:
    return create_app(platform_settings).openapi()  # no server, no database


def operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    found = {}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def test_operation_ids_are_readable_unique_and_stable(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for methods in spec["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids)), "operation ids must be unique"
    assert all(re.fullmatch(r"[a-z][a-zA-Z]+", i) for i in ids), [i for i in ids if "_" in i]
    found = {op_id: f"{method} {path}" for op_id, (method, path, _) in operations(spec).items()}
    assert found == OPERATIONS


def test_every_error_response_is_an_error_body(spec: dict[str, Any]) -> None:
    for op_id, (_, _, operation) in operations(spec).items():
        for status, response in operation["responses"].items():
            if int(status) >= 400 and op_id != "getReadiness":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (op_id, status)
                assert response["description"][0].islower(), (op_id, status, response["description"])
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["ErrorBody"]["required"] == ["error", "request_id"]
    assert set(schemas["ErrorInfo"]["required"]) == {"code", "message", "hint"}


def test_statuses_declared_from_what_a_route_is_made_of(spec: dict[str, Any]) -> None:
    for op_id, (method, path, operation) in operations(spec).items():
        declared = {int(s) for s in operation["responses"]}
        assert 500 not in declared, op_id  # a 500 is a bug, never part of the contract
        if op_id not in PUBLIC:
            assert 401 in declared, op_id
            assert operation["security"] == [{"bearer": []}, {"apiKey": []}, {"cookie": []}], op_id
            if method in ("POST", "PUT", "PATCH", "DELETE") or op_id == "streamVideoEvents":
                assert 403 in declared, op_id  # CSRF, Origin
        if path.startswith("/v1/") and op_id not in UNTHROTTLED:
            assert 429 in declared, op_id
            assert "Retry-After" in operation["responses"]["429"]["headers"]
        if operation.get("parameters") or operation.get("requestBody"):
            assert 422 in declared, op_id
        if "{" in path:
            assert 404 in declared, op_id
        body = operation.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            assert {400, 413, 415} <= declared, op_id
    assert spec["components"]["securitySchemes"].keys() == {"bearer", "apiKey", "cookie"}


def test_declared_statuses_match_what_the_gateway_answers(client: httpx.Client, spec: dict[str, Any]) -> None:
    """Ask every operation with no credentials, a malformed id, a body that is not JSON and a body of
    another media type: each answer is declared in the schema, an ErrorBody, and never a 500."""
    user = signup(client)
    answered: dict[str, set[int]] = {}
    for op_id, (method, path, operation) in operations(spec).items():
        declared = {int(s) for s in operation["responses"]}
        json_body = "application/json" in operation.get("requestBody", {}).get("content", {})
        probes: list[dict[str, Any]] = [{"url": _fill(path, str(uuid.uuid4()))}]
        if op_id not in PUBLIC:
            probes[0]["headers"] = {}
            probes.append({"url": _fill(path, "not-an-id"), "headers": user.headers})
            if not json_body:
                probes.append({"url": _fill(path, str(uuid.uuid4())), "headers": user.headers})
        if json_body:
            broken = {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
            other = {"content": b"text=hello", "headers": {"Content-Type": "text/plain"}}
            for probe in (broken, other):
                probe["headers"].update(user.headers)
                probes.append({"url": _fill(path, str(uuid.uuid4())), **probe})
        for probe in probes:
            response = client.request(method, probe.pop("url"), **probe)
            status = response.status_code
            answered.setdefault(op_id, set()).add(status)
            assert status != 500, (op_id, response.text)
            assert status in declared, f"{op_id} answered {status}, not declared in {sorted(declared)}: {response.text}"
            if status >= 400:
                body = response.json()
                assert set(body) == {"error", "request_id"} and {"code", "message", "hint"} <= set(body["error"])
    assert all(401 in answered[op_id] for op_id in OPERATIONS if op_id not in PUBLIC)


def _fill(path: str, value: str) -> str:
    return re.sub(r"{[^}]+}", value, path)


def test_a_route_without_an_operation_id_gets_its_name_in_camel_case() -> None:
    from fastapi import APIRouter, FastAPI

    from neura.gateway.openapi import fallback_operation_id, install_openapi

    router = APIRouter(prefix="/v1/things")

    @router.get("/{thing_id}")
    async def get_thing_by_id(thing_id: int) -> int:
        return thing_id

    app = FastAPI(generate_unique_id_function=fallback_operation_id)
    app.include_router(router)
    install_openapi(app, [router])
    operation = app.openapi()["paths"]["/v1/things/{thing_id}"]["get"]
    assert operation["operationId"] == "getThingById"
    assert {"404", "422"} <= operation["responses"].keys() and "401" not in operation["responses"]
