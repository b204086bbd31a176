"""LLM text as it streams -> clauses to speak, the first one as early as it can sound right.

Waiting for a whole sentence before synthesising costs hundreds of milliseconds at the start of every
answer, and so does a long first clause: synthesis takes time in proportion to the words ("The main
difference between these two approaches is cost." takes Piper about three times as long as "The main
difference"). :class:`ClauseSplitter` cuts at a sentence end whatever its length and at a clause break
(, ; : and dashes) once a few words have come. The first piece of a turn is cut sooner, where a speaker
could pause:

* at its first clause break, even after one word ("Sure," "Well," "In 2019,");
* else, after three words or more, before a word that opens a new phrase (a preposition, conjunction,
  determiner or question word following a word that does not: "The main difference | between these
  two approaches", "In most cases | the simplest option", never "because | of" or "of | the");
* else after six words, punctuation or not (fewer when the sixth leans on the next: "of", "the", "and").

The rest of the turn comes in longer pieces (better prosody): by then the voice is speaking and the
text keeps ahead of it.

A cut is made only at whitespace that a complete word follows or precedes, so "3.5", "1,000" and
"Dr. Smith" arriving token by token are never split inside, nor is "the" taken for a phrase opener
before the next token shows it was not "these"; "!" and "?" (which no number or abbreviation contains)
end a sentence as soon as they arrive, and "," or ";" right after a letter ends a clause as soon as it
arrives (only after a digit can it be inside a number): "Sure," is synthesised one token sooner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from neura.live.events import StageReached
from neura.live.frames import Frame, Interrupt, LLMEnd, LLMText, SpeakText, TurnEnd, UserText
from neura.live.processor import Processor

SENTENCE_END = ".!?…"
CLAUSE_BREAK = ",;:—–"
CLOSERS = "\"')]”’»"
ABBREVIATIONS = frozenset(
    {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "etc.", "e.g.", "i.e.", "jr.", "sr.", "no.", "approx."}
)
_BREAK = re.compile(
    rf"[{re.escape(SENTENCE_END + CLAUSE_BREAK)}][{re.escape(CLOSERS)}]*(?=\s)|\n"
    r"|[!?]$"  # "!" and "?" end a sentence at once: no number or abbreviation contains them
    r"|(?<=[^\W\d_])[,;]$"  # so do "," and ";" after a letter ("Sure,"): only after a digit may a number go on
)
_WORD = re.compile(r"\S*[^\W_]\S*")  # a whitespace-delimited token with a letter or digit: "3.5", "it's"
_PREPOSITIONS = """about above across after against along among around at before behind below beneath beside
    between beyond by despite during except for from in inside into near on onto over past per since through
    throughout toward towards under underneath until unlike upon versus via with within without"""
_CONJUNCTIONS = "and but or nor so yet because although though whereas while whilst unless if whether once"
_DETERMINERS = "a an the this that these those my your our their its each every either neither some any no most such"
_QUESTION_WORDS = "what which who whom whose when where why how"
PHRASE_OPENERS = frozenset(" ".join((_PREPOSITIONS, _CONJUNCTIONS, _DETERMINERS, _QUESTION_WORDS)).split())
"""Words a new phrase often begins with: the first piece may end before one (the "chinks and chunks"
phrasing of speech synthesis: a break goes where a function word follows a content word). Not the words
that bind to the word before them: "of" ("instead of", "a lot of"), "to" ("want to"), "as" ("as well
as"), "than" ("more than"), "like" ("would like") and "off" ("take off")."""
BINDS_FORWARD = PHRASE_OPENERS | {"of", "to", "as", "than"}
"""Words a piece never ends with when it can help it: they lean on the word after them."""


@dataclass(frozen=True)
class ChunkPolicy:
    """Word counts that decide where the text is cut."""

    first_min_words: int = 1  # the first piece ends at a clause break once it has this many words
    first_phrase_words: int = 3  # ... or before a phrase opener once it has this many words
    first_max_words: int = 6  # ... or after this many words, punctuation or not
    min_words: int = 6  # later pieces end at a clause break once they have this many words
    max_words: int = 28  # ... or after this many words, punctuation or not


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


class ClauseSplitter:
    """Feed text pieces in order; get back the clauses that are complete."""

    def __init__(self, policy: ChunkPolicy | None = None) -> None:
        self.policy = policy or ChunkPolicy()
        self._buffer = ""
        self.emitted = 0

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        out: list[str] = []
        while (cut := self._next_cut()) is not None:
            piece, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:].lstrip()
            if count_words(piece):
                out.append(piece)
                self.emitted += 1
        return out

    def flush(self) -> list[str]:
        """The rest of the text, at the end of the answer."""
        piece, self._buffer = self._buffer.strip(), ""
        if not count_words(piece):
            return []
        self.emitted += 1
        return [piece]

    def reset(self) -> None:
        self._buffer = ""
        self.emitted = 0

    def _next_cut(self) -> int | None:
        first = self.emitted == 0
        min_words = self.policy.first_min_words if first else self.policy.min_words
        max_words = self.policy.first_max_words if first else self.policy.max_words
        for match in _BREAK.finditer(self._buffer):
            end = match.end()
            head = self._buffer[:end]
            words = count_words(head)
            if not words:
                continue
            mark = match.group(0)[0]
            if mark == "\n" or (mark in SENTENCE_END and not _is_abbreviation(head)):
                return end
            if mark in CLAUSE_BREAK and words >= min_words:
                return end
        if first and (cut := self._phrase_cut()) is not None:
            return cut
        return self._word_limit_cut(max_words)

    def _phrase_cut(self) -> int | None:
        """The whitespace before the first phrase opener that follows a content word once
        ``first_phrase_words`` words have come; only when whitespace after the opener shows it complete."""
        words = list(_WORD.finditer(self._buffer))
        for index in range(self.policy.first_phrase_words, min(len(words), self.policy.first_max_words + 1)):
            opener, before = words[index], words[index - 1]
            if opener.end() == len(self._buffer):  # perhaps not the whole word yet ("the" of "these")
                return None
            if _bare(opener.group(0)) in PHRASE_OPENERS and _bare(before.group(0)) not in BINDS_FORWARD:
                return before.end()
        return None

    def _word_limit_cut(self, max_words: int) -> int | None:
        """The end of the ``max_words``-th word, when a whitespace has confirmed that word complete; or of
        an earlier word, so that the piece does not end on one that leans on the next ("in the middle
        of | the sea" is cut "in the middle | of the sea")."""
        words = list(_WORD.finditer(self._buffer))
        if len(words) <= max_words:
            return None
        space = re.compile(r"\s").search(self._buffer, words[max_words - 1].end())
        if space is None or space.start() >= words[max_words].start():
            return None
        last = max_words - 1
        while last > 0 and _bare(words[last].group(0)) in BINDS_FORWARD:
            last -= 1
        return words[last].end()


def _bare(word: str) -> str:
    return word.lower().strip(CLOSERS + "\"'(“‘«")


def _is_abbreviation(head: str) -> bool:
    last = head.rstrip(CLOSERS).split()[-1].lower() if head.split() else ""
    if last in ABBREVIATIONS:
        return True
    return bool(re.fullmatch(r"[a-z]\.", last)) and len(head.split()) > 1  # an initial: "J. Smith"


class ClauseChunker(Processor):
    """``LLMText`` -> ``SpeakText`` clauses; ``LLMEnd`` -> the rest, then ``TurnEnd``."""

    def __init__(self, policy: ChunkPolicy | None = None) -> None:
        super().__init__()
        self._splitter = ClauseSplitter(policy)
        self._turn_id: int | None = None

    async def process(self, frame: Frame) -> None:
        if isinstance(frame, UserText):
            self._start(frame.turn_id)
        elif isinstance(frame, LLMText):
            if frame.turn_id != self._turn_id:
                self._start(frame.turn_id)
            for piece in self._splitter.feed(frame.text):
                await self._speak(frame.turn_id, piece)
            return
        elif isinstance(frame, LLMEnd):
            for piece in self._splitter.flush():
                await self._speak(frame.turn_id, piece)
            await self.push(TurnEnd(frame.turn_id))
            self._turn_id = None
            return
        elif isinstance(frame, SpeakText):  # said as is (the fallback sentence after an LLM failure)
            await self.push(SpeakText(frame.turn_id, frame.text, self._splitter.emitted))
            self._splitter.emitted += 1
            return
        elif isinstance(frame, Interrupt):
            self._splitter.reset()
            self._turn_id = None
        await self.push(frame)

    async def _speak(self, turn_id: int, text: str) -> None:
        index = self._splitter.emitted - 1
        if index == 0:
            self.emit(StageReached(turn_id, "first_clause"))
        await self.push(SpeakText(turn_id, text, index))

    def _start(self, turn_id: int) -> None:
        self._splitter.reset()
        self._turn_id = turn_id
