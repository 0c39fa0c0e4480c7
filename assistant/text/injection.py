"""Prompt-injection detection: text addressed to an AI is never used as evidence.

Text is first normalised (`normalise`): NFKC, invisible format characters (zero-width space/joiner, bidi controls,
soft hyphen, BOM) removed, common Cyrillic/Greek look-alikes of Latin letters folded, case folded and diacritics
dropped, so "i\u200bgnore", "іgnore" (Cyrillic і) and "Ignoră" match like "ignore". Then three kinds of cue, each
written for English, Polish, Romanian, Arabic, Urdu and Vietnamese:
- a verb of dismissal near an object that names the prompt ("ignore … previous instructions", "disregard everything
  before this", "پچھلی ہدایات کو نظر انداز کریں"), in either order (Urdu puts the verb last), within one sentence;
- phrases that only make sense to a model ("new instructions:", "system prompt", "from now on you are");
- chat-template tokens (`<|im_start|>`, `<start_of_turn>`, `[INST]`, `<<SYS>>` …).
Measured by `assistant eval injection` (evals/suites/injection.py): written attacks vs ordinary text (NTREX news in
all six languages, Enron e-mails, the demo case), dev split for choices, held-out split reported.

`instruction_units` also blocks the units that follow an instruction-like unit in the same paragraph (no blank line
between them): an injected block goes on past its first recognisable sentence ("SYSTEM: ignore previous
instructions ...", then more orders in plain words), and those lines are not statements of fact either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# Latin look-alikes from Cyrillic and Greek, and letters NFKD does not decompose (ł, đ, ø)
_FOLD = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j", "ѕ": "s", "һ": "h",
    "ԁ": "d", "ɡ": "g", "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "τ": "t", "ρ": "p", "υ": "u",
    "ł": "l", "đ": "d", "ø": "o", "ı": "i",
    # Arabic-script variants: alef forms, alef maqsura, teh marbuta, kaf/yeh of Urdu vs Arabic
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ی": "ي", "ك": "ک", "ة": "ه", "ۀ": "ه",
}
_SPACE = re.compile(r"\s+")
_STOP = r"[^.!?\n۔؟]"  # stay inside one sentence (Latin, Urdu and Arabic full stops)


def _char_class(category: str) -> re.Pattern[str]:
    """Every character of a Unicode category in the Basic Multilingual Plane, as one regex class: a C-level
    substitution (str.translate with a dict, or a per-character category test, costs 4-10x more on ordinary text)."""
    chars = "".join(re.escape(chr(cp)) for cp in range(0x80, 0x10000) if unicodedata.category(chr(cp)) == category)
    return re.compile(f"[{chars}]")


_FORMAT = _char_class("Cf")  # zero-width space/joiners, bidi controls, soft hyphen, BOM ...
_MARKS = _char_class("Mn")  # combining diacritics (after NFKD), Arabic harakat
_FOLD_RE = re.compile("[" + "".join(re.escape(c) for c in _FOLD) + "]")


def normalise(text: str) -> str:
    """Comparable form: NFKC, no invisible format characters, look-alikes folded, case folded, no diacritics."""
    if text.isascii():  # NFKC/NFKD and both deletions are no-ops on ASCII
        return _SPACE.sub(" ", text.casefold())
    text = _FORMAT.sub("", unicodedata.normalize("NFKC", text)).casefold()
    text = _FOLD_RE.sub(lambda m: _FOLD[m.group(0)], text)
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return _SPACE.sub(" ", text)


def _pair(verbs: str, objects: str, gap: int = 60) -> str:
    return (rf"(?:\b(?:{verbs})\b{_STOP}{{0,{gap}}}?\b(?:{objects})\b"
            rf"|\b(?:{objects})\b{_STOP}{{0,{gap}}}?\b(?:{verbs})\b)")


_EN = _pair(
    r"ignore|disregard(?![^\w]{0,3}for\b)|forget|override|bypass|discard|"
    r"pay no attention to|do not follow|don'?t follow|stop following|do not obey|don'?t obey",
    r"instructions?|prompts?|rules|guidelines|directives?|context|programming|"
    r"everything (?:before|above|prior|earlier|so far|you (?:were|have been) told)|"
    r"(?:the|all|any) (?:above|previous|prior|earlier|preceding)|what you were told|"
    r"(?:previous|prior|earlier|preceding|above) (?:messages?|text|passages?|content)")
_PL = _pair(
    r"z?ignoruj\w*|pomin\w*|zapomnij\w*|nie zwazaj\w*|zlekcewaz\w*|nie stosuj\w*|nie sluchaj\w*|"
    r"nie przestrzegaj\w*",
    r"instrukcj\w*|polecen\w*|regul\w*|zasad\w*|prompt\w*|wszystko,? co (?:bylo )?(?:wyzej|powyzej|wczesniej)|"
    r"powyzsz\w*|poprzedni\w* (?:instrukcj|polecen|wiadomosc)\w*")
_RO = _pair(
    r"ignora|ignorati|ignorand|uita|uitati|nu tine cont|nu tineti cont|neglijeaz\w*|nu respecta\w*|nu urma\w*",
    r"instructiuni\w*|comenzil\w*|regul\w*|prompt\w*|tot ce(?: ti)?(?: s-a| vi s-a)? spus|"
    r"de mai sus|anterioar\w*")
_AR = _pair(
    r"تجاهل\w*|انس|انسي|انسوا|تناس\w*|اهمل\w*|لا تتبع\w*|لا تلتزم\w*",
    r"التعليمات|تعليمات|الاوامر|اوامر|القواعد|التوجيهات|كل ما سبق|ما سبق|اعلاه")
_UR = _pair(
    r"نظر انداز|نظرانداز|بھول جا\w*|بھلا د\w*|عمل نہ|مت مان\w*|نہ مان\w*",
    r"ہدایات|ہدایت|احکامات|سسٹم پرامپٹ|پرامپٹ|اصولوں|اصول|اوپر لکھی|اوپر دی\w*|ہر بات|سب کچھ")
_VI = _pair(
    r"bo qua|quen|phot lo|dung lam theo|khong lam theo|khong tuan theo|dung tuan theo|bat chap",
    r"huong dan|chi dan|chi thi|quy tac|loi nhac|moi thu o tren|moi thu truoc|tat ca (?:nhung )?gi o tren")
_PHRASES = "|".join([
    # English
    r"\bsystem prompt\b", r"\bnew instructions?\s*:", r"\byour new (?:task|instructions?) (?:is|are)\b",
    r"\bfrom now on,? you (?:are|will|must)\b", r"\byou are now (?:a|an|the|my|in|no longer)\b",
    r"\bpretend (?:to be|you are)\b", r"\bact as (?:if you were|an? (?:ai|assistant|model|chatbot))\b",
    r"\b(?:reply|respond|answer) only with\b",
    # Polish
    r"\bnowe instrukcje\b", r"\bprompt systemowy\b", r"\bod teraz jestes\b", r"\bjestes teraz\b",
    r"\bodpowiadaj tylko\b", r"\bmodel musi odpowiedziec\b",
    # Romanian
    r"\binstructiuni noi\b", r"\bnoile instructiuni\b", r"\bprompt(?:ul)? de sistem\b", r"\bde acum esti\b",
    r"\bacum esti un asistent\b", r"\bmodelul trebuie sa raspunda\b", r"\braspunde doar\s*:",
    # Arabic
    r"تعليمات جديده", r"موجه النظام", r"انت الان مساعد", r"من الان فصاعدا انت", r"يجب علي النموذج",
    # Urdu
    r"نئی ہدایات", r"سسٹم پرامپٹ", r"ماڈل کو جواب",
    # Vietnamese
    r"\bhuong dan moi\b", r"\bloi nhac he thong\b", r"\bbay gio ban la\b", r"\btu gio ban la\b",
    r"\bmo hinh phai tra loi\b",
])
_AI_ADDRESSED = (r"\b(?:assistant|ai|model|chatbot|language model|llm)\b[^.\n]{0,30}\b(?:must|should|will|shall)\b"
                 r"[^.\n]{0,20}\b(?:say|answer|respond|reply|state|output|write)\b")
# chat-template tokens of the common model families (matched on the raw text: normalisation keeps them)
_TOKENS = (r"<\|[a-z_]{2,20}\|>|<\s*/?\s*(?:start_of_turn|end_of_turn|bos|eos|s)\s*>|\[/?inst\]|<</?sys>>|"
           r"\[/?system_prompt\]")
# Each family runs only when the text holds one of its trigger substrings (a plain `in`, cheap), so ordinary text
# costs a few substring tests; the patterns are written as people write the words and folded like the text.
_FAMILIES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("ignor", "disregard", "forget", "overrid", "bypass", "discard", "attention", "follow", "obey"), _EN),
    (("ignoruj", "pomin", "zapomnij", "zwazaj", "zlekcewaz", "stosuj", "sluchaj", "przestrzegaj"), _PL),
    (("ignora", "uita", "tine cont", "tineti cont", "neglij", "respecta", "urma"), _RO),
    (("تجاهل", "انس", "تناس", "اهمل", "لا تتبع", "لا تلتزم"), _AR),
    (("نظر", "بھول", "بھلا", "عمل نہ", "مت مان", "نہ مان"), _UR),
    (("bo qua", "quen", "phot lo", "lam theo", "tuan theo", "bat chap"), _VI),
    (("prompt", "instruc", "your new", "from now on", "you are now", "pretend", "act as", "only with", "nowe",
      "systemowy", "od teraz", "jestes teraz", "odpowiadaj", "model musi", "instructiuni", "de sistem", "de acum",
      "acum esti", "modelul", "raspunde", "تعليمات", "موجه", "انت الان", "من الان", "علي النموذج", "ہدایات",
      "پرامپٹ", "ماڈل", "huong dan", "loi nhac", "ban la", "mo hinh"), _PHRASES),
    ((" assistant", " ai ", " ai,", " ai:", " model", " chatbot", " llm"), _AI_ADDRESSED),
    (("<", "["), _TOKENS),
)
_RULES = tuple((tuple(normalise(t) for t in triggers), re.compile(normalise(pattern), re.IGNORECASE))
               for triggers, pattern in _FAMILIES)


def _search(text: str) -> str:
    folded = " " + normalise(text) + " "
    for triggers, rule in _RULES:
        if any(t in folded for t in triggers):
            match = rule.search(folded)
            if match:
                return match.group(0).strip()
    return ""


def injection_cue(text: str) -> str:
    """The words that make `text` look addressed to an AI ("" when none): for logs by length, tests and evals."""
    return _search(text)


def is_instruction_like(text: str) -> bool:
    """Text addressed to an AI rather than a statement of fact (prompt injection); never used as evidence."""
    return bool(_search(text))


def instruction_units(text: str, spans: Sequence[tuple[int, int]], *, paragraphs: bool = True) -> list[bool]:
    """Per unit span of `text`: instruction-like, or (with `paragraphs`; not for message lines, each its own
    message) in the same paragraph right after one that is."""
    blocked: list[bool] = []
    for k, (s, e) in enumerate(spans):
        follows = paragraphs and k > 0 and blocked[-1] and "\n\n" not in re.sub(r"[ \t]+", "", text[spans[k - 1][1]:s])
        blocked.append(is_instruction_like(text[s:e]) or follows)
    return blocked
