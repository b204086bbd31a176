"""Subtitles from word timings: cues, SRT and WebVTT files, and the cue showing at a time.

Cues break first at sentence ends and at long pauses, then by length (at most ``max_lines`` lines
of ``max_chars_per_line`` characters, at most ``max_duration_s`` on screen), preferring a break
after a comma in the second half of a full cue. A word is never split; a single word longer than a
line gets a line of its own. Two-line cues are balanced (the longer line as short as possible).
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from dataclasses import dataclass

from neura.encode.atomic import write_bytes_atomic
from neura.media import WordSpan

SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
CLAUSE_END = (",", ";", ":", "—", "–")
_CLOSERS = "\"'”’)]»"


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _ends_with(word: str, marks: tuple[str, ...]) -> bool:
    return word.rstrip(_CLOSERS).endswith(marks)


def wrap_words(words: Sequence[str], max_chars_per_line: int) -> list[str]:
    """Lines for a cue: one line if it fits, else a balanced two-line split if that fits, else
    greedy lines."""
    text = " ".join(words)
    if len(text) <= max_chars_per_line or len(words) < 2:
        return [text]
    best: tuple[int, int] | None = None  # (longer line, split index)
    for k in range(1, len(words)):
        longer = max(len(" ".join(words[:k])), len(" ".join(words[k:])))
        if longer <= max_chars_per_line and (best is None or longer < best[0]):
            best = (longer, k)
    if best is not None:
        return [" ".join(words[: best[1]]), " ".join(words[best[1] :])]
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars_per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _phrases(words: Sequence[WordSpan], pause_s: float) -> list[list[WordSpan]]:
    phrases: list[list[WordSpan]] = [[]]
    for i, word in enumerate(words):
        phrases[-1].append(word)
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt is not None and (_ends_with(word.word, SENTENCE_END) or nxt.start_s - word.end_s >= pause_s):
            phrases.append([])
    return [p for p in phrases if p]


def build_cues(
    words: Sequence[WordSpan],
    *,
    max_chars_per_line: int = 42,
    max_lines: int = 2,
    max_duration_s: float = 6.0,
    min_gap_s: float = 0.04,
    pause_s: float = 0.5,
    min_duration_s: float = 0.8,
) -> list[Cue]:
    """Cues for the words (times on the video's timeline).

    ``pause_s``: a silence at least this long ends a cue. ``min_duration_s``: short cues stay up
    longer when the next cue leaves room. ``min_gap_s``: consecutive cues are at least this far
    apart, so players do not show two at once.
    """
    clean = sorted((w for w in words if w.word.strip()), key=lambda w: w.start_s)
    clean = [WordSpan(w.word.strip(), w.start_s, w.end_s) for w in clean]

    def fits(group: Sequence[WordSpan]) -> bool:
        lines = wrap_words([w.word for w in group], max_chars_per_line)
        return len(lines) <= max_lines and group[-1].end_s - group[0].start_s <= max_duration_s

    groups: list[list[WordSpan]] = []
    for phrase in _phrases(clean, pause_s):
        current: list[WordSpan] = []
        for word in phrase:
            if not current or fits([*current, word]):
                current.append(word)
                continue
            clause = [k for k in range(len(current) - 1) if _ends_with(current[k].word, CLAUSE_END)]
            k = clause[-1] + 1 if clause and clause[-1] + 1 >= len(current) / 2 else len(current)
            groups.append(current[:k])
            current = [*current[k:], word]
            if not fits(current) and len(current) > 1:
                groups.append(current[:-1])
                current = [word]
        if current:
            groups.append(current)

    cues = [Cue(g[0].start_s, g[-1].end_s, tuple(wrap_words([w.word for w in g], max_chars_per_line))) for g in groups]
    return _retime(cues, min_gap_s, min_duration_s)


def _retime(cues: list[Cue], min_gap_s: float, min_duration_s: float) -> list[Cue]:
    out: list[Cue] = []
    for i, cue in enumerate(cues):
        end_s = max(cue.end_s, cue.start_s + min_duration_s)
        if i + 1 < len(cues):
            end_s = min(end_s, cues[i + 1].start_s - min_gap_s)
        end_s = max(end_s, cue.start_s + 0.001)
        out.append(Cue(cue.start_s, end_s, cue.lines))
    return out


def cue_at(cues: Sequence[Cue], t_s: float) -> Cue | None:
    """The cue on screen at ``t_s`` (cues sorted by start, not overlapping), or None."""
    i = bisect.bisect_right(cues, t_s, key=lambda c: c.start_s) - 1
    if i >= 0 and cues[i].start_s <= t_s < cues[i].end_s:
        return cues[i]
    return None


def format_timestamp(t_s: float, decimal_mark: str) -> str:
    """``HH:MM:SS,mmm`` (SRT, ``decimal_mark=","``) or ``HH:MM:SS.mmm`` (WebVTT)."""
    total_ms = max(0, round(t_s * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal_mark}{ms:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = []
    for i, cue in enumerate(cues, start=1):
        lines = [line.replace("-->", "->") for line in cue.lines if line.strip()]
        times = f"{format_timestamp(cue.start_s, ',')} --> {format_timestamp(cue.end_s, ',')}"
        blocks.append("\n".join([str(i), times, *lines]) + "\n")
    return "\n".join(blocks)


def _vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    for cue in cues:
        lines = [_vtt_escape(line) for line in cue.lines if line.strip()]
        times = f"{format_timestamp(cue.start_s, '.')} --> {format_timestamp(cue.end_s, '.')}"
        blocks.append("\n".join([times, *lines]) + "\n")
    return "\n".join(blocks)


def write_srt(cues: Sequence[Cue], path: str | os.PathLike[str]) -> None:
    write_bytes_atomic(path, to_srt(cues).encode("utf-8"), "subtitles")


def write_vtt(cues: Sequence[Cue], path: str | os.PathLike[str]) -> None:
    write_bytes_atomic(path, to_vtt(cues).encode("utf-8"), "subtitles")
