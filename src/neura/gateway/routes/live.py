"""Live avatar sessions over WebRTC: signalling over HTTP, media and events on the peer connection.

A session runs on the gateway instance that created it. Any instance accepts its requests: one that
does not run the session looks up its owner in the Redis registry and forwards the request to the
owner's internal URL (with the caller's own credentials, so the owner checks them again). Sessions
are private: another user's session id answers 404, like one that does not exist.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp

from neura.errors import NotFoundError
from neura.gateway.credits import CHARGED_HEADER, CREDIT_HEADERS_DOC, REMAINING_HEADER, balance, credit_headers
from neura.gateway.deps import CurrentUser, DbSession, State
from neura.gateway.errors import raises
from neura.gateway.listener import OwnListener, wants_own_port
from neura.gateway.ratelimit import RateLimited, limit_user
from neura.gateway.schemas.text import STORABLE
from neura.gateway.schemas.voices import VoiceField
from neura.gateway.state import AppState
from neura.live import LiveManager, LiveMetrics, LiveSession, SessionRequest
from neura.live.errors import LiveCapacityError, LiveRoutingError
from neura.live.manager import LiveUse
from neura.live.whep import MAX_CANDIDATES, parse_candidate
from neura.llm.providers import AUTO, LLM
from neura.metrics import LIVE_SESSIONS, LIVE_STAGE_LATENCY

router = APIRouter(prefix="/v1/live", tags=["live"], dependencies=[RateLimited])

FORWARDED_HEADER = "x-neura-live-forwarded"  # set on requests one instance forwards to another
_FORWARDED_HEADERS = (  # the caller's credentials (token, key or browser session), the body's type, WHEP's
    "authorization",
    "x-api-key",
    "cookie",
    "x-csrf-token",
    "origin",
    "x-forwarded-proto",
    "content-type",
    "if-match",
    "x-request-id",
)
_ANSWER_HEADERS = (
    "content-type",
    "retry-after",
    "location",
    "etag",
    "link",
    "accept-patch",
    CHARGED_HEADER.lower(),
    REMAINING_HEADER.lower(),
)
FORWARD_TIMEOUT_S = 30.0
LIVE_RULES: dict[LiveUse, str] = {"session": "live_sessions", "message": "live_messages"}


# --- schemas
class LiveSessionCreate(BaseModel):
    avatar_id: uuid.UUID | None = Field(None, description="one of your avatars; default: the demo portrait")
    voice: VoiceField = None
    persona: Annotated[str, Field(max_length=4000), STORABLE] | None = Field(
        None, description="system prompt: who the avatar is"
    )
    llm: Annotated[str, Field(max_length=50), STORABLE] | None = Field(
        None, description=f"language model provider: {', '.join((AUTO, *LLM.names()))}"
    )


class LiveSessionCreated(BaseModel):
    id: uuid.UUID
    voice: str = Field(description="the voice the avatar speaks with, as 'engine:voice'")
    ice_servers: list[dict[str, Any]]
    status: str = "open"
    data_channel: str = "neura"
    voice_input: bool = Field(
        False,
        description="the session hears the user: offer the microphone as a sendrecv audio transceiver "
        "(docs/live.md, 'Voice'); false: text messages only",
    )


class SdpMessage(BaseModel):
    sdp: Annotated[str, Field(max_length=200_000), STORABLE]
    type: Literal["offer", "answer"]


class LiveMessage(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=4000), STORABLE]


class MessageAccepted(BaseModel):
    turn_id: int


class InterruptResult(BaseModel):
    interrupted: bool


class IceCandidateInit(BaseModel):
    """A browser's ``RTCIceCandidate.toJSON()``; an empty ``candidate`` means end-of-candidates."""

    candidate: Annotated[str, STORABLE] = Field(
        ..., max_length=1000, examples=["candidate:1 1 udp 2122260223 192.0.2.1 61764 typ host"]
    )
    sdpMid: Annotated[str, Field(max_length=32), STORABLE] | None = None  # camelCase: the browser's own names
    sdpMLineIndex: int | None = Field(None, ge=0, le=64)
    usernameFragment: Annotated[str, Field(max_length=256), STORABLE] | None = None


class LiveCandidates(BaseModel):
    candidates: list[IceCandidateInit] = Field(default_factory=list, max_length=MAX_CANDIDATES)
    done: bool = Field(False, description="end-of-candidates: the client has gathered them all")


# --- lifecycle hooks (called by the app's lifespan)
async def start_live(state: AppState, app: ASGIApp) -> None:
    """Start this instance's live manager; with ``LIVE_INTERNAL_URL`` on port 0 (``neura serve
    --workers N``), first open this process's own listener and register its URL instead."""
    metrics = LiveMetrics(
        observe_stage=lambda stage, seconds: LIVE_STAGE_LATENCY.labels(stage).observe(seconds),
        set_open_sessions=LIVE_SESSIONS.set,
    )
    internal_url = None

    async def gate(what: LiveUse, user_id: uuid.UUID) -> None:  # sessions opened, messages: per user
        await limit_user(state.redis, state.settings, LIVE_RULES[what], user_id)

    if wants_own_port(state.settings.live_internal_url):
        listener = OwnListener(app, state.settings.live_internal_url)
        await listener.start()
        state.live_listener, internal_url = listener, listener.url
    try:
        manager = LiveManager(
            state.settings,
            state.sessions,
            state.redis,
            state.storage,
            metrics=metrics,
            internal_url=internal_url,
            gate=gate,
        )
        await manager.start()
    except BaseException:
        await stop_live(state)  # the listener opened above
        raise
    state.live = manager


async def stop_live(state: AppState) -> None:
    manager, state.live = state.live, None
    if manager is not None:
        await manager.shutdown()
    listener, state.live_listener = state.live_listener, None
    if listener is not None:
        await listener.stop()


# --- dependencies and routing
@raises(LiveCapacityError)
def live_manager(state: State) -> LiveManager:
    if state.live is None:
        raise LiveCapacityError("live sessions are not available on this server")
    return state.live


Live = Annotated[LiveManager, Depends(live_manager)]


def is_forwarded(request: Request) -> bool:
    return FORWARDED_HEADER in request.headers


async def forward(request: Request, base_url: str, live: LiveManager) -> Response:
    """The same request, answered by the instance at ``base_url``."""
    headers = {name: request.headers[name] for name in _FORWARDED_HEADERS if name in request.headers}
    headers["x-forwarded-host"] = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    headers[FORWARDED_HEADER] = live.instance_id
    try:
        async with httpx.AsyncClient(timeout=FORWARD_TIMEOUT_S) as client:
            answer = await client.request(
                request.method, base_url + request.url.path, content=await request.body(), headers=headers
            )
    except httpx.HTTPError as exc:
        raise LiveRoutingError(
            "the server that runs this live session cannot be reached", hint="create a new session"
        ) from exc
    passed = [(k, v) for k, v in answer.headers.multi_items() if k.lower() in _ANSWER_HEADERS]
    forwarded = Response(content=answer.content, status_code=answer.status_code)
    for name, value in passed:
        forwarded.headers.append(name, value)
    return forwarded


async def session_or_forward(
    request: Request, session_id: uuid.UUID, user_id: uuid.UUID, live: LiveManager
) -> LiveSession | Response:
    session = live.local(session_id)
    if session is not None:
        if session.user_id != user_id:
            raise NotFoundError("live session not found")
        return session
    if not is_forwarded(request):
        owner = await live.registry.owner(session_id)
        if owner is not None and owner.instance_id != live.instance_id and owner.user_id == str(user_id):
            return await forward(request, owner.url, live)
    raise NotFoundError("live session not found", hint="it may have ended: create a new one")


# --- routes
@router.post(
    "/sessions",
    operation_id="createLiveSession",
    status_code=201,
    response_model=LiveSessionCreated,
    summary="Open a live session (then POST its SDP offer)",
    responses={
        201: {"description": "open; its first minute is charged", "headers": CREDIT_HEADERS_DOC},
        402: {"description": "too few credits for the first minute"},
        403: {"description": "this month's live minutes of the plan are used up"},
        404: {"description": "no such avatar of yours"},
        429: {"description": "the plan's concurrent live sessions are all open"},
    },
)
async def create_session(
    body: LiveSessionCreate, request: Request, response: Response, user: CurrentUser, db: DbSession, live: Live
) -> Any:
    if not live.has_capacity() and not is_forwarded(request):
        other = await live.other_instance_with_room()
        if other is not None:
            return await forward(request, other.url, live)
    session = await live.create(user.id, user.plan, SessionRequest(body.avatar_id, body.voice, body.persona, body.llm))
    response.headers.update(credit_headers(live.accounting.credits_per_period, await balance(db, user.id)))
    return LiveSessionCreated(
        id=session.id, voice=session.voice_id, ice_servers=session.ice_servers, voice_input=session.hears
    )


@router.post(
    "/sessions/{session_id}/offer",
    operation_id="answerLiveOffer",
    response_model=SdpMessage,
    summary="Exchange SDP: offer in, answer out",
)
async def post_offer(session_id: uuid.UUID, body: SdpMessage, request: Request, user: CurrentUser, live: Live) -> Any:
    target = await session_or_forward(request, session_id, user.id, live)
    if isinstance(target, Response):
        return target
    answer = await target.accept_offer(body.sdp, body.type)
    return SdpMessage(sdp=answer.sdp, type="answer")


@router.post(
    "/sessions/{session_id}/messages",
    operation_id="sendLiveMessage",
    status_code=202,
    response_model=MessageAccepted,
    summary="Say something to the avatar (interrupts it if it is speaking)",
)
async def post_message(
    session_id: uuid.UUID, body: LiveMessage, request: Request, user: CurrentUser, live: Live
) -> Any:
    received_s = time.monotonic()
    target = await session_or_forward(request, session_id, user.id, live)
    if isinstance(target, Response):
        return target
    return MessageAccepted(turn_id=await target.say(body.text, received_s=received_s))


@router.post(
    "/sessions/{session_id}/interrupt",
    operation_id="interruptLiveSession",
    response_model=InterruptResult,
    summary="Stop the avatar speaking now",
)
async def post_interrupt(session_id: uuid.UUID, request: Request, user: CurrentUser, live: Live) -> Any:
    target = await session_or_forward(request, session_id, user.id, live)
    if isinstance(target, Response):
        return target
    return InterruptResult(interrupted=await target.interrupt())


@router.get(
    "/sessions/{session_id}", operation_id="getLiveSession", summary="A session's state, turns and latency figures"
)
async def get_session(session_id: uuid.UUID, request: Request, user: CurrentUser, live: Live) -> Any:
    try:
        target = await session_or_forward(request, session_id, user.id, live)
    except NotFoundError:
        return await live.find_closed(session_id, user.id)
    if isinstance(target, Response):
        return target
    return target.snapshot()


@router.post(
    "/sessions/{session_id}/candidates",
    operation_id="addLiveCandidates",
    status_code=204,
    summary="Trickle ICE: the client's candidates as it gathers them (after the offer)",
    responses={409: {"description": "no offer yet, or the session has ended"}},
)
async def post_candidates(
    session_id: uuid.UUID, body: LiveCandidates, request: Request, user: CurrentUser, live: Live
) -> Response:
    target = await session_or_forward(request, session_id, user.id, live)
    if isinstance(target, Response):
        return target
    parsed = [parse_candidate(c.candidate, c.sdpMid, c.sdpMLineIndex) for c in body.candidates]
    candidates = [c for c in parsed if c is not None]
    ufrags = {c.usernameFragment for c in body.candidates if c.usernameFragment}
    await target.add_remote_candidates(
        candidates, end=body.done or len(candidates) < len(parsed), ufrag=next(iter(ufrags), None)
    )
    return Response(status_code=204)


@router.delete(
    "/sessions/{session_id}",
    operation_id="deleteLiveSession",
    status_code=204,
    summary="End a session (idempotent: an ended session of yours answers 204 too; fine for keepalive fetches)",
)
async def delete_session(session_id: uuid.UUID, request: Request, user: CurrentUser, live: Live) -> Response:
    try:
        target = await session_or_forward(request, session_id, user.id, live)
    except NotFoundError:
        await live.find_closed(session_id, user.id)  # NotFoundError unless it was this user's session
        return Response(status_code=204)
    if isinstance(target, Response):
        return target
    await live.close(target.id, "deleted")
    return Response(status_code=204)
