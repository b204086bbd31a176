"""The OpenAPI contract a generated client reads: readable operation ids and, declared in one place,
every operation's error responses (all :class:`~neura.gateway.errors.ErrorBody`) and credentials.

Each route sets an explicit ``operation_id`` (``createVideo``, ``listVideos``...: stable names a generated
TypeScript client exposes); a route that forgets gets the camelCase of its function's name rather than
FastAPI's ``create_video_v1_videos_post``. The error statuses are derived from what the route is made of,
not written on each route:

- a dependency or endpoint marked with :func:`~neura.gateway.errors.raises` declares those errors'
  statuses (``current_user``: 401; the rate limiters: 429; the live manager: 503; ...);
- an authenticated state-changing request or event stream: 403 (a browser session's CSRF token or Origin);
- any parameter or body: 422; a path parameter: 404 (not yours, or not there);
- a body: 413 (``MAX_BODY_BYTES``); a JSON body also 400 (not JSON) and 415 (another media type);
- what a route declares itself (``responses={409: ...}``) keeps its description and gets the schema.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from neura.gateway.browser import SAFE_METHODS
from neura.gateway.errors import ErrorBody, declared_errors

STATUS_MEANING = {
    400: "the body is not valid JSON",
    401: "no credentials, or wrong, expired or revoked ones",
    402: "too few credits",
    403: "not allowed: the plan does not allow it, or a browser session's X-CSRF-Token or Origin is wrong",
    404: "not yours, or not there",
    409: "the object's state does not allow it",
    413: "the request body is too large",
    415: "the body is not of a media type this operation takes",
    422: "a parameter or field is missing or wrong (`error.details` names each)",
    426: "this is a WebSocket endpoint",
    429: "too many requests: retry after `Retry-After` seconds",
    502: "an upstream service (language model, another gateway) failed",
    503: "an engine or service is not available here",
}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "from /v1/auth/login"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "nk_... from /v1/api-keys"},
    "cookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "neura_access",
        "description": "a browser session from /v1/auth/session (state-changing requests also send X-CSRF-Token)",
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def fallback_operation_id(route: APIRoute) -> str:
    """``create_video`` -> ``createVideo``: the operation id of a route that sets none."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def install_openapi(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Make ``app.openapi()`` declare the errors and credentials of every operation of ``routers``
    (included in ``app`` without a further prefix) in the schema FastAPI generates, once."""
    generate = app.openapi
    routes = [route for router in routers for route in router.routes]
    declared: list[dict[str, Any]] = []  # the schema this function completed

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not any(schema is done for done in declared):
            declare_errors(schema, routes)
            declared[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def declare_errors(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    for route, method in _operations(routes):
        operation = schema["paths"][route.path_format][method]
        responses: dict[str, Any] = operation.setdefault("responses", {})
        for status in sorted(error_statuses(route)):
            key = str(status)
            current = responses.get(key, {})
            if _is_validation_default(current):
                current = {}
            responses[key] = _error_response(status, current)
        for key, response in list(responses.items()):  # statuses a route declared itself
            schemaless = response.get("content", {}).get("application/json", {}).get("schema", {}) == {}
            if key.isdigit() and int(key) >= 400 and schemaless:
                responses[key] = _error_response(int(key), response)
        if requires_credentials(route):
            operation["security"] = [{name: []} for name in SECURITY_SCHEMES]
    components.setdefault("securitySchemes", {}).update(copy.deepcopy(SECURITY_SCHEMES))
    if "#/components/schemas/HTTPValidationError" not in json.dumps(schema["paths"]):
        schemas.pop("HTTPValidationError", None)  # FastAPI's own 422 body, replaced by ErrorBody above
        schemas.pop("ValidationError", None)


def error_statuses(route: APIRoute) -> set[int]:
    """The error statuses ``route`` can answer, from its dependencies, parameters and body."""
    statuses = {error.http_status for call in _calls(route.dependant) for error in declared_errors(call)}
    statuses |= {error.http_status for error in declared_errors(route.endpoint)}
    dependants = [route.dependant, *_dependants(route.dependant)]
    if any(d.path_params for d in dependants):
        statuses.add(404)
    if route.body_field or any(
        d.path_params or d.query_params or d.header_params or d.cookie_params for d in dependants
    ):
        statuses.add(422)
    if requires_credentials(route) and (set(route.methods or ()) - SAFE_METHODS or _streams_events(route)):
        statuses.add(403)  # a browser session's CSRF token (state-changing requests) or Origin (event streams)
    if route.body_field is not None:
        statuses.add(413)
        if not isinstance(route.body_field.field_info, params.Form | params.File):
            statuses |= {400, 415}
    return statuses


def requires_credentials(route: APIRoute) -> bool:
    return any(error.http_status == 401 for call in _calls(route.dependant) for error in declared_errors(call))


def _operations(routes: Sequence[BaseRoute]) -> Iterator[tuple[APIRoute, str]]:
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield route, method.lower()


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependants(dependency)


def _calls(dependant: Dependant) -> Iterator[Any]:
    return (d.call for d in _dependants(dependant) if d.call is not None)


def _streams_events(route: APIRoute) -> bool:
    return "text/event-stream" in json.dumps(route.responses.get(200, {}))


def _is_validation_default(response: dict[str, Any]) -> bool:
    return "HTTPValidationError" in json.dumps(response)


def _error_response(status: int, declared: dict[str, Any]) -> dict[str, Any]:
    description = declared.get("description")
    if not description or re.fullmatch(r"[A-Z][A-Za-z ]+", description):  # FastAPI's "Not Found" phrase
        description = STATUS_MEANING.get(status, "error")
    response = {**declared, "description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}
        }
    return response
