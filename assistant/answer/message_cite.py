"""A citation of a message chunk names exactly one message: the message holding the quoted words.

A message chunk is a window of many messages; its locator names the whole window. Once the quote is located, the
citation is narrowed to the one message whose English text holds (most of) the quote: its locator becomes that
message's device / thread / id / sender / time, and the quote is clipped to that message, so the passage panel
marks exactly one message."""

from __future__ import annotations

from dataclasses import replace

from assistant.text.messages import MessageRecord, message_records
from assistant.types import Answer, Citation, Passage


def message_locator(m: MessageRecord) -> str:
    parts = [m.device, f"thread {m.thread_id}" if m.thread_id else "", f"msg {m.message_id}",
             f"from {m.sender}" if m.sender else "", m.timestamp]
    return " / ".join(p for p in parts if p)


def cited_message(passage: Passage, start: int, end: int) -> MessageRecord | None:
    """The message of `passage` overlapping [start, end) the most (the first on a tie); None when none does."""
    best: MessageRecord | None = None
    best_overlap = 0
    for m in message_records(passage.meta):
        if m.span is None:
            continue
        overlap = min(end, m.end) - max(start, m.start)
        if overlap > best_overlap:
            best, best_overlap = m, overlap
    return best


def sent_by(passage: Passage, start: int, end: int) -> str:
    """The prefix "Sent by A to B: " for a quote [start, end) of one message of a message passage, from the message
    record's sender and recipient ("" for prose or a message without a sender): a reader asking what B said about
    something must not take A's words for B's."""
    m = cited_message(passage, start, end) if passage.kind == "messages" else None
    if m is None or not m.sender.strip():
        return ""
    to = f" to {m.recipient.strip()}" if m.recipient.strip() else ""
    return f"Sent by {m.sender.strip()}{to}: "


def pin_citation(c: Citation, passage: Passage | None) -> Citation:
    if passage is None or passage.kind != "messages" or c.quote_start < 0 or not c.quote:
        return c
    if passage.text[c.quote_start:c.quote_start + len(c.quote)] != c.quote:
        return c
    m = cited_message(passage, c.quote_start, c.quote_start + len(c.quote))
    if m is None:
        return c
    start, end = max(c.quote_start, m.start), min(c.quote_start + len(c.quote), m.end)
    return replace(c, locator=message_locator(m), quote=passage.text[start:end], quote_start=start)


def pin_messages(answer: Answer) -> Answer:
    """`answer` with each message citation narrowed to one message (other citations unchanged)."""
    by_id = {p.chunk_id: p for p in answer.retrieved}
    citations = tuple(pin_citation(c, by_id.get(c.chunk_id)) for c in answer.citations)
    return answer if citations == answer.citations else replace(answer, citations=citations)
