"""S3-compatible object storage (AWS S3, MinIO, Ceph RGW, ...) through boto3.

boto3 blocks, so every call runs in a worker thread (``asyncio.to_thread``); the client is thread-safe
and shared. The bucket is created on first use when it is missing. Files at or above
``multipart_threshold_bytes`` are uploaded (and downloaded) in parallel parts by boto3's transfer
manager. Errors become :class:`NotFoundError` (missing object) or :class:`StorageError` (everything
else: unreachable, denied, full).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from neura.config import Settings
from neura.errors import NotFoundError, StorageError
from neura.storage.base import ObjectInfo, check_key, object_name

T = TypeVar("T")

MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024
_DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_missing(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return _error_code(exc) in ("404", "NoSuchKey", "NotFound") or (
        status == 404 and _error_code(exc) != "NoSuchBucket"
    )


@contextmanager
def _translated(key: str, action: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if _is_missing(exc):
            raise NotFoundError(f"object {key} not found") from None
        raise StorageError(f"object storage cannot {action} {object_name(key)}: {_error_code(exc) or exc}") from exc
    except (BotoCoreError, Boto3Error, OSError) as exc:
        raise StorageError(f"object storage cannot {action} {object_name(key)}: {exc}") from exc


class S3Storage:
    name = "s3"

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        region: str = "us-east-1",
        multipart_threshold_bytes: int = MULTIPART_THRESHOLD_BYTES,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.region = region
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold_bytes,
            multipart_chunksize=max(5 * 1024 * 1024, multipart_threshold_bytes),  # S3's minimum part is 5 MiB
            max_concurrency=4,
        )
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        """A client for ``S3_ENDPOINT_URL`` (empty: AWS) with the configured bucket, keys and region.
        Empty keys fall back to boto3's own credential chain (instance roles)."""
        config = Config(
            region_name=settings.s3_region,
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
        )
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key or None,
            config=config,
        )
        return cls(client, settings.s3_bucket, region=settings.s3_region)

    # --- plumbing: everything below runs boto3 in a worker thread

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._bucket_lock, _translated(self.bucket, "open the bucket"):
            if self._bucket_ready:
                return
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if not _is_missing(exc) and _error_code(exc) != "NoSuchBucket":
                    raise
                extra = {} if self.region == "us-east-1" else {"LocationConstraint": self.region}
                try:
                    self.client.create_bucket(
                        Bucket=self.bucket, **({"CreateBucketConfiguration": extra} if extra else {})
                    )
                except ClientError as create_exc:
                    if _error_code(create_exc) != "BucketAlreadyOwnedByYou":
                        raise
            self._bucket_ready = True

    async def _run(self, key: str, action: str, call: Callable[..., T], /, **kwargs: Any) -> T:
        def run() -> T:
            self._ensure_bucket()
            with _translated(key, action):
                return call(**kwargs)

        return await asyncio.to_thread(run)

    # --- the Storage protocol

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await self._run(
            key,
            "store",
            self.client.put_object,
            Bucket=self.bucket,
            Key=check_key(key),
            Body=data,
            ContentType=content_type,
        )

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await self._run(
            key,
            "store",
            self.client.upload_file,
            Filename=str(path),
            Bucket=self.bucket,
            Key=check_key(key),
            ExtraArgs={"ContentType": content_type},
            Config=self.transfer,
        )

    async def get_bytes(self, key: str) -> bytes:
        def read() -> bytes:
            response = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
            with response["Body"] as body:
                return bytes(body.read())

        return await self._run(key, "read", read)

    async def get_to_file(self, key: str, path: Path) -> None:
        await self._run(
            key,
            "read",
            self.client.download_file,
            Bucket=self.bucket,
            Key=check_key(key),
            Filename=str(path),
            Config=self.transfer,
        )

    async def stat(self, key: str) -> ObjectInfo:
        head = await self._run(key, "read", self.client.head_object, Bucket=self.bucket, Key=check_key(key))
        return ObjectInfo(key, int(head["ContentLength"]), str(head.get("ContentType") or "application/octet-stream"))

    async def iter_range(self, key: str, start: int, end: int, chunk_bytes: int = 256 * 1024) -> AsyncIterator[bytes]:
        def open_range() -> Any:
            try:
                return self.client.get_object(Bucket=self.bucket, Key=check_key(key), Range=f"bytes={start}-{end}")[
                    "Body"
                ]
            except ClientError as exc:
                if _error_code(exc) == "InvalidRange":  # starts past the end: nothing to send
                    return None
                raise

        body = await self._run(key, "read", open_range)
        if body is None:
            return
        try:
            while True:
                block = await self._run(key, "read", body.read, amt=chunk_bytes)
                if not block:
                    break
                yield bytes(block)
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await self._run(key, "delete", self.client.delete_object, Bucket=self.bucket, Key=check_key(key))

    async def delete_prefix(self, prefix: str) -> int:
        folder = check_key(prefix.rstrip("/")) + "/"

        def delete_all() -> int:
            deleted = 0
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder)
            for page in pages:
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                for i in range(0, len(keys), _DELETE_BATCH):
                    batch = keys[i : i + _DELETE_BATCH]
                    result = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
                    if result.get("Errors"):
                        first = result["Errors"][0]
                        raise StorageError(f"cannot delete {first.get('Key')}: {first.get('Code')}")
                    deleted += len(batch)
            return deleted

        return await self._run(folder, "delete", delete_all)

    async def check(self) -> None:
        await self._run(self.bucket, "reach", self.client.head_bucket, Bucket=self.bucket)
