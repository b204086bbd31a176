"""WHEP's wire formats: RFC 8840 SDP fragments, browser candidates, ICE servers as Link headers."""

from __future__ import annotations

import pytest

from neura.errors import InputError
from neura.live.whep import ice_server_links, parse_candidate, parse_sdpfrag, without_mdns_candidates

FRAGMENT = """a=ice-ufrag:EsAw
a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
m=audio 9 RTP/AVP 0
a=mid:0
a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1
a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2
a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0 ufrag EsAw
m=video 9 RTP/AVP 96
a=mid:1
a=candidate:2154773085 1 udp 1686052607 203.0.113.5 61764 typ srflx raddr 192.0.2.1 rport 61764
a=end-of-candidates
"""


def test_a_fragment_gives_credentials_candidates_and_their_m_lines() -> None:
    fragment = parse_sdpfrag(FRAGMENT.replace("\n", "\r\n"))
    assert (fragment.ice_ufrag, fragment.ice_pwd) == ("EsAw", "P2uYro0UCOQ4zxjKXaWCBui1")
    assert fragment.end_of_candidates
    first, second, tcp, srflx = fragment.candidates
    assert (first.ip, first.port, first.type, first.sdpMid, first.sdpMLineIndex) == ("192.0.2.1", 61764, "host", "0", 0)
    assert second.ip == "198.51.100.2" and tcp.protocol == "tcp" and tcp.tcpType == "active"
    assert (srflx.type, srflx.sdpMid, srflx.sdpMLineIndex, srflx.relatedAddress) == ("srflx", "1", 1, "192.0.2.1")


def test_an_end_of_candidates_alone_is_a_fragment() -> None:
    fragment = parse_sdpfrag("a=end-of-candidates\r\n")
    assert fragment.end_of_candidates and fragment.candidates == [] and fragment.ice_ufrag is None


@pytest.mark.parametrize(
    "text", ["hello", "a=candidate:1 1 udp\r\n", "a=candidate:x 1 udp notanumber 1.2.3.4 5 typ host\r\n"]
)
def test_what_is_not_a_fragment_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError):
        parse_sdpfrag(text)


def test_browser_candidates_as_json() -> None:
    candidate = parse_candidate("candidate:1 1 udp 2122260223 192.0.2.1 61764 typ host", "0", 0)
    assert candidate is not None and (candidate.ip, candidate.sdpMid) == ("192.0.2.1", "0")
    assert parse_candidate("", "0", 0) is None  # a browser's end-of-candidates
    assert parse_candidate("candidate:1 1 udp 1 192.0.2.1 1 typ host", None, None).sdpMLineIndex == 0  # type: ignore[union-attr]
    with pytest.raises(InputError):
        parse_candidate("a=candidate:1 1 udp 1 192.0.2.1 1 typ host", "0", 0)


def test_ice_servers_become_link_headers() -> None:
    links = ice_server_links(
        [
            {"urls": "stun:stun.example.net"},
            {
                "urls": ["turn:turn.example.net?transport=udp", "turns:turn.example.net"],
                "username": "u",
                "credential": "p",
            },
        ]
    )
    assert links[0] == '<stun:stun.example.net>; rel="ice-server"'
    assert links[1] == (
        '<turn:turn.example.net?transport=udp>; rel="ice-server"; '
        'username="u"; credential="p"; credential-type="password"'
    )
    assert len(links) == 3


def test_mdns_candidates_leave_an_offer() -> None:
    offer = (
        "v=0\r\na=candidate:1 1 udp 2122260223 5c1f9c5e-4a0e-4c29-9a55-43a17c1b6f7a.local 54400 typ host\r\n"
        "a=candidate:2 1 udp 2122260223 192.0.2.1 54401 typ host\r\na=end-of-candidates\r\n"
    )
    kept = without_mdns_candidates(offer)
    assert ".local" not in kept and "192.0.2.1 54401" in kept and kept.endswith("a=end-of-candidates\r\n")
