"""Role-gated masking of whole answers and passages at display time.

Passages are masked from their stored entity spans. Quotes, answer text and message fields (original text, sender,
recipient) are masked by replacing the surface forms of those same entities, so one value keeps one placeholder
across the answer, its citations and its passages. The index and the verifier only ever see clear text."""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.config import PiiSettings
from assistant.pii.masking import Masker
from assistant.text.messages import META_KEY, decode_records, encode_records
from assistant.types import Answer, Citation, Passage


class _Surfaces:
    """Surface text → placeholder, filled while passages are masked."""

    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        self.table: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    def mask_passage(self, passage: Passage) -> Passage:
        for ent in passage.entities:
            if ent.type in self.masker.unmasked_types or len(ent.text.strip()) < 2:
                continue
            self.table.setdefault(ent.text, self.masker.placeholder(ent))
            self._pattern = None
        text = self.masker.mask(passage.text, passage.entities)
        meta = dict(passage.meta)
        if META_KEY in meta:  # malformed records decode to none: nothing unmasked is passed on
            meta[META_KEY] = encode_records(
                replace(r, body=self.apply(r.body), translation=self.apply(r.translation),
                        sender=self.apply(r.sender), recipient=self.apply(r.recipient))
                for r in decode_records(meta[META_KEY]))
        for key in ("senders",):
            if isinstance(meta.get(key), str):
                meta[key] = self.apply(str(meta[key]))
        return replace(passage, text=text, meta=meta, locator=self.apply(passage.locator))

    def apply(self, text: str) -> str:
        if not self.table or not text:
            return text
        if self._pattern is None:
            alternatives = sorted(self.table, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(a) for a in alternatives))
        return self._pattern.sub(lambda m: self.table[m.group(0)], text)


def mask_passage(passage: Passage, role: str, settings: PiiSettings, masker: Masker | None = None) -> Passage:
    if settings.sees_clear(role):
        return passage
    return _Surfaces(masker or Masker()).mask_passage(passage)


def mask_answer(answer: Answer, role: str, settings: PiiSettings) -> Answer:
    """The answer as `role` may see it: clear for cleared roles, typed placeholders (consistent within the answer)
    for everyone else."""
    if settings.sees_clear(role):
        return answer
    surfaces = _Surfaces(Masker())
    retrieved = tuple(surfaces.mask_passage(p) for p in answer.retrieved)
    by_id = {p.chunk_id: p for p in retrieved}
    citations: list[Citation] = []
    for c in answer.citations:
        masked = by_id.get(c.chunk_id)
        text = masked.text if masked is not None else surfaces.apply(c.text)
        quote = surfaces.apply(c.quote)
        citations.append(replace(c, text=text, quote=quote, quote_start=text.find(quote) if quote else -1,
                                 locator=surfaces.apply(c.locator)))
    return replace(answer, answer=surfaces.apply(answer.answer), question=surfaces.apply(answer.question),
                   citations=tuple(citations), retrieved=retrieved,
                   flagged_claims=tuple(surfaces.apply(f) for f in answer.flagged_claims))
