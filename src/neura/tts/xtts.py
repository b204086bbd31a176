"""Engine "xtts": Coqui XTTS v2 from a local weights folder (``XTTS_MODEL_DIR``).

UNTESTED HERE: this machine has neither the weights (they cannot be downloaded here) nor the optional
packages (``pip install neura[xtts]``: coqui-tts and torch). Only the error paths are tested, and the
timing path it shares with every engine without timings of its own (tests/tts/test_contract.py). The
code follows coqui-tts's documented ``Xtts`` API (``load_checkpoint``, ``get_conditioning_latents``,
``inference``); :class:`~neura.tts.engine.BaseTTS` gets word and phone timings by forced alignment
(:mod:`neura.tts.align`), so its chunks use the ARPAbet alphabet.

The folder needs config.json, model.pth and vocab.json (from the XTTS-v2 release), plus
speakers_xtts.pth for the built-in speakers. A voice is a built-in speaker's name ("xtts:Claribel
Dervla", the default) or the path of a .wav of the voice to clone ("xtts:/path/me.wav"). The XTTS-v2
weights are under the Coqui Public Model License (non-commercial use only).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neura.errors import EngineUnavailableError
from neura.tts.base import VoiceInfo
from neura.tts.chunking import SpeechPiece
from neura.tts.engine import BaseTTS, PieceAudio
from neura.tts.voices import UnknownVoiceError, VoiceRef

if TYPE_CHECKING:
    from neura.config import Settings

REQUIRED_FILES = ("config.json", "model.pth", "vocab.json")
SPEAKERS_FILE = "speakers_xtts.pth"
DEFAULT_SPEAKER = "Claribel Dervla"
MAX_CHARS = 240  # XTTS warns above 250 characters for English
SEED = 20261126
_INSTALL_HINT = "Install the optional extra: pip install 'neura[xtts]' (coqui-tts and torch, CPU wheel)."
_WEIGHTS_HINT = (
    "Put the XTTS-v2 files (config.json, model.pth, vocab.json, speakers_xtts.pth) in a folder and set "
    "XTTS_MODEL_DIR to it; they cannot be downloaded at run time."
)


def xtts_voice_info(voice: str = "") -> VoiceInfo:
    speaker = Path(voice).stem if voice.endswith(".wav") else voice or DEFAULT_SPEAKER
    return VoiceInfo(
        id=f"xtts:{speaker}",
        engine="xtts",
        language="en-US",
        name=f"XTTS v2 {speaker}",
        license="CPML (Coqui Public Model License): non-commercial use only",
        engine_license="MPL-2.0",
        description="Neural voice cloning; slow on CPU; timings by forced alignment.",
        gender="female" if speaker == DEFAULT_SPEAKER else "",
    )


def check_xtts(model_dir: Path | None) -> Path:
    """The weights folder, or :class:`EngineUnavailableError` saying what is missing and how to fix it."""
    if model_dir is None or not str(model_dir).strip():
        raise EngineUnavailableError("The xtts engine needs XTTS_MODEL_DIR, which is not set.", hint=_WEIGHTS_HINT)
    folder = Path(model_dir).expanduser()
    if not folder.is_dir():
        raise EngineUnavailableError(f"XTTS_MODEL_DIR {folder} is not a folder.", hint=_WEIGHTS_HINT)
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise EngineUnavailableError(f"XTTS_MODEL_DIR {folder} lacks {', '.join(missing)}.", hint=_WEIGHTS_HINT)
    absent = [package for package in ("TTS", "torch") if importlib.util.find_spec(package) is None]
    if absent:
        names = {"TTS": "coqui-tts", "torch": "torch"}
        raise EngineUnavailableError(
            f"The xtts engine needs the Python package(s) {', '.join(names[p] for p in absent)}.",
            hint=_INSTALL_HINT,
        )
    return folder


class XttsEngine(BaseTTS):
    """XTTS v2 on the CPU (or CUDA when torch sees a GPU). Loading takes tens of seconds."""

    name = "xtts"
    max_piece_chars = MAX_CHARS

    def __init__(self, model_dir: Path | None, *, cache_dir: Path, voice: str = "", language: str = "en") -> None:
        folder = check_xtts(model_dir)
        import torch
        from TTS.tts.configs.xtts_config import XttsConfig
        from TTS.tts.models.xtts import Xtts

        config = XttsConfig()
        config.load_json(str(folder / "config.json"))
        model: Any = Xtts.init_from_config(config)
        model.load_checkpoint(config, checkpoint_dir=str(folder), eval=True, use_deepspeed=False)
        if torch.cuda.is_available():
            model.cuda()
        self._torch = torch
        self._model = model
        self._latent, self._embedding = self._conditioning(folder, voice)
        self._language = language
        super().__init__(
            voice=xtts_voice_info(voice), sample_rate_hz=int(config.audio.output_sample_rate), cache_dir=cache_dir
        )

    def _conditioning(self, folder: Path, voice: str) -> tuple[Any, Any]:
        if voice.endswith(".wav"):
            if not Path(voice).is_file():
                raise UnknownVoiceError(f"The voice sample {voice} does not exist.", hint="Give a .wav file.")
            return self._model.get_conditioning_latents(audio_path=[voice])
        speaker = voice or DEFAULT_SPEAKER
        speakers = getattr(getattr(self._model, "speaker_manager", None), "speakers", None) or {}
        if speaker not in speakers:
            raise UnknownVoiceError(
                f"XTTS has no built-in speaker {speaker!r} (is {SPEAKERS_FILE} in {folder}?).",
                hint="Give a built-in speaker name or a .wav sample of the voice to clone.",
            )
        entry = speakers[speaker]
        return entry["gpt_cond_latent"], entry["speaker_embedding"]

    @property
    def engine_version(self) -> str:
        from importlib.metadata import version

        return f"coqui-tts {version('coqui-tts')}"

    def _synthesize_piece(self, piece: SpeechPiece) -> PieceAudio:
        self._torch.manual_seed(SEED)  # XTTS samples its tokens: same text, same audio
        with self._torch.inference_mode():
            output = self._model.inference(piece.spoken, self._language, self._latent, self._embedding)
        return PieceAudio(np.asarray(output["wav"], dtype=np.float32).reshape(-1))  # timings: forced alignment


class XttsVoices:
    """XTTS's built-in speakers by name and .wav samples to clone, from the weights in XTTS_MODEL_DIR."""

    default_voice = DEFAULT_SPEAKER

    def owns(self, voice: str) -> bool:
        return voice.endswith(".wav")

    def voices(self, settings: Settings) -> list[VoiceInfo]:
        try:
            check_xtts(settings.xtts_model_dir)
        except EngineUnavailableError:
            return []  # not installed here: loading it says what is missing
        ref = VoiceRef.configured(settings)
        return [xtts_voice_info(ref.voice if ref.engine == "xtts" else DEFAULT_SPEAKER)]

    def check(self, voice: str, settings: Settings) -> None:
        check_xtts(settings.xtts_model_dir)  # EngineUnavailableError: what is missing and how to fix it
        sample = _sample(voice, settings)
        if sample.endswith(".wav") and not Path(sample).expanduser().is_file():
            raise UnknownVoiceError(f"the voice sample {sample} does not exist", hint="give a .wav file")

    def load(self, voice: str, settings: Settings, *, threads: int) -> XttsEngine:
        return XttsEngine(settings.xtts_model_dir, cache_dir=settings.cache_dir, voice=_sample(voice, settings))


def _sample(voice: str, settings: Settings) -> str:
    """``voice``, or the .wav TTS_VOICE names when ``voice`` is its stem (the id the voice list gives it)."""
    ref = VoiceRef.configured(settings)
    configured = ref.engine == "xtts" and ref.voice.endswith(".wav") and Path(ref.voice).stem == voice
    return ref.voice if configured else voice


PROVIDER = XttsVoices()
