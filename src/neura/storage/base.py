"""Object storage: one interface, a local-filesystem backend (default) and an S3-compatible one.

Keys are relative POSIX paths made by NEURA itself (``users/<uuid>/videos/<uuid>/video.mp4``); a key
never comes from user input unchecked (:func:`check_key`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from neura.errors import NotFoundError, StorageError

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/") or len(key) > 500:
        raise StorageError(f"invalid storage key: {key!r}")
    return key


def object_name(key: str) -> str:
    """The last part of a key (``video.mp4``): what an error message names, since it may reach the
    user, who has no use for (and should not see) the layout of the storage."""
    return key.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size_bytes: int
    content_type: str


class Storage(Protocol):
    name: str

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...
    async def put_file(self, key: str, path: Path, content_type: str) -> None: ...
    async def get_bytes(self, key: str) -> bytes: ...
    async def get_to_file(self, key: str, path: Path) -> None: ...
    async def stat(self, key: str) -> ObjectInfo: ...  # NotFoundError when absent
    def iter_range(self, key: str, start: int, end: int, chunk_bytes: int = 256 * 1024) -> AsyncIterator[bytes]:
        """Bytes ``start``..``end`` inclusive, streamed."""
        ...

    async def delete(self, key: str) -> None: ...  # absent keys are fine
    async def delete_prefix(self, prefix: str) -> int: ...
    async def check(self) -> None: ...  # raises when unreachable (readiness)


async def exists(storage: Storage, key: str) -> bool:
    """Whether an object is stored at ``key``."""
    try:
        await storage.stat(key)
    except NotFoundError:
        return False
    return True
