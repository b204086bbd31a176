"""A process's own HTTP listener, for requests meant for this process and no other.

``neura serve --workers N`` runs N processes on one shared socket: a request lands on any of them. A
live session, though, lives in one process (its WebRTC peer, its pipeline), and the other processes
forward its requests to the owner's registered URL. With ``LIVE_INTERNAL_URL`` on port 0, each process
opens a listener of its own on a free port of that host and registers that, so a forwarded request
reaches the one process that runs the session. Host ``0.0.0.0`` listens on every interface and
registers the address the machine's host name resolves to (in a Docker container: its address on the
Compose network, from the /etc/hosts entry Docker writes).
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import uvicorn
from starlette.types import ASGIApp


def wants_own_port(url: str) -> bool:
    """Whether ``url`` asks for a listener on a free port (``http://host:0``)."""
    return bool(url) and urlsplit(url).port == 0


class OwnListener:
    """Serves ``app`` on ``host``, a free port; :attr:`url` is where it listens once bound."""

    def __init__(self, app: ASGIApp, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or "127.0.0.1"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, 0))
        except OSError:
            self._socket.close()
            raise
        port = self._socket.getsockname()[1]
        if host in ("0.0.0.0", "::"):
            host, family = _own_address(), socket.AF_INET
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        self.url = f"{parts.scheme or 'http'}://{shown}:{port}"
        # log_config/log_level None: leave the process's logging (set up by the main server) untouched
        config = uvicorn.Config(app, lifespan="off", log_config=None, log_level=None, timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)

    async def start(self) -> None:
        """Accept connections on this event loop (no signal handlers: the main server owns those)."""
        try:
            config = self._server.config
            if not config.loaded:
                config.load()
            self._server.lifespan = config.lifespan_class(config)
            await self._server.startup(sockets=[self._socket])
        except BaseException:
            self._socket.close()
            raise

    async def stop(self) -> None:
        if self._server.started:
            await self._server.shutdown(sockets=[self._socket])
        else:
            self._socket.close()


def _own_address() -> str:
    """The address this machine's host name resolves to (once, at start-up); when that is a loopback
    address (Debian maps the host name to 127.0.1.1), the address of the interface that routes outward;
    the name itself when neither is known."""
    name = socket.gethostname()
    try:
        address = socket.gethostbyname(name)
    except OSError:
        address = name
    if not address.startswith("127."):
        return address
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a route lookup only, nothing is sent
            routed = str(probe.getsockname()[0])
        except OSError:
            return address
    return routed if routed != "0.0.0.0" else address
