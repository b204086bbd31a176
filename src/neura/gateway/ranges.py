"""HTTP ``Range: bytes=...`` requests (RFC 9110 §14): one range per request, else the whole object;
:func:`object_response` streams a stored object that way (a ``<video>`` seeks with it)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.responses import StreamingResponse

from neura.errors import InputError
from neura.storage import Storage


class RangeNotSatisfiableError(InputError):
    """The requested byte range lies outside the object, or is malformed."""

    http_status = 416

    def __init__(self, message: str, *, size_bytes: int) -> None:
        super().__init__(message, hint=f"the object has {size_bytes} bytes")
        self.size_bytes = size_bytes

    @property
    def http_headers(self) -> dict[str, str]:
        """RFC 9110: a 416 tells the size."""
        return {"Content-Range": f"bytes */{self.size_bytes}"}


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size_bytes: int) -> str:
        return f"bytes {self.start}-{self.end}/{size_bytes}"


def parse_range(header: str | None, size_bytes: int) -> ByteRange | None:
    """The one range asked for; None to send the whole object (no header, another unit, several ranges)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first or last) or not (first.isdigit() or not first) or not (last.isdigit() or not last):
        raise RangeNotSatisfiableError(f"malformed range: {header!r}", size_bytes=size_bytes)
    if not first:  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size_bytes == 0:
            raise RangeNotSatisfiableError("an empty suffix range cannot be satisfied", size_bytes=size_bytes)
        return ByteRange(max(0, size_bytes - suffix), size_bytes - 1)
    start = int(first)
    end = int(last) if last else size_bytes - 1
    if end < start:
        raise RangeNotSatisfiableError(f"malformed range: {header!r}", size_bytes=size_bytes)
    if start >= size_bytes:
        raise RangeNotSatisfiableError(f"the range starts at byte {start}, past the end", size_bytes=size_bytes)
    return ByteRange(start, min(end, size_bytes - 1))


async def object_response(
    storage: Storage, key: str, range_header: str | None, headers: dict[str, str]
) -> StreamingResponse:
    """The object at ``key``, whole (200) or the one range asked for (206), with ``headers`` added."""
    info = await storage.stat(key)
    byte_range = parse_range(range_header, info.size_bytes)
    headers = {"Accept-Ranges": "bytes", **headers}
    if byte_range is None:
        headers["Content-Length"] = str(info.size_bytes)
        body = storage.iter_range(key, 0, info.size_bytes - 1)
        return StreamingResponse(body, status_code=200, media_type=info.content_type, headers=headers)
    headers["Content-Length"] = str(byte_range.length)
    headers["Content-Range"] = byte_range.content_range(info.size_bytes)
    body = storage.iter_range(key, byte_range.start, byte_range.end)
    return StreamingResponse(body, status_code=206, media_type=info.content_type, headers=headers)
