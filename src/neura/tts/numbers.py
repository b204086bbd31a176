"""English number words: cardinals, ordinals, decimals, years, digit strings.

Written here (no dependency) because every TTS voice needs it and the rules are few. American style:
no "and" inside cardinals ("one hundred twenty-three"), hyphens between tens and units.
"""

from __future__ import annotations

_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = (
    (10**15, "quadrillion"),
    (10**12, "trillion"),
    (10**9, "billion"),
    (10**6, "million"),
    (10**3, "thousand"),
)
_ORDINAL_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_FRACTION_DENOMINATORS = {2: ("half", "halves"), 4: ("quarter", "quarters")}

MAX_CARDINAL = 10**18 - 1
"""Larger integers are read digit by digit."""


def _below_100(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] if ones == 0 else f"{_TENS[tens]}-{_ONES[ones]}"


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if hundreds == 0:
        return _below_100(rest)
    head = f"{_ONES[hundreds]} hundred"
    return head if rest == 0 else f"{head} {_below_100(rest)}"


def cardinal_words(n: int) -> str:
    """``-1203`` -> ``"minus one thousand two hundred three"``."""
    if n < 0:
        return f"minus {cardinal_words(-n)}"
    if n > MAX_CARDINAL:
        return digits_words(str(n))
    if n < 1000:
        return _below_1000(n)
    parts: list[str] = []
    rest = n
    for value, name in _SCALES:
        count, rest = divmod(rest, value)
        if count:
            parts.append(f"{_below_1000(count)} {name}")
    if rest:
        parts.append(_below_1000(rest))
    return " ".join(parts)


def ordinal_words(n: int) -> str:
    """``22`` -> ``"twenty-second"``, ``103`` -> ``"one hundred third"``."""
    words = cardinal_words(n)
    head, sep, last = words.rpartition(" ")
    prefix, hyphen, unit = last.rpartition("-")
    if unit in _ORDINAL_IRREGULAR:
        unit = _ORDINAL_IRREGULAR[unit]
    elif unit.endswith("y"):
        unit = unit[:-1] + "ieth"
    else:
        unit += "th"
    return f"{head}{sep}{prefix}{hyphen}{unit}"


def digits_words(digits: str) -> str:
    """``"007"`` -> ``"zero zero seven"``. Non-digits are skipped."""
    return " ".join(_ONES[int(d)] for d in digits if d.isdigit())


def decimal_words(integer_part: str, fraction_part: str) -> str:
    """``("3", "14")`` -> ``"three point one four"``; an empty integer part reads ``"point five"``."""
    head = cardinal_words(int(integer_part)) + " " if integer_part else ""
    return f"{head}point {digits_words(fraction_part)}"


def year_words(year: int) -> str:
    """Years as people say them: 1999 -> nineteen ninety-nine, 2026 -> twenty twenty-six.

    2000 -> two thousand, 2001..2009 -> two thousand one.., 1900 -> nineteen hundred,
    1905 -> nineteen oh five. Outside 1000..9999 this is :func:`cardinal_words`.
    """
    if not 1000 <= year <= 9999:
        return cardinal_words(year)
    high, low = divmod(year, 100)
    if year % 1000 == 0 or (high % 10 == 0 and low < 10):
        return cardinal_words(year)  # 2000, 2005, 1000, 1009
    if low == 0:
        return f"{_below_100(high)} hundred"
    if low < 10:
        return f"{_below_100(high)} oh {_ONES[low]}"
    return f"{_below_100(high)} {_below_100(low)}"


def plural_words(words: str) -> str:
    """Pluralise the last word of a number: ``"nineteen ninety"`` -> ``"nineteen nineties"``."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("x"):
        return words + "es"
    return words + "s"


def fraction_words(numerator: int, denominator: int) -> str:
    """``(3, 4)`` -> ``"three quarters"``, ``(1, 2)`` -> ``"one half"``, ``(5, 8)`` -> ``"five eighths"``."""
    if denominator in _FRACTION_DENOMINATORS:
        singular, plural = _FRACTION_DENOMINATORS[denominator]
        name = singular if numerator == 1 else plural
    else:
        name = ordinal_words(denominator)
        if numerator != 1:
            name += "s"
    return f"{cardinal_words(numerator)} {name}"


def number_words(token: str) -> str:
    """Read a numeric token as written: ``"1,234.5"``, ``"-3"``, ``"0042"``, ``".5"``.

    Thousands separators must group by three (``1,234``); a leading zero in an integer (``007``) or
    more digits than :data:`MAX_CARDINAL` reads the digits one by one.
    """
    text = token.strip()
    sign = ""
    if text[:1] in "-−":
        sign, text = "minus ", text[1:]
    integer_part, _, fraction_part = text.partition(".")
    integer_part = integer_part.replace(",", "")
    if not integer_part.isdigit() and not (integer_part == "" and fraction_part.isdigit()):
        raise ValueError(f"not a number: {token!r}")
    if fraction_part:
        return sign + decimal_words(integer_part, fraction_part)
    if (len(integer_part) > 1 and integer_part.startswith("0")) or int(integer_part) > MAX_CARDINAL:
        return sign + digits_words(integer_part)
    return sign + cardinal_words(int(integer_part))
