"""One contract, every storage backend: LocalStorage and S3Storage (against moto's S3 server on loopback)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from neura.config import Settings
from neura.errors import NotFoundError, StorageError
from neura.storage import LocalStorage, Storage, create_storage
from neura.storage.s3 import S3Storage
from tests.servers import free_port

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3 server (the S3 REST protocol over HTTP) on a loopback port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_settings(endpoint: str, bucket: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        ENV="test",
        STORAGE_BACKEND="s3",
        S3_ENDPOINT_URL=endpoint,
        S3_BUCKET=bucket,
        S3_ACCESS_KEY_ID="test-key",
        S3_SECRET_ACCESS_KEY="test-secret",
        S3_REGION="us-east-1",
    )


@pytest.fixture(scope="module")
def s3_client(s3_endpoint: str) -> Any:
    """One boto3 client for the module (making one takes about a second)."""
    return S3Storage.from_settings(s3_settings(s3_endpoint, "unused")).client


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "objects")
        return
    # a fresh bucket per test; multipart from 5 MiB, so that the big-file case goes in parts
    client = request.getfixturevalue("s3_client")
    yield S3Storage(client, f"neura-{uuid.uuid4().hex[:12]}", multipart_threshold_bytes=5 * MiB)


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def test_bytes_round_trip_with_content_type(storage: Storage) -> None:
    await storage.put_bytes("users/u1/a/preview.jpg", b"\xff\xd8jpeg bytes", "image/jpeg")
    assert await storage.get_bytes("users/u1/a/preview.jpg") == b"\xff\xd8jpeg bytes"
    info = await storage.stat("users/u1/a/preview.jpg")
    assert (info.key, info.size_bytes, info.content_type) == ("users/u1/a/preview.jpg", 12, "image/jpeg")


async def test_put_replaces_an_existing_object(storage: Storage) -> None:
    await storage.put_bytes("k/v.txt", b"first", "text/plain")
    await storage.put_bytes("k/v.txt", b"second, longer", "text/plain")
    assert await storage.get_bytes("k/v.txt") == b"second, longer"
    assert (await storage.stat("k/v.txt")).size_bytes == 14


async def test_missing_objects_are_not_found(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        await storage.get_bytes("nothing/here.bin")
    with pytest.raises(NotFoundError):
        await storage.stat("nothing/here.bin")
    with pytest.raises(NotFoundError):
        await storage.get_to_file("nothing/here.bin", tmp_path / "out.bin")
    with pytest.raises(NotFoundError):
        await collect(storage.iter_range("nothing/here.bin", 0, 10))


async def test_big_file_round_trip(storage: Storage, tmp_path: Path) -> None:
    """12 MiB: S3Storage uploads it in three parts (multipart), LocalStorage copies it."""
    source = tmp_path / "big.bin"
    payload = os.urandom(12 * MiB + 123)
    source.write_bytes(payload)
    await storage.put_file("users/u1/videos/v1/video.mp4", source, "video/mp4")
    info = await storage.stat("users/u1/videos/v1/video.mp4")
    assert (info.size_bytes, info.content_type) == (len(payload), "video/mp4")
    target = tmp_path / "copy.bin"
    await storage.get_to_file("users/u1/videos/v1/video.mp4", target)
    assert target.read_bytes() == payload


async def test_ranges_are_inclusive_and_clipped_to_the_object(storage: Storage) -> None:
    data = bytes(range(256)) * 40  # 10,240 bytes
    await storage.put_bytes("r/data.bin", data, "application/octet-stream")
    assert await collect(storage.iter_range("r/data.bin", 0, 0)) == data[:1]
    assert await collect(storage.iter_range("r/data.bin", 100, 5000, chunk_bytes=1000)) == data[100:5001]
    assert await collect(storage.iter_range("r/data.bin", 10_000, 99_999)) == data[10_000:]
    assert await collect(storage.iter_range("r/data.bin", 20_000, 30_000)) == b""
    chunks = [chunk async for chunk in storage.iter_range("r/data.bin", 0, len(data) - 1, chunk_bytes=4096)]
    assert b"".join(chunks) == data and max(len(c) for c in chunks) <= 4096


async def test_delete_is_idempotent(storage: Storage) -> None:
    await storage.put_bytes("d/x.txt", b"x", "text/plain")
    await storage.delete("d/x.txt")
    await storage.delete("d/x.txt")
    with pytest.raises(NotFoundError):
        await storage.stat("d/x.txt")


async def test_delete_prefix_removes_only_that_folder(storage: Storage) -> None:
    for key in ("users/a/avatars/1/original.jpg", "users/a/avatars/1/rig-512.npz", "users/a/avatars/1/x/y.bin"):
        await storage.put_bytes(key, b"1", "application/octet-stream")
    await storage.put_bytes("users/a/avatars/10/original.jpg", b"keep", "image/jpeg")  # shares the string prefix
    assert await storage.delete_prefix("users/a/avatars/1/") == 3
    assert await storage.get_bytes("users/a/avatars/10/original.jpg") == b"keep"
    with pytest.raises(NotFoundError):
        await storage.stat("users/a/avatars/1/original.jpg")
    assert await storage.delete_prefix("users/a/avatars/1") == 0
    assert await storage.delete_prefix("users/nobody") == 0


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a//b", "a/../../b", "", "a/b/", ".hidden"])
async def test_unsafe_keys_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(StorageError):
        await storage.put_bytes(key, b"x", "text/plain")


async def test_check_passes_when_reachable(storage: Storage) -> None:
    await storage.check()


# --- S3-only behaviour


async def test_s3_creates_its_bucket_on_first_use(s3_endpoint: str) -> None:
    bucket = f"fresh-{uuid.uuid4().hex[:12]}"
    storage = create_storage(s3_settings(s3_endpoint, bucket))
    assert isinstance(storage, S3Storage)
    await storage.put_bytes("hello.txt", b"hi", "text/plain")
    assert bucket in [b["Name"] for b in storage.client.list_buckets()["Buckets"]]
    again = S3Storage.from_settings(s3_settings(s3_endpoint, bucket))  # existing bucket: used as it is
    assert await again.get_bytes("hello.txt") == b"hi"


async def test_s3_unreachable_is_a_storage_error() -> None:
    storage = S3Storage.from_settings(s3_settings(f"http://127.0.0.1:{free_port()}", "nowhere"))
    storage.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(StorageError):
        await storage.check()
