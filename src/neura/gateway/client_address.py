"""The address of the caller a request comes from, also when an API process forwarded it."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from neura.security import sign, signature_matches

CLIENT_HEADER = "x-neura-client"
"""Set by an API process on what it forwards: ``<caller's address> <signature>`` (signed with
NEURA_SECRET_KEY, which every process of a deployment shares), so that per-address limits on the media
process count the caller, not the API process; a header without a valid signature is ignored."""


def client_header(secret: str, address: str) -> str:
    return f"{address} {sign(secret, 'client:' + address)}"


def client_ip(request: HTTPConnection) -> str:
    direct = request.client.host if request.client else "unknown"
    address, _, signature = request.headers.get(CLIENT_HEADER, "").partition(" ")
    if address and signature:
        state = getattr(request.app.state, "neura", None)
        if state is not None and signature_matches(state.settings.secret_key, "client:" + address, signature):
            return address
    return direct
