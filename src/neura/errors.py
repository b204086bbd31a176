"""Typed domain errors.

Every error a user can cause or fix is a :class:`NeuraError` with a message written for that user and
a ``hint`` that says what to do. The CLI maps them to exit codes and the gateway to HTTP statuses, each
in one place; engines only raise.

A hint is written for every surface alike: it names settings (``GEMINI_API_KEY``) and what to do ("give
the script yourself"), never a command-line flag, because the same error reaches API clients. Where a
request field would fix it, the error names that field in ``fields`` (as the API and
:class:`~neura.pipeline.RenderRequest` call it: ``script``, ``duration_s``, ``llm``...) with a suggested
value, and the CLI shows its own flag for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class NeuraError(Exception):
    """Base of every expected failure. ``exit_code`` follows sysexits(3) where one fits."""

    exit_code = 1
    http_status = 500

    def __init__(
        self, message: str, *, hint: str | None = None, fields: Mapping[str, str | None] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.fields: dict[str, str | None] = dict(fields or {})  # request field -> suggested value (or None)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"

    @property
    def http_headers(self) -> dict[str, str]:
        """Headers the gateway adds to this error's response (e.g. Retry-After)."""
        return {}


class InputError(NeuraError):
    """The user's input cannot be used (bad text, bad option)."""

    exit_code = 65  # EX_DATAERR
    http_status = 422


class ImageError(InputError):
    """The avatar image is unreadable, of an unsupported type, or unusable."""


class NoFaceError(ImageError):
    """No human face was found in the avatar image."""


class FaceTooSmallError(ImageError):
    """The face in the avatar image is too small to animate well."""


class ScriptError(InputError):
    """The script is empty, too long, or malformed."""


class OutputError(NeuraError):
    """The output cannot be written (unwritable path, full disk)."""

    exit_code = 73  # EX_CANTCREAT
    http_status = 507


class EncoderError(OutputError):
    """An encoder process died (killed, out of memory) before the video was finished: nothing was
    written, and another try may succeed (an :class:`OutputError`, so a job retries it)."""


class LLMError(NeuraError):
    """The language model failed or answered with something unusable."""

    exit_code = 69  # EX_UNAVAILABLE
    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        retryable: bool = False,
        fields: Mapping[str, str | None] | None = None,
    ) -> None:
        super().__init__(message, hint=hint, fields=fields)
        self.retryable = retryable


class LLMUnavailableError(LLMError):
    """The language model server cannot be reached or refused our credentials."""

    http_status = 503

    def __init__(
        self, message: str, *, hint: str | None = None, fields: Mapping[str, str | None] | None = None
    ) -> None:
        super().__init__(message, hint=hint, retryable=True, fields=fields)


class LLMOutputError(LLMError):
    """The model answered, but its output stayed unusable after a revision."""

    exit_code = 65
    http_status = 422


class EngineUnavailableError(NeuraError):
    """An engine (TTS voice, model weights) is not installed or cannot be loaded here."""

    exit_code = 69
    http_status = 503


class DatabaseUnavailableError(NeuraError):
    """PostgreSQL cannot be used: unreachable, a missing role or database, a refused password."""

    exit_code = 69  # EX_UNAVAILABLE
    http_status = 503


class CancelledError(NeuraError):
    """The work was cancelled by the user."""

    exit_code = 130
    http_status = 409


# --- platform (gateway) errors: each maps to one HTTP status in neura.gateway.errors


class NotFoundError(NeuraError):
    """The object does not exist, or belongs to someone else (we never say which)."""

    exit_code = 66
    http_status = 404


class AuthError(NeuraError):
    """Missing, expired, revoked or forged credentials."""

    exit_code = 77
    http_status = 401


class ForbiddenError(NeuraError):
    """Authenticated, but this plan or role may not do that."""

    exit_code = 77
    http_status = 403


class ConflictError(NeuraError):
    """The request conflicts with the object's state (e.g. cancelling a finished video)."""

    http_status = 409


class PaymentRequiredError(NeuraError):
    """Too few credits for the request."""

    http_status = 402


class RateLimitedError(NeuraError):
    http_status = 429

    def __init__(self, message: str, *, retry_after_s: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s

    @property
    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class PayloadTooLargeError(InputError):
    http_status = 413


class UnsupportedMediaTypeError(InputError):
    http_status = 415


class InvalidMessageError(InputError):
    """A realtime message (data channel, WebSocket) that is not one the protocol knows."""


class IdleTimeoutError(NeuraError):
    """A realtime connection sent nothing for too long."""

    http_status = 408


class BusyError(RateLimitedError):
    """The same work is under way for another request and did not finish in time: retry shortly
    (503 with Retry-After rather than 429: the caller asked for nothing too often)."""

    exit_code = 75  # EX_TEMPFAIL
    http_status = 503


class ServiceUnavailableError(RateLimitedError):
    """PostgreSQL or Redis cannot be reached at the moment (a restart, a network cut): retry after
    ``retry_after_s``."""

    exit_code = 75  # EX_TEMPFAIL
    http_status = 503


class NoCapacityError(BusyError):
    """No worker or media process that is up now can run this request (its engine, its voice): 503
    with Retry-After, since one may start (or finish draining) shortly."""


class StorageError(NeuraError):
    """Object storage failed (unreachable, full, denied)."""

    exit_code = 74
    http_status = 503


# --- how an error reads on the wire: the same code, message and hint on every channel (HTTP bodies,
# WebSocket error messages and close codes, the live data channel)


def error_code(exc: BaseException) -> str:
    """``PaymentRequiredError`` -> ``payment_required``."""
    name = type(exc).__name__.removesuffix("Error") or "error"
    # a word starts at a capital after a lower-case letter or digit, or at the last capital of an
    # acronym before a lower-case letter: WebhookURL -> webhook_url, LLMUnavailable -> llm_unavailable
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


class WireError(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # always sent: required

    code: str = Field(description="a stable word for the error: auth, not_found, payment_required, ...")
    message: str = Field(description="what went wrong, for a person")
    hint: str | None = Field(description="what to do about it; null when there is nothing more to say")


def wire_error(exc: BaseException) -> tuple[WireError, int]:
    """The one translation of an error for clients: its code, message and hint, and its HTTP status.
    Anything but a :class:`NeuraError` is a bug: "internal", 500, and nothing of its text leaks."""
    if isinstance(exc, NeuraError):
        return WireError(code=error_code(exc), message=exc.message, hint=exc.hint or None), exc.http_status
    hint = "this is NEURA's fault, not yours: retry later, and report the request_id if it persists"
    return WireError(code="internal", message="internal server error", hint=hint), 500
