"""Search forms of identifier entities: the canonical value of an identifier and the extra tokens BM25 indexes
for it. Pure string code with no Presidio or spaCy import, so building or querying the keyword index (ingest's
finalize step, a question) never loads the NLP stack just for these."""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.text.phone import digits, uk_e164
from assistant.types import Entity

POSTCODE_OUTWARD = r"(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
POSTCODE_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
# Types that are identifiers: they get normalised forms and query terms.
IDENTIFIER_TYPES = frozenset({"PHONE_NUMBER", "EMAIL_ADDRESS", "UK_NINO", "UK_POSTCODE", "UK_VEHICLE_REGISTRATION",
                              "UK_DRIVING_LICENCE", "UK_PASSPORT", "UK_NHS", "IBAN_CODE", "CREDIT_CARD", "IMEI",
                              "UK_SORT_CODE", "UK_BANK_ACCOUNT", "UK_PNC_ID", "UK_CRO_NUMBER", "SOCIAL_HANDLE",
                              "UK_ADDRESS", "IP_ADDRESS"})
_POSTCODE_IN_TEXT = re.compile(r"\b" + POSTCODE_OUTWARD + r" ?" + POSTCODE_INWARD + r"\b", re.IGNORECASE)
_SQUASH = re.compile(r"[\s\-./]+")


def normalize(entity_type: str, text: str) -> str:
    """Canonical form of an identifier ('' for types without one, or when the text is not a valid value)."""
    t = text.strip()
    if entity_type == "PHONE_NUMBER":
        e164 = uk_e164(t)
        if e164:
            return e164
        ds = digits(t)
        return ("+" + ds) if t.startswith("+") and len(ds) >= 8 else ""
    if entity_type in ("UK_VEHICLE_REGISTRATION", "UK_NINO", "UK_POSTCODE", "UK_DRIVING_LICENCE", "UK_PASSPORT",
                       "UK_PNC_ID", "UK_CRO_NUMBER", "IBAN_CODE"):
        return _SQUASH.sub("", t).upper() if entity_type not in ("UK_PNC_ID", "UK_CRO_NUMBER") \
            else re.sub(r"\s+", "", t).upper()
    if entity_type in ("EMAIL_ADDRESS", "SOCIAL_HANDLE"):
        return t.lower()
    if entity_type in ("IMEI", "UK_SORT_CODE", "UK_BANK_ACCOUNT", "UK_NHS", "CREDIT_CARD"):
        return digits(t)
    if entity_type == "UK_ADDRESS":
        return re.sub(r"\s+", " ", t.replace(",", " ")).strip().lower()
    return ""


def search_forms(entity: Entity) -> list[str]:
    """The extra tokens an indexer appends for one entity (see `terms_for_entities`)."""
    norm = entity.normalized or normalize(entity.type, entity.text)
    if entity.type == "PHONE_NUMBER":
        if norm.startswith("+44"):
            return ["0" + norm[3:], norm]
        return [norm] if norm else []
    if entity.type == "SOCIAL_HANDLE":
        return [norm, norm.lstrip("@")] if norm else []
    if entity.type == "UK_ADDRESS":
        return [_SQUASH.sub("", m.group(0)).upper() for m in _POSTCODE_IN_TEXT.finditer(entity.text)]
    if entity.type in IDENTIFIER_TYPES and norm:
        return [norm]
    return []


def terms_for_entities(entities: Iterable[Entity]) -> list[str]:
    """Deduplicated search forms of the identifier entities, in text order."""
    seen: dict[str, None] = {}
    for ent in entities:
        for form in search_forms(ent):
            seen.setdefault(form, None)
    return list(seen)
