"""How far an engine's word starts are from an independent aligner's (pocketsphinx), before and after
the engine's constant correction (``ALIGNMENT_OFFSET_S`` in its module).

    PYTHONPATH=src .venv/bin/python bench/tts_offset.py [--engine piper|espeak|all]

For each sentence: synthesise it with the correction off, force-align its audio to its words with
pocketsphinx, and take (engine start - aligner start) per word. The first word of each sentence is left
out: pocketsphinx does not model the model's short leading silence and puts the first word at 0.
The last line printed is JSON with the numbers (milliseconds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from neura.tts.align import align_spoken_words
from neura.tts.base import TTSEngine
from neura.tts.normalize import normalize_text
from neura.tts.sentences import speech_words

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please remember to bring your notebook tomorrow morning.",
    "Scientists discovered a new species living deep beneath the ocean.",
    "My favourite season is autumn, because the leaves turn golden.",
    "Could you tell me where the nearest train station is?",
    "We finally finished building the wooden bridge across the river.",
    "Learning a language takes patience, practice and curiosity.",
    "The museum opens at 9 a.m. and closes late on Fridays.",
    "Every morning she walks her dog along the sandy beach.",
    "Technology changes quickly, but good habits last forever!",
    "He carefully painted the fence a bright shade of blue.",
    "Our team won the championship in 2019 after a difficult season.",
    "Fresh bread smells wonderful when it comes out of the oven.",
    "The children laughed loudly as the clown juggled colourful balls.",
    "Remember that small steps lead to big results over time.",
    "Mountains covered with snow look beautiful in winter sunlight.",
    "Doctor Patel said the results were better than expected.",
    "Music can change the way we feel about almost anything.",
    "The pilot announced that we would land in twenty minutes.",
    "Thank you for watching, and see you again next week.",
)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _stats(differences_s: list[float]) -> dict[str, float]:
    ms = [d * 1000 for d in differences_s]
    return {
        "median_ms": round(statistics.median(ms), 1),
        "p90_abs_ms": round(_percentile([abs(d) for d in ms], 90), 1),
        "p10_ms": round(_percentile(ms, 10), 1),
        "p90_ms": round(_percentile(ms, 90), 1),
    }


def _engine(name: str, cache_dir: Path, offset_s: float | None) -> TTSEngine:
    if name == "piper":
        from neura.tts.piper import ALIGNMENT_OFFSET_S, PiperEngine

        return PiperEngine(cache_dir=cache_dir, alignment_offset_s=ALIGNMENT_OFFSET_S if offset_s is None else offset_s)
    from neura.tts.espeak import ALIGNMENT_OFFSET_S as ESPEAK_OFFSET_S
    from neura.tts.espeak import EspeakEngine

    return EspeakEngine(cache_dir=cache_dir, alignment_offset_s=ESPEAK_OFFSET_S if offset_s is None else offset_s)


def measure(name: str, cache_dir: Path) -> dict[str, object]:
    raw, corrected = _engine(name, cache_dir, 0.0), _engine(name, cache_dir, None)
    before: list[float] = []
    after: list[float] = []
    words_total, align_s = 0, 0.0
    for sentence in SENTENCES:
        (chunk,) = list(raw.synthesize(sentence))
        (fixed,) = list(corrected.synthesize(sentence))
        assert np.array_equal(chunk.samples, fixed.samples), "synthesis is not deterministic"
        words = speech_words(normalize_text(sentence))
        started = time.perf_counter()
        reference, _ = align_spoken_words(chunk.samples, chunk.sample_rate_hz, words)
        align_s += time.perf_counter() - started
        words_total += len(words)
        for index in range(1, len(words)):
            before.append(chunk.words[index].start_s - reference[index].start_s)
            after.append(fixed.words[index].start_s - reference[index].start_s)
    result: dict[str, object] = {
        "engine": name,
        "sentences": len(SENTENCES),
        "words_compared": len(before),
        "before": _stats(before),
        "after": _stats(after),
        "aligner_seconds": round(align_s, 2),
    }
    print(f"{name}: {json.dumps(result)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("piper", "espeak", "all"), default="all")
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    names = ("piper", "espeak") if args.engine == "all" else (args.engine,)
    with tempfile.TemporaryDirectory() as temporary:
        cache_dir = args.cache_dir or Path(temporary)
        results = [measure(name, cache_dir) for name in names]
    print(json.dumps({"tts_offset": results}))


if __name__ == "__main__":
    main()
