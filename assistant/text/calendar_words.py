"""Weekday and month names in the case languages other than English (pl, ro, ar, ur, vi), so that an original's
dates can be read against its machine translation (verify/machine.py).

`calendar_names(text, lang)` gives the English weekday and month names (lower-case, as in lexicon.WEEKDAYS and
lexicon.MONTH_NAMES) that an original names; `english_months(text, lang)` writes its month names in English in place
("5 maja 2024" -> "5 May 2024"), so the ordinary date reader finds "5 May" in it. Forms are matched as whole words
after case folding (Polish and Romanian diacritics folded, Arabic letter variants unified), including the common
inflections (Polish genitive/locative/accusative, Romanian articled forms, Arabic prefixed conjunction/preposition).
Ambiguous words are limited to where they are names: Romanian "mai" (also "more") counts as May only beside a number,
Romanian "luni" (also "months") not after a number; Levantine "آب" (August, also "father" once normalised) is left
out. A wrongly found name in an original only widens what its translation may say (never narrows it wrongly to
nothing), so the lists err towards more forms."""

from __future__ import annotations

import re
import unicodedata

from assistant.text.lexicon import MONTH_NAMES, WEEKDAYS, normalize_arabic


def _fold(text: str) -> str:
    """Case-folded, Latin and Vietnamese diacritics dropped (ł as l, đ as d), Arabic normalised (the marks of Arabic
    script's own letters kept)."""
    text = normalize_arabic(text.casefold()).replace("ł", "l").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
                   or "\u0600" <= c <= "\u06ff")


# language -> English name -> word forms (folded by _fold when compiled)
_WEEKDAYS: dict[str, dict[str, str]] = {
    "pl": {"monday": "poniedziałek poniedziałku poniedziałki", "tuesday": "wtorek wtorku wtorki",
           "wednesday": "środa środę środy środzie środą", "thursday": "czwartek czwartku czwartki",
           "friday": "piątek piątku piątki", "saturday": "sobota sobotę soboty sobocie sobotą",
           "sunday": "niedziela niedzielę niedzieli niedzielą"},
    "ro": {"monday": "luni lunea", "tuesday": "marți marţi marțea", "wednesday": "miercuri miercurea",
           "thursday": "joi joia", "friday": "vineri vinerea", "saturday": "sâmbătă sâmbăta",
           "sunday": "duminică duminica"},
    "ar": {"monday": "الاثنين الإثنين اثنين", "tuesday": "الثلاثاء ثلاثاء", "wednesday": "الأربعاء أربعاء",
           "thursday": "الخميس خميس", "friday": "الجمعة جمعة", "saturday": "السبت سبت", "sunday": "الأحد"},
    "ur": {"monday": "پیر سوموار", "tuesday": "منگل", "wednesday": "بدھ", "thursday": "جمعرات",
           "friday": "جمعہ", "saturday": "ہفتہ ہفتے", "sunday": "اتوار"},
}
_MONTHS: dict[str, dict[str, str]] = {
    "pl": {"january": "styczeń stycznia styczniu", "february": "luty lutego lutym",
           "march": "marzec marca marcu", "april": "kwiecień kwietnia kwietniu", "may": "maj maja maju",
           "june": "czerwiec czerwca czerwcu", "july": "lipiec lipca lipcu", "august": "sierpień sierpnia sierpniu",
           "september": "wrzesień września wrześniu", "october": "październik października październiku",
           "november": "listopad listopada listopadzie", "december": "grudzień grudnia grudniu"},
    "ro": {"january": "ianuarie", "february": "februarie", "march": "martie", "april": "aprilie",
           "june": "iunie", "july": "iulie", "august": "august", "september": "septembrie",
           "october": "octombrie", "november": "noiembrie", "december": "decembrie"},  # "mai": _RO_MAY
    "ar": {"january": "يناير كانون_الثاني", "february": "فبراير شباط", "march": "مارس آذار",
           "april": "أبريل إبريل نيسان", "may": "مايو أيار", "june": "يونيو يونيه حزيران",
           "july": "يوليو يوليه تموز", "august": "أغسطس اغسطس", "september": "سبتمبر أيلول",
           "october": "أكتوبر تشرين_الأول", "november": "نوفمبر تشرين_الثاني", "december": "ديسمبر كانون_الأول"},
    "ur": {"january": "جنوری", "february": "فروری", "march": "مارچ", "april": "اپریل", "may": "مئی",
           "june": "جون", "july": "جولائی", "august": "اگست", "september": "ستمبر", "october": "اکتوبر",
           "november": "نومبر", "december": "دسمبر"},
}
_VI_WEEKDAYS = {"monday": "thứ hai", "tuesday": "thứ ba", "wednesday": "thứ tư", "thursday": "thứ năm",
                "friday": "thứ sáu", "saturday": "thứ bảy", "sunday": "chủ nhật"}
_VI_MONTH_WORDS = "một hai ba tư năm sáu bảy tám chín mười"  # tháng một (January) ... tháng mười (October)
_AR_PREFIX = "(?:و|ف|ب|ل|وب|ول)?"  # a conjunction or preposition written onto the word


def _alternation(forms: str, lang: str) -> str:
    alts = sorted({_fold(f).replace("_", " ") for f in forms.split()}, key=len, reverse=True)
    body = "|".join(re.escape(a) for a in alts)
    return f"{_AR_PREFIX}(?:{body})" if lang in ("ar", "ur") else f"(?:{body})"


def _compile(table: dict[str, dict[str, str]]) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    return {lang: [(name, re.compile(rf"(?<!\w){_alternation(forms, lang)}(?!\w)")) for name, forms in names.items()]
            for lang, names in table.items()}


_WEEKDAY_RE = _compile(_WEEKDAYS)
_WEEKDAY_RE["vi"] = [(name, re.compile(rf"(?<!\w){re.escape(_fold(w))}(?!\w)")) for name, w in _VI_WEEKDAYS.items()]
_MONTH_RE = _compile(_MONTHS)
_RO_MAY = re.compile(r"(?<=\d )mai(?!\w)|(?<!\w)mai(?= \d{4}(?!\d))")
_RO_LUNI_COUNT = re.compile(r"\d+ luni(?!\w)")  # "3 luni": three months
_VI_NUMBER = {_fold(w): n for n, w in enumerate(_VI_MONTH_WORDS.split(), start=1)}
_VI_NUMBER |= {_fold("mười một"): 11, _fold("mười hai"): 12, _fold("giêng"): 1, _fold("chạp"): 12}
_VI_ALTS = "|".join(sorted(_VI_NUMBER, key=len, reverse=True))
_VI_MONTH = re.compile(rf"(?<!\w)thang (\d{{1,2}}|{_VI_ALTS})(?!\w)")
_DAY_BEFORE = r"(?:(\d{1,2})\.?\s+)?"
_YEAR_AFTER = r"(?:\s+(?:r\.\s*|nam\s+)?(\d{4})(?!\d))?"


def _vi_month(word: str) -> int:
    return int(word) if word.isdigit() else _VI_NUMBER.get(word, 0)


def calendar_names(text: str, lang: str) -> tuple[set[str], set[str]]:
    """(English weekdays, English months) that `text`, written in `lang`, names; empty sets for other languages."""
    folded = _fold(text)
    days = {name for name, rx in _WEEKDAY_RE.get(lang, []) if rx.search(folded)}
    luni = len(re.findall(r"(?<!\w)luni(?!\w)", folded))
    if lang == "ro" and "lunea" not in folded and luni == len(_RO_LUNI_COUNT.findall(folded)):
        days.discard("monday")  # every "luni" follows a number: months
    return days, {MONTH_NAMES[m - 1].lower() for m, _, _ in _months(folded, lang)}


def _months(folded: str, lang: str) -> list[tuple[int, str, str]]:
    """(month 1-12, day or "", year or "") of each month name in the folded text."""
    out: list[tuple[int, str, str]] = []
    if lang == "vi":
        rx = re.compile(_DAY_BEFORE + _VI_MONTH.pattern + _YEAR_AFTER)
        return [(m, d or "", y or "") for d, w, y in rx.findall(folded) if 1 <= (m := _vi_month(w)) <= 12]
    for name, month_rx in _MONTH_RE.get(lang, []):
        rx = re.compile(_DAY_BEFORE + f"(?:{month_rx.pattern})" + _YEAR_AFTER)
        out += [(MONTH_NAMES.index(name.capitalize()) + 1, d, y) for d, y in rx.findall(folded)]
    if lang == "ro":
        out += [(5, d, y) for d, y in re.compile(_DAY_BEFORE + f"(?:{_RO_MAY.pattern})" + _YEAR_AFTER).findall(folded)]
    return out


def written_dates(text: str, lang: str) -> list[str]:
    """The dates that `text` (in `lang`) writes with a month name, in English ("5 maja 2024" -> "5 May 2024",
    "w maju 2024" -> "May 2024"), for the date reader; a month name without day or year gives nothing."""
    out = []
    for month, day, year in _months(_fold(text), lang):
        if day or year:
            out.append(" ".join(x for x in (day, MONTH_NAMES[month - 1], year) if x))
    return list(dict.fromkeys(out))


assert len(WEEKDAYS) == 7 and all(set(t) <= set(WEEKDAYS) for t in _WEEKDAYS.values())
