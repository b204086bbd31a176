"""A real Chromium against the gateway's WHEP endpoint: connect time with and without trickle ICE, and
how fast a session ends when its tab closes (keepalive DELETE on pagehide) or its browser dies.

    unshare -n sh -c '. bench/lan.sh && .venv/bin/python bench/whep_browser.py [--runs 5]'

Run it inside a network namespace of its own (``unshare -n``, as root), where ``bench/lan.sh`` makes a
private LAN of two veth ends (10.99.0.1 and .2) besides loopback: nothing leaves the machine, Chromium's
mDNS included. It starts ``neura up --no-web`` (embedded PostgreSQL and Redis on Unix sockets; host
candidates on every address but loopback, the default) and a headless Chromium with its *default*
WebRTC settings: it hides its own addresses behind mDNS ``.local`` names (or, as here, offers none at all
when it cannot publish them), so the gateway learns the page's address from its connectivity checks. It
drives a page on the gateway's origin over the DevTools protocol. No language model is needed: the idle
avatar streams from the start. ``--loopback`` runs it with only 127.0.0.1 instead
(``WEBRTC_HOST_ADDRESSES=127.0.0.1``; Chromium with ``--allow-loopback-in-peer-connection`` and
``--use-fake-ui-for-media-stream``, which make it offer real 127.0.0.1 candidates, trickled by PATCH).

Per run, from the page's first line of WebRTC code:
- trickle: ``createOffer`` -> POST /v1/live/whep at once (no candidates) -> answer -> candidates PATCHed
  as Chromium gathers them -> first decoded video frame;
- gathered: the same, but the page waits for ICE gathering to complete before it POSTs (what a page had
  to do before the gateway took trickled candidates).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PRIVATE_INTERFACES = {"lo", "v0", "v1"}  # bench/lan.sh's veth pair exists only in this namespace

PAGE_JS = """
async (mode, token) => {
  const t0 = performance.now();
  const auth = { Authorization: `Bearer ${token}` };
  const pc = new RTCPeerConnection();
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.createDataChannel("neura");
  const sent = [];
  let location = null, etag = null, queue = [], ended = false;
  const patch = async (lines, end) => {
    const frag = [...lines.map((c) => "a=" + c), ...(end ? ["a=end-of-candidates"] : [])];
    if (!frag.length) return;
    const ice = pc.localDescription.sdp.split("\\r\\n").filter((l) => /^a=ice-(ufrag|pwd):/.test(l));
    const body = [...ice, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=mid:0", ...frag].join("\\r\\n") + "\\r\\n";
    await fetch(location, { method: "PATCH", headers: { ...auth, "Content-Type": "application/trickle-ice-sdpfrag",
      "If-Match": etag }, body });
  };
  pc.onicecandidate = (e) => {
    if (e.candidate && e.candidate.candidate) sent.push(e.candidate.candidate);
    if (mode !== "trickle") return;
    if (!location) { if (e.candidate) queue.push(e.candidate.candidate); else ended = true; return; }
    patch(e.candidate ? [e.candidate.candidate] : [], !e.candidate);
  };
  const framed = new Promise((resolve) => {
    pc.ontrack = (e) => {
      if (e.track.kind !== "video") return;
      const video = document.createElement("video");
      video.muted = true; video.srcObject = new MediaStream([e.track]); document.body.append(video);
      video.requestVideoFrameCallback(() => resolve(performance.now()));
      video.play();
    };
  });
  await pc.setLocalDescription(await pc.createOffer());
  if (mode !== "trickle") {
    await new Promise((r) => { if (pc.iceGatheringState === "complete") r();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && r(); });
  }
  const posted = performance.now();
  const answer = await fetch("/v1/live/whep", { method: "POST",
    headers: { ...auth, "Content-Type": "application/sdp" }, body: pc.localDescription.sdp });
  const answered = performance.now();
  if (answer.status !== 201) return { error: `${answer.status} ${await answer.text()}` };
  location = answer.headers.get("Location"); etag = answer.headers.get("ETag");
  await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
  if (mode === "trickle") await patch(queue, ended);
  addEventListener("pagehide", () => fetch(location, { method: "DELETE", keepalive: true, headers: auth }));
  window.neuraSession = location;
  const frame = await Promise.race([framed, new Promise((r) => setTimeout(() => r(null), 20000))]);
  return { wait_before_post_ms: posted - t0, answer_ms: answered - posted, first_frame_ms: frame && frame - t0,
           location, candidates: sent, state: pc.connectionState };
}
"""


class Page:
    """One page of the browser, driven over the DevTools protocol."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self._id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.socket.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(message["error"])
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")


def open_page(debug_port: int, url: str) -> tuple[Page, str]:
    target = httpx.put(f"http://127.0.0.1:{debug_port}/json/new?{url}").json()
    return Page(connect(target["webSocketDebuggerUrl"], max_size=None)), target["id"]


def wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def closed_within(api: str, location: str, token: str, timeout_s: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        state = httpx.get(api + location, headers={"Authorization": f"Bearer {token}"}).json()
        if state.get("status") == "closed":
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 1), "max": round(max(values), 1)}


def main(runs: int, loopback: bool) -> None:
    interfaces = {name for _, name in socket.if_nameindex()}  # this network namespace's (sysfs may show others)
    if not interfaces <= PRIVATE_INTERFACES:
        sys.exit(f"run this inside `unshare -n` (see its docstring); this namespace has {sorted(interfaces)}")
    chromium = shutil.which("chromium") or sys.exit("chromium is not installed (apt-get install -y chromium)")
    work = Path(tempfile.mkdtemp(prefix="neura-whep-"))
    api_port, debug_port = 18800, 18922
    api = f"http://127.0.0.1:{api_port}"
    env = {**os.environ, "LIVE_MAX_SESSIONS": "8", "ENV": "local"}
    # on loopback alone a default Chromium gathers nothing; with media permission (the fake UI grants
    # it) it offers its real 127.0.0.1 candidates instead of mDNS names
    loopback_flags = ["--allow-loopback-in-peer-connection", "--use-fake-ui-for-media-stream"]
    flags = [*CHROMIUM_FLAGS, *(loopback_flags if loopback else [])]
    if loopback:
        env["WEBRTC_HOST_ADDRESSES"] = "127.0.0.1"
    for key in ("DATABASE_URL", "REDIS_URL"):
        env.pop(key, None)
    command = [sys.executable, "-m", "neura.cli", "up", "--no-web", "--data-dir", str(work / "up")]
    up = subprocess.Popen(
        [*command, "--api-port", str(api_port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    browser = None
    try:
        wait_http(f"{api}/healthz", 180)
        email = f"browser-{os.getpid()}@example.com"
        token = httpx.post(f"{api}/v1/auth/signup", json={"email": email, "password": "correct horse battery"}).json()[
            "access_token"
        ]
        browser = subprocess.Popen(
            [chromium, *flags, f"--remote-debugging-port={debug_port}", f"--user-data-dir={work / 'chrome'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_http(f"http://127.0.0.1:{debug_port}/json/version", 30)
        results: dict[str, list[dict[str, Any]]] = {"trickle": [], "gathered": []}
        teardown: dict[str, float | None] = {}
        for run in range(runs + 1):  # the first run warms the gateway (voice, avatar rig): not counted
            for mode in ("trickle", "gathered"):
                page, target = open_page(debug_port, f"{api}/healthz")
                time.sleep(0.3)
                outcome = page.evaluate(f"({PAGE_JS})({json.dumps(mode)}, {json.dumps(token)})")
                if not outcome or "error" in outcome or outcome["first_frame_ms"] is None:
                    raise RuntimeError(f"{mode}: {outcome}")
                if run:
                    results[mode].append(outcome)
                if run == runs and mode == "trickle":  # the tab closes: pagehide sends a keepalive DELETE
                    page.call("Page.navigate", url="about:blank")
                    teardown["tab closed (keepalive DELETE)"] = closed_within(api, outcome["location"], token, 30)
                else:
                    httpx.delete(api + outcome["location"], headers={"Authorization": f"Bearer {token}"})
                page.socket.close()
                httpx.get(f"http://127.0.0.1:{debug_port}/json/close/{target}")
        page, _ = open_page(debug_port, f"{api}/healthz")
        time.sleep(0.3)
        last = page.evaluate(f"({PAGE_JS})('trickle', {json.dumps(token)})")
        browser.send_signal(signal.SIGKILL)  # the browser dies: no pagehide, no DELETE, no DTLS alert
        browser.wait()
        teardown["browser killed (ICE consent)"] = closed_within(api, last["location"], token, 60)
        report: dict[str, Any] = {"runs": runs, "candidates_sent": sorted({c.split()[4] for c in last["candidates"]})}
        for mode, outcomes in results.items():
            for key in ("wait_before_post_ms", "answer_ms", "first_frame_ms"):
                report[f"{mode} {key}"] = summary([o[key] for o in outcomes])
        report.update({f"{k} s": None if v is None else round(v, 2) for k, v in teardown.items()})
        for key, value in report.items():
            print(f"{key:<34} {value}")
        print(json.dumps(report))
    finally:
        if browser is not None and browser.poll() is None:
            browser.kill()
        up.send_signal(signal.SIGINT)
        up.wait(60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loopback", action="store_true", help="127.0.0.1 only (Chromium's loopback flag)")
    arguments = parser.parse_args()
    main(arguments.runs, arguments.loopback)
