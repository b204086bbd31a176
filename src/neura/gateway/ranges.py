"""HTTP ``Range: bytes=...`` requests (RFC 9110 §14): one range per request, else the whole object."""

from __future__ import annotations

from dataclasses import dataclass

from neura.errors import InputError


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
