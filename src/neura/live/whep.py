"""WHEP and trickle ICE on the wire: SDP fragments in, ICE candidates out, ICE servers as Link headers.

WHEP (the IETF WebRTC-HTTP Egress Protocol, draft-ietf-wish-whep) uses the mechanics of WHIP (RFC 9725):
the client POSTs its offer (``application/sdp``) and gets ``201`` with the answer, a ``Location`` (the
session), an ``ETag`` (its ICE session) and ``Link: <...>; rel="ice-server"`` headers; it PATCHes that
location with ``application/trickle-ice-sdpfrag`` bodies (RFC 8840) as its candidates are gathered, and
DELETEs it at the end. A browser's own API sends the same candidates as ``RTCIceCandidateInit`` JSON
(``{"candidate": "candidate:...", "sdpMid": "0", "sdpMLineIndex": 0}``; an empty ``candidate`` ends them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCIceCandidate
from aiortc.sdp import candidate_from_sdp

from neura.errors import InputError, NeuraError

SDP_CONTENT_TYPE = "application/sdp"
TRICKLE_CONTENT_TYPE = "application/trickle-ice-sdpfrag"
MAX_FRAGMENT_CHARS = 20_000
MAX_CANDIDATES = 64  # a browser offers a handful per network interface; more is not a browser


class IceRestartError(InputError):
    """The client asked for an ICE restart (new credentials), which this server does not do."""


class PreconditionFailedError(NeuraError):
    """A PATCH whose If-Match names another ICE session than the current one."""

    http_status = 412


@dataclass
class SdpFragment:
    """What a trickle PATCH carries: the client's ICE credentials, new candidates, end-of-candidates."""

    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    candidates: list[RTCIceCandidate] = field(default_factory=list)
    end_of_candidates: bool = False


def parse_sdpfrag(text: str) -> SdpFragment:
    """An ``application/trickle-ice-sdpfrag`` body (RFC 8840); InputError when it is not one."""
    if len(text) > MAX_FRAGMENT_CHARS:
        raise InputError(f"an SDP fragment may have at most {MAX_FRAGMENT_CHARS} characters")
    fragment = SdpFragment()
    mid: str | None = None
    line_index = -1
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("m="):
            line_index += 1
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:") :]
        elif line.startswith("a=ice-ufrag:"):
            fragment.ice_ufrag = line[len("a=ice-ufrag:") :]
        elif line.startswith("a=ice-pwd:"):
            fragment.ice_pwd = line[len("a=ice-pwd:") :]
        elif line.startswith("a=candidate:"):
            candidate = parse_candidate(line[len("a=") :], mid, max(line_index, 0))
            if candidate is not None:
                fragment.candidates.append(candidate)
        elif line == "a=end-of-candidates":
            fragment.end_of_candidates = True
        elif len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise InputError(f"not an SDP fragment line: {line[:80]!r}", hint=f"send {TRICKLE_CONTENT_TYPE} (RFC 8840)")
    if len(fragment.candidates) > MAX_CANDIDATES:
        raise InputError(f"at most {MAX_CANDIDATES} candidates at a time")
    return fragment


def parse_candidate(candidate: str, sdp_mid: str | None, sdp_mline_index: int | None) -> RTCIceCandidate | None:
    """``candidate:...`` (the SDP attribute, as RTCIceCandidate.candidate has it) with its m-line;
    None for an empty one (a browser's end-of-candidates). InputError when it cannot be parsed."""
    text = candidate.strip()
    if not text:
        return None
    if not text.startswith("candidate:"):
        raise InputError(f"not an ICE candidate: {text[:80]!r}", hint="send the 'candidate:...' attribute")
    try:
        parsed = candidate_from_sdp(text[len("candidate:") :])
    except (AssertionError, ValueError, IndexError) as exc:
        raise InputError(f"cannot read the ICE candidate {text[:80]!r}") from exc
    if sdp_mid is None and sdp_mline_index is None:
        sdp_mline_index = 0
    parsed.sdpMid, parsed.sdpMLineIndex = sdp_mid, sdp_mline_index
    return parsed


def ice_server_links(ice_servers: list[dict[str, Any]]) -> list[str]:
    """``Link`` header values for the configured ICE servers (RFC 9725 section 4.6)."""
    links = []
    for server in ice_servers:
        urls = server["urls"] if isinstance(server["urls"], list) else [server["urls"]]
        for url in urls:
            link = f'<{url}>; rel="ice-server"'
            if server.get("username") is not None:
                link += f'; username="{server["username"]}"; credential="{server.get("credential", "")}"'
                link += '; credential-type="password"'
            links.append(link)
    return links


def ice_ufrag(sdp: str) -> str | None:
    """The first ``a=ice-ufrag`` of a session description."""
    for line in sdp.splitlines():
        if line.startswith("a=ice-ufrag:"):
            return line[len("a=ice-ufrag:") :].strip()
    return None


def is_mdns_name(host: str) -> bool:
    """A browser's mDNS host name (``<uuid>.local``) in place of its address."""
    return host.lower().endswith(".local")


def without_mdns_candidates(sdp: str) -> str:
    """``sdp`` without its mDNS host candidates (see :meth:`LiveSession.add_remote_candidates`: the
    browser's checks reveal those addresses; resolving them would multicast on the server's network)."""
    kept = [
        line
        for line in sdp.split("\n")
        if not (line.startswith("a=candidate:") and len(line.split()) > 4 and is_mdns_name(line.split()[4]))
    ]
    return "\n".join(kept)
