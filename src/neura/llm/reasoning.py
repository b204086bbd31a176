"""Removes the ``<think>…</think>`` reasoning blocks that Qwen3 and other reasoning models emit.

Streaming-safe: a tag split across pieces (``"<thi"`` + ``"nk>"``) is held back until it is complete,
so no reasoning ever reaches the consumer, and ordinary text is released as soon as it cannot be the
start of a tag.
"""

from __future__ import annotations

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


class ThinkFilter:
    """Feed text pieces in order; get back the answer text without reasoning blocks."""

    def __init__(self) -> None:
        self._pending = ""
        self._inside = False
        self._strip_leading = False  # the blank lines that follow a block are not part of the answer

    def feed(self, piece: str) -> str:
        self._pending += piece
        out: list[str] = []
        while self._pending:
            if self._inside:
                end = self._pending.find(CLOSE_TAG)
                if end < 0:
                    self._pending = self._pending[len(self._pending) - _partial_tag_len(self._pending) :]
                    break
                self._pending = self._pending[end + len(CLOSE_TAG) :]
                self._inside = False
                self._strip_leading = True
                continue
            start, tag = _first_tag(self._pending)
            if start < 0:
                keep = _partial_tag_len(self._pending)
                out.append(self._release(self._pending[: len(self._pending) - keep]))
                self._pending = self._pending[len(self._pending) - keep :]
                break
            out.append(self._release(self._pending[:start]))
            self._pending = self._pending[start + len(tag) :]
            if tag == OPEN_TAG:
                self._inside = True
            else:  # a closing tag without an opening one: the template opened the block; drop the tag
                self._strip_leading = True
        return "".join(out)

    def flush(self) -> str:
        """The text held back at the end of the stream (an unclosed block is dropped)."""
        rest, self._pending = self._pending, ""
        return "" if self._inside else self._release(rest)

    def _release(self, text: str) -> str:
        if self._strip_leading:
            text = text.lstrip()
            if text:
                self._strip_leading = False
        return text


def strip_think(text: str) -> str:
    """The whole-text form of :class:`ThinkFilter`."""
    f = ThinkFilter()
    return f.feed(text) + f.flush()


def _first_tag(text: str) -> tuple[int, str]:
    found = [(i, tag) for tag in (OPEN_TAG, CLOSE_TAG) if (i := text.find(tag)) >= 0]
    return min(found) if found else (-1, "")


def _partial_tag_len(text: str) -> int:
    """Length of the longest suffix of ``text`` that could begin a tag."""
    for length in range(min(len(text), len(CLOSE_TAG) - 1), 0, -1):
        suffix = text[-length:]
        if OPEN_TAG.startswith(suffix) or CLOSE_TAG.startswith(suffix):
            return length
    return 0
