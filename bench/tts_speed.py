"""Speed of the TTS engines on this machine: Piper with 1 and 2 onnxruntime threads, espeak-ng, the aligner.

    PYTHONPATH=src .venv/bin/python bench/tts_speed.py

RTF = synthesis seconds / audio seconds (lower is faster), the best of a few runs (wall clock; on a
shared machine the best run is the least disturbed one), and ``cpu_rtf`` = CPU seconds of this process
/ audio seconds (all threads summed). "first chunk" is the time from calling ``synthesize`` to the first
sentence's audio, for a typical opening sentence and for its first clause (what the live mode sends
first). The load average is printed too: compare numbers only from quiet runs. The last line is JSON.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from neura.tts.align import align_words
from neura.tts.base import TTSEngine
from neura.tts.espeak import EspeakEngine
from neura.tts.piper import PiperEngine
from neura.tts.sentences import split_clauses

PARAGRAPH = (
    "Good morning, and welcome to our quarterly update. Revenue grew by twelve percent compared with last "
    "year, driven mostly by new customers in Europe. We opened two offices, hired forty engineers, and "
    "shipped the features you asked for most. Next quarter, we will focus on reliability and speed. "
    "Thank you for your trust, and see you next time."
)
OPENING = "Good morning, and welcome to our quarterly update on the product."
REPEATS = 3


def _rtf(engine: TTSEngine) -> tuple[float, float, float]:
    """Best wall-clock RTF and best CPU RTF over REPEATS runs of the paragraph, and the audio length (s)."""
    ratios, cpu_ratios, audio_s = [], [], 0.0
    for _ in range(REPEATS):
        started, started_cpu = time.perf_counter(), time.process_time()
        audio_s = sum(chunk.duration_s for chunk in engine.synthesize(PARAGRAPH))
        ratios.append((time.perf_counter() - started) / audio_s)
        cpu_ratios.append((time.process_time() - started_cpu) / audio_s)
    return min(ratios), min(cpu_ratios), audio_s


def _first_chunk_s(engine: TTSEngine, text: str) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        next(iter(engine.synthesize(text)))
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    results: dict[str, object] = {"load_average_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as temporary:
        cache_dir = Path(temporary)
        PiperEngine(cache_dir=cache_dir)  # patch the model once, outside the timings
        for threads in (1, 2):
            started = time.perf_counter()
            piper = PiperEngine(cache_dir=cache_dir, threads=threads)
            load_s = time.perf_counter() - started
            rtf, cpu_rtf, audio_s = _rtf(piper)
            results[f"piper_{threads}_thread"] = {
                "load_s": round(load_s, 2),
                "rtf": round(rtf, 3),
                "cpu_rtf": round(cpu_rtf, 3),
                "audio_s": round(audio_s, 2),
                "first_chunk_s": round(_first_chunk_s(piper, OPENING), 3),
                "first_clause_s": round(_first_chunk_s(piper, split_clauses(OPENING)[0]), 3),
            }
            print(f"piper {threads} thread(s): {results[f'piper_{threads}_thread']}")
        espeak = EspeakEngine(cache_dir=cache_dir)
        rtf, _, audio_s = _rtf(espeak)
        results["espeak"] = {"rtf": round(rtf, 5), "times_real_time": round(1 / rtf), "audio_s": round(audio_s, 2)}
        print(f"espeak: {results['espeak']}")
        chunks = list(espeak.synthesize(PARAGRAPH))
        started = time.perf_counter()
        for chunk in chunks:
            align_words(chunk.samples, chunk.sample_rate_hz, chunk.text)
        align_s = time.perf_counter() - started
        results["pocketsphinx_align"] = {"times_real_time": round(sum(c.duration_s for c in chunks) / align_s, 1)}
        print(f"aligner: {results['pocketsphinx_align']}")
    print(json.dumps({"tts_speed": results}))


if __name__ == "__main__":
    main()
