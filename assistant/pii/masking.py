"""Display-time masking with consistent typed placeholders.

The index keeps raw text; masking happens only when something is shown to a role that is not cleared for PII.
Within one `Masker` (one answer or one session) the same value always gets the same placeholder, so a reviewer can
still follow "<PHONE_NUMBER_1> called <PERSON_2>" across passages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from assistant.types import Entity

log = logging.getLogger(__name__)

# Dates and times are evidence (when something happened), not identifiers: never masked.
UNMASKED_TYPES: frozenset[str] = frozenset({"DATE_TIME"})


def _value_key(entity: Entity) -> str:
    if entity.normalized:
        return entity.normalized
    return re.sub(r"\s+", " ", entity.text).strip().casefold()


class Masker:
    """Replaces entity spans with `<TYPE_k>`; k counts distinct (type, value) pairs per type, from 1."""

    def __init__(self, unmasked_types: frozenset[str] = UNMASKED_TYPES) -> None:
        self.unmasked_types = unmasked_types
        self._ids: dict[tuple[str, str], int] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, entity: Entity) -> str:
        key = (entity.type, _value_key(entity))
        k = self._ids.get(key)
        if k is None:
            k = self._counts.get(entity.type, 0) + 1
            self._counts[entity.type] = k
            self._ids[key] = k
        return f"<{entity.type}_{k}>"

    def mask(self, text: str, entities: Sequence[Entity]) -> str:
        """`text` with every maskable entity span replaced. Spans out of range, or overlapping an earlier
        (leftmost, then longest) span, are skipped."""
        out: list[str] = []
        pos = 0
        masked = 0
        for ent in sorted(entities, key=lambda e: (e.start, -(e.end - e.start))):
            if ent.type in self.unmasked_types or ent.start < pos or ent.end > len(text) or ent.end <= ent.start:
                continue
            out.append(text[pos:ent.start])
            out.append(self.placeholder(ent))
            pos = ent.end
            masked += 1
        out.append(text[pos:])
        log.debug("masked entities=%d distinct=%d", masked, len(self._ids))
        return "".join(out)
