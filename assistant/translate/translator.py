"""One message to English with the configured model, through prompts/translate_message.j2. The message is data: it
is neutralised like an answer's passages, and a reply that is empty, far longer than the original or that repeats
the prompt's delimiters is refused rather than stored."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from assistant.answer.prompts import render
from assistant.llm.base import Backend

log = logging.getLogger(__name__)

TEMPLATE = "translate_message"
PROMPT_VERSION = "translate-v1"
MAX_GROWTH = 4  # an English rendering longer than 4x the original (plus 80 characters) is not a translation
_PREFIX = re.compile(r"^(?:english(?: translation)?|translation)\s*:\s*", re.I)
_OWN_TAG = re.compile(r"<(?=\s*/?\s*message\b)", re.I)  # our block's delimiter (the `data` filter does the rest)
_DELIMITERS = re.compile(r"</?message\b|<\|im_(?:start|end)\|>", re.I)

LANGUAGE_NAMES = {"pl": "Polish", "ro": "Romanian", "ur": "Urdu", "ar": "Arabic", "vi": "Vietnamese", "de": "German",
                  "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "ru": "Russian",
                  "uk": "Ukrainian", "tr": "Turkish", "nl": "Dutch"}


class TranslationRefused(ValueError):
    """The model's reply was not stored: `reason` says why (no text)."""


@dataclass(frozen=True)
class Translated:
    text: str
    model: str
    prompt_version: str = PROMPT_VERSION


_ALIASES = {**{name.lower(): code for code, name in LANGUAGE_NAMES.items()},
            "pol": "pl", "ron": "ro", "rum": "ro", "urd": "ur", "ara": "ar", "arb": "ar", "vie": "vi"}


def iso_code(language: str) -> str:
    """An export's declared language as ISO 639-1 when we know the name or 3-letter code ("Polish", "pol" -> "pl")."""
    key = language.strip().lower()
    return _ALIASES.get(key, key)


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(iso_code(code), code or "an unknown language")


def clean_reply(reply: str, original: str) -> str:
    """The translation in a reply: the first non-empty paragraph without an "English:" prefix or wrapping quotes.
    Raises TranslationRefused when nothing usable is left."""
    text = reply.strip()
    paragraph = re.split(r"\n\s*\n", text, maxsplit=1)[0] if text else ""
    paragraph = _PREFIX.sub("", paragraph).strip().strip('"“”„').strip()
    if not paragraph:
        raise TranslationRefused("empty reply")
    if _DELIMITERS.search(paragraph):
        raise TranslationRefused("reply repeats the prompt's delimiters")
    if len(paragraph) > MAX_GROWTH * len(original) + 80:
        raise TranslationRefused("reply far longer than the original")
    return " ".join(paragraph.split())


def translate_text(backend: Backend, text: str, language: str, *, max_tokens: int = 256) -> Translated:
    """English for `text` (in `language`, an ISO 639-1 code). Backend errors propagate; bad replies raise
    TranslationRefused."""
    content = render(TEMPLATE, language=language_name(language), text=_OWN_TAG.sub("‹", text)).strip()
    reply = "".join(backend.stream_chat([{"role": "user", "content": content}], max_tokens=max_tokens,
                                        temperature=0.0))
    return Translated(clean_reply(reply, text), backend.model)
