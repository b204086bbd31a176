"""Signed downloads and HTTP Range requests on /v1/files (objects written straight to storage; the
download of a rendered video is in test_worker.py)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from neura.config import Settings
from neura.gateway.signed_urls import signed_url
from neura.storage import LocalStorage

KEY = "users/00000000-0000-0000-0000-000000000001/videos/00000000-0000-0000-0000-000000000002/r1/video.mp4"
DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture(scope="module")
def path(platform_settings: Settings) -> str:
    asyncio.run(LocalStorage(platform_settings.storage_dir).put_bytes(KEY, DATA, "video/mp4"))
    url, _ = signed_url(platform_settings, KEY)
    return httpx.URL(url).raw_path.decode()


def test_whole_file_without_credentials(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-length"] == str(len(DATA))


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),  # the first bytes
        ("bytes=-50", len(DATA) - 50, len(DATA) - 1),  # a suffix
        ("bytes=10000-", 10000, len(DATA) - 1),  # open-ended
        ("bytes=10200-99999", 10200, len(DATA) - 1),  # clipped to the end
        ("bytes=-999999", 0, len(DATA) - 1),  # a suffix longer than the file
    ],
)
def test_ranges_are_206_with_content_range(client: httpx.Client, path: str, header: str, start: int, end: int) -> None:
    response = client.get(path, headers={"Range": header})
    assert response.status_code == 206, response.text
    assert response.content == DATA[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response.headers["content-length"] == str(end - start + 1)


@pytest.mark.parametrize("header", [f"bytes={len(DATA)}-", "bytes=20000-20010", "bytes=50-10", "bytes=-0", "bytes=x-y"])
def test_unsatisfiable_ranges_are_416(client: httpx.Client, path: str, header: str) -> None:
    response = client.get(path, headers={"Range": header})
    assert response.status_code == 416, response.text
    assert response.json()["error"]["code"] == "range_not_satisfiable"


def test_other_units_and_multiple_ranges_get_the_whole_file(client: httpx.Client, path: str) -> None:
    assert client.get(path, headers={"Range": "items=0-1"}).status_code == 200
    assert client.get(path, headers={"Range": "bytes=0-1,5-6"}).status_code == 200


def test_tampered_signature_is_403(client: httpx.Client, path: str) -> None:
    url = httpx.URL(path)
    sig = url.params["sig"]
    forged = url.copy_set_param("sig", ("0" if sig[0] != "0" else "1") + sig[1:])
    response = client.get(str(forged))
    assert response.status_code == 403 and "not valid" in response.json()["error"]["message"]


def test_another_key_with_the_same_signature_is_403(client: httpx.Client, path: str) -> None:
    response = client.get(path.replace("video.mp4", "video.json"))
    assert response.status_code == 403


def test_a_later_expiry_is_403(client: httpx.Client, path: str) -> None:
    url = httpx.URL(path)
    response = client.get(str(url.copy_set_param("expires", str(int(url.params["expires"]) + 3600))))
    assert response.status_code == 403


def test_expired_link_is_403(client: httpx.Client, platform_settings: Settings) -> None:
    url, expires_at = signed_url(platform_settings, KEY, now_s=time.time() - platform_settings.download_url_ttl_s - 5)
    assert expires_at.timestamp() < time.time()
    response = client.get(httpx.URL(url).raw_path.decode())
    assert response.status_code == 403 and "expired" in response.json()["error"]["message"]


def test_unsigned_link_is_403(client: httpx.Client) -> None:
    assert client.get(f"/v1/files/{KEY}").status_code == 403


def test_a_signed_link_to_a_missing_object_is_404(client: httpx.Client, platform_settings: Settings) -> None:
    url, _ = signed_url(platform_settings, KEY.replace("r1", "r9"))
    assert client.get(httpx.URL(url).raw_path.decode()).status_code == 404


@pytest.mark.parametrize("sig", ["é" * 64, "\u00e9", "\U0001f642", "%ED%A0%80", "ab\u00ff"])
def test_a_signature_that_is_not_ascii_is_403(client: httpx.Client, path: str, sig: str) -> None:
    url = httpx.URL(path).copy_set_param("sig", sig)
    response = client.get(str(url))
    assert response.status_code == 403, response.text
    assert "not valid" in response.json()["error"]["message"]


def test_a_nul_in_the_key_or_signature_is_refused(client: httpx.Client, path: str) -> None:
    url = httpx.URL(path)
    assert client.get(str(url.copy_set_param("sig", "\x00"))).status_code == 422
    response = client.get(f"/v1/files/a%00b?expires={url.params['expires']}&sig={url.params['sig']}")
    assert response.status_code == 422 and "key: must not contain" in response.json()["error"]["message"]
