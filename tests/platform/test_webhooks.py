"""Webhooks: registration, refusal of URLs NEURA must not call, and signed deliveries retried through
the queue by a real worker (the receiver fails the first attempt)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from neura.config import Settings
from neura.jobs.webhooks import WebhookURLError, check_url, destination
from neura.security import signature_matches
from tests.platform import users
from tests.platform.videos import submit, wait_for
from tests.platform.workers import WorkerProcess, clear_queues


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers ``statuses`` in turn (then 200)."""

    statuses: list[int]
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def wait_for(self, count: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"only {len(self.requests)} of {count} deliveries arrived"
            time.sleep(0.1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received = Receiver(statuses=[500])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.requests.append((dict(self.headers.items()), body))
            self.send_response(received.statuses.pop(0) if received.statuses else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def worker(platform_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    clear_queues(platform_settings)
    process = WorkerProcess(platform_settings, tmp_path_factory.mktemp("webhooks") / "worker.log").start()
    yield process
    process.stop()


def verify(secret: str, headers: dict[str, str], body: bytes) -> None:
    parts = dict(item.split("=", 1) for item in headers["X-Neura-Signature"].split(","))
    assert abs(int(parts["t"]) - time.time()) < 120
    assert signature_matches(secret, f"{parts['t']}.{body.decode()}", parts["v1"])


def test_create_list_get_delete(client: httpx.Client) -> None:
    user = users.signup(client)
    created = client.post("/v1/webhooks", json={"url": "https://93.184.215.14/hook"}, headers=user.headers)
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["video.completed", "video.failed"]
    listed = client.get("/v1/webhooks", headers=user.headers).json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert "secret" not in client.get(f"/v1/webhooks/{hook['id']}", headers=user.headers).json()
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=user.headers).status_code == 204
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=user.headers).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/hook"},
        {"url": "file:///etc/passwd"},
        {"url": "https://user:pw@example.com/hook"},
        {"url": "https://example.com/hook", "events": ["video.exploded"]},
        {"url": "https://example.com/hook", "events": []},
        {"url": "http://[::1/hook"},  # unparseable: once a 500
        {"url": "http://exa mple.com/hook"},
        {"url": "https://example.com/\nhook"},
        {"url": "https://-bad-.example.com/hook"},
    ],
)
def test_bad_webhooks_are_422(client: httpx.Client, body: dict[str, Any]) -> None:
    user = users.signup(client)
    response = client.post("/v1/webhooks", json=body, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in ("webhook_url", "invalid_request")


REFUSED_EVERYWHERE = [
    "http://10.1.2.3/hook",
    "http://172.16.5.4/hook",
    "http://192.168.0.10/hook",
    "http://169.254.169.254/latest/meta-data",  # AWS, GCP, Azure metadata
    "http://169.254.170.2/v2/credentials",  # ECS task credentials
    "http://[fd00:ec2::254]/latest/meta-data",  # AWS metadata over IPv6
    "http://metadata.google.internal/computeMetadata/v1/",  # refused by name, never resolved
    "http://metadata.goog/",
    "http://100.100.100.200/latest/meta-data",  # Alibaba metadata (shared address space)
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://198.18.0.1/hook",  # benchmarking
    "http://240.0.0.1/hook",  # reserved
    "http://[2002:a00:1::]/hook",  # 6to4 around 10.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 around 169.254.169.254
    "http://[::ffff:10.0.0.1]/hook",
]
LOOPBACK = [
    "http://127.0.0.1/hook",
    "http://localhost:8080/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as one number
    "http://127.1/hook",
]


@pytest.mark.parametrize("env", ["local", "test", "staging", "production"])
@pytest.mark.parametrize("url", REFUSED_EVERYWHERE + LOOPBACK)
def test_private_metadata_and_loopback_addresses_are_refused_in_every_environment(env: str, url: str) -> None:
    """Refused before any connection (only numeric addresses and /etc/hosts names are looked up)."""
    with pytest.raises(WebhookURLError, match="which NEURA does not call"):
        asyncio.run(check_url(url, Settings(_env_file=None, ENV=env)))  # type: ignore[call-arg]


@pytest.mark.parametrize("env", ["local", "test"])
def test_loopback_is_allowed_only_when_a_local_setting_says_so(env: str) -> None:
    settings = Settings(_env_file=None, ENV=env, WEBHOOK_ALLOW_LOOPBACK=True)  # type: ignore[call-arg]
    for url in LOOPBACK:
        assert asyncio.run(check_url(url, settings)) == url
    for url in REFUSED_EVERYWHERE:  # the setting opens loopback only
        with pytest.raises(WebhookURLError):
            asyncio.run(check_url(url, settings))


def test_the_loopback_setting_stops_a_production_service() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, ENV="production", NEURA_SECRET_KEY="x" * 40, POSTGRES_PASSWORD="pw", WEBHOOK_ALLOW_LOOPBACK=True
    )
    with pytest.raises(ValueError, match="WEBHOOK_ALLOW_LOOPBACK"):
        settings.check_production_secrets()
    with pytest.raises(WebhookURLError):  # and even if it started, loopback stays refused outside local/test
        asyncio.run(check_url("http://127.0.0.1/hook", settings))


def test_public_addresses_are_allowed_in_production() -> None:
    production = Settings(ENV="production")
    assert asyncio.run(check_url("https://93.184.215.14/hook", production))
    assert asyncio.run(check_url("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook", production))


def test_a_delivery_to_a_name_rebound_to_metadata_is_refused_in_local_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """ENV=local once turned the check off: a webhook to the metadata address was delivered."""

    async def getaddrinfo(self: Any, host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(2, 1, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    with pytest.raises(WebhookURLError, match="link-local"):
        asyncio.run(destination("https://hooks.example.com/neura", Settings(_env_file=None, ENV="local")))  # type: ignore[call-arg]


def test_a_delivery_connects_to_the_addresses_it_vetted(monkeypatch: pytest.MonkeyPatch) -> None:
    """One lookup per delivery, and the request goes to that lookup's addresses: a name rebound to a
    private address after the check (DNS rebinding) is never looked up again."""
    answers = [["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"], ["127.0.0.1"]]
    lookups: list[str] = []

    async def getaddrinfo(self: Any, host: str, port: int, **kwargs: Any) -> list[Any]:
        lookups.append(host)
        family = {True: 10, False: 2}
        return [(family[":" in a], 1, 6, "", (a, port)) for a in answers[len(lookups) - 1]]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    production = Settings(ENV="production")
    target = asyncio.run(destination("https://hooks.example.com:8443/neura?x=1", production))
    assert lookups == ["hooks.example.com"]
    assert target.urls == [
        "https://93.184.215.14:8443/neura?x=1",
        "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8443/neura?x=1",
    ]
    assert target.host == "hooks.example.com:8443"
    assert target.extensions == {"sni_hostname": "hooks.example.com"}  # TLS checks the certificate's name
    with pytest.raises(WebhookURLError, match="loopback"):  # the rebound answer, at the next delivery
        asyncio.run(destination("https://hooks.example.com:8443/neura", production))


def test_completed_video_is_delivered_signed_and_retried(
    client: httpx.Client, worker: WorkerProcess, receiver: Receiver
) -> None:
    user = users.signup(client)
    hook = client.post("/v1/webhooks", json={"url": receiver.url}, headers=user.headers).json()
    video = submit(client, user)
    assert wait_for(client, user, video["id"])["status"] == "succeeded"
    receiver.wait_for(2)  # the first attempt got a 500; the retry comes about 2 s later
    for headers, body in receiver.requests:
        verify(hook["secret"], headers, body)
        assert headers["X-Neura-Event"] == "video.completed"
    first, second = (json.loads(body) for _, body in receiver.requests)
    assert first == second, "a retry must send the same event"
    assert first["type"] == "video.completed" and first["data"]["video"]["id"] == video["id"]
    assert first["data"]["video"]["status"] == "succeeded"
    deliveries = wait_for_delivery(client, user, hook["id"], "delivered")
    assert deliveries[0]["attempts"] == 2 and deliveries[0]["last_error"] is None


def test_cancelled_video_is_delivered_to_subscribers_only(
    client: httpx.Client, worker: WorkerProcess, receiver: Receiver
) -> None:
    receiver.statuses.clear()
    user = users.signup(client)
    hook = client.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["video.cancelled"]}, headers=user.headers
    ).json()
    other = client.post("/v1/webhooks", json={"url": receiver.url + "/completed-only"}, headers=user.headers).json()
    video = submit(client, user, script="Hello. " * 40)
    client.post(f"/v1/videos/{video['id']}/cancel", headers=user.headers)
    receiver.wait_for(1)
    headers, body = receiver.requests[0]
    verify(hook["secret"], headers, body)
    assert json.loads(body)["type"] == "video.cancelled"
    time.sleep(1.0)
    assert len(receiver.requests) == 1
    assert client.get(f"/v1/webhooks/{other['id']}/deliveries", headers=user.headers).json()["items"] == []


def wait_for_delivery(
    client: httpx.Client, user: users.TestUser, hook_id: str, status: str, timeout_s: float = 10.0
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        items: list[dict[str, Any]] = client.get(f"/v1/webhooks/{hook_id}/deliveries", headers=user.headers).json()[
            "items"
        ]
        if items and items[0]["status"] == status:
            return items
        assert time.monotonic() < deadline, f"deliveries: {items}"
        time.sleep(0.2)


def test_an_international_host_name_is_sent_in_its_ascii_form(monkeypatch: pytest.MonkeyPatch) -> None:
    async def getaddrinfo(self: Any, host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(2, 1, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    target = asyncio.run(destination("https://bücher.example/hook", Settings(ENV="production")))
    assert target.urls == ["https://93.184.215.14/hook"]
    assert target.host == "xn--bcher-kva.example"
    assert target.extensions == {"sni_hostname": "xn--bcher-kva.example"}
