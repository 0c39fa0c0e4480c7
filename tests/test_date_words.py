"""date_words (assistant/index/bm25.py) is a '-'/'/'-anchored rewrite of two regex scans: its output must equal the
regex version kept here, on hand-picked edge cases and on many random texts built from date-like pieces."""

from __future__ import annotations

import random
import re

from assistant.index.bm25 import date_words
from assistant.text.lexicon import MONTH_NAMES

_ISO_DATE = re.compile(r"\b(20\d\d|19\d\d)-(\d\d)-(\d\d)")
_UK_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")


def old_date_words(text: str) -> list[str]:
    found: dict[str, None] = {}
    for y, m, d in _ISO_DATE.findall(text) if "-" in text else ():  # main's code, separator gates too
        if 1 <= int(m) <= 12:
            found[f"{int(d)} {MONTH_NAMES[int(m) - 1]} {y}"] = None
    for d, m, y in _UK_DATE.findall(text) if "/" in text else ():
        if 1 <= int(m) <= 12:
            found[f"{int(d)} {MONTH_NAMES[int(m) - 1]} {y}"] = None
    return list(found)


CASES = [
    "", "-", "/", "2023-03-14", "2023-03-14T19:02:00Z sent", "x2023-03-14", "_2023-03-14", " 2023-03-14",
    "1999-12-31 and 2000-01-01 and 1999-12-31", "2023-13-01", "2023-00-10", "2023-03-1", "2023-3-14",
    "2023-03-2023-04-05", "2023-03-14-2023-05-06", "1899-01-01", "2123-01-01", "12023-03-14", "-2023-03-14",
    "14/03/2023", "5/4/2023", "05/04/2023.", "14/03/20234", "14/03/2023x", "14/03/2023_", "x14/03/2023",
    "114/03/2023", "14/3/1999 14/03/1999", "1/13/2023", "13/1/2023", "0/0/2000", "14//2023", "/14/03/2023",
    "14/03/2023/04/2023", "1/2/2023/3/4/2023", "3/4/20233/4/2023", "14/03/1899", "9/9/2099",
    "sent 2023-03-14T19:02, paid 5/4/2023 and again 14/03/2023", "2023-03-14 then 14/03/2023 (same day)",
    "14 03 2023 at 19:02", "\u0662\u0660\u0662\u0663-\u0660\u0663-\u0661\u0664", "20\u0662\u0663-03-14",
    "١٤/٠٣/2023", "é14/03/2023", "14/03/2023é", "ab-cd/ef", "20-03-14", "a/1/2023", "1/a/2023",
]


def test_date_words_equals_regex_version_on_edge_cases() -> None:
    for text in CASES:
        assert date_words(text) == old_date_words(text), text


def _random_text(rng: random.Random) -> str:
    """Date-shaped tokens (some broken: wrong widths, month 13, 18xx, glued letters) joined by noise."""
    def num(width: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(width))

    parts = []
    for _ in range(rng.randint(1, 6)):
        year = rng.choice(["19", "20", "19", "20", "18", "2", ""]) + num(rng.choice([2, 2, 2, 1, 3]))
        month = rng.choice([f"{rng.randint(0, 13):02d}", str(rng.randint(0, 13)), num(rng.choice([1, 2, 3]))])
        day = rng.choice([f"{rng.randint(1, 31):02d}", str(rng.randint(1, 31)), num(rng.choice([1, 2, 3]))])
        token = rng.choice([f"{year}-{month}-{day}", f"{day}/{month}/{year}", f"{year}-{month}", f"{day}/{month}"])
        parts.append(token)
        parts.append(rng.choice(["", "", " ", "x", "_", "-", "/", "T19:02", ", ", "é", "\u0663"]))
    return "".join(parts)


def test_date_words_equals_regex_version_on_random_texts() -> None:
    rng = random.Random(20)
    found = 0
    for _ in range(40000):
        text = _random_text(rng)
        expected = old_date_words(text)
        found += bool(expected)
        assert date_words(text) == expected, text
    assert found > 3000  # the generator does reach dates (~10% of texts), not only non-matches
