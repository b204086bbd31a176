"""Lip sync: phonemes (IPA or ARPAbet) -> visemes -> per-frame mouth parameters."""

from neura.lipsync.track import energy_mouth_track, mouth_track, stream_guard_s, viseme_segments
from neura.lipsync.visemes import VISEMES, Viseme, VisemeName, phoneme_targets

__all__ = [
    "VISEMES",
    "Viseme",
    "VisemeName",
    "energy_mouth_track",
    "mouth_track",
    "phoneme_targets",
    "stream_guard_s",
    "viseme_segments",
]
