"""Display-time masking with consistent typed placeholders.

The index keeps raw text; masking happens only when something is shown to a role that is not cleared for PII.
Within one `Masker` (one answer or one session) the same value always gets the same placeholder, so a reviewer can
still follow "<PHONE_NUMBER_1> called <PERSON_2>" across passages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

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
        if entity.type.startswith("PROTECTED_"):  # PROTECTED_<person>_<KIND>: numbered per case, not per answer
            return f"<{entity.type}>"
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
        return self.mask_mapped(text, entities)[0]

    def mask_mapped(self, text: str, entities: Sequence[Entity]) -> tuple[str, OffsetMap]:
        """`mask`, plus the map from offsets in `text` to offsets in the masked text (the same computation, so a
        span located in the clear text is the same words in the masked one)."""
        out: list[str] = []
        pos = 0
        shift = 0
        replaced: list[tuple[int, int, int, int]] = []
        for ent in sorted(entities, key=lambda e: (e.start, -(e.end - e.start))):
            if ent.type in self.unmasked_types or ent.start < pos or ent.end > len(text) or ent.end <= ent.start:
                continue
            out.append(text[pos:ent.start])
            holder = self.placeholder(ent)
            out.append(holder)
            replaced.append((ent.start, ent.end, ent.start + shift, ent.start + shift + len(holder)))
            shift += len(holder) - (ent.end - ent.start)
            pos = ent.end
        out.append(text[pos:])
        log.debug("masked entities=%d distinct=%d", len(replaced), len(self._ids))
        return "".join(out), OffsetMap(tuple(replaced))


@dataclass(frozen=True)
class OffsetMap:
    """Clear-text offsets -> masked-text offsets. An offset inside a replaced value moves to the placeholder's start
    (for a span start) or end (for a span end), so a span never cuts a placeholder in half."""

    replaced: tuple[tuple[int, int, int, int], ...] = ()  # (clear start, clear end, masked start, masked end)

    def offset(self, at: int, *, end: bool = False) -> int:
        shift = 0
        for c_start, c_end, m_start, m_end in self.replaced:
            if at <= c_start:
                break
            if at < c_end:
                return m_end if end else m_start
            shift = m_end - c_end
        return at + shift

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.offset(start), self.offset(end, end=True)
