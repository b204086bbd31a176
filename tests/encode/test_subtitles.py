"""Subtitle cues from word timings, and the SRT / WebVTT files written from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from neura.encode import Cue, build_cues, cue_at, to_srt, to_vtt, write_srt, write_vtt
from neura.encode.subtitles import format_timestamp, wrap_words
from neura.errors import OutputError
from neura.media import WordSpan


def timed(
    text: str, start_s: float = 0.0, word_s: float = 0.3, pauses: dict[int, float] | None = None
) -> list[WordSpan]:
    """Words of ``text`` spoken one after another; ``pauses[i]`` adds silence before word i."""
    words, t = [], start_s
    for i, word in enumerate(text.split()):
        t += (pauses or {}).get(i, 0.0)
        words.append(WordSpan(word, t, t + word_s - 0.05))
        t += word_s
    return words


LONG = (
    "Welcome to the quarterly update from the product team, where we look at what shipped, "
    "what slipped, and what comes next for the platform. Thanks for watching!"
)


def test_cues_respect_line_and_length_limits_and_never_split_words() -> None:
    words = timed(LONG)
    cues = build_cues(words)
    assert [w for c in cues for line in c.lines for w in line.split()] == [w.word for w in words]
    for cue in cues:
        assert 1 <= len(cue.lines) <= 2
        assert all(len(line) <= 42 for line in cue.lines)
        assert cue.end_s - cue.start_s <= 6.0


def test_cues_break_at_sentence_ends_first() -> None:
    cues = build_cues(timed("Hi there. How are you today? Fine!"))
    assert [c.text for c in cues] == ["Hi there.", "How are you today?", "Fine!"]


def test_cues_break_at_long_pauses() -> None:
    cues = build_cues(timed("one two three four", pauses={2: 0.8}))
    assert [c.text for c in cues] == ["one two", "three four"]


def test_full_cues_prefer_a_break_after_a_comma() -> None:
    text = "When the long meeting finally ended, everyone went home and slept for a very long time indeed"
    cues = build_cues(timed(text), max_chars_per_line=30)
    assert cues[0].text.replace("\n", " ") == "When the long meeting finally ended,"


def test_cues_break_by_duration() -> None:
    cues = build_cues(timed("a " * 30, word_s=0.5))
    assert len(cues) > 1 and all(c.end_s - c.start_s <= 6.0 for c in cues)


def test_two_lines_are_balanced_and_an_overlong_word_gets_its_own_line() -> None:
    assert wrap_words(["the", "quick", "brown", "fox", "jumps", "over", "the", "dog"], 42) == [
        "the quick brown fox jumps over the dog"
    ]
    assert wrap_words(["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "again"], 30) == [
        "the quick brown fox jumps",
        "over the lazy dog again",
    ]
    assert wrap_words(["Supercalifragilisticexpialidocious", "indeed"], 20) == [
        "Supercalifragilisticexpialidocious",
        "indeed",
    ]


def test_gaps_and_minimum_duration() -> None:
    words = [WordSpan("Hi.", 1.0, 1.2), WordSpan("Yes.", 1.5, 1.7), WordSpan("Bye.", 5.0, 5.2)]
    cues = build_cues(words, min_gap_s=0.04, min_duration_s=0.8)
    assert cues[0].end_s == pytest.approx(1.46)  # stretched, but stops short of the next cue
    assert cues[1].end_s == pytest.approx(2.3)  # stretched to the minimum duration
    assert cues[2].start_s == 5.0


@pytest.mark.parametrize(
    ("t_s", "srt", "vtt"),
    [
        (0.0, "00:00:00,000", "00:00:00.000"),
        (1.0, "00:00:01,000", "00:00:01.000"),
        (61.25, "00:01:01,250", "00:01:01.250"),
        (3661.5, "01:01:01,500", "01:01:01.500"),
        (59.9996, "00:01:00,000", "00:01:00.000"),
        (-0.2, "00:00:00,000", "00:00:00.000"),
    ],
)
def test_timestamp_formats(t_s: float, srt: str, vtt: str) -> None:
    assert format_timestamp(t_s, ",") == srt and format_timestamp(t_s, ".") == vtt


def test_srt_and_vtt_text() -> None:
    cues = [Cue(1.0, 2.5, ("Hello there,", "my friend.")), Cue(3.0, 4.0, ("Fish & <chips> -->",))]
    assert to_srt(cues) == (
        "1\n00:00:01,000 --> 00:00:02,500\nHello there,\nmy friend.\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nFish & <chips> ->\n"
    )
    assert to_vtt(cues) == (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello there,\nmy friend.\n\n"
        "00:00:03.000 --> 00:00:04.000\nFish &amp; &lt;chips&gt; --&gt;\n"
    )


def parse(text: str, decimal_mark: str) -> list[tuple[int, int, str]]:
    """A minimal SRT/VTT reader: (start_ms, end_ms, text) per cue."""
    stamp = rf"(\d\d):(\d\d):(\d\d){re.escape(decimal_mark)}(\d{{3}})"
    out = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            m = re.fullmatch(rf"{stamp} --> {stamp}", line)
            if m:
                g = [int(x) for x in m.groups()]
                start = ((g[0] * 60 + g[1]) * 60 + g[2]) * 1000 + g[3]
                end = ((g[4] * 60 + g[5]) * 60 + g[6]) * 1000 + g[7]
                out.append((start, end, "\n".join(lines[i + 1 :])))
    return out


def test_files_parse_back_to_the_cues(tmp_path: Path) -> None:
    cues = build_cues(timed(LONG, start_s=0.1234))
    write_srt(cues, tmp_path / "a.srt")
    write_vtt(cues, tmp_path / "a.vtt")
    srt = (tmp_path / "a.srt").read_text(encoding="utf-8")
    vtt = (tmp_path / "a.vtt").read_text(encoding="utf-8")
    assert srt.startswith("1\n") and vtt.startswith("WEBVTT\n\n")
    expected = [(round(c.start_s * 1000), round(c.end_s * 1000), c.text) for c in cues]
    assert parse(srt, ",") == expected
    assert parse(vtt, ".") == expected
    assert [int(b.split("\n")[0]) for b in srt.strip().split("\n\n")] == list(range(1, len(cues) + 1))


def test_cue_at() -> None:
    cues = [Cue(1.0, 2.0, ("a",)), Cue(3.0, 4.0, ("b",))]
    assert cue_at(cues, 0.5) is None
    assert cue_at(cues, 1.0) is cues[0] and cue_at(cues, 1.99) is cues[0]
    assert cue_at(cues, 2.5) is None
    assert cue_at(cues, 3.5) is cues[1]
    assert cue_at(cues, 4.0) is None and cue_at([], 1.0) is None


def test_writing_into_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_srt([], tmp_path / "missing" / "a.srt")
