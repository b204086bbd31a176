"""Typed values that flow between engines.

Data moves one way: text -> :class:`SpeechChunk` (audio with phoneme and word timings) ->
:class:`MouthTrack` (per-frame mouth parameters) -> frames. Times are seconds from the start of the
value that holds them unless a name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

PhonemeAlphabet = Literal["ipa", "arpabet"]


@dataclass(frozen=True)
class PhonemeSpan:
    """One phoneme and where it sounds. ``phoneme`` is IPA (Piper, espeak) or ARPAbet (pocketsphinx)."""

    phoneme: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class WordSpan:
    word: str
    start_s: float
    end_s: float


@dataclass
class SpeechChunk:
    """Audio for one piece of text (a sentence, usually), with its alignment.

    ``samples`` are float32 mono in [-1, 1]. Phoneme and word times are relative to the chunk's first
    sample and already corrected by the engine's measured alignment offset.

    ``continues``: only from ``synthesize_streaming``: this chunk is the head of a longer utterance whose
    rest is the next chunk (its audio goes on from this one's last sample). Both carry the whole
    utterance's phonemes and words, each on its own timeline (so the rest's first ones are negative),
    for a mouth that moves across the cut as it would through the whole.
    """

    text: str
    samples: npt.NDArray[np.float32]
    sample_rate_hz: int
    phonemes: list[PhonemeSpan] = field(default_factory=list)
    words: list[WordSpan] = field(default_factory=list)
    alphabet: PhonemeAlphabet = "ipa"
    continues: bool = False

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz

    def shifted(self, offset_s: float) -> tuple[list[PhonemeSpan], list[WordSpan]]:
        """Phonemes and words moved onto a timeline where this chunk starts at ``offset_s``."""
        return (
            [PhonemeSpan(p.phoneme, p.start_s + offset_s, p.end_s + offset_s) for p in self.phonemes],
            [WordSpan(w.word, w.start_s + offset_s, w.end_s + offset_s) for w in self.words],
        )


@dataclass(frozen=True)
class MouthPose:
    """Mouth parameters for one video frame, each in [0, 1] unless noted.

    open:   jaw/lip opening (0 closed, 1 widest natural opening)
    spread: lip corners pulled outward (smile-like, "ee")
    round:  lips rounded and pushed forward ("oo", "w")
    close:  lips pressed together (p/b/m); overrides ``open``
    tongue: tongue tip raised towards the upper teeth (l, n, t, d; between the teeth for th)
    """

    open: float = 0.0
    spread: float = 0.0
    round: float = 0.0
    close: float = 0.0
    tongue: float = 0.0

    def as_array(self) -> npt.NDArray[np.float32]:
        return np.array([self.open, self.spread, self.round, self.close, self.tongue], dtype=np.float32)


MOUTH_CLOSED = MouthPose()
MOUTH_CHANNELS = 5  # open, spread, round, close, tongue


@dataclass
class MouthTrack:
    """Mouth poses sampled at ``fps``: ``values[i]`` = (open, spread, round, close, tongue) of frame i."""

    fps: float
    values: npt.NDArray[np.float32]  # shape (frames, MOUTH_CHANNELS)

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def pose(self, frame_index: int) -> MouthPose:
        if not 0 <= frame_index < len(self):
            return MOUTH_CLOSED
        return MouthPose(*(float(v) for v in self.values[frame_index]))


@dataclass(frozen=True)
class HeadPose:
    """Head and face motion for one frame (everything except the mouth).

    dx_px, dy_px: head translation in avatar-image pixels; roll_deg: head tilt; scale: breathing
    (1.0 = neutral); blink_left, blink_right: 0 open .. 1 closed; brow: 0 .. 1 raise.
    """

    dx_px: float = 0.0
    dy_px: float = 0.0
    roll_deg: float = 0.0
    scale: float = 1.0
    blink_left: float = 0.0
    blink_right: float = 0.0
    brow: float = 0.0


NEUTRAL_HEAD = HeadPose()
