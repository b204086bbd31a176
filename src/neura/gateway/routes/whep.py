"""WHEP: a live avatar for standard WebRTC players and for pages that trickle their ICE candidates.

``POST /v1/live/whep`` (``application/sdp`` offer; the session's options, as in ``POST /v1/live/sessions``,
in the query string) opens a session and answers ``201`` with the SDP answer, ``Location:
/v1/live/sessions/{id}`` (the WHEP session: the same resource as the JSON API's), its ``ETag`` and
``Link: <...>; rel="ice-server"`` for each configured STUN/TURN server. ``PATCH`` on the location adds
trickled candidates (``application/trickle-ice-sdpfrag``, ``204``); ``DELETE`` ends the session. Players
authenticate with ``Authorization: Bearer`` (an access token, or an API key ``nk_...``); pages of the web
app with their session cookie and ``X-CSRF-Token``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from neura.errors import InputError, UnsupportedMediaTypeError
from neura.gateway.credits import CREDIT_HEADERS_DOC, balance, credit_headers
from neura.gateway.deps import CurrentUser, DbSession
from neura.gateway.errors import raises
from neura.gateway.ratelimit import RateLimited
from neura.gateway.routes.live import Live, LiveSessionCreate, forward, is_forwarded, session_or_forward
from neura.live import LiveSession, SessionRequest
from neura.live.whep import (
    SDP_CONTENT_TYPE,
    TRICKLE_CONTENT_TYPE,
    IceRestartError,
    PreconditionFailedError,
    ice_server_links,
    parse_sdpfrag,
)
from neura.storable import require_storable

router = APIRouter(prefix="/v1/live", tags=["live"], dependencies=[RateLimited])  # sessions opened: the gate too

MAX_SDP_BYTES = 200_000


def _body_of(content_type: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {content_type: {"schema": {"type": "string"}}}}}


async def _text_body(request: Request, content_type: str) -> str:
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent != content_type:
        raise UnsupportedMediaTypeError(
            f"the body must be {content_type}, not {sent or 'untyped'}", hint=f"send Content-Type: {content_type}"
        )
    body = await request.body()
    if len(body) > MAX_SDP_BYTES:
        raise InputError(f"the body is longer than {MAX_SDP_BYTES} bytes")
    try:
        return require_storable(body.decode("utf-8"), "the body")
    except UnicodeDecodeError as exc:
        raise InputError("the body is not UTF-8 text") from exc


def _etag(session: LiveSession) -> str:
    return f'"{session.local_ufrag}"'


@router.post(
    "/whep",
    operation_id="createWhepSession",
    status_code=201,
    response_class=Response,
    summary="WHEP: open a live session from an SDP offer (trickle ICE welcome); 201 with the SDP answer",
    openapi_extra=_body_of(SDP_CONTENT_TYPE),
    responses={
        201: {
            "description": "the SDP answer; Location: the session (PATCH candidates, DELETE to end), ETag, Link; "
            "its first minute is charged",
            "content": {SDP_CONTENT_TYPE: {"schema": {"type": "string"}}},
            "headers": CREDIT_HEADERS_DOC,
        },
        402: {"description": "too few credits for the first minute"},
        403: {"description": "this month's live minutes of the plan are used up"},
        404: {"description": "no such avatar of yours"},
        429: {"description": "the plan's concurrent live sessions are all open"},
    },
)
@raises(UnsupportedMediaTypeError, InputError)
async def create_whep_session(
    request: Request, options: Annotated[LiveSessionCreate, Query()], user: CurrentUser, db: DbSession, live: Live
) -> Response:
    offer = await _text_body(request, SDP_CONTENT_TYPE)
    if not live.has_capacity() and not is_forwarded(request):
        other = await live.other_instance_with_room()
        if other is not None:
            return await forward(request, other.url, live)
    asked = SessionRequest(options.avatar_id, options.voice, options.persona, options.llm)
    session = await live.create(user.id, user.plan, asked)
    try:
        answer = await session.accept_offer(offer, "offer")
    except BaseException:
        await live.close(session.id, "offer_refused")  # a session nobody can connect to is not billed on
        raise
    location = f"/v1/live/sessions/{session.id}"
    response = Response(answer.sdp, status_code=201, media_type=SDP_CONTENT_TYPE)
    response.headers["Location"] = location
    response.headers["ETag"] = _etag(session)
    response.headers["Accept-Patch"] = TRICKLE_CONTENT_TYPE
    response.headers.update(credit_headers(live.accounting.credits_per_period, await balance(db, user.id)))
    for link in ice_server_links(session.ice_servers):
        response.headers.append("Link", link)
    return response


@router.patch(
    "/sessions/{session_id}",
    operation_id="trickleLiveCandidates",
    status_code=204,
    summary="WHEP trickle ICE: add candidates (application/trickle-ice-sdpfrag, RFC 8840)",
    openapi_extra=_body_of(TRICKLE_CONTENT_TYPE),
    responses={
        409: {"description": "the session has ended"},
        412: {"description": "the If-Match header names another ICE session than the current one"},
        422: {"description": "not an SDP fragment, or an ICE restart (not supported: start a new session)"},
    },
)
@raises(UnsupportedMediaTypeError, PreconditionFailedError)
async def trickle_candidates(session_id: uuid.UUID, request: Request, user: CurrentUser, live: Live) -> Response:
    target = await session_or_forward(request, session_id, user.id, live)
    if isinstance(target, Response):
        return target
    fragment = parse_sdpfrag(await _text_body(request, TRICKLE_CONTENT_TYPE))
    if_match = request.headers.get("if-match", "").strip()
    if if_match == "*":
        raise IceRestartError("ICE restarts are not supported", hint="start a new session")
    if if_match and if_match.removeprefix("W/") != _etag(target):
        raise PreconditionFailedError(f"If-Match {if_match[:60]} is not this session's ETag {_etag(target)}")
    await target.add_remote_candidates(fragment.candidates, end=fragment.end_of_candidates, ufrag=fragment.ice_ufrag)
    return Response(status_code=204)


# Plain OPTIONS (a CORS preflight is answered before routing, by the CORS middleware)


@router.options("/whep", include_in_schema=False)
async def whep_options() -> Response:
    return Response(status_code=204, headers={"Allow": "OPTIONS, POST", "Accept-Post": SDP_CONTENT_TYPE})


@router.options("/sessions/{session_id}", include_in_schema=False)
async def whep_session_options(session_id: uuid.UUID) -> Response:
    headers = {"Allow": "OPTIONS, GET, PATCH, DELETE", "Accept-Patch": TRICKLE_CONTENT_TYPE}
    return Response(status_code=204, headers=headers)
