"""Web app benchmark: the live studio in a real browser (Debian's Chromium), on this machine.

    .venv/bin/python bench/web.py [--loads 10] [--turns 10]

Runs the whole product as the browser tests do (frontend/e2e/stack.py: a fresh PostgreSQL database,
a private Redis, the gateway, `next start`, and the fake OpenAI-compatible server of bench/live.py: a
fixed ~60-word reply, 50 ms to the first token, 80 tokens/s), in a network namespace of its own where
only 127.0.0.1 exists (`unshare -n`; it re-runs itself there), and drives Chromium with
frontend/e2e/bench-driver.mjs:

1. Page load -> first decoded WebRTC frame: `--loads` fresh browser contexts open /live?connect=1 (as
   the "Talk live" links do: the page loads, lists avatars and voices, opens the session by WHEP
   and plays; the bench also prints where the time went); the first frame's requestVideoFrameCallback
   presentation time on the page's clock, which starts at navigation. After one warm-up load.
2. Message -> first lip-synced frame, measured in the browser: `--turns` messages typed into the page
   of one session (after a warm-up turn); every frame presented until 1.5 s after the avatar starts
   speaking (10 s at most) is captured with its presentation time and decoded here by the face
   landmarker bench/live.py uses; the first frame
   whose inner-lip gap over mouth width exceeds 0.04 (the idle mouth measures under 0.01) is the first
   lip-synced frame; its time minus the data channel send time (both on the page's clock).
   The page's own reading (the live studio's "Lips moving on screen", from a pixel heuristic) and the
   server's "first speaking frame sent" are shown beside it.

Targets (issue 8): page load -> first frame p50 <= 1.5 s; message -> first lip-synced frame p50 <= 300 ms.
The last line printed is one JSON object with `live_page_first_frame_p50_ms` and
`browser_first_lipsync_p50_ms`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(FRONTEND / "e2e"))

from bench.live import REPLY, percentile  # noqa: E402
from stack import stack  # noqa: E402

from neura.avatar import detect_faces  # noqa: E402
from neura.avatar.landmarks import mouth_gap_ratio  # noqa: E402
from neura.errors import ImageError  # noqa: E402

MOUTH_OPEN = 0.04
PASSWORD = "bench web pass 1234"
NETNS_FLAG = "NEURA_BENCH_IN_NETNS"


def in_private_netns() -> bool:
    """True when the only network interface is loopback (as inside `unshare -n`)."""
    return os.environ.get(NETNS_FLAG) == "1" or sorted(os.listdir("/sys/class/net")) == ["lo"]


def rerun_in_netns() -> int:
    """Run this script again inside a new network namespace with loopback up."""
    os.environ[NETNS_FLAG] = "1"
    socket_dir = os.environ.get("NEURA_E2E_PG_SOCKET_DIR", "/var/run/postgresql")
    os.environ.setdefault("NEURA_E2E_PG_ADMIN_URL", f"postgresql://postgres@/postgres?host={socket_dir}")
    prefix = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    command = [*prefix, "--", "bash", "-c", 'ip link set lo up && exec "$@"', "_", sys.executable, *sys.argv]
    return subprocess.call(command)


def build_web_app() -> None:
    env = dict(os.environ, NEXT_TELEMETRY_DISABLED="1")
    subprocess.run(["bash", "scripts/install.sh"], cwd=FRONTEND, env=env, check=True)
    build_id = FRONTEND / ".next" / "BUILD_ID"
    sources = [FRONTEND / "src", FRONTEND / "package-lock.json", FRONTEND / "next.config.ts"]
    newest = max(p.stat().st_mtime for src in sources for p in ([src] if src.is_file() else src.rglob("*")))
    if not build_id.exists() or build_id.stat().st_mtime < newest:
        print("building the web app (next build)...", flush=True)
        subprocess.run(["npx", "--no-install", "next", "build"], cwd=FRONTEND, env=env, check=True, capture_output=True)


async def pro_account(web_url: str, database_url: str) -> str:
    """A fresh user on the pro plan (5 live sessions at once) with plenty of credits; its email."""
    email = f"bench-web-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=web_url, timeout=30.0) as http:
        answer = await http.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
        answer.raise_for_status()
        user_id = answer.json()["user"]["id"]
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("UPDATE users SET plan = 'pro', credits = 1000000 WHERE id = $1::uuid", user_id)
    finally:
        await connection.close()
    return email


def mouth_ratios(turn: dict[str, Any]) -> list[tuple[float, float | None]]:
    """(ms after the send, inner-lip gap over mouth width or None where no face was found) of each
    frame captured after the send, in presentation order."""
    if turn["sentMs"] is None:
        return []
    out: list[tuple[float, float | None]] = []
    for frame in sorted(turn["frames"], key=lambda f: f["atMs"]):
        if frame["atMs"] < turn["sentMs"]:
            continue
        rgb = np.asarray(Image.open(io.BytesIO(base64.b64decode(frame["jpeg"]))).convert("RGB"), dtype=np.uint8)
        try:
            ratio: float | None = mouth_gap_ratio(detect_faces(rgb, min_face_px=0).landmarks)
        except ImageError:
            ratio = None
        out.append((float(frame["atMs"] - turn["sentMs"]), ratio))
    return out


def first_open_mouth(ratios: list[tuple[float, float | None]]) -> float | None:
    """Milliseconds from the send to the first captured frame with an open mouth (None: none)."""
    return next((ms for ms, ratio in ratios if ratio is not None and ratio > MOUTH_OPEN), None)


def ms_of(text: str | None) -> float | None:
    """'212 ms' or '1.21 s' (the page's read-out) in milliseconds."""
    found = re.fullmatch(r"\s*([\d.]+)\s*(ms|s)\s*", text or "")
    if not found:
        return None
    return float(found[1]) * (1000.0 if found[2] == "s" else 1.0)


def stats(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "min": min(values), "max": max(values)}


def print_row(name: str, values: list[float]) -> None:
    s = stats(values)
    print(f"{name:<58}{len(values):>4}{s['p50']:>8.0f}{s['p95']:>8.0f}{s['min']:>8.0f}{s['max']:>8.0f}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    build_web_app()
    work = Path(tempfile.mkdtemp(prefix="neura-bench-web-"))
    try:
        with stack(work, spawn_redis=True, worker=False, spoken_reply=REPLY) as env:
            email = asyncio.run(pro_account(env["NEURA_WEB_URL"], env["NEURA_E2E_DATABASE_URL"]))
            out = work / "driver.json"
            driver_env = {
                **os.environ,
                **env,
                "NEURA_BENCH_EMAIL": email,
                "NEURA_BENCH_PASSWORD": PASSWORD,
                "NEURA_BENCH_LOADS": str(args.loads),
                "NEURA_BENCH_TURNS": str(args.turns),
            }
            print(f"Chromium: {args.loads} page loads (after a warm-up), then {args.turns} turns", flush=True)
            subprocess.run(["node", "e2e/bench-driver.mjs", str(out)], cwd=FRONTEND, env=driver_env, check=True)
            results = dict(json.loads(out.read_text()))
    except BaseException:
        print(f"logs kept in {work / 'logs'}", file=sys.stderr, flush=True)
        raise
    shutil.rmtree(work, ignore_errors=True)
    return results


def report(results: dict[str, Any], args: argparse.Namespace, load_1min: float) -> dict[str, Any]:
    loads = [float(x["firstFrameMs"]) for x in results["loads"]]
    ratios = [mouth_ratios(t) for t in results["turns"]]
    lipsync = [ms for ms in (first_open_mouth(r) for r in ratios) if ms is not None]
    for number, (turn, measured) in enumerate(zip(results["turns"], ratios, strict=True), start=1):
        faces = [r for _, r in measured if r is not None]
        opened = first_open_mouth(measured)
        print(
            f"  turn {number}: {len(measured)} frames after the send ({len(faces)} with a face), "
            f"widest mouth {max(faces, default=0.0):.3f}, first open "
            f"{'-' if opened is None else f'{opened:.0f} ms'}, page {turn['pageMouthMs']}, "
            f"server first frame sent {turn['serverFrameMs']}"
        )
    page = [ms for ms in (ms_of(t["pageMouthMs"]) for t in results["turns"]) if ms is not None]
    server = [ms for ms in (ms_of(t["serverFrameMs"]) for t in results["turns"]) if ms is not None]
    if not loads or not lipsync:
        raise RuntimeError(f"nothing measured: {len(loads)} loads, {len(lipsync)} turns with an open mouth")
    print()
    print(f"{'measure (ms)':<58}{'n':>4}{'p50':>8}{'p95':>8}{'min':>8}{'max':>8}")
    rows = [
        ("page load -> first decoded WebRTC frame (live studio)", loads),
        ("message -> first open-mouth frame presented (landmarks)", lipsync),
        ("  the page's own reading ('Lips moving on screen')", page),
        ("  server: first speaking frame sent", server),
    ]
    for name, values in rows:
        if values:
            print_row(name, values)
    for name, key in (
        ("page ready (DOMContentLoaded)", "domContentLoadedMs"),
        ("WHEP offer sent", "whepSentMs"),
        ("WHEP answer in", "whepAnsweredMs"),
        ("media connected (ICE + DTLS)", "connectedMs"),
    ):
        steps = [float(x[key]) for x in results["loads"] if x.get(key) is not None]
        if steps:
            print_row("  load: " + name, steps)
    for name, key in (
        ("video jitter buffer, per frame", "videoJitterBufferMs"),
        ("video jitter buffer target, per frame", "videoJitterTargetMs"),
        ("video decode, per frame", "videoDecodeMs"),
        ("video receive -> decoded (processing), per frame", "videoProcessingMs"),
        ("audio jitter buffer, per sample", "audioJitterBufferMs"),
    ):
        values = [float(t["receiver"][key]) for t in results["turns"] if t.get("receiver", {}).get(key) is not None]
        if values:
            print_row("  turn: " + name, values)
    missing = len(results["turns"]) - len(lipsync)
    if missing:
        print(f"({missing} turn(s) showed no open mouth in the frames captured after the send)")
    print(f"load average (1 min) at the end: {load_1min:.2f}")
    return {
        "live_page_first_frame_p50_ms": round(percentile(loads, 50), 1),
        "live_page_first_frame_p95_ms": round(percentile(loads, 95), 1),
        "browser_first_lipsync_p50_ms": round(percentile(lipsync, 50), 1),
        "browser_first_lipsync_p95_ms": round(percentile(lipsync, 95), 1),
        "page_reading_first_lipsync_p50_ms": round(percentile(page, 50), 1) if page else None,
        "server_first_frame_sent_p50_ms": round(percentile(server, 50), 1) if server else None,
        "loads": len(loads),
        "turns": len(lipsync),
        "turns_without_open_mouth": missing,
        "load_1min": round(load_1min, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=10, help="page loads to time (after one warm-up)")
    parser.add_argument("--turns", type=int, default=10, help="messages to time (after one warm-up)")
    args = parser.parse_args()
    if not in_private_netns():
        return rerun_in_netns()
    started = time.monotonic()
    results = run(args)
    summary = report(results, args, os.getloadavg()[0])
    print(f"({time.monotonic() - started:.0f} s)")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
