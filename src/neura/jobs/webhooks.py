"""Webhooks: who is told when a video finishes, how the request is signed, and how it is delivered.

A delivery is a row in ``webhook_deliveries`` written in the same transaction that finishes the video,
then a ``webhook:<id>`` job. The job POSTs the JSON payload with ``X-Neura-Signature: t=<unix ts>,v1=<hex>``,
the hex being HMAC-SHA256 (key: the webhook's secret) of ``"<ts>.<body>"``; receivers should refuse
timestamps older than a few minutes. A non-2xx answer, a timeout or a refused connection is retried
after :data:`RETRY_DELAYS_S` (through arq's deferred retry); then the delivery is ``failed``.

Webhook URLs come from users, so in every environment a host that is a cloud metadata name or resolves
to a non-public address (private, link-local and cloud metadata, shared/CGNAT, unspecified, multicast,
reserved; IPv4 inside IPv6 judged as IPv4) is refused (server-side request forgery), when the webhook
is created and again before each delivery (the name may resolve elsewhere by then). Loopback is refused
too unless ``WEBHOOK_ALLOW_LOOPBACK=true``, which only ENV=local and ENV=test accept (a receiver on the
developer's own machine). A delivery resolves the name once and connects to the addresses it vetted
(Host header and TLS name unchanged), so the name cannot be rebound to a private address between the
check and the connection. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from arq import Retry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neura import __version__
from neura.config import Settings
from neura.db.models import Video, Webhook, WebhookDelivery
from neura.errors import InputError
from neura.security import sign

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

EVENTS = ("video.completed", "video.failed", "video.cancelled")
EVENT_FOR_STATUS = {"succeeded": "video.completed", "failed": "video.failed", "cancelled": "video.cancelled"}
RETRY_DELAYS_S = (2, 10, 60, 300, 1800, 7200)  # after attempts 1..6; the 7th failure is final
MAX_ATTEMPTS = len(RETRY_DELAYS_S) + 1
TIMEOUT_S = 10.0
SIGNATURE_HEADER = "X-Neura-Signature"
MAX_ADDRESSES = 3  # vetted addresses tried in turn when a connection is refused


class WebhookURLError(InputError):
    """The webhook URL cannot be used (scheme, host, or an address we refuse to call)."""


class WebhookHostUnresolved(WebhookURLError):
    """The webhook's host name does not resolve (now: a delivery tries again later)."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={sign(secret, f'{timestamp}.{body.decode()}')}"


METADATA_HOSTS = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
"""Cloud metadata services by name (their addresses, such as 169.254.169.254 and fd00:ec2::254, are
link-local or private and refused as such)."""
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64): it is what gets reached."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool = False) -> str | None:
    """Why NEURA must not send a request to ``address``; None when it may (a public unicast address)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return refusal(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a reserved or shared (carrier-grade NAT) address"
    return None


def allows_loopback(settings: Settings) -> bool:
    """Loopback targets: only with WEBHOOK_ALLOW_LOOPBACK, and only in ENV=local/test (elsewhere the
    setting stops the service from starting)."""
    return settings.webhook_allow_loopback and settings.env in ("local", "test")


_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$"
)


def _parse(url: str) -> tuple[SplitResult, int]:
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise WebhookURLError("the webhook URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL" and the like
        raise WebhookURLError(f"the webhook URL cannot be parsed: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookURLError("a webhook URL must start with https:// (or http://)")
    if not parts.hostname:
        raise WebhookURLError("the webhook URL has no host")
    if parts.username or parts.password:
        raise WebhookURLError("the webhook URL must not contain a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookURLError("the webhook URL has an invalid port") from None
    if _ascii_host(parts.hostname) is None:
        raise WebhookURLError(f"the webhook URL's host '{parts.hostname}' is not a valid host name or address")
    return parts, port


def _ascii_host(host: str) -> str | None:
    """``host`` as it goes on the wire: an IP address as is, a DNS name in its ASCII (IDNA) form
    ("bücher.example" -> "xn--bcher-kva.example"); None when it is neither."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return name if _HOST_NAME.match(name) else None


async def _addresses(parts: SplitResult, port: int, settings: Settings) -> list[str]:
    """The addresses the URL's host resolves to; WebhookURLError if the host is a metadata name or any
    address is one NEURA must not call (see :func:`refusal`)."""
    assert parts.hostname is not None
    name = _ascii_host(parts.hostname)
    if name is not None and name.rstrip(".") in METADATA_HOSTS:
        raise WebhookURLError(
            f"the webhook host {parts.hostname} is a cloud metadata service, which NEURA does not call",
            hint="webhooks must be reachable on the public internet",
        )
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise WebhookHostUnresolved(f"the webhook host {parts.hostname} does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))  # no IPv6 zone ids
    allow_loopback = allows_loopback(settings)
    for address in addresses:
        why = refusal(ipaddress.ip_address(address), allow_loopback=allow_loopback)
        if why is not None:
            raise WebhookURLError(
                f"the webhook host {parts.hostname} resolves to {address}: {why}, which NEURA does not call",
                hint="webhooks must be reachable on the public internet"
                + ("" if allow_loopback else " (local development: WEBHOOK_ALLOW_LOOPBACK=true for 127.0.0.1)"),
            )
    return addresses


async def check_url(url: str, settings: Settings) -> str:
    """The URL if NEURA may call it; WebhookURLError otherwise (when a webhook is registered: its host
    is resolved now, and again at every delivery)."""
    parts, port = _parse(url)
    await _addresses(parts, port, settings)
    return url


@dataclass(frozen=True)
class Destination:
    """A request aimed at addresses vetted once: no second lookup, so a name cannot be rebound to a
    private address between the check and the connection."""

    urls: list[str]  # the URL with its host replaced by each vetted address, in resolver order
    host: str  # the Host header: the URL's own host (and port)
    extensions: dict[str, Any]  # for https: the name for SNI and for checking the certificate


async def destination(url: str, settings: Settings) -> Destination:
    parts, port = _parse(url)
    addresses = await _addresses(parts, port, settings)
    assert parts.hostname is not None
    netloc_port = f":{parts.port}" if parts.port else ""
    urls = []
    for address in addresses[:MAX_ADDRESSES]:
        literal = f"[{address}]" if ":" in address else address
        urls.append(urlunsplit(parts._replace(netloc=literal + netloc_port)))
    name = _ascii_host(parts.hostname)
    assert name is not None  # _parse checked it
    host = (f"[{name}]" if ":" in name else name) + netloc_port
    extensions = {"sni_hostname": name} if parts.scheme == "https" else {}
    return Destination(urls, host, extensions)


async def _post(http: httpx.AsyncClient, target: Destination, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST to the first vetted address that accepts a connection."""
    import httpx  # deliveries run on workers: an API process that records them never imports it

    for index, url in enumerate(target.urls):
        try:
            return await http.post(
                url, content=body, headers={**headers, "Host": target.host}, extensions=target.extensions
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):  # this address does not answer: try the next
            if index == len(target.urls) - 1:
                raise
    raise httpx.ConnectError("the webhook host has no address")


def video_summary(video: Video) -> dict[str, Any]:
    """What webhooks say about a video."""
    return {
        "id": str(video.id),
        "status": video.status,
        "error": video.error,
        "duration_s": video.duration_s,
        "resolution": video.resolution,
        "credits_charged": video.credits_charged,
        "created_at": video.created_at.isoformat() if video.created_at else None,
        "finished_at": video.finished_at.isoformat() if video.finished_at else None,
    }


async def record_deliveries(session: AsyncSession, video: Video) -> list[uuid.UUID]:
    """Write one pending delivery per active webhook of the video's owner subscribed to its outcome.
    Call inside the transaction that finishes the video; enqueue the returned ids after the commit."""
    event = EVENT_FOR_STATUS.get(video.status)
    if event is None:
        return []
    hooks = await session.scalars(select(Webhook).where(Webhook.user_id == video.user_id, Webhook.active.is_(True)))
    ids = []
    for hook in hooks:
        if event not in hook.events:
            continue
        delivery_id = uuid.uuid4()
        payload = {
            "id": str(delivery_id),
            "type": event,
            "created_at": datetime.now(UTC).isoformat(),
            "data": {"video": video_summary(video)},
        }
        session.add(WebhookDelivery(id=delivery_id, webhook_id=hook.id, event=event, payload=payload, attempts=0))
        ids.append(delivery_id)
    await session.flush()
    return ids


async def deliver(sessions: async_sessionmaker[AsyncSession], settings: Settings, delivery_id: uuid.UUID) -> str:
    """One delivery attempt; raises arq's ``Retry`` when another one is due."""
    async with sessions() as session, session.begin():
        row = (
            await session.execute(
                select(WebhookDelivery, Webhook)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.id == delivery_id)
            )
        ).first()
    if row is None:
        return "gone"  # the webhook was deleted
    delivery, hook = row
    if delivery.status != "pending" or not hook.active:
        return delivery.status
    import httpx

    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"NEURA-Webhooks/{__version__}",
        "X-Neura-Event": delivery.event,
        "X-Neura-Delivery": str(delivery.id),
        SIGNATURE_HEADER: signature_header(hook.secret, body, timestamp),
    }
    error: str | None = None
    final = False
    try:
        target = await destination(hook.url, settings)
        # trust_env=False: no proxy from the environment (a proxy would resolve the name itself, and its
        # TLS tunnel would check the certificate against the pinned address instead of the name)
        async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False) as http:
            response = await _post(http, target, body, headers)
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}"
    except WebhookHostUnresolved as exc:
        error = exc.message
    except WebhookURLError as exc:
        error, final = exc.message, True
    except httpx.InvalidURL as exc:
        error, final = f"invalid URL: {exc}", True
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
    attempts = delivery.attempts + 1
    if error is None:
        status = "delivered"
    elif final or attempts >= MAX_ATTEMPTS:
        status = "failed"
    else:
        status = "pending"
    async with sessions() as session, session.begin():
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery.id)
            .values(
                attempts=attempts,
                status=status,
                last_error=error,
                delivered_at=datetime.now(UTC) if status == "delivered" else None,
            )
        )
    if status == "pending":
        delay_s = RETRY_DELAYS_S[attempts - 1]
        log.info("webhook delivery %s failed (%s); retrying in %d s", delivery.id, error, delay_s)
        raise Retry(defer=delay_s)
    if status == "failed":
        log.warning("webhook delivery %s failed for good after %d attempts: %s", delivery.id, attempts, error)
    return status


async def pending_deliveries(session: AsyncSession, grace_s: float, limit: int = 500) -> list[uuid.UUID]:
    """Deliveries still pending after ``grace_s``: re-enqueued by the sweeper (idempotently)."""
    since = datetime.now(UTC) - timedelta(seconds=grace_s)
    rows = await session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.created_at < since)
        .order_by(WebhookDelivery.created_at)
        .limit(limit)
    )
    return list(rows)
