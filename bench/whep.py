"""What answering a WebRTC offer costs the gateway, and what trickle ICE saves a client (loopback, aiortc).

    .venv/bin/python bench/whep.py [--runs 30]

aiortc gathers its own ICE candidates inside ``setLocalDescription``, before the answer exists, so the
gateway cannot send its answer first and its candidates later. This measures, per run:

- answer: ``setRemoteDescription(offer)`` + ``createAnswer`` + ``setLocalDescription`` on a peer set up as a
  live session is (an audio and a video track, the offer's data channel), the offer *without* candidates
  (a trickling client's); with host candidates on 127.0.0.1 only, and on every interface but loopback
  (aioice's default, what a gateway without WEBRTC_HOST_ADDRESSES gathers);
- offer gathering: what a client that does not trickle waits before it can even send its offer
  (aiortc's ``createOffer`` + ``setLocalDescription``; a browser's own gathering is measured in a browser).

No STUN or TURN server is contacted (none is configured): a configured one would add its round trip to
every answer. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live.peer_client import split_candidates  # noqa: E402

from neura.live.peer import use_host_addresses  # noqa: E402


async def one_run() -> tuple[float, float]:
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    client.createDataChannel("neura")
    client.addTransceiver("audio", direction="recvonly")
    client.addTransceiver("video", direction="recvonly")
    started = time.perf_counter()
    await client.setLocalDescription(await client.createOffer())
    offer_gathering_ms = (time.perf_counter() - started) * 1000
    offer, _ = split_candidates(client.localDescription.sdp)

    server = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    server.addTrack(AudioStreamTrack())
    server.addTrack(VideoStreamTrack())
    started = time.perf_counter()
    await server.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await server.setLocalDescription(await server.createAnswer())
    answer_ms = (time.perf_counter() - started) * 1000
    assert "a=candidate:" in server.localDescription.sdp
    await client.close()
    await server.close()
    return answer_ms, offer_gathering_ms


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
    }


async def main(runs: int) -> None:
    results: dict[str, dict[str, float]] = {}
    for label, addresses in (("loopback", ["127.0.0.1"]), ("all interfaces", [])):
        use_host_addresses(addresses)
        await one_run()  # warm-up (imports, first sockets)
        answers, offers = [], []
        for _ in range(runs):
            answer_ms, offer_ms = await one_run()
            answers.append(answer_ms)
            offers.append(offer_ms)
        results[f"answer ({label})"] = summary(answers)
        results[f"aiortc offer gathering ({label})"] = summary(offers)
    width = max(len(k) for k in results)
    print(f"{'measure':<{width}}  p50 ms   p95 ms   max ms")
    for name, figures in results.items():
        print(f"{name:<{width}}  {figures['p50_ms']:>6}   {figures['p95_ms']:>6}   {figures['max_ms']:>6}")
    print(json.dumps({"runs": runs, **results}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))
