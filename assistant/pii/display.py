"""Role-gated masking of whole answers and passages at display time.

Policy per role (`PiiSettings`): roles in `cleared_roles` see clear text; roles in `mask_all_pii_roles` see every PII
entity as a typed placeholder; every other role sees the case's protected persons (`pii.protected`) masked
everywhere (text, quotes, message headers, thread ids, devices, locators, file names) and other PII in clear.

Passages are masked from their stored entity spans. Quotes, answer text and message fields (original text, sender,
recipient) are masked by replacing the surface forms of those same entities, so one value keeps one placeholder
across the answer, its citations and its passages. A cited quote and each message's English text are instead taken
from the masked passage at their clear-text offsets mapped through the same masking (`OffsetMap`), so the words
marked in the panel are exactly the words that were verified. The index and the verifier only ever see clear
text."""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.config import PiiSettings
from assistant.pii.masking import Masker, OffsetMap
from assistant.pii.protected import ProtectedSet, protected_set
from assistant.text.messages import META_KEY, MessageRecord, decode_records, encode_records
from assistant.types import Answer, Citation, Entity, Passage

__all__ = ["mask_answer", "mask_passage", "protected_set"]


class _Surfaces:
    """Surface text → placeholder, filled while passages are masked."""

    def __init__(self, masker: Masker, protected: ProtectedSet, mask_all: bool) -> None:
        self.masker = masker
        self.protected = protected
        self.mask_all = mask_all
        self.table: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self.maps: dict[str, tuple[str, str, OffsetMap]] = {}  # chunk_id -> (clear text, masked text, map)

    def _entities(self, passage: Passage) -> list[Entity]:
        """Protected spans found in the text, plus (strict roles) the stored PII entities not overlapping them."""
        found = self.protected.find(passage.text)
        if not self.mask_all:
            return found
        taken = [(e.start, e.end) for e in found]
        kept = [e for e in passage.entities if not any(e.start < t_end and t_start < e.end for t_start, t_end in taken)]
        for ent in kept:
            if ent.type in self.masker.unmasked_types or len(ent.text.strip()) < 2:
                continue
            self.table.setdefault(ent.text, self.masker.placeholder(ent))
            self._pattern = None
        return found + kept

    def _shown(self, passage: Passage, replaced: list[Entity], offsets: OffsetMap) -> tuple[Entity, ...]:
        """The entities still shown (for highlighting by type), moved to masked-text offsets; none that was
        replaced or overlaps a replaced span (its text would be a protected or masked value)."""
        out = []
        for e in passage.entities:
            if any(e.start < r.end and r.start < e.end for r in replaced if r.type not in self.masker.unmasked_types):
                continue
            start, end = offsets.span(e.start, e.end)
            out.append(replace(e, start=start, end=end))
        return tuple(out)

    def mask_passage(self, passage: Passage) -> Passage:
        replaced = self._entities(passage)
        text, offsets = self.masker.mask_mapped(passage.text, replaced)
        self.maps[passage.chunk_id] = (passage.text, text, offsets)
        meta = dict(passage.meta)
        if META_KEY in meta:  # malformed records decode to none: nothing unmasked is passed on
            meta[META_KEY] = encode_records(
                self._record(r, passage.text, text, offsets) for r in decode_records(meta[META_KEY]))
        for key, value in meta.items():  # senders, thread ids, devices, titles: any header may name a person
            if key != META_KEY and isinstance(value, str):
                meta[key] = self.apply(value)
        return replace(passage, text=text, meta=meta, locator=self.apply(passage.locator),
                       source=self.apply(passage.source), entities=self._shown(passage, replaced, offsets))

    def _record(self, r: MessageRecord, clear: str, masked: str, offsets: OffsetMap) -> MessageRecord:
        """A message masked like its passage; its English text is cut from the masked passage at its mapped span."""
        a = self.apply
        r = replace(r, body=a(r.body), translation=a(r.translation), sender=a(r.sender, name_field=True),
                    recipient=a(r.recipient, name_field=True),
                    thread_id=a(r.thread_id), device=a(r.device), message_id=a(r.message_id), phone=a(r.phone))
        if r.span is None or clear[r.start:r.end] != (r.translation or r.body):
            return r  # offsets do not line up: surface masking only
        start, end = offsets.span(r.start, r.end)
        english = masked[start:end]
        if r.translation:
            return replace(r, start=start, end=end, translation=english)
        return replace(r, start=start, end=end, body=english)

    def quote(self, c: Citation) -> tuple[str, int] | None:
        """The masked quote and its offset, from the clear quote's span mapped through its passage's masking."""
        clear, masked, offsets = self.maps.get(c.chunk_id, ("", "", OffsetMap()))
        if not masked or c.quote_start < 0 or clear[c.quote_start:c.quote_start + len(c.quote)] != c.quote:
            return None
        start, end = offsets.span(c.quote_start, c.quote_start + len(c.quote))
        return masked[start:end], start

    def apply(self, text: str, *, name_field: bool = False) -> str:
        text = self.protected.sub(text, name_field=name_field) if text else text
        if not self.table or not text:
            return text
        if self._pattern is None:
            alternatives = sorted(self.table, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(a) for a in alternatives))
        return self._pattern.sub(lambda m: self.table[m.group(0)], text)


def _masks_all(role: str, settings: PiiSettings) -> bool:
    return role.strip().lower() in {r.strip().lower() for r in settings.mask_all_pii_roles}


def mask_passage(passage: Passage, role: str, settings: PiiSettings, masker: Masker | None = None,
                 protected: ProtectedSet | None = None) -> Passage:
    if settings.sees_clear(role):
        return passage
    return _Surfaces(masker or Masker(), protected or ProtectedSet(), _masks_all(role, settings)).mask_passage(passage)


def mask_answer(answer: Answer, role: str, settings: PiiSettings, protected: ProtectedSet | None = None) -> Answer:
    """The answer as `role` may see it: clear for cleared roles; protected persons masked (and, for strict roles,
    every PII entity as a typed placeholder, consistent within the answer) for everyone else."""
    if settings.sees_clear(role):
        return answer
    surfaces = _Surfaces(Masker(), protected or ProtectedSet(), _masks_all(role, settings))
    retrieved = tuple(surfaces.mask_passage(p) for p in answer.retrieved)
    by_id = {p.chunk_id: p for p in retrieved}
    citations: list[Citation] = []
    for c in answer.citations:
        masked = by_id.get(c.chunk_id)
        text = masked.text if masked is not None else surfaces.apply(c.text)
        mapped = surfaces.quote(c) if masked is not None else None
        quote, start = mapped or (surfaces.apply(c.quote), -1)
        if mapped is None:
            start = text.find(quote) if quote else -1
        citations.append(replace(c, text=text, quote=quote, quote_start=start, locator=surfaces.apply(c.locator),
                                 source=surfaces.apply(c.source), note=surfaces.apply(c.note)))
    return replace(answer, answer=surfaces.apply(answer.answer), question=surfaces.apply(answer.question),
                   citations=tuple(citations), retrieved=retrieved,
                   flagged_claims=tuple(surfaces.apply(f) for f in answer.flagged_claims),
                   notes=tuple(surfaces.apply(n) for n in answer.notes))
