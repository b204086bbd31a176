"""WebRTC plumbing: ICE servers from the settings, host addresses, and a configured peer connection.

No STUN or TURN server is contacted unless ``WEBRTC_ICE_SERVERS`` names one (aiortc would otherwise
use a public Google STUN server). ``WEBRTC_HOST_ADDRESSES`` limits the addresses offered as host
candidates (aioice offers every interface but loopback; tests and single-host setups on 127.0.0.1
need ``127.0.0.1``).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from typing import Any

import aioice.ice
import aioice.stun
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCRtpSender

from neura.errors import InputError

_original_host_addresses = aioice.ice.get_host_addresses


def parse_ice_servers(raw: str) -> list[dict[str, Any]]:
    """``WEBRTC_ICE_SERVERS``: a JSON list of ``{"urls", "username"?, "credential"?}``; empty: none."""
    if not raw.strip():
        return []
    try:
        servers = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"WEBRTC_ICE_SERVERS is not JSON: {exc}") from exc
    if not isinstance(servers, list):
        raise InputError("WEBRTC_ICE_SERVERS must be a JSON list of ice servers")
    parsed: list[dict[str, Any]] = []
    for server in servers:
        if not isinstance(server, dict) or not isinstance(server.get("urls"), str | list):
            raise InputError('each entry of WEBRTC_ICE_SERVERS needs "urls" (a string or a list of strings)')
        entry: dict[str, Any] = {"urls": server["urls"]}
        for key in ("username", "credential"):
            if server.get(key) is not None:
                entry[key] = str(server[key])
        parsed.append(entry)
    return parsed


def rtc_configuration(ice_servers: list[dict[str, Any]]) -> RTCConfiguration:
    return RTCConfiguration(iceServers=[RTCIceServer(**server) for server in ice_servers])


def use_host_addresses(addresses: list[str]) -> None:
    """Offer exactly these host candidates (process-wide: aioice has no per-connection setting).
    An empty list restores aioice's default."""
    if not addresses:
        aioice.ice.get_host_addresses = _original_host_addresses
        return
    chosen = list(addresses)

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = host_addresses


CONSENT_INTERVAL_S = 1  # one ICE consent check a second instead of aioice's five
CONSENT_CHECK_S = CONSENT_INTERVAL_S + aioice.stun.RETRY_RTO  # a check that gets no answer takes this long


def use_peer_timeout(timeout_s: float) -> None:
    """End a connection about ``timeout_s`` after its peer stopped answering ICE consent checks (RFC 7675:
    a closed tab, a dead network) instead of aioice's 30 s: a check a second, up to the failures that fit
    in ``timeout_s``. Browsers answer each within milliseconds. Process-wide, like the host addresses."""
    aioice.ice.CONSENT_INTERVAL = CONSENT_INTERVAL_S
    aioice.ice.CONSENT_FAILURES = max(2, round(timeout_s / CONSENT_CHECK_S))


_PEERS: weakref.WeakSet[RTCPeerConnection] = weakref.WeakSet()


def new_peer_connection(ice_servers: list[dict[str, Any]]) -> RTCPeerConnection:
    pc = RTCPeerConnection(configuration=rtc_configuration(ice_servers))
    _PEERS.add(pc)
    return pc


def peer_connections() -> int:
    """Peer connections this process made that are not freed yet: 0 when no session is open (a closed
    one still referenced somewhere is a leak)."""
    return len(_PEERS)


def forward_keyframe_requests(sender: RTCRtpSender, request_keyframe: Callable[[], None]) -> None:
    """Route the receiver's keyframe requests (RTCP PLI/FIR) to a track that encodes its own video.

    aiortc forces a keyframe only in frames it encodes itself; for packets it sends as they are, its
    sender's ``_send_keyframe`` hook (called on PLI and FIR) is the one place to hear the request."""
    setattr(sender, "_send_keyframe", request_keyframe)  # noqa: B010 - replacing a method on this instance
