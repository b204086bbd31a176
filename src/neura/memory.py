"""Keeping a long-running process's memory flat: glibc's allocator arenas and free pages.

A live session runs its media on several threads (TTS, lip sync, render, aiortc's codecs). glibc gives
each thread that allocates concurrently an arena of its own, up to eight per core, and an arena keeps
the pages it has used, so a gateway kept memory that Python had freed long before (measured by an
independent client: +440 MiB after 8 live sessions, then 13-41 MiB more every 8). Two remedies, both
no-ops where the C library is not glibc:

* :func:`limit_arenas` caps the number of arenas (``mallopt(M_ARENA_MAX)``, what ``MALLOC_ARENA_MAX``
  does from the environment), for threads that start allocating after the call;
* :func:`release_memory` collects garbage cycles (aiortc's objects reference each other) and hands the
  free pages at the top and in the middle of every arena back to the kernel (``malloc_trim(0)``).

And one for time: :func:`freeze_startup_objects` takes what a service loaded at start-up out of the
cyclic garbage collector's scans.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import logging

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library the process runs on, when it is glibc: the process's own symbols (``dlopen(NULL)``),
    which include its C library's (no ``ctypes.util.find_library``: importing it alone costs ~20 ms of
    the API role's start-up, and it may run ``ldconfig``)."""
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim  # noqa: B018 - glibc only: musl and macOS have no malloc_trim
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(count: int) -> bool:
    """At most ``count`` malloc arenas from now on (0: leave the C library's default). False when the
    C library is not glibc or refused."""
    libc = _glibc()
    if count <= 0 or libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, count))


def release_memory() -> bool:
    """Collect reference cycles, then return free heap pages to the kernel; True when pages were
    released. Takes a few milliseconds: call it off the event loop, at a quiet moment (a session's end)."""
    gc.collect()
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))


def freeze_startup_objects() -> None:
    """Move every object the garbage collector tracks now to its permanent generation (``gc.freeze()``),
    so no later collection walks them again (``gc.get_freeze_count()`` counts them).

    What a service loads as it starts (modules, classes, routes) lives as long as the process, yet each
    full collection walks it all again: two of them took about 60 ms of the ``api`` role's start-up
    CPU, and one full collection of a started ``api`` gateway about 65 ms. Called when the gateway
    package is imported (what was loaded before it: the interpreter and the web framework) and once the
    app that owns its process has started (its own modules and routes; see
    :func:`neura.gateway.app.create_app`). The live engines do the same once warm, after a
    collection (:meth:`neura.live.engines.LiveEngines.warm_up`). Without a collection first, garbage
    cycles made before the call are kept for good: start-up makes few, and a collection here would cost
    what the freeze saves."""
    gc.freeze()
