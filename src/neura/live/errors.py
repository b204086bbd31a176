"""Errors of the live mode (the gateway maps them to HTTP statuses with every other NeuraError)."""

from __future__ import annotations

from neura.errors import ForbiddenError, NeuraError


class LiveCapacityError(NeuraError):
    """No gateway instance can take another live session right now."""

    http_status = 503
    exit_code = 69


class LiveRoutingError(NeuraError):
    """The gateway instance that runs a session cannot be reached."""

    http_status = 502
    exit_code = 69


class PlanMinutesUsedError(ForbiddenError):
    """This month's live minutes of the plan are used up."""


class MediaStoppedError(NeuraError):
    """The session's media (the avatar's video) stopped."""

    http_status = 500
