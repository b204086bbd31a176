"""A live-session client in a process of its own, for tests that kill it (``kill -9``: no goodbye).

    python -m tests.live.peer_process <gateway url> <access token>

It connects over WHEP (trickling its candidates), prints ``connected <session id>`` once it decodes the
avatar's video and audio, then keeps receiving until it is killed.
"""

from __future__ import annotations

import asyncio
import sys

import httpx

from neura.live.peer import use_host_addresses
from tests.live.peer_client import LivePeer


async def main(url: str, token: str) -> None:
    use_host_addresses(["127.0.0.1"])
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        peer = LivePeer()
        session = await peer.connect_whep(http, {"Authorization": f"Bearer {token}"})
        print(f"connected {session.session_id}", flush=True)
        await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
