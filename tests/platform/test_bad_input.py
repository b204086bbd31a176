"""The bad-input corpus: hostile or broken requests get the right 4xx, a JSON error body, and store nothing."""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from neura.config import Settings
from neura.security import issue_token
from tests.platform import users
from tests.platform.db import count_rows, fetchval
from tests.platform.photos import gif, png_bomb, portrait, truncated_jpeg


@pytest.fixture(scope="module")
def uploader(gateway_url: str) -> Iterator[users.TestUser]:
    """A user whose every upload in this module must fail: nothing may ever be stored for them."""
    with httpx.Client(base_url=gateway_url, timeout=30.0) as http:
        yield users.signup(http)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["message"] and body["request_id"]
    if code is not None:
        assert body["error"]["code"] == code


def assert_nothing_stored(settings: Settings, database_url: str, user: users.TestUser) -> None:
    assert not (settings.storage_dir / "users" / user.user_id).exists()
    assert fetchval(database_url, "SELECT count(*) FROM avatars WHERE user_id = $1::uuid", user.user_id) == 0


def upload(client: httpx.Client, user: users.TestUser, data: bytes, filename: str = "photo.jpg") -> httpx.Response:
    return client.post("/v1/avatars", files={"file": (filename, data, "image/jpeg")}, headers=user.headers)


# --- uploads


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        pytest.param(b"just some text, not a photo\n" * 10, 415, "unsupported_media_type", id="text-named-jpg"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 415, "unsupported_media_type", id="pdf"),
        pytest.param(gif(), 415, "unsupported_media_type", id="gif"),
        pytest.param(b"", 415, "unsupported_media_type", id="empty"),
        pytest.param(b"\xff\xd8\xff", 422, "image", id="jpeg-magic-only"),
        pytest.param(truncated_jpeg(), 422, "image", id="truncated-jpeg"),
        pytest.param(png_bomb(), 422, "image", id="png-bomb-50000x50000"),
    ],
)
def test_bad_files_are_refused(
    client: httpx.Client,
    uploader: users.TestUser,
    platform_settings: Settings,
    database_url: str,
    data: bytes,
    status: int,
    code: str,
) -> None:
    assert_error(upload(client, uploader, data), status, code)
    assert_nothing_stored(platform_settings, database_url, uploader)


def test_a_form_without_a_file_is_refused(
    client: httpx.Client, uploader: users.TestUser, platform_settings: Settings, database_url: str
) -> None:
    assert_error(client.post("/v1/avatars", data={"name": "x"}, headers=uploader.headers), 422, "invalid_request")
    assert_error(client.post("/v1/avatars", json={"file": "x"}, headers=uploader.headers), 422, "invalid_request")
    assert_nothing_stored(platform_settings, database_url, uploader)


def test_an_oversized_upload_is_refused(
    client: httpx.Client, uploader: users.TestUser, platform_settings: Settings, database_url: str
) -> None:
    too_big = b"\xff\xd8\xff" + b"\0" * platform_settings.max_upload_bytes
    assert_error(upload(client, uploader, too_big), 413, "payload_too_large")
    assert_nothing_stored(platform_settings, database_url, uploader)


def multipart(data: bytes, boundary: str = "neura-test-boundary") -> tuple[bytes, str]:
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_oversized_chunked_upload_is_cut_off(
    client: httpx.Client, uploader: users.TestUser, platform_settings: Settings, database_url: str
) -> None:
    """No Content-Length to check up front: the bytes are counted as they arrive."""
    body, content_type = multipart(b"\xff\xd8\xff" + b"\0" * (platform_settings.max_upload_bytes + 1))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    headers = {**uploader.headers, "Content-Type": content_type}
    try:
        response = client.post("/v1/avatars", content=chunks(), headers=headers)
    except httpx.WriteError:  # the server answered and closed while we were still sending: also a refusal
        pass
    else:
        assert_error(response, 413, "payload_too_large")
    assert_nothing_stored(platform_settings, database_url, uploader)


def raw_request(gateway_url: str, head: bytes, body: bytes) -> bytes:
    """Send bytes as they are (httpx would correct a lying Content-Length) and read the answer."""
    url = urlsplit(gateway_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        with contextlib.suppress(OSError):  # the server may answer and close before taking everything
            sock.sendall(head + body)
        answer = b""
        while b"\r\n" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    return answer


@pytest.mark.parametrize("declared", ["huge", "small"])
def test_a_lying_content_length_is_refused(
    gateway_url: str, uploader: users.TestUser, platform_settings: Settings, database_url: str, declared: str
) -> None:
    body, content_type = multipart(portrait())
    length = platform_settings.max_upload_bytes * 10 if declared == "huge" else len(body) // 4
    head = (
        f"POST /v1/avatars HTTP/1.1\r\nHost: {urlsplit(gateway_url).netloc}\r\n"
        f"Authorization: Bearer {uploader.access_token}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()
    status_line = raw_request(gateway_url, head, body).split(b"\r\n", 1)[0]
    status = int(status_line.split()[1])
    assert status == 413 if declared == "huge" else 400 <= status < 500, status_line
    assert_nothing_stored(platform_settings, database_url, uploader)


# --- credentials


def forged_tokens(settings: Settings, user_id: str) -> dict[str, str]:
    uid = uuid.UUID(user_id)
    header, payload, _ = issue_token(settings.secret_key, uid, "access", 600).split(".")
    unsigned = jwt.encode({"sub": user_id, "typ": "access", "exp": 2**31}, key="", algorithm="none")
    return {
        "expired": issue_token(settings.secret_key, uid, "access", -60),
        "wrong-signature": issue_token("another secret, not ours, long enough to be valid", uid, "access", 600),
        "alg-none": unsigned,
        "signature-stripped": f"{header}.{payload}.",
        "refresh-as-access": issue_token(settings.secret_key, uid, "refresh", 600),
        "unknown-user": issue_token(settings.secret_key, uuid.uuid4(), "access", 600),
        "garbage": "not.a.token",
        "api-key-unknown": "nk_" + "x" * 43,
    }


@pytest.mark.parametrize(
    "kind",
    [
        "expired",
        "wrong-signature",
        "alg-none",
        "signature-stripped",
        "refresh-as-access",
        "unknown-user",
        "garbage",
        "api-key-unknown",
    ],
)
def test_bad_credentials_are_refused_and_store_nothing(
    client: httpx.Client, uploader: users.TestUser, platform_settings: Settings, database_url: str, kind: str
) -> None:
    token = forged_tokens(platform_settings, uploader.user_id)[kind]
    headers = {"Authorization": f"Bearer {token}"}
    assert_error(client.get("/v1/me", headers=headers), 401, "auth")
    response = client.post("/v1/avatars", files={"file": ("me.jpg", portrait(), "image/jpeg")}, headers=headers)
    assert_error(response, 401, "auth")
    assert_error(client.post("/v1/api-keys", json={"name": "x"}, headers=headers), 401, "auth")
    assert_nothing_stored(platform_settings, database_url, uploader)
    assert client.get("/v1/api-keys", headers=uploader.headers).json()["items"] == []


def test_an_expired_token_says_so(client: httpx.Client, uploader: users.TestUser, platform_settings: Settings) -> None:
    token = forged_tokens(platform_settings, uploader.user_id)["expired"]
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert "expired" in response.json()["error"]["message"]


@pytest.mark.parametrize("header", ["Bearer", "Basic dXNlcjpwYXNz", "token", "Bearer a b c"])
def test_malformed_authorization_headers_are_refused(client: httpx.Client, header: str) -> None:
    assert_error(client.get("/v1/me", headers={"Authorization": header}), 401, "auth")


# --- JSON bodies and ids


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        pytest.param(
            b'{"email": "a@example.com", "password": ', "application/json", 400, "invalid_json", id="truncated-json"
        ),
        pytest.param(b"\xff\xfe\x00garbage", "application/json", 400, "invalid_json", id="not-utf8"),
        pytest.param(b"[1, 2, 3]", "application/json", 422, "invalid_request", id="array"),
        pytest.param(b'"just a string"', "application/json", 422, "invalid_request", id="string"),
        pytest.param(b"", "application/json", 422, "invalid_request", id="empty"),
        pytest.param(
            b"email=a@example.com", "application/x-www-form-urlencoded", 415, "unsupported_media_type", id="form"
        ),
    ],
)
def test_a_body_that_is_not_the_json_asked_for_says_so(
    client: httpx.Client, database_url: str, content: bytes, content_type: str, status: int, code: str
) -> None:
    """Not JSON at all: 400; JSON of the wrong shape: 422; another media type: 415. Nothing is stored."""
    users_before = count_rows(database_url, "users")
    response = client.post("/v1/auth/signup", content=content, headers={"Content-Type": content_type})
    assert_error(response, status, code)
    assert response.json()["error"]["hint"], "every error here says what to do instead"
    assert count_rows(database_url, "users") == users_before


def test_a_json_body_over_the_limit_is_413(client: httpx.Client, platform_settings: Settings) -> None:
    body = b'{"email": "a@example.com", "password": "' + b"x" * platform_settings.max_body_bytes + b'"}'
    response = client.post("/v1/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/avatars/{id}"), ("GET", "/v1/avatars/{id}/preview"), ("DELETE", "/v1/avatars/{id}"),
     ("DELETE", "/v1/api-keys/{id}")],
)  # fmt: skip
def test_unknown_and_malformed_ids(client: httpx.Client, uploader: users.TestUser, method: str, path: str) -> None:
    unknown = client.request(method, path.format(id=uuid.uuid4()), headers=uploader.headers)
    assert_error(unknown, 404, "not_found")
    for bad in ("123", "not-a-uuid", "00000000-0000-0000-0000-00000000000g", "%20"):
        assert_error(client.request(method, path.format(id=bad), headers=uploader.headers), 422, "invalid_request")
