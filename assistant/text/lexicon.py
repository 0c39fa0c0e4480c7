"""Words: the tokeniser, the stemmer, the stopword lists, negations and the month table."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either else ever few for from further had
    has have having he her here hers herself him himself his how however i if in into is it its itself just
    let me more most much must my myself neither nor of off on once only or other our ours ourselves out over
    own per same shall she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up upon us very via was we were what when where which while who
    whom whose why will with within without would yes you your yours yourself yourselves according among
    another around away back based being may might like one ones said says say since still thus therefore
    whether yet well also even though although whereas later earlier first""".split()
)
# The search index drops only these function words: "may" (a month), "first", "one", "said" and the rest of
# STOPWORDS still tell a keyword search something. A subset of STOPWORDS (tests/test_text.py checks it).
SEARCH_STOPWORDS = frozenset(
    """a an and are as at be but by for from has have he her his i if in into is it its me my of on or our she so
    that the their them then there these they this to was we were what when where which who whom why will with
    you your did does do how about""".split()
)
NEGATIONS = frozenset("not no never none nothing nobody neither nor without cannot n't denied denies deny".split())

MONTH_NAMES = tuple(
    "January February March April May June July August September October November December".split())
# month name or abbreviation (lower-case) -> 1..12
MONTHS: dict[str, int] = {m.lower(): i + 1 for i, m in enumerate(MONTH_NAMES)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = tuple("monday tuesday wednesday thursday friday saturday sunday".split())

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_SEARCH_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_LOCAL = threading.local()
_AR_MARKS = re.compile("[\u064b-\u0652\u0670\u0640]")  # harakat, superscript alef, tatweel
_AR_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي",
                             **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
                             **{chr(0x06F0 + i): str(i) for i in range(10)}})  # Extended (Urdu, Persian) digits


def normalize_arabic(text: str) -> str:
    """Arabic script as search and comparison read it: diacritics and tatweel dropped (a mark inside a word no
    longer cuts it in two), alef variants (أ إ آ ٱ) as ا, taa marbuta ة as ه, alef maqsura ى as ي, Arabic-Indic and
    Extended digits as 0-9. Other scripts are unchanged."""
    return _AR_MARKS.sub("", text).translate(_AR_LETTERS)


def _stemmer() -> Any:
    """The English Snowball stemmer of this thread (PyStemmer objects are not thread-safe)."""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _LOCAL.stemmer = Stemmer.Stemmer("english")
    return stemmer


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """Letter words (with inner apostrophes and hyphens), typographic apostrophes made plain."""
    return [w.replace("’", "'") for w in _WORD.findall(text)]


def content_terms(text: str) -> list[str]:
    """Stemmed, lower-cased content words (stopwords and 1-2 letter words removed), in order, with repeats."""
    out: list[str] = []
    for w in words(text):
        low = w.lower()
        if low.endswith("'s"):
            low = low[:-2]
        if len(low) < 3 or low in STOPWORDS:
            continue
        out.append(stem(low))
    return out


def search_terms(text: str) -> list[str]:
    """Terms of the keyword index: lower-case unicode words without SEARCH_STOPWORDS, stemmed; digit runs whole;
    Arabic script normalised (`normalize_arabic`)."""
    low = [w.lower() for w in _SEARCH_WORD.findall(normalize_arabic(text))]
    return [w if w.isdigit() else stem(w) for w in low if w not in SEARCH_STOPWORDS]


def has_negation(text: str) -> bool:
    """A negation word or "n't". A capitalised one followed by another capitalised word is a title
    ("Never Cry Wolf"), not a negation."""
    text = text.replace("’", "'")
    if "n't" in text.lower():
        return True
    found = list(_WORD.finditer(text))
    for k, m in enumerate(found):
        word = m.group(0)
        if word.lower() not in NEGATIONS:
            continue
        following = found[k + 1].group(0) if k + 1 < len(found) else ""
        if word.islower() or not following[:1].isupper():
            return True
    return False
