"""Short-lived signed download URLs: ``/v1/files/<key>?expires=<unix s>&sig=<hex>``.

The signature is HMAC-SHA256 (``NEURA_SECRET_KEY``) over the key and the expiry, so a URL works for one
object until it expires, for whoever holds it (no auth header: a browser's ``<video src>`` can use it),
and any change to the key or the expiry breaks it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import quote

from neura.config import Settings
from neura.errors import ForbiddenError
from neura.security import sign, signature_matches

FILES_PATH = "/v1/files/"


def _message(key: str, expires: int) -> str:
    return f"neura-download\n{key}\n{expires}"


def signed_url(settings: Settings, key: str, *, now_s: float | None = None) -> tuple[str, datetime]:
    """The URL of ``key`` and when it expires (``download_url_ttl_s`` from now)."""
    expires = int(now_s if now_s is not None else time.time()) + settings.download_url_ttl_s
    query = f"expires={expires}&sig={sign(settings.secret_key, _message(key, expires))}"
    url = f"{settings.public_base_url.rstrip('/')}{FILES_PATH}{quote(key)}?{query}"
    return url, datetime.fromtimestamp(expires, UTC)


def check_signature(settings: Settings, key: str, expires: int | None, sig: str | None) -> None:
    """ForbiddenError unless ``sig`` signs ``key`` and ``expires``, and ``expires`` is in the future."""
    if expires is None or not sig:
        raise ForbiddenError("this download link is not signed", hint="get a fresh link from /v1/videos/{id}/download")
    if not signature_matches(settings.secret_key, _message(key, expires), sig):
        raise ForbiddenError("this download link is not valid", hint="get a fresh link from /v1/videos/{id}/download")
    if expires < time.time():
        raise ForbiddenError("this download link has expired", hint="get a fresh link from /v1/videos/{id}/download")
