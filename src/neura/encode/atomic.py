"""Write outputs atomically: into a hidden temporary file beside the target, then rename.

A reader of the target path sees either nothing or a whole file, never a partial one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from neura.errors import OutputError

_UMASK = os.umask(0o022)  # read once at import (umask can only be read by setting it) ...
os.umask(_UMASK)  # ... and put straight back


def output_error(path: Path, exc: BaseException, what: str = "file") -> OutputError:
    """The user-facing error for an output that cannot be written."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return OutputError(
        f"Cannot write the {what} {path}: {reason}",
        hint="Check that the folder exists, is writable and that the disk has free space.",
    )


def _check_parent(path: Path, what: str) -> None:
    if not path.parent.is_dir():
        raise OutputError(
            f"Cannot write the {what} {path}: the folder {path.parent} does not exist",
            hint="Create the folder first or choose another output path.",
        )


def temp_path_beside(path: Path, what: str = "file") -> Path:
    """Create an empty hidden temporary file in ``path``'s folder (same file system, so the final
    rename is atomic) and return its path."""
    _check_parent(path, what)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise output_error(path, exc, what) from exc
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get what any new file would
    return Path(tmp)


def temp_dir_beside(path: Path, what: str = "file") -> Path:
    """Create a hidden temporary folder in ``path``'s folder (for the parts of an output that is
    assembled from several files) and return its path; the caller removes it."""
    _check_parent(path, what)
    try:
        return Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".parts"))
    except OSError as exc:
        raise output_error(path, exc, what) from exc


def discard(tmp_path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        tmp_path.unlink()


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, what: str = "file") -> None:
    """Write ``data`` to ``path`` atomically; failures raise :class:`OutputError`."""
    target = Path(path)
    tmp = temp_path_beside(target, what)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        discard(tmp)
        raise output_error(target, exc, what) from exc
