"""English text normalisation for speech: what a TTS voice should *say* for what a script *shows*.

``normalize_text`` rewrites numbers, money, dates, times, abbreviations, symbols, URLs and e-mail
addresses as words, and cleans up unicode punctuation and markdown. Acronyms (NASA, FBI) are left as
they are: espeak-ng, which phonemises for both voices, decides whether to spell them.

Rules a reader may need to know (each has a test in tests/tts/test_normalize.py):

* A 4-digit number from 1100 to 2099 without a thousands separator reads as a year
  ("in 1999" -> "nineteen ninety-nine", "2026" -> "twenty twenty-six"); write ``1,999`` for the count.
* Numeric dates: ``2026-11-26`` is ISO; ``a/b/yyyy`` is month/day (en-US) unless the first number is
  over 12, then day/month; ``26.11.2026`` (dots) is always day.month.year. Two-digit years: 00..49 ->
  20xx, 50..99 -> 19xx.
* ``a-b`` between plain numbers is a range ("10-20" -> "ten to twenty"); phone numbers shaped
  ``555-123-4567`` or ``(555) 123-4567`` are read digit by digit.
* ``St.`` is "Saint" before a capitalised word and "Street" otherwise; ``Dr.`` is always "Doctor".
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable

from neura.tts.numbers import (
    cardinal_words,
    digits_words,
    fraction_words,
    number_words,
    ordinal_words,
    plural_words,
    year_words,
)

_Sub = Callable[[re.Match[str]], str]

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
_MONTH_BY_ABBREVIATION = {m[:3]: m for m in MONTHS} | {"Sept": "September"}
_MONTH_NAME = r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH_NAME += r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"

_CURRENCIES = {  # symbol -> (unit, units, subunit, subunits)
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
}
_SCALE_WORDS = {
    "k": "thousand",
    "m": "million",
    "mn": "million",
    "b": "billion",
    "bn": "billion",
    "t": "trillion",
    "tn": "trillion",
}

_UNITS = {  # written after a number -> (singular, plural)
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"),
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "m": ("meter", "meters"),
    "ft": ("foot", "feet"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "ms": ("millisecond", "milliseconds"),
    "min": ("minute", "minutes"),
    "kW": ("kilowatt", "kilowatts"),
    "KB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
}

_UNICODE_BEFORE_NFKC = {
    "½": " one half",
    "⅓": " one third",
    "⅔": " two thirds",
    "¼": " one quarter",
    "¾": " three quarters",
    "²": " squared",
    "³": " cubed",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "−": "-",
    "―": "—",
    "…": "...",
}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))

# (pattern, replacement) tables for fixed abbreviations; case-sensitive.
_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"\bMr\.", "Mister"),
    (r"\bMrs\.", "Missus"),
    (r"\bMs\.", "Miz"),
    (r"\bDr\.", "Doctor"),
    (r"\bProf\.", "Professor"),
    (r"\bMt\.", "Mount"),
    (r"\b[Vv]s\.?(?=\s)", "versus"),
    (r"\b[Ee]\.g\.(?=[\s,;:)]|$)", "for example"),
    (r"\b[Ii]\.e\.(?=[\s,;:)]|$)", "that is"),
    (r"\b[Aa]pprox\.", "approximately"),
    (r"\bNo\.(?=\s*\d)", "number"),
    (r"\bno\.(?=\s*\d)", "number"),
    (r"\bFig\.(?=\s*\d)", "figure"),
    (r"\bDept\.", "Department"),
)
# Abbreviations that can also end a sentence: the period stays when a sentence ends there.
_FINAL_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"\betc\.", "et cetera"),
    (r"\bInc\.", "Incorporated"),
    (r"\bLtd\.", "Limited"),
    (r"\bCorp\.", "Corporation"),
    (r"\bJr\.", "Junior"),
    (r"\bSr\.", "Senior"),
    (r"\bAve\.", "Avenue"),
    (r"\bSt\.", "Street"),
)
_SENTENCE_END_AFTER = re.compile(r"\s*(?:$|(?=[A-Z\"']))")


def _apply(pattern: str, repl: _Sub | str, text: str, flags: int = 0) -> str:
    return re.sub(pattern, repl, text, flags=flags)


# Markup a pasted text may carry: SSML (which NEURA does not interpret) and common HTML. Only these tag
# names are removed, so that "x<y and y>z" keeps its words; <break> becomes a pause.
_MARKUP_TAGS = (
    "speak|break|prosody|emphasis|say-as|sub|phoneme|voice|audio|mark|lang|p|s|w|"
    "html|body|div|span|br|b|i|u|em|strong|a|h[1-6]|ul|ol|li|font|small|big|sup"
)
_TAG = re.compile(rf"</?(?:{_MARKUP_TAGS})(?:\s[^<>]{{0,300}})?/?>", re.IGNORECASE)
_PAUSE_TAG = re.compile(r"<(?:break|br|p|/p|s|/s|div|/div|li)\b[^<>]{0,300}>", re.IGNORECASE)
_TERMINAL_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def strip_markup(text: str) -> str:
    """Terminal colour codes, SSML/HTML tags and character entities -> the text they wrap."""
    text = _TERMINAL_ESCAPE.sub("", text)
    if "<" in text:
        text = _TAG.sub(" ", _PAUSE_TAG.sub(", ", text))
    if "&" in text:
        text = html.unescape(text)
    return text


def foreign_script(text: str) -> str | None:
    """The writing system most of ``text``'s letters are in, when it is not Latin (the voices speak
    English); None when the text is mostly Latin letters or has no letters."""
    scripts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "UNKNOWN")
            script = name.split(" ", 1)[0]
            scripts[script] = scripts.get(script, 0) + 1
    letters = sum(scripts.values())
    if not letters or scripts.get("LATIN", 0) * 2 >= letters:
        return None
    return max(scripts, key=lambda k: scripts[k]).title()


def clean_unicode(text: str) -> str:
    """Markup, quotes, dashes, odd spaces, control and zero-width characters, markdown emphasis -> plain text."""
    text = strip_markup(text)
    for char, replacement in _UNICODE_BEFORE_NFKC.items():
        text = text.replace(char, replacement)
    text = text.translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch == "\n" else " " for ch in text)
    text = _apply(r"(?m)^[ \t]*(?:#{1,6}|[-*•]|\d+[.)])[ \t]+", "", text)  # headings, bullets, list numbers
    text = _apply(r"\*\*|__|`|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)", "", text)  # **bold**, *emphasis*, `code`
    text = _apply(r"(\d)\s*–\s*(\d)", r"\1 to \2", text)  # en dash in a range
    text = _apply(r"\s*[–—]\s*", ", ", text)  # dashes as pauses
    text = _apply(r"(?<!\d)\s+-\s+(?!\d)", ", ", text)
    return _apply(r"[^\S\n]+", " ", text)


def _speak_url(match: re.Match[str]) -> str:
    url = match.group(0)
    url = re.sub(r"^[a-z]+://", "", url, flags=re.IGNORECASE)
    url = re.sub(r"^www\.", "", url, flags=re.IGNORECASE)
    url = re.split(r"[?#]", url, maxsplit=1)[0].rstrip("/")
    host, _, path = url.partition("/")
    spoken = " dot ".join(host.split("."))
    for segment in filter(None, path.split("/")):
        spoken += " slash " + _speak_symbols_in_name(segment)
    return spoken


def _speak_symbols_in_name(name: str) -> str:
    name = re.sub(r"\.(?=\w)", " dot ", name)
    name = name.replace("_", " underscore ").replace("+", " plus ")
    return re.sub(r"-(?=\w)", " dash ", name)


def _speak_email(match: re.Match[str]) -> str:
    local, domain = match.group(1), match.group(2)
    return f"{_speak_symbols_in_name(local)} at {' dot '.join(domain.split('.'))}"


_TLD = r"(?:com|org|net|io|ai|dev|app|edu|gov|co|uk|de|fr|eu|info|me|tv|us)"


def _urls_and_emails(text: str) -> str:
    text = _apply(r"\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b", _speak_email, text)
    text = _apply(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]", _speak_url, text, re.IGNORECASE)
    return _apply(rf"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.{_TLD}\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)])?", _speak_url, text)


def _month(name: str) -> str:
    name = name.rstrip(".")
    return _MONTH_BY_ABBREVIATION.get(name, name)


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 50 else 1900
    return year


def _date_words(year: int | None, month: int, day: int) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    spoken = f"{MONTHS[month - 1]} {ordinal_words(day)}"
    return spoken if year is None else f"{spoken}, {year_words(year)}"


def _dates(text: str) -> str:
    def iso(m: re.Match[str]) -> str:
        return _date_words(int(m[1]), int(m[2]), int(m[3])) or m[0]

    def slashed(m: re.Match[str]) -> str:
        first, second = int(m[1]), int(m[2])
        month, day = (second, first) if first > 12 else (first, second)
        return _date_words(_full_year(m[3]), month, day) or m[0]

    def dotted(m: re.Match[str]) -> str:
        return _date_words(int(m[3]), int(m[2]), int(m[1])) or m[0]

    def month_first(m: re.Match[str]) -> str:
        spoken = f"{_month(m[1])} {ordinal_words(int(m[2]))}"
        return f"{spoken}, {year_words(int(m[3]))}" if m[3] else spoken

    def day_first(m: re.Match[str]) -> str:
        spoken = f"the {ordinal_words(int(m[1]))} of {_month(m[2])}"
        return f"{spoken}, {year_words(int(m[3]))}" if m[3] else spoken

    text = _apply(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", iso, text)
    text = _apply(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", slashed, text)
    text = _apply(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b", dotted, text)
    text = _apply(rf"\b({_MONTH_NAME}) (\d{{1,2}})(?:st|nd|rd|th)?\b(?:,? (\d{{4}})\b)?", month_first, text)
    return _apply(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? ({_MONTH_NAME})(?:,? (\d{{4}})\b)?", day_first, text)


_AM_PM = r"(?:\s?([ap])\.?\s?m\b\.?)"


def _times(text: str) -> str:
    def clock(m: re.Match[str]) -> str:
        hour, minute = int(m[1]), int(m[2])
        second = int(m[3]) if m[3] else 0
        suffix = f" {m[4].lower()}.m." if m[4] else ""
        if hour > 23 or minute > 59 or second > 59 or (suffix and not 1 <= hour <= 12):
            return m[0]
        if minute == 0 and not suffix and not second:
            spoken = "midnight" if hour == 0 else f"{cardinal_words(hour)} o'clock"
        elif minute == 0:
            spoken = cardinal_words(hour)
        elif minute < 10:
            spoken = f"{cardinal_words(hour)} oh {cardinal_words(minute)}"
        else:
            spoken = f"{cardinal_words(hour)} {cardinal_words(minute)}"
        if second:
            spoken += f" and {cardinal_words(second)} second" + ("s" if second > 1 else "")
        return spoken + suffix

    def hour_only(m: re.Match[str]) -> str:
        hour = int(m[1])
        return f"{cardinal_words(hour)} {m[2].lower()}.m." if 1 <= hour <= 12 else m[0]

    text = _apply(rf"\b(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?{_AM_PM}?(?![\w:])", clock, text, re.IGNORECASE)
    return _apply(rf"\b(\d{{1,2}}){_AM_PM}(?!\w)", hour_only, text, re.IGNORECASE)


def _money(symbol: str, amount: str, scale: str | None) -> str:
    unit, units, sub, subs = _CURRENCIES[symbol]
    if scale:
        scale_word = _SCALE_WORDS.get(scale.lower(), scale.lower())
        return f"{number_words(amount)} {scale_word} {units}"
    whole, _, cents = amount.replace(",", "").partition(".")
    if len(cents) > 2 or (cents and not sub):
        return f"{number_words(amount)} {units}"
    count = int(whole or "0")
    cents_value = int(cents.ljust(2, "0")) if cents else 0
    spoken_whole = f"{cardinal_words(count)} {unit if count == 1 else units}"
    if not cents_value:
        return spoken_whole
    spoken_cents = f"{cardinal_words(cents_value)} {sub if cents_value == 1 else subs}"
    return spoken_cents if count == 0 else f"{spoken_whole} and {spoken_cents}"


_AMOUNT = r"(\d(?:[\d,]*\d)?(?:\.\d+)?|\.\d+)"
_SCALE = r"(?:\s?(thousand|million|billion|trillion)\b|([kK]|[mMbB]n?)\b)?"


def _currency(text: str) -> str:
    symbols = "".join(re.escape(s) for s in _CURRENCIES)
    text = _apply(
        rf"(-?)([{symbols}])\s?{_AMOUNT}{_SCALE}",
        lambda m: ("minus " if m[1] else "") + _money(m[2], m[3], m[4] or m[5]),
        text,
    )
    return _apply(rf"(?<![\w.]){_AMOUNT}\s?([{symbols}])", lambda m: _money(m[2], m[1], None), text)


def _percentages(text: str) -> str:
    text = _apply(rf"(?<![\w.])(-?){_AMOUNT}\s?%", lambda m: number_words(m[1] + m[2]) + " percent", text)
    return text.replace("%", " percent")


def _units(text: str) -> str:
    names = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))

    def unit(m: re.Match[str]) -> str:
        singular, plural = _UNITS[m[2]]
        return f"{number_words(m[1])} {singular if m[1] == '1' else plural}"

    return _apply(rf"(?<![\w.])(-?\d(?:[\d,]*\d)?(?:\.\d+)?)\s?({names})(?![\w/])", unit, text)


def _ordinals(text: str) -> str:
    return _apply(r"\b(\d[\d,]*)(?:st|nd|rd|th)\b", lambda m: ordinal_words(int(m[1].replace(",", ""))), text)


def _abbreviations(text: str) -> str:
    for pattern, spoken in _ABBREVIATIONS:
        text = _apply(pattern, spoken, text)
    text = _apply(r"\bSt\.(?=\s+[A-Z])", "Saint", text)
    text = _apply(r"(?<!\w)#(?=\d)", "number ", text)
    for pattern, spoken in _FINAL_ABBREVIATIONS:

        def expand(m: re.Match[str], spoken: str = spoken) -> str:
            return spoken + ("." if _SENTENCE_END_AFTER.match(m.string, m.end()) else "")

        text = _apply(pattern, expand, text)
    return text


def _ranges_signs_and_phones(text: str) -> str:
    text = _apply(
        r"(?<![\w.-])\(?(\d{3})\)?[ -](\d{3})-(\d{4})\b",
        lambda m: ", ".join(digits_words(g) for g in m.groups()),
        text,
    )
    text = _apply(r"(?<=\d)\s?-\s?(?=\d)", " to ", text)
    text = _apply(r"(?<![\w.])-(?=\.?\d)", "minus ", text)
    return _apply(r"(?<![\w.+])\+(?=\.?\d)", "plus ", text)


def _numbers(text: str) -> str:
    def decade(m: re.Match[str]) -> str:
        value = int(m[1])
        spoken = year_words(value) if value >= 1000 else cardinal_words(value)
        return plural_words(spoken)

    def fraction(m: re.Match[str]) -> str:
        numerator, denominator = int(m[1]), int(m[2])
        if numerator == 24 and denominator == 7:
            return "twenty-four seven"
        if 0 < numerator < denominator <= 16:
            return fraction_words(numerator, denominator)
        return f"{cardinal_words(numerator)} slash {cardinal_words(denominator)}"

    def number(m: re.Match[str]) -> str:
        token = m[0]
        if re.fullmatch(r"1[1-9]\d\d|20\d\d", token):
            return year_words(int(token))
        if "," in token and not re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
            return ", ".join(number_words(part) for part in token.split(",") if part)
        return number_words(token)

    text = _apply(
        r"(?<![\w.])\d+(?:\.\d+){2,}(?![\w.]*\d)",  # versions, addresses: 2.0.1 -> two point zero point one
        lambda m: " point ".join(number_words(part) for part in m[0].split(".")),
        text,
    )
    text = _apply(r"(?<![\w:])(\d{1,2}):(\d{1,2})(?![\w:])", r"\1 to \2", text)  # ratios; times are done
    text = _apply(r"(?<![\w.])'?(\d{4}|\d0)s\b", decade, text)
    text = _apply(r"(?<![\w./])(\d+)/(\d+)(?![\w/])", fraction, text)
    text = _apply(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)  # "A4", "5kg": speak apart
    return _apply(r"\d[\d,]*(?:\.\d+)?(?<!,)|\.\d+", number, text)


_PER = r"(?:second|minute|hour|day|week|month|year|person|user|seat|unit|mo|yr|hr)s?\b"


def _symbols(text: str) -> str:
    text = _apply(r"°\s?C\b", " degrees Celsius", text)
    text = _apply(r"°\s?F\b", " degrees Fahrenheit", text)
    text = text.replace("°", " degrees")
    text = _apply(r"#(?=\w)", "hashtag ", text)
    text = _apply(r"(?<=\s)~(?=\s?\w)|^~", "about ", text)
    for symbol, spoken in (("&", "and"), ("@", "at"), ("+", "plus"), ("=", "equals"), ("#", "number")):
        text = text.replace(symbol, f" {spoken} ")
    text = _apply(r"\s<\s", " less than ", text)
    text = _apply(r"\s>\s", " greater than ", text)
    text = _apply(rf"(?<=\w)\s?/\s?(?={_PER})", " per ", text)  # $20/month
    text = _apply(r"(?<=\w)/(?=\w)", " ", text)  # and/or
    text = _apply(r"(?<=\w)\s[*×]\s(?=\w)", " times ", text)
    text = _apply(r"\s*[()\[\]{}|]\s*", ", ", text)
    return _apply(r"[*_~^\\<>/]", " ", text)


def _tidy(text: str) -> str:
    text = _apply(r"\s+", " ", text).strip()
    text = _apply(r"\s+([,.;:!?])", r"\1", text)
    text = _apply(r",(?:\s*,)+", ",", text)
    text = _apply(r",\s*([.;:!?])", r"\1", text)
    text = _apply(r"^[,;:]\s*|\s*,$", "", text)
    return _apply(r"([,;:])(?=\w)", r"\1 ", text)


def normalize_text(text: str) -> str:
    """Rewrite ``text`` as the words a voice should speak. Idempotent; keeps sentence punctuation."""
    text = clean_unicode(text).replace("\n", " ")
    for step in (
        _urls_and_emails,
        _dates,
        _times,
        _currency,
        _percentages,
        _units,
        _ordinals,
        _abbreviations,
        _ranges_signs_and_phones,
        _numbers,
        _symbols,
    ):
        text = step(text)
    return _tidy(text)
