"""Object storage (local filesystem by default, S3-compatible in production)."""

from __future__ import annotations

from neura.config import Settings
from neura.storage.base import ObjectInfo, Storage, check_key, exists
from neura.storage.local import LocalStorage


def create_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        from neura.storage.s3 import S3Storage

        return S3Storage.from_settings(settings)
    return LocalStorage(settings.storage_dir)


__all__ = ["LocalStorage", "ObjectInfo", "Storage", "check_key", "create_storage", "exists"]
