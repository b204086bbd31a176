"""The live sessions of one gateway process: creation under the plan's limits, billing, teardown.

One housekeeping task per process announces this instance in the registry (heartbeats), charges each
session's started billing periods and ends sessions that went idle, ran out of credits or of the plan's
monthly minutes, or never connected a peer. A watcher per session closes it as soon as it asks to end
(its peer went away: the connection failed or closed, consent checks went unanswered for
``LIVE_PEER_TIMEOUT_S``, or its data channel closed).
Closing always takes the same path: session (pipeline, tracks, peer connection), then the database row,
then the registry.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neura.billing import get_plan
from neura.config import Settings
from neura.db.models import Avatar
from neura.errors import NotFoundError, PaymentRequiredError, RateLimitedError
from neura.live.accounting import LiveAccounting
from neura.live.conversation import Conversation, resolve_timezone
from neura.live.engines import LiveEngines
from neura.live.errors import LiveCapacityError, PlanMinutesUsedError
from neura.live.peer import parse_ice_servers, use_host_addresses, use_peer_timeout
from neura.live.protocol import LiveError
from neura.live.registry import InstanceInfo, LiveRegistry
from neura.live.session import LiveSession, SessionEngines
from neura.live.turn_taking import VoiceConfig
from neura.storage import Storage
from neura.tts.voices import VoiceRef

log = logging.getLogger(__name__)

CONCURRENCY_RETRY_AFTER_S = 30
ABANDONED_SWEEP_S = 60.0  # how often rows of sessions on vanished instances are closed


@dataclass(frozen=True)
class SessionRequest:
    avatar_id: uuid.UUID | None = None
    voice: VoiceRef | None = None  # None: the deployment's default voice
    persona: str | None = None
    llm: str | None = None


@dataclass
class LiveMetrics:
    """Where the manager reports (the gateway passes Prometheus here; the library knows none)."""

    observe_stage: Callable[[str, float], None] | None = None  # stage, seconds
    set_open_sessions: Callable[[int], None] | None = None


LiveUse = Literal["session", "message"]
LiveGate = Callable[[LiveUse, uuid.UUID], Awaitable[None]]
"""Called before a user opens a session and before each message (HTTP or data channel) starts a turn;
raises RateLimitedError to refuse it (the gateway passes its Redis rate limits here)."""


@dataclass
class _Billing:
    user_id: uuid.UUID
    periods_charged: int = 1
    allowance_s: float = math.inf  # the plan's monthly minutes left when the session opened


@dataclass
class _Entry:
    session: LiveSession
    billing: _Billing
    watcher: asyncio.Task[None] | None = None
    closing: asyncio.Task[None] | None = None  # the teardown, once it has begun


def default_instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class LiveManager:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        storage: Storage,
        *,
        metrics: LiveMetrics | None = None,
        engines: LiveEngines | None = None,
        internal_url: str | None = None,
        gate: LiveGate | None = None,
    ) -> None:
        """``internal_url``: where other instances reach this one (default: LIVE_INTERNAL_URL, else
        PUBLIC_BASE_URL); ``gate``: rate limits (none without it)."""
        self.settings = settings
        self.instance_id = settings.live_instance_id or default_instance_id()
        self.internal_url = (internal_url or settings.live_internal_url or settings.public_base_url).rstrip("/")
        self.capacity = settings.live_max_sessions
        self.ice_servers = parse_ice_servers(settings.webrtc_ice_servers)
        self.timezone = resolve_timezone(settings.live_timezone)
        self.metrics = metrics or LiveMetrics()
        self.gate = gate
        self.registry = LiveRegistry(
            redis,
            instance_id=self.instance_id,
            url=self.internal_url,
            capacity=self.capacity,
            ttl_s=max(3.0, 3 * settings.live_heartbeat_s),
        )
        self.accounting = LiveAccounting(sessions, period_s=settings.live_billing_period_s)
        self.db = sessions
        self.engines = engines or LiveEngines(
            settings, storage, first_clause_tts_threads=settings.live_first_clause_tts_threads
        )
        self.voice = VoiceConfig.of(settings)
        self._entries: dict[uuid.UUID, _Entry] = {}
        self._pending = 0  # sessions being created (they count against capacity)
        self._housekeeping: asyncio.Task[None] | None = None
        self._warm_up: asyncio.Task[None] | None = None  # the engines' preparation, begun at start
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        addresses = [a.strip() for a in self.settings.webrtc_host_addresses.split(",") if a.strip()]
        if addresses:  # process-wide in aioice: an instance without the setting leaves it alone
            use_host_addresses(addresses)
        use_peer_timeout(self.settings.live_peer_timeout_s)
        await self.registry.heartbeat([])
        self._housekeeping = asyncio.get_running_loop().create_task(self._housekeep(), name="live-housekeeping")
        # in the background: the API is ready at once; a session created meanwhile waits for it in create()
        self._warm_up = asyncio.get_running_loop().create_task(self.engines.warm_up(), name="live-warm-up")

    async def warmed_up(self) -> None:
        """Return once the engines' start-up preparation is over (done at once if it never began)."""
        if self._warm_up is not None:
            await asyncio.shield(self._warm_up)  # a caller that gives up does not stop the preparation

    async def shutdown(self) -> None:
        """Close every session (reason "shutdown"), leave the registry, release the engines."""
        self._closing = True
        for task in (self._housekeeping, self._warm_up):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await asyncio.gather(*(self.close(sid, "shutdown") for sid in list(self._entries)))
        try:
            await self.registry.unregister()
        except RedisError as exc:
            log.warning("live: cannot leave the registry at shutdown: %s", exc)
        await self.engines.close()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the sessions run on (for diagnostics from other threads)."""
        if self._loop is None:
            raise RuntimeError("the live manager has not been started")
        return self._loop

    # --- sessions
    @property
    def open_sessions(self) -> int:
        return len(self._entries)

    def has_capacity(self) -> bool:
        return not self._closing and len(self._entries) + self._pending < self.capacity

    def local(self, session_id: uuid.UUID) -> LiveSession | None:
        entry = self._entries.get(session_id)
        return entry.session if entry is not None else None

    async def other_instance_with_room(self) -> InstanceInfo | None:
        for instance in await self.registry.instances():
            if instance.instance_id != self.instance_id and instance.free > 0:
                return instance
        return None

    async def create(self, user_id: uuid.UUID, plan_name: str, request: SessionRequest) -> LiveSession:
        """Open a session here. Raises RateLimitedError (the plan's concurrent sessions), ForbiddenError
        (its monthly minutes), PaymentRequiredError (credits), LiveCapacityError (this instance is full),
        NotFoundError (an avatar that is not the user's), InputError (an unknown voice or model)."""
        if not self.has_capacity():
            raise LiveCapacityError("this server has no room for another live session", hint="try again shortly")
        if self.gate is not None:
            await self.gate("session", user_id)
        self._pending += 1
        session_id = uuid.uuid4()
        plan = get_plan(plan_name)
        reserved = False
        try:
            await self.warmed_up()  # the first session shares the start-up preparation instead of repeating it
            rig_key = await self._avatar_rig_key(request.avatar_id, user_id)
            llm, (first_tts, tts) = await self.engines.llm(request.llm), await self.engines.tts(request.voice)
            stt = await self.engines.stt()
            rig = await self.engines.rig(request.avatar_id, rig_key)
            reserved, count = await self.registry.reserve(session_id, user_id, plan.concurrent_live_sessions)
            if not reserved:
                raise RateLimitedError(
                    f"you already have {count} live session(s) open; the {plan.name} plan allows "
                    f"{plan.concurrent_live_sessions} at a time",
                    retry_after_s=CONCURRENCY_RETRY_AFTER_S,
                    hint="end a session (DELETE /v1/live/sessions/{id}) or upgrade your plan",
                )
            allowance_s = await self.accounting.open(
                session_id=session_id,
                user_id=user_id,
                plan_name=plan.name,
                avatar_id=request.avatar_id,
                voice=tts.voice.id,
                persona=request.persona,
                instance_id=self.instance_id,
            )
            conversation = Conversation(
                request.persona, timezone=self.timezone, budget_tokens=self.settings.live_context_tokens
            )
            engines = SessionEngines(
                llm=llm,
                tts=tts,
                first_clause_tts=first_tts,
                frames=self.engines.frames(rig, seed=session_id.int % (2**31)),
                speech_executor=self.engines.speech_executor,
                lipsync_executor=self.engines.lipsync_executor,
                render_executor=self.engines.render_executor,
                stt=stt,
                stt_executor=self.engines.stt_executor,
            )
            session = LiveSession(
                session_id,
                user_id,
                engines,
                conversation,
                self.ice_servers,
                observe_stage=self.metrics.observe_stage,
                admit=partial(self.gate, "message", user_id) if self.gate is not None else None,
                voice=self.voice,
            )
        except BaseException:
            if reserved:
                await self.registry.release(session_id, user_id)
            raise
        finally:
            self._pending -= 1
        session.start()
        entry = _Entry(session, _Billing(user_id, allowance_s=allowance_s))
        entry.watcher = asyncio.get_running_loop().create_task(self._watch(session), name=f"live-watch-{session_id}")
        self._entries[session_id] = entry
        self._report_open()
        log.info("live session %s opened for user %s on %s", session_id, user_id, self.instance_id)
        return session

    async def close(self, session_id: uuid.UUID, reason: str) -> bool:
        """End a session here and return once it is gone (idempotent: a second call waits for the
        first); False when this instance does not have it."""
        entry = self._entries.get(session_id)
        if entry is None:
            return False
        if entry.closing is None:
            entry.closing = asyncio.get_running_loop().create_task(
                self._teardown(entry, reason), name=f"live-close-{session_id}"
            )
        await asyncio.shield(entry.closing)  # a caller that goes away does not stop the teardown
        return True

    async def _teardown(self, entry: _Entry, reason: str) -> None:
        session = entry.session
        try:
            if entry.watcher is not None:
                entry.watcher.cancel()
                await asyncio.gather(entry.watcher, return_exceptions=True)
            await session.close(reason)
            seconds_used = time.monotonic() - session.created_s
            try:
                await self.accounting.close(session.id, seconds_used)
            except SQLAlchemyError:
                log.exception("live session %s: cannot record its end in the database", session.id)
            try:
                await self.registry.release(session.id, session.user_id)
            except RedisError:
                log.exception("live session %s: cannot remove it from the registry", session.id)
            log.info("live session %s closed (%s) after %.1f s", session.id, reason, seconds_used)
        finally:
            self._entries.pop(session.id, None)
            self._report_open()

    async def find_closed(self, session_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, Any]:
        """What the database knows of a session that no instance runs; NotFoundError if not the user's."""
        row = await self.accounting.find(session_id, user_id)
        if row is None:
            raise NotFoundError("live session not found")
        return {
            "id": str(row.id),
            "status": row.status,
            "voice": row.voice,
            "seconds_used": round(row.seconds_used, 1),
            "credits_charged": row.credits_charged,
            "created_at": row.created_at.isoformat(),
            "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        }

    # --- internals
    async def _avatar_rig_key(self, avatar_id: uuid.UUID | None, user_id: uuid.UUID) -> str | None:
        if avatar_id is None:
            return None
        async with self.db() as db:
            avatar = await db.scalar(select(Avatar).where(Avatar.id == avatar_id, Avatar.user_id == user_id))
        if avatar is None:
            raise NotFoundError("avatar not found")
        key = (avatar.rig_keys or {}).get(str(self.engines.avatar_px))
        if not key:
            raise NotFoundError(
                f"avatar {avatar_id} has no {self.engines.avatar_px} px rig", hint="re-create the avatar from its photo"
            )
        return str(key)

    async def _watch(self, session: LiveSession) -> None:
        await session.end_requested.wait()
        await self.close(session.id, session.end_reason)

    async def _housekeep(self) -> None:
        tick_s = min(1.0, self.settings.live_heartbeat_s, self.accounting.period_s / 4)
        last_heartbeat = last_sweep = 0.0
        while True:
            await asyncio.sleep(tick_s)
            now = time.monotonic()
            if now - last_heartbeat >= self.settings.live_heartbeat_s:
                try:
                    await self.registry.heartbeat(list(self._entries))
                    last_heartbeat = now
                except RedisError as exc:
                    log.warning("live: registry heartbeat failed: %s", exc)
            if now - last_sweep >= ABANDONED_SWEEP_S:
                last_sweep = now
                await self._close_abandoned()
            await self._check_all(now)

    async def _close_abandoned(self) -> None:
        try:
            live = [instance.instance_id for instance in await self.registry.instances()]
            closed = await self.accounting.close_abandoned([*live, self.instance_id])
        except (RedisError, SQLAlchemyError) as exc:
            log.warning("live: cannot sweep sessions of vanished instances: %s", exc)
            return
        if closed:
            log.info("live: closed %d session(s) left open by instances that are gone", closed)

    async def _check_all(self, now: float) -> None:
        # a helper, not a loop in _housekeep: its sleeping frame must not keep the last session alive
        for entry in list(self._entries.values()):
            await self._check(entry, now)

    async def _check(self, entry: _Entry, now: float) -> None:
        if entry.closing is not None:
            return
        session, billing = entry.session, entry.billing
        age_s = now - session.created_s
        if session.connected_s is None and age_s > self.settings.live_connect_timeout_s:
            session.request_end("not_connected")  # no offer, or a peer that never answered: stop billing
            return
        if not session.speaking and now - session.last_activity_s > self.settings.live_idle_timeout_s:
            session.request_end("idle")
            return
        if age_s >= billing.allowance_s:
            used_up = PlanMinutesUsedError("this month's live minutes of your plan are used up")
            session.notify(LiveError.of(used_up))
            session.request_end("plan_minutes_used")
            return
        due = math.floor(age_s / self.accounting.period_s) + 1
        while billing.periods_charged < due:
            try:
                await self.accounting.charge_period(session.id, billing.user_id, billing.periods_charged + 1, age_s)
            except PaymentRequiredError as error:
                session.notify(LiveError.of(error))
                session.request_end("credits")
                return
            except SQLAlchemyError:
                log.exception("live session %s: cannot charge its credits; will retry", session.id)
                return
            billing.periods_charged += 1

    def _report_open(self) -> None:
        if self.metrics.set_open_sessions is not None:
            self.metrics.set_open_sessions(len(self._entries))
