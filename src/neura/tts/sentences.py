"""Sentence, clause and word segmentation of English text for speech.

``split_sentences`` works on text as written (before :func:`normalize_text`), so each sentence can be
shown as a subtitle exactly as the script has it. It respects abbreviations ("Dr. Smith", "e.g. this"),
decimals ("3.5"), initials ("J. R. R. Tolkien"), ellipses ("Wait... what?") and quotes
('"Stop!" he said.'). A line break ends a sentence when the next line looks like a new one (starts
with a capital, digit or quote) or the line ends with punctuation; otherwise the lines are joined
(hard-wrapped prose).

``split_clauses`` cuts a sentence at commas, semicolons, colons and dashes for the live mode, which
speaks clause by clause to get the first audio out early. ``split_long`` keeps every piece a TTS
model receives under ``max_chars`` (a long sentence with no punctuation is cut at a word boundary,
before a conjunction where one is near the middle).
"""

from __future__ import annotations

import re

from neura.tts.normalize import clean_unicode

MAX_CHUNK_CHARS = 300
"""Longest piece of text synthesised at once (about 15-20 s of speech)."""

# Abbreviations that never end a sentence (a capitalised word usually follows: "Dr. Smith").
_NEVER_FINAL = {
    "mr", "mrs", "ms", "dr", "prof", "mt", "vs", "e.g", "i.e", "eg", "ie", "no", "fig", "approx", "dept",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "st",
}  # fmt: skip
_CONJUNCTIONS = {"and", "but", "or", "so", "because", "which", "that", "while", "when", "where", "although"}
_CLOSERS = "\"')]}"
_BOUNDARY = re.compile(r"(\.\.\.|[.!?]+)([" + re.escape(_CLOSERS) + r"]*)(\s+|$)")
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s*[–—]+\s*|\s+-+\s+")
_WORD = re.compile(r"\S+")
_STRIP = "\"'()[]{}.,;:!?«»<>*_~-"
_DOTTED = re.compile(r"(?:[A-Za-z]\.){2,}")


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    rest = text[match.end() :]
    if not rest:
        return True
    following = rest[0]
    if following.islower():
        return False  # '"Stop!" he said', 'at 5 a.m. we', 'Wait... what'
    terminator = match.group(1)
    if terminator != ".":
        return True
    before = text[: match.start()].rsplit(None, 1)
    token = before[-1].lstrip("\"'([{").lower() if before else ""
    if token in _NEVER_FINAL:
        return False
    return not re.fullmatch(r"[a-z]", token)  # initials: "J. R. R. Tolkien"


def _split_paragraph(paragraph: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        if _is_boundary(paragraph, match):
            end = match.end(2)
            sentences.append(paragraph[start:end].strip())
            start = match.end()
    sentences.append(paragraph[start:].strip())
    return sentences


_LIST_ITEM = re.compile(r"^\s*(?:#{1,6}|[-*•]|\d+[.)])\s+")


def _paragraphs(text: str) -> list[str]:
    paragraphs: list[str] = []
    current = ""
    for raw_line in text.split("\n"):
        line = clean_unicode(raw_line).strip()
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        starts_new = bool(_LIST_ITEM.match(raw_line)) or line[0].isupper() or line[0].isdigit() or line[0] in "\"'"
        if current and (starts_new or current[-1] in ".!?:;" + _CLOSERS):
            paragraphs.append(current)
            current = line
        else:
            current = f"{current} {line}" if current else line
    if current:
        paragraphs.append(current)
    return paragraphs


def _has_speech(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` as written (unicode and markdown cleaned), without empty ones."""
    sentences: list[str] = []
    for paragraph in _paragraphs(text):
        sentences.extend(s for s in _split_paragraph(paragraph) if _has_speech(s))
    return sentences


def split_clauses(sentence: str, min_chars: int = 24) -> list[str]:
    """Cut ``sentence`` at , ; : and dashes into clauses of at least ``min_chars`` (the last may be shorter
    only if the sentence is). Joining the result with spaces gives the sentence back (dashes aside)."""
    pieces = [p.strip() for p in _CLAUSE_BREAK.split(sentence.strip()) if p and p.strip()]
    clauses: list[str] = []
    current = ""
    for piece in pieces:
        current = f"{current} {piece}" if current else piece
        if len(current) >= min_chars:
            clauses.append(current)
            current = ""
    if current:
        if clauses and (len(current) < min_chars or not _has_speech(current)):
            clauses[-1] = f"{clauses[-1]} {current}"
        else:
            clauses.append(current)
    return clauses


def _cut_position(text: str) -> int:
    """Where to cut an over-long piece: a balance of 'near the middle' and 'at a natural break'."""
    middle = len(text) / 2
    best_position, best_score = len(text) // 2, float("-inf")
    for match in re.finditer(r"\s+", text):
        before = text[: match.start()]
        next_word = text[match.end() :].split(None, 1)[0].lower().strip(_STRIP) if match.end() < len(text) else ""
        bonus = 0.4 if before[-1:] in ",;:—–-" else 0.25 if next_word in _CONJUNCTIONS else 0.0
        score = bonus - abs(match.start() - middle) / len(text)
        if score > best_score:
            best_position, best_score = match.start(), score
    return best_position


def split_long(piece: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """``piece`` cut into parts of at most ``max_chars`` characters (one part if it is short enough)."""
    piece = piece.strip()
    if len(piece) <= max_chars:
        return [piece] if piece else []
    cut = _cut_position(piece)
    if cut <= 0 or cut >= len(piece):
        cut = max_chars  # a single enormous "word": cut it anyway
    return split_long(piece[:cut], max_chars) + split_long(piece[cut:], max_chars)


def split_for_speech(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """Sentences of ``text``, with any longer than ``max_chars`` cut into parts: what engines synthesise."""
    return [part for sentence in split_sentences(text) for part in split_long(sentence, max_chars)]


def word_tokens(spoken: str) -> list[tuple[str, int, int]]:
    """Words of normalised text with their character spans: ``[(word, start, end), ...]``.

    Surrounding punctuation is stripped (``"world,"`` -> ``"world"``); hyphenated words and contractions
    stay whole (``"twenty-six"``, ``"don't"``); dotted letters keep their dots (``"a.m."``).
    """
    tokens: list[tuple[str, int, int]] = []
    for match in _WORD.finditer(spoken):
        raw = match.group(0)
        dotted = _DOTTED.match(raw.lstrip(_STRIP))
        word = dotted.group(0) if dotted else raw.strip(_STRIP)
        if not _has_speech(word):
            continue
        start = match.start() + raw.index(word)
        tokens.append((word, start, start + len(word)))
    return tokens


def speech_words(spoken: str) -> list[str]:
    """The words of normalised text, in order (see :func:`word_tokens`)."""
    return [word for word, _, _ in word_tokens(spoken)]
