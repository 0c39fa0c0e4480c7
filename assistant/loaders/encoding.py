"""Which character set a text file (or e-mail part) is in, with a confidence, so nothing is ingested as mojibake.

Order: a byte-order mark decides (UTF-32's before UTF-16's: FF FE 00 00 begins with UTF-16LE's FF FE); UTF-32
without a BOM is bytes that decode strictly as UTF-32 to text without NULs or C0 controls (UTF-16 or UTF-8 text almost
never does: two of its characters read as one code point above U+10FFFF); valid UTF-8 is UTF-8; UTF-16 without a BOM
is recognised by its byte lanes (in UTF-16 text of one script, one of the two byte lanes takes very few values: 0x00
for Latin, 0x06 for Arabic).
Otherwise every single-byte code page that decodes the bytes is a candidate (charset-normalizer's own guesses plus
the Windows pages of the languages in our cases: cp1250 Central European, cp1252/Latin-1 Western, cp1256
Arabic, ...), and each decoded text is scored:
- suspicious characters: a non-letter symbol glued to a letter ("£ukasz", "Wi¹cek") or a C1 control character,
  which is what a wrong page produces;
- alphabet coverage: the share of non-ASCII letters that belong to ONE language's alphabet (Latin script) or to one
  script (Arabic, Cyrillic, Greek, Hebrew); a wrong page mixes alphabets ("prčs ... arręter");
- charset-normalizer's mess ratio.
confidence = coverage × (1 − mess) × (1 − share of suspicious characters among non-ASCII ones), halved when a
different text scores as well (truly ambiguous). Below `MIN_CONFIDENCE` the caller keeps the file aside.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections import Counter
from dataclasses import dataclass

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

MIN_CONFIDENCE = 0.8  # evals/encoding_detection.py, 4,835 files (UTF-32 too): 0 wrong from 0.6 to 0.9 (97.2% right)
SINGLE_BYTE = ("cp1252", "cp1250", "cp1256", "latin_1", "iso8859_2", "cp1251", "cp1253", "cp1254", "cp1257",
               "iso8859_16", "cp1255", "cp1258", "iso8859_6")
_ALPHABETS = {
    "Polish": "ąćęłńóśźż", "Romanian": "ăâîșțşţ", "Czech/Slovak": "áäčďéěíĺľňóôŕřšťúůýž",
    "Hungarian": "áéíóöőúüű", "French": "àâæçéèêëîïôœùûüÿ", "German": "äöüß", "Spanish": "áéíñóúü",
    "Portuguese": "àáâãçéêíóôõú", "Italian": "àèéìíîòóùú", "Turkish": "çğıöşü", "Nordic": "åäæéöø",
    "Latvian": "āčēģīķļņšūž", "Lithuanian": "ąčęėįšųūž",
    "Vietnamese": "àáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
}
_MODERN = ("cp125",)  # other pages charset-normalizer proposes (DOS, Mac, rarer ISO) tie on short texts: not offered
_ONE_LETTER_WORDS = set("àèéóáùìòíúåäöüçñ")
_PUNCT_OK = set("„“”‘’«»‹›–—…•·°§±×€£$¢¥©®™\u00a0\u202f¿¡")
_NON_LATIN = ("ARABIC", "CYRILLIC", "GREEK", "HEBREW")


@dataclass(frozen=True)
class Detected:
    text: str
    encoding: str
    confidence: float
    note: str = ""  # what decided it, or the rival when ambiguous


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return next((s for s in _NON_LATIN if name.startswith(s)), "LATIN" if "LATIN" in name else "OTHER")


def _coverage(text: str) -> float:
    letters = [c.lower() if len(c.lower()) == 1 else c for c in text if ord(c) > 127 and c.isalpha()]
    if not letters:
        return 1.0
    scripts = Counter(_script(c) for c in letters)
    script, count = scripts.most_common(1)[0]
    if script != "LATIN":
        return count / len(letters)
    return max(sum(1 for c in letters if c in alphabet) for alphabet in _ALPHABETS.values()) / len(letters)


def _suspicious(text: str) -> tuple[int, int]:
    """(suspicious characters, non-ASCII characters)."""
    bad = non_ascii = 0
    for i, c in enumerate(text):
        if ord(c) < 128:
            continue
        non_ascii += 1
        category = unicodedata.category(c)
        if category in ("Cc", "Co", "Cn"):
            bad += 1
        elif category.startswith("M"):
            continue  # a combining mark left over after NFC belongs to the letter before it
        elif not c.isalpha() and c not in _PUNCT_OK and not c.isdigit() and not c.isspace():
            near = (i > 0 and text[i - 1].isalpha()) or (i + 1 < len(text) and text[i + 1].isalpha())
            bad += near
        elif c in "£€$¢¥" and i + 1 < len(text) and text[i + 1].isalpha():
            bad += 1
        elif c.isalpha() and i + 1 < len(text) and text[i + 1].isdigit() and (i == 0 or not text[i - 1].isalpha()):
            bad += 1  # a lone accented letter glued to a number: "Ł5" is a wrong page's "£5"
        elif c.isalpha() and c.lower() not in _ONE_LETTER_WORDS and (i == 0 or not text[i - 1].isalpha()) \
                and (i + 1 == len(text) or not text[i + 1].isalpha()):
            bad += 1  # a one-letter word no language writes: " œ " is a wrong page's " ½ "
    return bad, non_ascii


def _utf16_without_bom(data: bytes) -> str | None:
    if len(data) < 4 or len(data) % 2:
        return None
    lanes = (data[0::2], data[1::2])
    for high, encoding in ((1, "utf_16_le"), (0, "utf_16_be")):
        top = Counter(lanes[high]).most_common(3)  # Vietnamese uses 0x00, 0x01 and 0x1E
        if sum(n for _, n in top) >= 0.9 * len(lanes[high]) and Counter(lanes[1 - high]).most_common(1)[0][1] \
                < 0.5 * len(lanes[high]):
            return encoding
    return None


_TEXT_CONTROLS = frozenset("\t\n\r\f")


def _utf32_without_bom(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) when `data` is UTF-32 without a byte-order mark, else None."""
    if len(data) < 8 or len(data) % 4 or b"\x00\x00" not in data:
        return None
    for encoding in ("utf_32_le", "utf_32_be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not any(ord(c) < 32 and c not in _TEXT_CONTROLS for c in text):
            return text, encoding
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _score(text: str) -> tuple[float, int, float]:
    text = unicodedata.normalize("NFC", text)  # cp1258 writes Vietnamese tones as combining marks
    bad, non_ascii = _suspicious(text)
    coverage = _coverage(text)
    mess = min(1.0, mess_ratio(text, maximum_threshold=1.0))
    confidence = coverage * (1.0 - mess) * (1.0 - (bad / non_ascii if non_ascii else 0.0))
    return confidence, bad, coverage


def text_confidence(text: str) -> float:
    """How plausible `text` is as a decoding (0-1, the score `detect` gives each candidate)."""
    return _score(text)[0]


def detect(data: bytes) -> Detected:
    """The most plausible decoding of `data` and how sure we are (0-1). Never raises for bytes of any kind."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
                          (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return Detected(data.decode(encoding), encoding, 1.0, "byte-order mark")
            except UnicodeDecodeError:
                if encoding != "utf-32" or not data.startswith(codecs.BOM_UTF16_LE):
                    return Detected("", encoding, 0.0, "byte-order mark but invalid content")
                # FF FE 00 00 that is not UTF-32: UTF-16LE text whose first character is NUL; tried next
    utf32 = _utf32_without_bom(data)
    if utf32 is not None:
        confidence, _, _ = _score(utf32[0])
        return Detected(utf32[0], utf32[1], confidence, "UTF-32 code units, no byte-order mark")
    utf16 = _utf16_without_bom(data) if b"\x00" in data or not _is_utf8(data) else None
    if utf16 is not None:
        try:
            text = data.decode(utf16)
            confidence, _, _ = _score(text)
            return Detected(text, utf16, confidence, "UTF-16 byte lanes, no byte-order mark")
        except UnicodeDecodeError:
            pass
    if _is_utf8(data) and b"\x00" not in data:
        return Detected(data.decode("utf-8"), "utf-8", 1.0, "valid UTF-8")
    if b"\x00" in data:
        return Detected("", "binary", 0.0, "NUL bytes: binary, or UTF-16 of mixed scripts without a byte-order mark")
    guesses = [m.encoding for m in from_bytes(data) if m.encoding.startswith(_MODERN)]
    scored: list[tuple[float, int, float, str, str]] = []
    for encoding in dict.fromkeys([*SINGLE_BYTE, *guesses]):  # on equal scores the first listed is named
        if encoding.startswith(("utf", "ascii")):
            continue
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        confidence, bad, coverage = _score(text)
        scored.append((confidence, -bad, coverage, encoding, unicodedata.normalize("NFC", text)))
    if not scored:
        return Detected("", "unknown", 0.0, "no code page decodes these bytes")
    scored.sort(key=lambda s: (s[0], s[1], s[2]), reverse=True)
    best = scored[0]
    rival = next((s for s in scored[1:] if s[4] != best[4]), None)
    if rival is not None and round(rival[0], 2) >= round(best[0], 2):
        return Detected(best[4], best[3], min(best[0], 0.5), f"as plausible as {rival[3]}")
    return Detected(best[4], best[3], best[0], f"best of {len(scored)} code pages")
