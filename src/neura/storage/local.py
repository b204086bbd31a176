"""Local-filesystem storage: the laptop default. Writes are atomic (temp file + rename)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from neura.errors import NotFoundError, StorageError
from neura.storage.base import ObjectInfo, check_key, object_name


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _write(self, key: str, write: object, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
            try:
                if isinstance(write, bytes):
                    tmp.write_bytes(write)
                else:
                    assert isinstance(write, Path)
                    shutil.copyfile(write, tmp)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            path.with_name(f".{path.name}.meta").write_text(json.dumps({"content_type": content_type}))
        except OSError as exc:
            raise StorageError(f"object storage cannot store {object_name(key)}: {exc.strerror or exc}") from exc

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, key, data, content_type)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await asyncio.to_thread(self._write, key, path, content_type)

    async def get_bytes(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            raise NotFoundError(f"object {key} not found") from None

    async def get_to_file(self, key: str, path: Path) -> None:
        try:
            await asyncio.to_thread(shutil.copyfile, self._path(key), path)
        except FileNotFoundError:
            raise NotFoundError(f"object {key} not found") from None

    async def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise NotFoundError(f"object {key} not found") from None
        try:
            content_type = json.loads(path.with_name(f".{path.name}.meta").read_text())["content_type"]
        except (OSError, ValueError, KeyError):
            content_type = "application/octet-stream"
        return ObjectInfo(key, size, content_type)

    async def iter_range(self, key: str, start: int, end: int, chunk_bytes: int = 256 * 1024) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise NotFoundError(f"object {key} not found") from None
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = end - start + 1
            while remaining > 0:
                block = await asyncio.to_thread(handle.read, min(chunk_bytes, remaining))
                if not block:
                    break
                remaining -= len(block)
                yield block
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        path.with_name(f".{path.name}.meta").unlink(missing_ok=True)

    async def delete_prefix(self, prefix: str) -> int:
        folder = self._path(prefix.rstrip("/"))
        if not folder.exists():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
        await asyncio.to_thread(shutil.rmtree, folder, True)
        return count

    async def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"storage folder {self.root} is not usable: {exc.strerror}") from exc
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"storage folder {self.root} is not writable")
