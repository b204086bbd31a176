"""What the voice says for what the script shows: the normalisation table, and number words."""

from __future__ import annotations

import pytest

from neura.tts import normalize_text
from neura.tts.normalize import foreign_script
from neura.tts.numbers import cardinal_words, fraction_words, number_words, ordinal_words, year_words

CASES = [
    # cardinals, thousands separators, negatives, decimals
    ("I have 3 cats.", "I have three cats."),
    ("0 and 7 and 13 and 40", "zero and seven and thirteen and forty"),
    ("It has 100 pages and 101 more.", "It has one hundred pages and one hundred one more."),
    ("1,234,567 people", "one million two hundred thirty-four thousand five hundred sixty-seven people"),
    ("12,000", "twelve thousand"),
    ("Scores were 1,2,3.", "Scores were one, two, three."),
    ("It is -5 outside.", "It is minus five outside."),
    ("Pi is 3.14.", "Pi is three point one four."),
    ("Take 0.5 or .5 of it.", "Take zero point five or point five of it."),
    ("Agent 007", "Agent zero zero seven"),
    ("A 20-digit code 00123456789", "A twenty-digit code zero zero one two three four five six seven eight nine"),
    # ordinals
    ("He came 1st, she 2nd, they 3rd and 4th.", "He came first, she second, they third and fourth."),
    ("the 22nd and the 103rd and the 1,000th", "the twenty-second and the one hundred third and the one thousandth"),
    ("the 11th, 12th, 13th and 21st", "the eleventh, twelfth, thirteenth and twenty-first"),
    # years and decades
    ("I was born in 1999.", "I was born in nineteen ninety-nine."),
    ("It is 2026 now.", "It is twenty twenty-six now."),
    ("In 2000, 2005, 2010 and 1905.", "In two thousand, two thousand five, twenty ten and nineteen oh five."),
    ("By 1900 it was over.", "By nineteen hundred it was over."),
    ("The 1990s and the '80s", "The nineteen nineties and the eighties"),
    # currency
    ("It costs $5.50.", "It costs five dollars and fifty cents."),
    ("Only $1, or $0.99, or $5.", "Only one dollar, or ninety-nine cents, or five dollars."),
    ("€3 and £10.20 and 5€", "three euros and ten pounds and twenty pence and five euros"),
    (
        "A $2.5 million deal and $5k and $3bn",
        "A two point five million dollars deal and five thousand dollars and three billion dollars",
    ),
    ("$1,000,000", "one million dollars"),
    # percentages
    (
        "Growth was 50% then 3.5% and -2%.",
        "Growth was fifty percent then three point five percent and minus two percent.",
    ),
    # dates
    ("On 2026-11-26 we met.", "On November twenty-sixth, twenty twenty-six we met."),
    ("Due 26/11/2026.", "Due November twenty-sixth, twenty twenty-six."),  # day first: 26 > 12
    ("Due 11/05/2026.", "Due November fifth, twenty twenty-six."),  # both <= 12: month first (en-US)
    ("Due 11/26/26.", "Due November twenty-sixth, twenty twenty-six."),
    ("Due 26.11.2026.", "Due November twenty-sixth, twenty twenty-six."),  # dots: day.month.year
    ("Nov 26, 2026 and Nov. 3rd", "November twenty-sixth, twenty twenty-six and November third"),
    ("on 5 May 2026", "on the fifth of May, twenty twenty-six"),
    ("in March 2026", "in March twenty twenty-six"),
    # times
    ("Meet at 10:30.", "Meet at ten thirty."),
    ("At 10:05 or 10:00 or 00:00.", "At ten oh five or ten o'clock or midnight."),
    ("At 3pm or 3 PM or 7 a.m.", "At three p.m. or three p.m. or seven a.m."),
    ("At 10:30am and 15:45.", "At ten thirty a.m. and fifteen forty-five."),
    # abbreviations
    ("Dr. Smith met Mr. Jones and Mrs. Brown.", "Doctor Smith met Mister Jones and Missus Brown."),
    ("Ms. White lives on Main St. near St. Paul's.", "Miz White lives on Main Street near Saint Paul's."),
    ("Fruit, e.g. apples; i.e. food.", "Fruit, for example apples; that is food."),
    ("Cats vs. dogs vs dogs", "Cats versus dogs versus dogs"),
    ("Apples, pears, etc. are fruit.", "Apples, pears, et cetera are fruit."),
    ("We like fruit, etc.", "We like fruit, et cetera."),
    ("No. 5 and Fig. 2", "number five and figure two"),
    # symbols
    ("Tom & Jerry", "Tom and Jerry"),
    ("C++ and a+b = c", "C plus plus and a plus b equals c"),
    ("Meet me @ home", "Meet me at home"),
    ("It is #1 in the #AI list", "It is number one in the hashtag AI list"),
    ("50°C and 70 °F", "fifty degrees Celsius and seventy degrees Fahrenheit"),
    ("and/or", "and or"),
    ("1/2 and 3/4 and 2/3, open 24/7", "one half and three quarters and two thirds, open twenty-four seven"),
    ("10-20 people and 10–20 more", "ten to twenty people and ten to twenty more"),
    ("Version 2.0.1 is out", "Version two point zero point one is out"),
    ("A 3:2 ratio", "A three to two ratio"),
    ("Only $19.99/month or 5 / year", "Only nineteen dollars and ninety-nine cents per month or five per year"),
    ("x = 5 * 3", "x equals five times three"),
    ("Call (555) 123-4567.", "Call five five five, one two three, four five six seven."),
    (
        "5kg, 100 km/h, 2.5 GB, 1 m",
        "five kilograms, one hundred kilometers per hour, two point five gigabytes, one meter",
    ),
    # acronyms are left for espeak-ng to spell or read
    ("NASA and the FBI", "NASA and the FBI"),
    # URLs and e-mail addresses
    ("Visit https://www.example.com/about-us?x=1 now.", "Visit example dot com slash about dash us now."),
    ("See neura.ai for more.", "See neura dot ai for more."),
    ("Mail john.doe@example.com today.", "Mail john dot doe at example dot com today."),
    # unicode, whitespace, markdown
    ("“Smart” ‘quotes’", "\"Smart\" 'quotes'"),
    ("Wait — what… really", "Wait, what... really"),
    ("  lots   of\tspace\n\nhere ", "lots of space here"),
    ("He said **hello** to `you`.", "He said hello to you."),
    ("x\u200by\u00a0z", "xy z"),
    ("½ cup", "one half cup"),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_normalize_text(written: str, spoken: str) -> None:
    assert normalize_text(written) == spoken


@pytest.mark.parametrize(("written", "_"), CASES)
def test_normalize_text_is_idempotent(written: str, _: str) -> None:
    once = normalize_text(written)
    assert normalize_text(once) == once


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (15, "fifteen"),
        (21, "twenty-one"),
        (100, "one hundred"),
        (999, "nine hundred ninety-nine"),
        (1001, "one thousand one"),
        (2_000_000_003, "two billion three"),
        (-42, "minus forty-two"),
        (10**18, "one zero zero zero zero zero zero zero zero zero zero zero zero zero zero zero zero zero zero"),
    ],
)
def test_cardinal_words(number: int, words: str) -> None:
    assert cardinal_words(number) == words


@pytest.mark.parametrize(
    ("number", "words"),
    [(1, "first"), (5, "fifth"), (9, "ninth"), (12, "twelfth"), (20, "twentieth"), (42, "forty-second"),
     (100, "one hundredth"), (1_000_000, "one millionth")],
)  # fmt: skip
def test_ordinal_words(number: int, words: str) -> None:
    assert ordinal_words(number) == words


@pytest.mark.parametrize(
    ("year", "words"),
    [(1066, "ten sixty-six"), (1999, "nineteen ninety-nine"), (2000, "two thousand"), (2009, "two thousand nine"),
     (2026, "twenty twenty-six"), (1800, "eighteen hundred"), (1901, "nineteen oh one"), (2100, "twenty-one hundred")],
)  # fmt: skip
def test_year_words(year: int, words: str) -> None:
    assert year_words(year) == words


def test_fractions_and_tokens() -> None:
    assert fraction_words(5, 8) == "five eighths"
    assert fraction_words(1, 3) == "one third"
    assert number_words("-1,500.25") == "minus one thousand five hundred point two five"
    with pytest.raises(ValueError):
        number_words("12a")


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ('<speak>Hello <break time="2s"/>world.</speak>', "Hello, world."),
        ("<p>Fish &amp; chips</p>", "Fish and chips"),
        ("\x1b[31mRed\x1b[0m alert.", "Red alert."),
        ("If x<y and y>z, stop.", "If x y and y z, stop."),  # not tags: the words stay
    ],
)
def test_markup_and_terminal_codes_are_not_spoken(written: str, spoken: str) -> None:
    assert normalize_text(written) == spoken


@pytest.mark.parametrize(
    ("text", "script"),
    [("مرحبا بكم", "Arabic"), ("Привет, мир", "Cyrillic"), ("Hello, Zoë and Renée", None), ("42 🎉", None)],
)
def test_text_mostly_in_another_writing_system_is_named(text: str, script: str | None) -> None:
    assert foreign_script(text) == script
