"""The speech-to-text contract: 16 kHz mono float32 audio in, a :class:`Transcript` out.

An engine transcribes a whole recording (``transcribe``) or, through :meth:`STTEngine.stream`, an
utterance that is still being spoken: feed audio as it arrives, ask for cheap partial transcripts
while it grows and for the final one (with word timings) when the speaker stops. See
:mod:`neura.stt.streaming`.

Engines are CPU-heavy and blocking: call them from a worker thread (``loop.run_in_executor``), never
on an event loop. An engine may be shared by threads (each call is independent; CTranslate2 queues
concurrent calls on its own workers); a :class:`~neura.stt.streaming.StreamingTranscriber` belongs to
one utterance and one caller at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from neura.errors import InputError

if TYPE_CHECKING:
    from neura.stt.streaming import StreamingTranscriber

SAMPLE_RATE_HZ = 16000
"""The rate every STT and VAD engine here takes: resample first (:mod:`neura.stt.resample`)."""

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class RecognizedWord:
    """A word as heard, with its leading space and punctuation removed; times in seconds from the
    start of the audio that was transcribed."""

    word: str
    start_s: float
    end_s: float
    probability: float


@dataclass(frozen=True)
class TranscriptSegment:
    """A stretch of speech the model decoded as one piece (a sentence or a phrase), with the
    decoder's own confidence figures (the fields of OpenAI's ``verbose_json`` segments)."""

    text: str
    start_s: float
    end_s: float
    words: tuple[RecognizedWord, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0
    temperature: float = 0.0
    tokens: tuple[int, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """What was said. ``text`` is the segments' text joined; ``duration_s`` the length of the audio."""

    text: str
    language: str
    duration_s: float
    segments: tuple[TranscriptSegment, ...] = ()
    model: str = ""

    @property
    def words(self) -> list[RecognizedWord]:
        return [word for segment in self.segments for word in segment.words]

    @staticmethod
    def empty(duration_s: float, language: str, model: str = "") -> Transcript:
        return Transcript("", language, duration_s, (), model)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: text, language, duration, model, segments and words with their times."""
        return {
            "text": self.text,
            "language": self.language,
            "duration_s": round(self.duration_s, 3),
            "model": self.model,
            "segments": [{"text": s.text, "start_s": s.start_s, "end_s": s.end_s} for s in self.segments],
            "words": [
                {"word": w.word, "start_s": w.start_s, "end_s": w.end_s, "probability": w.probability}
                for w in self.words
            ],
        }


@dataclass(frozen=True)
class STTModelInfo:
    """A speech recognition model usable here."""

    name: str  # "tiny.en", "base", or a folder name under STT_MODEL_DIR
    engine: str  # the provider: "whisper"
    languages: tuple[str, ...]  # ISO 639-1 codes; ("en",) for English-only models
    license: str
    source: str  # the package or folder it is loaded from
    size_bytes: int = 0
    notes: str = ""

    @property
    def english_only(self) -> bool:
        return self.languages == ("en",)


class UnsupportedLanguageError(InputError):
    """The model does not understand the requested language."""


def check_language(model: STTModelInfo, language: str | None) -> str | None:
    """``language`` normalised ("EN" -> "en"; empty -> None), or :class:`UnsupportedLanguageError`
    (422 / exit 65) when ``model`` does not understand it."""
    if language is None or not language.strip():
        return None
    code = language.strip().lower()
    if code not in model.languages:
        understood = "only English ('en')" if model.english_only else "ISO 639-1 codes such as 'en', 'de', 'fr'"
        raise UnsupportedLanguageError(
            f"the speech recognition model {model.name!r} does not understand language {language!r}",
            hint=f"it takes {understood}; or leave language out",
        )
    return code


@dataclass(frozen=True)
class TranscribeOptions:
    """Per-call choices. ``language`` None: the model's own (English-only models) or detected;
    ``prompt``: text that came before (names, spelling) to steer the decoder; ``temperature`` 0 is
    greedy, and with ``fallback`` decodes again at higher temperatures when the text looks wrong
    (repetitive or improbable: OpenAI's rule); ``word_timestamps`` costs an extra alignment pass;
    ``beam_size`` 5 (Whisper's own default) is more accurate than greedy decoding (1) and slower;
    ``denoise`` takes background noise out first, with ``denoiser`` "deepfilter" (the DeepFilterNet3
    network, :mod:`neura.stt.deepfilter`) or "spectral" (a spectral gain for steady noise,
    :mod:`neura.stt.denoise`)."""

    language: str | None = None
    prompt: str | None = None
    temperature: float = 0.0
    fallback: bool = True
    word_timestamps: bool = True
    beam_size: int = 5
    denoise: bool = True
    denoiser: str = "deepfilter"


@runtime_checkable
class STTEngine(Protocol):
    name: str  # the provider ("whisper")
    model: STTModelInfo
    sample_rate_hz: int  # always SAMPLE_RATE_HZ

    def transcribe(self, samples: Samples, options: TranscribeOptions | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 ``samples``. Blocking; safe to call from several threads."""
        ...

    def stream(self, options: TranscribeOptions | None = None) -> StreamingTranscriber:
        """A transcriber for one utterance that grows while it is spoken."""
        ...
