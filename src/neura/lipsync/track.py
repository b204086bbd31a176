"""Phoneme timings -> per-frame mouth parameters (:class:`MouthTrack`).

The model (documented in ``docs/visemes.md``):

1. Every phoneme span becomes one or more viseme *segments* (a diphthong shares its span between
   two targets); marks fold into a neighbour; gaps and pauses become ``sil`` segments; a pause
   shorter than :data:`LONG_PAUSE_S` holds the mouth only weakly, so words run together.
2. Coarticulation after Cohen & Massaro: each segment has a *dominance* that is flat over the
   segment and decays exponentially away from it (anticipation before, carry-over after, cut to zero
   beyond :data:`DOMINANCE_REACH_S`). The mouth at time t is the dominance-weighted mean of all
   targets, evaluated at an internal rate that is a whole multiple of the frame rate (>= 100 Hz).
3. A Gaussian low pass (:data:`SMOOTHING_SIGMA_S`) stands in for the inertia of jaw and lips.
4. Each frame is the mean over its exposure window, the time it is on screen: frame i (time
   ``i / fps``) shows ``i / fps`` to ``(i + 1) / fps``, the same stretch of voice that plays while it is
   shown; so a closure shorter than a frame still shows, and the picture is not half a frame behind
   the sound (a window centred on ``i / fps`` was).
5. Every bilabial closure of at least :data:`MIN_CLOSURE_S` gets at least one frame with the lips
   pressed together (close=1, open=0): viewers notice a missing p/b/m more than anything else.

The result depends only on phonemes within :func:`stream_guard_s` of a frame, so a timeline cut
into sentences (each with that much silence at its edges) gives the same frames as the whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neura.errors import InputError
from neura.lipsync.visemes import VISEMES, Attach, VisemeName, VisemeTarget, phoneme_targets
from neura.media import MOUTH_CHANNELS, MouthTrack, PhonemeAlphabet, PhonemeSpan

INTERNAL_RATE_HZ = 100.0
SMOOTHING_SIGMA_S = 0.012  # Gaussian sigma; full width at half maximum about 28 ms
DOMINANCE_REACH_S = 0.08  # dominance is zero this far outside its segment
MIN_CLOSURE_S = 0.02  # bilabial closures at least this long always get a closed frame
SHORT_PAUSE_S = 0.06  # a pause this short barely holds the mouth (word boundaries)
LONG_PAUSE_S = 0.15  # a pause this long closes the mouth completely
_MIN_PAUSE_WEIGHT = 0.05
_MIN_GAP_S = 0.005  # gaps between spans shorter than this are rounding, not pauses
_FAR_S = 1.0e9  # "forever" for the silence before the first and after the last phoneme

_POSES = {name: v.pose.as_array() for name, v in VISEMES.items()}


@dataclass(frozen=True)
class VisemeSegment:
    """One viseme target over a stretch of time (seconds on the phonemes' timeline)."""

    start_s: float
    end_s: float
    viseme: VisemeName
    amplitude: float = 1.0
    weight: float = 1.0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def _resolve_marks(
    phonemes: Sequence[PhonemeSpan], alphabet: PhonemeAlphabet
) -> list[tuple[float, float, tuple[VisemeTarget, ...]]]:
    """Spans with their targets; mark-only spans give their time to the neighbour they belong to."""
    items: list[tuple[float, float, tuple[VisemeTarget, ...]]] = []
    pending_start_s: float | None = None  # start of marks waiting for the next real phoneme
    last_end_s = 0.0
    for span in sorted(phonemes, key=lambda p: p.start_s):
        if not span.end_s > span.start_s:
            continue
        last_end_s = span.end_s
        targets: tuple[VisemeTarget, ...] | Attach = phoneme_targets(span.phoneme, alphabet)
        if targets == "previous" and items:
            start_s, _, prev = items[-1]
            items[-1] = (start_s, max(span.end_s, items[-1][1]), prev)
        elif isinstance(targets, str):  # "next", or "previous" with nothing before it
            pending_start_s = span.start_s if pending_start_s is None else pending_start_s
        else:
            start_s = span.start_s if pending_start_s is None else min(pending_start_s, span.start_s)
            items.append((start_s, span.end_s, targets))
            pending_start_s = None
    if pending_start_s is not None and items:
        start_s, _, prev = items[-1]
        items[-1] = (start_s, max(items[-1][1], last_end_s), prev)
    return items


def _pause_weight(duration_s: float) -> float:
    ramp = (duration_s - SHORT_PAUSE_S) / (LONG_PAUSE_S - SHORT_PAUSE_S)
    return float(min(1.0, max(_MIN_PAUSE_WEIGHT, ramp)))


def viseme_segments(phonemes: Sequence[PhonemeSpan], alphabet: PhonemeAlphabet) -> list[VisemeSegment]:
    """The viseme segments of a phoneme sequence, gaps filled with silence, pauses merged and
    weighted by their length. Times are the phonemes' own (no offset)."""
    raw: list[VisemeSegment] = []
    for start_s, end_s, targets in _resolve_marks(phonemes, alphabet):
        step_s = (end_s - start_s) / len(targets)
        for k, target in enumerate(targets):
            seg_start_s = start_s + k * step_s
            seg_end_s = end_s if k == len(targets) - 1 else seg_start_s + step_s
            raw.append(VisemeSegment(seg_start_s, seg_end_s, target.viseme, target.amplitude, target.weight))
    merged: list[VisemeSegment] = []
    for seg in raw:
        prev = merged[-1] if merged else None
        if prev is not None and seg.start_s > prev.end_s + _MIN_GAP_S:
            gap = VisemeSegment(prev.end_s, seg.start_s, "sil")
            if prev.viseme == "sil":
                merged[-1] = prev = VisemeSegment(prev.start_s, seg.start_s, "sil")
            else:
                merged.append(gap)
                prev = gap
        if prev is not None and prev.viseme == "sil" and seg.viseme == "sil":
            merged[-1] = VisemeSegment(prev.start_s, max(prev.end_s, seg.end_s), "sil")
        else:
            merged.append(seg)
    return [
        VisemeSegment(s.start_s, s.end_s, "sil", 1.0, _pause_weight(s.duration_s)) if s.viseme == "sil" else s
        for s in merged
    ]


def _with_silent_ends(segments: list[VisemeSegment]) -> list[VisemeSegment]:
    """Silence from forever before the first phoneme to forever after the last (edge pauses join it)."""
    core = segments[1:] if segments and segments[0].viseme == "sil" else segments
    core = core[:-1] if core and core[-1].viseme == "sil" else core
    first_s = core[0].start_s if core else 0.0
    last_s = core[-1].end_s if core else 0.0
    return [VisemeSegment(-_FAR_S, first_s, "sil"), *core, VisemeSegment(last_s, _FAR_S, "sil")]


def stream_guard_s(fps: float) -> float:
    """Silence needed at a sentence's edges for sentence-by-sentence tracks to equal the whole."""
    return DOMINANCE_REACH_S + 3.0 * SMOOTHING_SIGMA_S + 1.0 / fps


def _sample_grid(fps: float, start_s: float, n_frames: int) -> tuple[int, int, npt.NDArray[np.float64]]:
    """Sub-frame sample times: ``per_frame`` samples inside each frame's exposure window plus
    ``radius`` samples of margin at both ends for the smoothing kernel."""
    per_frame = max(1, math.ceil(INTERNAL_RATE_HZ / fps - 1e-9))
    rate_hz = fps * per_frame
    radius = math.ceil(3.0 * SMOOTHING_SIGMA_S * rate_hz)
    j = np.arange(-radius, n_frames * per_frame + radius, dtype=np.float64)
    times_s = start_s + (j + 0.5) / rate_hz  # frame i's samples lie inside [i / fps, (i + 1) / fps)
    return per_frame, radius, times_s


def _blend(segments: Sequence[VisemeSegment], times_s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Dominance-weighted mean of the segments' targets at each time."""
    num = np.zeros((len(times_s), MOUTH_CHANNELS))
    den = np.zeros(len(times_s))
    for seg in segments:
        lo = int(np.searchsorted(times_s, seg.start_s - DOMINANCE_REACH_S, side="left"))
        hi = int(np.searchsorted(times_s, seg.end_s + DOMINANCE_REACH_S, side="right"))
        if hi <= lo:
            continue
        t = times_s[lo:hi]
        viseme = VISEMES[seg.viseme]
        before_s = np.maximum(seg.start_s - t, 0.0)
        after_s = np.maximum(t - seg.end_s, 0.0)
        dominance = (viseme.dominance * seg.weight) * np.exp(
            -before_s / viseme.anticipation_s - after_s / viseme.carryover_s
        )
        dominance[(before_s > DOMINANCE_REACH_S) | (after_s > DOMINANCE_REACH_S)] = 0.0
        target = _POSES[seg.viseme].astype(np.float64)
        target[:3] *= seg.amplitude
        num[lo:hi] += dominance[:, None] * target[None, :]
        den[lo:hi] += dominance
    return num / den[:, None]


def _gaussian_kernel(radius: int, sigma_samples: float) -> npt.NDArray[np.float64]:
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / sigma_samples) ** 2)
    return kernel / kernel.sum()


def _closure_frames(seg: VisemeSegment, fps: float, start_s: float, n_frames: int) -> range:
    """Frames that must show this closure: those whose exposure's middle falls inside it, else the
    nearest one."""
    first = math.ceil((seg.start_s - start_s) * fps - 0.5 - 1e-9)
    last = math.ceil((seg.end_s - start_s) * fps - 0.5 - 1e-9)  # exclusive
    if last <= first:
        nearest = round((0.5 * (seg.start_s + seg.end_s) - start_s) * fps - 0.5)
        first, last = nearest, nearest + 1
    return range(max(first, 0), min(last, n_frames))


def mouth_track(
    phonemes: Sequence[PhonemeSpan],
    alphabet: PhonemeAlphabet,
    *,
    fps: float = 25.0,
    start_s: float = 0.0,
    n_frames: int,
    offset_s: float = 0.0,
) -> MouthTrack:
    """Mouth poses for frames ``0 .. n_frames-1``; frame i shows time ``start_s + i / fps``.

    ``phonemes`` are on the same timeline as ``start_s``. ``offset_s`` is added to every phoneme
    time (a measured A/V correction: negative moves the mouth earlier). Before the first and after
    the last phoneme the mouth is closed.
    """
    if not fps > 0:
        raise InputError(f"fps must be positive, got {fps}")
    if n_frames < 0:
        raise InputError(f"n_frames must be >= 0, got {n_frames}")
    if n_frames == 0:
        return MouthTrack(fps=fps, values=np.zeros((0, MOUTH_CHANNELS), np.float32))
    shifted = [PhonemeSpan(p.phoneme, p.start_s + offset_s, p.end_s + offset_s) for p in phonemes]
    segments = _with_silent_ends(viseme_segments(shifted, alphabet))

    per_frame, radius, times_s = _sample_grid(fps, start_s, n_frames)
    raw = _blend(segments, times_s)
    kernel = _gaussian_kernel(radius, SMOOTHING_SIGMA_S * fps * per_frame)
    smooth = np.stack([np.convolve(raw[:, c], kernel, mode="valid") for c in range(MOUTH_CHANNELS)], axis=1)
    values = smooth.reshape(n_frames, per_frame, MOUTH_CHANNELS).mean(axis=1)

    for seg in segments:
        if seg.viseme == "PP" and seg.duration_s >= MIN_CLOSURE_S:
            for i in _closure_frames(seg, fps, start_s, n_frames):
                values[i, 0], values[i, 3] = 0.0, 1.0
    return MouthTrack(fps=fps, values=np.clip(values, 0.0, 1.0).astype(np.float32))


def energy_mouth_track(
    samples: npt.NDArray[np.floating],
    sample_rate_hz: int,
    fps: float,
    n_frames: int,
    *,
    start_s: float = 0.0,
    floor_dbfs: float = -45.0,
    full_dbfs: float = -12.0,
) -> MouthTrack:
    """Fallback when an engine gives no phonemes: the opening follows the loudness.

    The RMS level over each frame's exposure window (its time on screen, widened to 40 ms about the middle)
    maps linearly from ``floor_dbfs`` (closed) to ``full_dbfs`` (fully open). Levels are absolute,
    not normalised per call, so sentence-by-sentence tracks match the whole.
    """
    if not fps > 0 or sample_rate_hz <= 0:
        raise InputError(f"fps and sample_rate_hz must be positive, got {fps}, {sample_rate_hz}")
    audio = np.asarray(samples, dtype=np.float64).reshape(-1)
    energy = np.concatenate([[0.0], np.cumsum(audio * audio)])
    half_window_s = 0.5 * max(1.0 / fps, 0.04)
    times_s = start_s + (np.arange(n_frames) + 0.5) / fps  # the middle of each frame's time on screen
    lo = np.clip(np.round((times_s - half_window_s) * sample_rate_hz).astype(np.int64), 0, len(audio))
    hi = np.clip(np.round((times_s + half_window_s) * sample_rate_hz).astype(np.int64), 0, len(audio))
    window_len = max(1, round(2 * half_window_s * sample_rate_hz))
    rms = np.sqrt(np.maximum(energy[hi] - energy[lo], 0.0) / window_len)
    level_db = 20.0 * np.log10(rms + 1e-9)
    opening = np.clip((level_db - floor_dbfs) / (full_dbfs - floor_dbfs), 0.0, 1.0)
    values = np.zeros((n_frames, MOUTH_CHANNELS), dtype=np.float32)
    values[:, 0] = opening
    values[:, 1] = 0.2 * opening
    return MouthTrack(fps=fps, values=values)
