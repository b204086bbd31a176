"""espeak-ng 1.52 through ctypes, library and data from the ``espeakng-loader`` wheel (GPL-3.0-or-later).

espeak-ng keeps global state (one voice, one callback per process), so :class:`EspeakLibrary` is a
process-wide singleton (:func:`espeak_library`) and every call holds its lock. The structures below
follow ``speak_lib.h`` (API revision 12) of espeak-ng 1.52.

Determinism: espeak-ng's wave generator keeps a free-running pitch "flutter" phase and a cycle counter
for voice "roughness" across calls, so the same text gives slightly different samples each time. Speech
uses a voice variant with both off (``flutter 0``, ``roughness 8``), which makes it bit-identical. The
variant file cannot go into the installed package, so the data folder is mirrored with symlinks into
the temporary folder, plus that file and a steady copy of each of espeak-ng's own variants (so
"en-us+f4", a female variant, stays steady too; made once, atomically; without them speech still
works, only not bit-identically).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from neura.errors import EngineUnavailableError

_LOGGER = logging.getLogger(__name__)
DETERMINISTIC_VARIANT = "neura-steady"
_MIRROR_VERSION = 2  # 2: steady copies of the variants
STEADY_VARIANTS = ("f1", "f2", "f3", "f4", "f5")
"""espeak-ng's variants with a steady copy (its voice list holds 350 entries: not room for all)."""
_STEADY_LINES = "\nflutter 0\nroughness 8\necho 0 0\nbreath 0\n"
_VARIANT_FILE = "language variant\nname neura-steady\nflutter 0\nroughness 8\n"

# espeak_AUDIO_OUTPUT, espeak_Initialize options, espeak_Synth flags, espeak_EVENT_TYPE
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02
_EE_OK = 0

EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_SENTENCE = 2
EVENT_END = 5
EVENT_MSG_TERMINATED = 6
EVENT_PHONEME = 7
EVENT_SAMPLERATE = 8


class _EventId(ctypes.Union):
    _fields_ = (
        ("number", ctypes.c_int),  # WORD, SENTENCE
        ("name", ctypes.c_char_p),  # MARK, PLAY
        ("string", ctypes.c_char * 8),  # PHONEME: UTF-8, zero-terminated unless all 8 bytes are used
    )


class _Event(ctypes.Structure):
    """``espeak_EVENT``: 40 bytes on 64-bit platforms."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters of the input
        ("length", ctypes.c_int),  # word length in characters (WORD events)
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),  # sample index from the start of the message
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EspeakEvent:
    kind: int  # EVENT_WORD, EVENT_PHONEME, ...
    sample: int  # sample index from the start of the synthesised text
    text_position: int  # 0-based character index into the text
    length: int  # characters (word events)
    phoneme: str = ""  # IPA (phoneme events); "" marks a pause


@dataclass(frozen=True)
class EspeakSpeech:
    samples: npt.NDArray[np.int16]
    sample_rate_hz: int
    events: list[EspeakEvent]


class EspeakLibrary:
    """The loaded libespeak-ng. Use :func:`espeak_library`; do not build a second one."""

    def __init__(self, library_path: str, data_path: str, speech_variant: str = "") -> None:
        try:
            lib = ctypes.CDLL(library_path)
        except OSError as error:
            raise EngineUnavailableError(
                f"Cannot load the espeak-ng library at {library_path}: {error}",
                hint="Reinstall it with: pip install --force-reinstall espeakng-loader==0.2.4",
            ) from error
        lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = (_SynthCallback,)
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = (
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        )  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = (ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int)
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = (ctypes.c_void_p,)
        lib.espeak_Info.restype = ctypes.c_char_p
        self._lib = lib
        self._lock = threading.Lock()
        self._voice = ""
        self._speech_variant = speech_variant
        self._samples: list[npt.NDArray[np.int16]] = []
        self._events: list[EspeakEvent] = []
        self._callback = _SynthCallback(self._on_synth)  # keep a reference: C holds the pointer
        options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), options)
        if rate <= 0:
            raise EngineUnavailableError(
                f"espeak-ng failed to initialise with its data at {data_path}.",
                hint="Reinstall it with: pip install --force-reinstall espeakng-loader==0.2.4",
            )
        self.sample_rate_hz = int(rate)
        lib.espeak_SetSynthCallback(self._callback)
        self.version = (lib.espeak_Info(None) or b"unknown").decode()

    def _on_synth(self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        if wav and count > 0:
            self._samples.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.int16, copy=True))
        index = 0
        while events and events[index].type != EVENT_LIST_TERMINATED:
            event = events[index]
            index += 1
            if event.type not in (EVENT_WORD, EVENT_PHONEME):
                continue
            phoneme = event.id.string.decode("utf-8", "replace") if event.type == EVENT_PHONEME else ""
            self._events.append(EspeakEvent(event.type, event.sample, event.text_position - 1, event.length, phoneme))
        return 0  # continue

    def _set_voice(self, voice: str) -> None:
        """``voice`` is a language ("en-us") or a language and one of espeak-ng's variants ("en-us+f4")."""
        language, plus, variant = voice.partition("+")
        steady = f"{self._speech_variant}-{variant}" if variant in STEADY_VARIANTS else variant
        name = f"{language}+{steady if plus else self._speech_variant}" if self._speech_variant else voice
        if name == self._voice:
            return
        if self._lib.espeak_SetVoiceByName(name.encode()) != _EE_OK:
            raise EngineUnavailableError(
                f"espeak-ng has no voice named {voice!r}.",
                hint="Use a voice such as 'en-us', 'en-gb' or 'en-us+f3' (a language, then a variant after '+').",
            )
        self._voice = name

    def synthesize(self, text: str, voice: str) -> EspeakSpeech:
        """Speak ``text`` (UTF-8, no SSML) with word and IPA phoneme events; blocks until done."""
        data = text.encode("utf-8")
        with self._lock:
            self._set_voice(voice)
            self._samples, self._events = [], []
            status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            samples, events = self._samples, self._events
            self._samples, self._events = [], []
        if status != _EE_OK:
            raise EngineUnavailableError(f"espeak-ng failed to synthesise (error {status}).")
        audio = np.concatenate(samples) if samples else np.zeros(0, dtype=np.int16)
        return EspeakSpeech(audio, self.sample_rate_hz, sorted(events, key=lambda e: e.sample))

    def text_to_ipa(self, text: str, voice: str) -> list[list[str]]:
        """IPA phonemes of each word of ``text``: ``"hello there"`` -> ``[["h", "ə", "l", "ˈoʊ"], ...]``."""
        separator = ord("_")
        buffer = ctypes.create_string_buffer(text.encode("utf-8"))
        pointer = ctypes.c_char_p(ctypes.addressof(buffer))
        words: list[list[str]] = []
        with self._lock:
            self._set_voice(voice)
            while pointer.value:
                clause = self._lib.espeak_TextToPhonemes(
                    ctypes.byref(pointer), _CHARS_UTF8, _PHONEMES_IPA | separator << 8
                )
                for word in (clause or b"").decode("utf-8", "replace").split():
                    words.append([p for p in word.split("_") if p])
        return words


def _mirror_with_variant(source: Path) -> Path | None:
    """``source`` mirrored by symlinks into the temporary folder, plus the steady voice variant."""
    tag = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    user = os.getuid() if hasattr(os, "getuid") else 0
    target = Path(tempfile.gettempdir()) / f"neura-espeak-ng-data-{user}-{tag}-v{_MIRROR_VERSION}"
    variant = target / "voices" / "!v" / DETERMINISTIC_VARIANT
    if variant.is_file():
        return target
    staging = Path(tempfile.mkdtemp(prefix=target.name, dir=target.parent))
    try:
        for entry in source.iterdir():
            if entry.name != "voices":
                (staging / entry.name).symlink_to(entry)
        (staging / "voices" / "!v").mkdir(parents=True)
        for entry in (source / "voices").iterdir():
            if entry.name != "!v":
                (staging / "voices" / entry.name).symlink_to(entry)
        for entry in (source / "voices" / "!v").iterdir():
            (staging / "voices" / "!v" / entry.name).symlink_to(entry)
            if entry.name in STEADY_VARIANTS:
                steady = entry.read_text(encoding="utf-8", errors="replace") + _STEADY_LINES
                (staging / "voices" / "!v" / f"{DETERMINISTIC_VARIANT}-{entry.name}").write_text(steady, "utf-8")
        (staging / "voices" / "!v" / DETERMINISTIC_VARIANT).write_text(_VARIANT_FILE, encoding="utf-8")
        staging.rename(target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        if variant.is_file():
            return target  # another process made it first
        _LOGGER.warning("espeak-ng speech will not be bit-identical between runs: %s", error)
        return None
    return target


@lru_cache(maxsize=1)
def espeak_library() -> EspeakLibrary:
    """The process's espeak-ng, loaded on first use."""
    try:
        import espeakng_loader
    except ImportError as error:
        raise EngineUnavailableError(
            "The espeak engine needs the espeakng-loader package.", hint="pip install espeakng-loader==0.2.4"
        ) from error
    source = Path(espeakng_loader.get_data_path())
    mirror = _mirror_with_variant(source)
    if mirror is None:
        return EspeakLibrary(espeakng_loader.get_library_path(), str(source))
    return EspeakLibrary(espeakng_loader.get_library_path(), str(mirror), DETERMINISTIC_VARIANT)
