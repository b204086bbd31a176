"""Where one voice turn's time goes, stage by stage, in CPU time (the machine is shared: wall time says
as much about the neighbours as about NEURA), with the wall time next to it.

    .venv/bin/python bench/voice_profile.py [--repeat 5]

In this process, on the engines the gateway uses (Silero VAD, the STT_MODEL Whisper, the configured
Piper voice, the configured renderer, VP8/Opus encoders and decoders): one spoken question (Piper), and
the first clause of ``bench/live.py``'s nine-word opener. Per stage, the median over ``--repeat`` runs:

- ``vad_frame``: one 32 ms Silero frame (the pause detection itself is the ``LIVE_VAD_PAUSE_MS`` wait);
- ``final_beam5`` / ``final_beam1``: the question's final decode at each beam size (all threads' CPU);
- ``partial``: one greedy partial of the question's first second;
- ``first_clause_tts``: the first clause's synthesis (two threads, as live sessions do);
- ``lip_sync``: resampling to 48 kHz and the mouth track of that clause;
- ``render_2_frames``: one render job (two frames) of the avatar speaking, then ``vp8_encode``;
- ``client_vp8_decode`` / ``client_opus_decode``: what the client spends on one frame and one packet.

The waits that cost no CPU (``LIVE_VAD_PAUSE_MS``, the end-of-turn silence, the fake model's 50 ms to its
first token) are printed from the settings. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live import OPENERS  # noqa: E402
from tests.stt.samples import spoken  # noqa: E402

from neura.config import Settings  # noqa: E402
from neura.live.chunker import ClauseSplitter  # noqa: E402
from neura.live.encoders import AudioEncoder, VideoEncoder  # noqa: E402
from neura.live.lipsync_stage import time_speech  # noqa: E402
from neura.live.timeline import FPS  # noqa: E402
from neura.live.turn_taking import VoiceConfig  # noqa: E402
from neura.pipeline.defaults import demo_avatar  # noqa: E402
from neura.render.providers import create_renderer  # noqa: E402
from neura.render.seam import SpeechTrack  # noqa: E402
from neura.stt.base import TranscribeOptions  # noqa: E402
from neura.stt.registry import create_stt  # noqa: E402
from neura.stt.vad import FRAME_SAMPLES, VoiceActivityDetector  # noqa: E402
from neura.tts import VoiceRef, create_tts  # noqa: E402

QUESTION = "How many apples did Maria buy at the market yesterday?"


def measure(work: Callable[[], Any], repeat: int) -> tuple[dict[str, float], Any]:
    """Median CPU (every thread of the process) and wall milliseconds of ``work``, and its last result."""
    cpu, wall, result = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = work()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {"cpu_ms": round(statistics.median(cpu), 1), "wall_ms": round(statistics.median(wall), 1)}, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = Settings()
    voice = VoiceConfig.of(settings)
    stages: dict[str, dict[str, float]] = {}

    question = spoken("piper", QUESTION, pad_s=0.1).samples
    detector = VoiceActivityDetector(voice.vad)
    frames = question[: question.size // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)
    vad, _ = measure(lambda: [detector.process_frame(f) for f in frames], args.repeat)
    stages["vad_frame"] = {k: round(v / len(frames), 3) for k, v in vad.items()}

    stt = create_stt(settings, threads=settings.live_stt_threads)
    for beam in (5, 1):
        options = TranscribeOptions(language="en", beam_size=beam, word_timestamps=False, fallback=False)
        stt.transcribe(question, options)  # warm
        stages[f"final_beam{beam}"], _ = measure(lambda o=options: stt.transcribe(question, o), args.repeat)
    greedy = TranscribeOptions(language="en", beam_size=1, word_timestamps=False, fallback=False)
    stages["partial"], _ = measure(lambda: stt.transcribe(question[:16_000], greedy), args.repeat)

    splitter = ClauseSplitter()  # fed word by word, as the model streams: the short first clause
    clause = next(c for word in OPENERS[1].split() for c in splitter.feed(word + " "))
    tts = create_tts(VoiceRef.configured(settings), settings, threads=2)
    stages["first_clause_tts"], chunks = measure(lambda: list(tts.synthesize(clause)), args.repeat)
    stages["lip_sync"], timed = measure(lambda: time_speech(1, 0, chunks[0], trim_lead=True), args.repeat)

    renderer = create_renderer(settings)
    asset = renderer.prepare(demo_avatar(), size_px=512, name="the demo avatar")
    stream = renderer.stream(asset, fps=FPS, seed=1, output="i420", batch_frames=2)
    stream.push_speech(SpeechTrack(timed.samples_48k, 48_000, timed.mouth), start_pts=stream.next_pts)
    stages["render_2_frames"], rendered = measure(lambda: stream.render_next(2), args.repeat)
    image = av.VideoFrame.from_ndarray(rendered[0].image, format="yuv420p")
    encoder = VideoEncoder()
    stages["vp8_encode"], _ = measure(lambda: encoder.encode(image, keyframe=False), args.repeat)
    keyframe = VideoEncoder().encode(image, keyframe=True)
    decoder = av.CodecContext.create("libvpx", "r")
    stages["client_vp8_decode"], _ = measure(lambda: decoder.decode(keyframe), args.repeat)
    pcm = (timed.samples_48k[:960] * 32767).astype(np.int16)
    opus = AudioEncoder().encode(pcm, 0) or AudioEncoder().encode(pcm, 960)
    opus_decoder = av.CodecContext.create("libopus", "r")
    stages["client_opus_decode"], _ = measure(lambda: opus_decoder.decode(opus), args.repeat)

    waits = {
        "vad_hold_ms": settings.live_vad_hold_ms,
        "vad_min_speech_ms": settings.live_vad_min_speech_ms,
        "stt_early_final_ms": settings.live_stt_early_final_ms,
        "vad_pause_ms": settings.live_vad_pause_ms,
        "turn_silence_ms": settings.live_turn_silence_ms,
        "complete_silence_ms": settings.live_turn_complete_silence_ms,
        "fake_llm_first_token_ms": 50,
    }
    load = os.getloadavg()
    print(f"one voice turn, stage by stage (median of {args.repeat}); load average {load[0]:.1f} {load[1]:.1f}")
    for name, figures in stages.items():
        print(f"  {name:20s} CPU {figures['cpu_ms']:8.2f} ms   wall {figures['wall_ms']:8.2f} ms")
    print("  waits (no CPU): " + ", ".join(f"{k} {v}" for k, v in waits.items()))
    print(json.dumps({"stages": stages, "waits": waits, "clause": clause, "load_average_1m": round(load[0], 1)}))


if __name__ == "__main__":
    main()
