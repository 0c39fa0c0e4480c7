"""Chunking with the real packaged tokenizer: exact offsets, locators, budgets, message windows and citability."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF

from assistant.config import ChunkingSettings, EmbeddingSettings, Settings, load_settings
from assistant.ingest.chunking import (
    chunk_document,
    chunk_id,
    message_at,
    message_records,
    messages_in_span,
    token_budget,
)
from assistant.ingest.tokenizer import count_tokens, load_tokenizer
from assistant.loaders import load_file
from assistant.text.sentences import split_sentences
from assistant.types import Chunk, Document, Message

SENTENCES = [
    "The witness saw a blue van outside the depot at about nine.",
    "She noted the first part of the registration on her hand.",
    "Nobody else was in the yard when the shutters came down!",
    "Later that evening, the driver phoned the manager twice?",
    "He said \u201cthe delivery is done.\u201d Then the line went dead.",
]


@pytest.fixture(scope="module")
def tok() -> Any:
    return load_tokenizer()


def small(chunk_tokens: int = 40, overlap: int = 8, window: int = 6, msg_overlap: int = 2) -> Settings:
    return load_settings(
        embedding=EmbeddingSettings.model_validate({"chunk_tokens": chunk_tokens, "chunk_overlap_tokens": overlap}),
        chunking=ChunkingSettings.model_validate({"message_window": window, "message_overlap": msg_overlap}),
    )


def prose_doc(text: str, pages: tuple[tuple[int, int, int], ...] = ()) -> Document:
    return Document(source="case/notes.txt", kind="text", text=text, sha256="ab" * 32, pages=pages)


def long_text(paragraphs: int = 12) -> str:
    out = []
    for p in range(paragraphs):
        out.append(" ".join(SENTENCES[(p + i) % len(SENTENCES)] for i in range(1 + p % 4)))
    return "\n\n".join(out)


def assert_exact_and_within_budget(doc: Document, chunks: list[Chunk], tok: Any, budget: int) -> None:
    assert chunks
    for c in chunks:
        assert c.text == doc.text[c.start:c.end]
        assert count_tokens(tok, c.text) <= budget


# ---------------------------------------------------------------- prose


def test_every_chunk_is_an_exact_slice_within_budget(tok: Any) -> None:
    doc = prose_doc(long_text() + "\n" + "x" * 700 + " " + "supercalifragilistic" * 30 + " caf\u00e9 \U0001f600 end")
    settings = small()
    chunks = chunk_document(doc, "c1", tok, settings)
    assert_exact_and_within_budget(doc, chunks, tok, token_budget(settings))
    assert len(chunks) > 5
    # everything the tokenizer sees is covered by some chunk
    covered: set[int] = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())


def test_default_settings_never_exceed_model_limit(tok: Any) -> None:
    settings = load_settings()
    doc = prose_doc(long_text(40))
    chunks = chunk_document(doc, "c1", tok, settings)
    limit = settings.embedding.max_seq_length - 2
    assert_exact_and_within_budget(doc, chunks, tok, limit)
    assert max(len(tok(c.text)["input_ids"]) for c in chunks) <= settings.embedding.max_seq_length


def test_chunk_tokens_above_model_limit_is_capped(tok: Any) -> None:
    settings = load_settings(embedding=EmbeddingSettings.model_validate({"chunk_tokens": 1000, "max_seq_length": 64}))
    assert token_budget(settings) == 62
    doc = prose_doc(long_text(20))
    assert_exact_and_within_budget(doc, chunk_document(doc, "c1", tok, settings), tok, 62)


def test_prefers_paragraph_then_sentence_boundaries(tok: Any) -> None:
    doc = prose_doc(long_text(12))
    chunks = chunk_document(doc, "c1", tok, small(chunk_tokens=60, overlap=0))
    paragraph_ends = {m.start() for m in re.finditer(r"\n\n", doc.text)} | {len(doc.text)}
    sentence_ends = {m.end() for m in re.finditer(r"[.!?][\u201d]?(?=\s|$)", doc.text)}
    assert all(c.end in sentence_ends for c in chunks)
    assert sum(c.end in paragraph_ends for c in chunks) >= len(chunks) // 2


def test_overlap_starts_on_a_word(tok: Any) -> None:
    doc = prose_doc(" ".join(SENTENCES * 8))  # one long paragraph forces mid-paragraph cuts
    chunks = chunk_document(doc, "c1", tok, small(chunk_tokens=40, overlap=16))
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start < prev.end  # overlapping
        assert nxt.start > prev.start
        assert doc.text[nxt.start - 1].isspace()


def test_unpaged_locator_and_line_meta(tok: Any) -> None:
    text = "\n".join(f"Line {i}: " + SENTENCES[i % 5] for i in range(1, 31))
    doc = prose_doc(text)
    for overlap in (0, 8):
        for c in chunk_document(doc, "c1", tok, small(overlap=overlap)):
            first = text.count("\n", 0, c.start) + 1
            last = text.count("\n", 0, c.end - 1) + 1
            assert (c.meta["page"], c.meta["line_start"], c.meta["line_end"]) == (0, first, last)
            assert c.locator == (f"line {first}" if first == last else f"lines {first}–{last}")
            if overlap == 0:  # without overlap every cut falls on a line break here
                assert c.text.startswith(f"Line {first}:") and c.text.endswith(SENTENCES[last % 5])


def test_paged_text_locators_count_lines_within_the_page(tmp_path: Path, tok: Any) -> None:
    page2 = "\n".join(f"Item {i}. " + SENTENCES[i % 5] for i in range(1, 4))
    path = tmp_path / "paged.txt"
    path.write_text("Cover page\nsecond line\f" + page2, encoding="utf-8")
    doc = load_file(path, tmp_path)
    chunks = chunk_document(doc, "c1", tok, load_settings())
    assert [c.locator for c in chunks] == ["p. 1, lines 1–2", "p. 2, lines 1–3"]
    assert chunks[1].text == page2 and "\f" not in chunks[0].text


def test_pdf_chunks_never_cross_pages(tmp_path: Path, tok: Any) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for page in range(3):
        pdf.add_page()
        for i in range(12):
            pdf.cell(0, 6, f"P{page + 1} L{i + 1} " + SENTENCES[i % 4], new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "r.pdf"
    path.write_bytes(bytes(pdf.output()))
    doc = load_file(path, tmp_path)
    chunks = chunk_document(doc, "c1", tok, small(chunk_tokens=60, overlap=8))
    assert_exact_and_within_budget(doc, chunks, tok, 60)
    assert {c.meta["page"] for c in chunks} == {1, 2, 3}
    for c in chunks:
        page, line = int(c.meta["page"]), int(c.meta["line_start"])
        assert c.locator.startswith(f"p. {page}, line")
        if c.text.startswith("P"):
            assert c.text.startswith(f"P{page} L{line} ")


def test_ids_are_stable_unique_and_hash_content(tok: Any) -> None:
    doc = prose_doc(long_text())
    a = chunk_document(doc, "case-7", tok, small())
    b = chunk_document(doc, "case-7", tok, small())
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b] and a == b
    assert len({c.chunk_id for c in a}) == len(a)
    assert a[0].chunk_id == chunk_id("case-7", "case/notes.txt", 0, doc.sha256)
    assert re.fullmatch(r"case-7:[0-9a-f]{10}:[0-9a-f]{0,12}:0000", a[0].chunk_id)
    other = chunk_document(replace(doc, source="x.txt"), "case-7", tok, small())
    assert not {c.chunk_id for c in a} & {c.chunk_id for c in other}
    changed = chunk_document(replace(doc, sha256="f" * 64), "case-7", tok, small())  # a new version, new ids
    assert not {c.chunk_id for c in a} & {c.chunk_id for c in changed}
    c0 = a[0]
    assert (c0.source_hash, c0.kind, c0.entities, c0.case) == (doc.sha256, "text", (), "case-7")
    assert c0.content_hash == hashlib.sha256(c0.text.encode()).hexdigest()


def test_message_at_is_none_for_prose(tok: Any) -> None:
    chunk = chunk_document(prose_doc("Just prose."), "c", tok, small())[0]
    assert message_at(chunk, 0) is None and message_records(chunk) == ()


# ---------------------------------------------------------------- messages


def _messages() -> tuple[Message, ...]:
    out = []
    for i in range(11):
        out.append(Message(message_id=f"a{i}", thread_id="t1", timestamp=f"2023-03-01T10:{i:02d}:00",
                           sender="Ann" if i % 2 else "Bob", recipient="Bob" if i % 2 else "Ann",
                           body=f"hola numero {i}", translation=f"hello number {i}", language="es", device="Phone A"))
    for i in range(3):
        out.append(Message(message_id=f"b{i}", thread_id="t2", timestamp=f"2023-03-02T08:0{i}:00", sender="Cat",
                           body=f"untranslated {i}\nsecond line"))
    return tuple(out)


def messages_doc(messages: tuple[Message, ...]) -> Document:
    return Document(source="phones/chat.csv", kind="messages", text="", sha256="cd" * 32, messages=messages)


def test_windows_overlap_and_never_mix_threads(tok: Any) -> None:
    doc = messages_doc(_messages())
    chunks = chunk_document(doc, "c1", tok, small(chunk_tokens=200, window=6, msg_overlap=2))
    windows = [(c.meta["thread_id"], c.meta["message_ids"]) for c in chunks]
    assert windows == [("t1", "a0,a1,a2,a3,a4,a5"), ("t1", "a4,a5,a6,a7,a8,a9"), ("t1", "a8,a9,a10"),
                       ("t2", "b0,b1,b2")]
    for c in chunks:
        records = message_records(c)
        assert {r.thread_id for r in records} == {c.meta["thread_id"]}
        assert [doc.messages[i].message_id for i in range(c.start, c.end)] == [r.message_id for r in records]
        assert c.kind == "messages" and c.text.count("\n") == len(records) - 1


def test_message_chunk_text_locator_and_meta(tok: Any) -> None:
    chunks = chunk_document(messages_doc(_messages()), "c1", tok, small(chunk_tokens=200))
    first = chunks[0]
    assert first.text.split("\n")[:2] == ["[2023-03-01T10:00:00] Bob → Ann: hello number 0",
                                          "[2023-03-01T10:01:00] Ann → Bob: hello number 1"]
    assert "hola" not in first.text  # the original is kept in meta only
    assert message_records(first)[0].body == "hola numero 0"
    assert first.locator == "Phone A / thread t1 / msgs a0–a5 / 2023-03-01T10:00:00 – 2023-03-01T10:05:00"
    assert (first.meta["ts_start"], first.meta["ts_end"], first.meta["senders"], first.meta["device"]) == (
        "2023-03-01T10:00:00", "2023-03-01T10:05:00", "Bob,Ann", "Phone A")
    assert first.meta["translated"] is True
    last = chunks[-1]
    assert last.locator.startswith("messages / thread t2 / msgs b0–b2")
    assert last.text.split("\n")[0] == "[2023-03-02T08:00:00] Cat: untranslated 0 second line"


def test_every_message_is_citable_through_message_at(tok: Any) -> None:
    doc = messages_doc(_messages())
    chunks = chunk_document(doc, "c1", tok, small(chunk_tokens=200))
    cited = set()
    for c in chunks:
        for record in message_records(c):
            english = record.translation or record.body
            assert c.text[record.start:record.end] == " ".join(english.split())
            for offset in (record.start, record.end - 1, c.text.rfind("\n", 0, record.start) + 1):
                assert message_at(c, offset) == record
            cited.add(record.message_id)
        assert message_at(c, len(c.text)) is None and message_at(c, -1) is None
    assert cited == {m.message_id for m in doc.messages}


def test_quote_across_two_messages_resolves_to_both(tok: Any) -> None:
    chunk = chunk_document(messages_doc(_messages()), "c1", tok, small(chunk_tokens=200))[0]
    start = chunk.text.index("number 0")
    end = chunk.text.index("number 1") + len("number 1")
    assert [r.message_id for r in messages_in_span(chunk, start, end)] == ["a0", "a1"]


def test_windows_over_budget_are_split_and_long_messages_keep_their_id(tok: Any) -> None:
    long_body = " ".join(SENTENCES * 12)
    messages = (*_messages()[:4],
                Message(message_id="long", thread_id="t1", timestamp="2023-03-01T10:30:00", sender="Ann",
                        recipient="Bob", body=long_body, device="Phone A"))
    doc = messages_doc(messages)
    settings = small(chunk_tokens=50, window=6)
    chunks = chunk_document(doc, "c1", tok, settings)
    for c in chunks:
        assert count_tokens(tok, c.text) <= 50
        assert len(tok(c.text)["input_ids"]) <= settings.embedding.max_seq_length
    parts = [r for c in chunks for r in message_records(c) if r.message_id == "long"]
    assert len(parts) > 3 and all(r.part for r in parts)
    pieces = [c.text[r.start:r.end] for c in chunks for r in message_records(c) if r.message_id == "long"]
    assert " ".join(pieces) == long_body  # split on word gaps, nothing lost
    assert all(json.loads(str(c.meta["messages"])) for c in chunks)
    long_chunks = [c for c in chunks if c.meta["message_ids"] == "long"]
    assert long_chunks[0].locator.startswith("Phone A / thread t1 / msg long (part 1/")
    assert {c.start for c in long_chunks} == {4} and {c.end for c in long_chunks} == {5}


def test_message_chunks_from_a_real_csv_file(tmp_path: Path, tok: Any) -> None:
    path = tmp_path / "export.csv"
    rows = ["timestamp,sender,recipient,body"]
    rows += [f"2023-03-01 10:{i:02d},{'Ann' if i % 2 else 'Bob'},{'Bob' if i % 2 else 'Ann'},msg {i}" for i in range(8)]
    rows += [f"2023-03-01 11:{i:02d},Cat,Dan,other {i}" for i in range(3)]
    path.write_text("\n".join(rows), encoding="utf-8")
    doc = load_file(path, tmp_path)
    chunks = chunk_document(doc, "k", tok, load_settings())
    assert [c.meta["thread_id"] for c in chunks] == ["Ann~Bob", "Ann~Bob", "Cat~Dan"]
    assert chunks[0].meta["message_ids"] == "m1,m2,m3,m4,m5,m6"
    assert chunks[2].locator == "messages / thread Cat~Dan / msgs m9–m11 / 2023-03-01 11:00 – 2023-03-01 11:02"


# ---------------------------------------------------------------- whole sentences


def _cut_sentences(doc: Document, chunks: list[Chunk]) -> list[str]:
    """Sentences of the document that some chunk holds only part of."""
    return [doc.text[s:e] for s, e in split_sentences(doc.text)
            if any(s < c.end and e > c.start and not (c.start <= s and e <= c.end) for c in chunks)]


WITNESS = (
    "I was standing at the bus stop on the corner when the car came round the bend far too fast for the road. "
    "It stopped outside the laundrette for under a minute and a man in a grey hooded top got into the back seat. "
    "I wrote down the registration as it pulled away: KV19 TLN. "
    "The driver did not look at me and I could not see his face clearly through the tinted glass.\n\n"
    "Afterwards I phoned my sister and told her what I had seen, then I waited for the police to arrive."
)


@pytest.mark.parametrize(("chunk_tokens", "overlap"), [(30, 0), (40, 8), (48, 16), (60, 10), (90, 32)])
def test_a_chunk_boundary_never_cuts_a_sentence(tok: Any, chunk_tokens: int, overlap: int) -> None:
    for doc in (prose_doc(WITNESS), prose_doc(long_text(10)), prose_doc(" ".join(SENTENCES * 6))):
        chunks = chunk_document(doc, "c1", tok, small(chunk_tokens=chunk_tokens, overlap=overlap))
        assert_exact_and_within_budget(doc, chunks, tok, chunk_tokens)
        assert _cut_sentences(doc, chunks) == []
        assert not any(c.meta.get("cut_sentence") for c in chunks)
    chunks = chunk_document(prose_doc(WITNESS), "c1", tok, small(chunk_tokens=40, overlap=8))
    plate = "I wrote down the registration as it pulled away: KV19 TLN."
    assert any(plate in c.text for c in chunks)
    assert all(plate in c.text for c in chunks if "KV19" in c.text or "registration as" in c.text)


def test_overlap_is_whole_trailing_sentences(tok: Any) -> None:
    doc = prose_doc(" ".join(SENTENCES * 6))
    sizes = [count_tokens(tok, doc.text[s:e]) for s, e in split_sentences(doc.text)]
    starts = {s for s, _ in split_sentences(doc.text)}
    ends = {e for _, e in split_sentences(doc.text)}
    chunks = chunk_document(doc, "c1", tok, small(chunk_tokens=48, overlap=max(sizes)))
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start in starts and prev.end in ends
        assert prev.start < nxt.start < prev.end  # the last sentence is shared, never the whole chunk
        assert count_tokens(tok, doc.text[nxt.start:prev.end]) <= max(sizes)
    no_overlap = chunk_document(doc, "c1", tok, small(chunk_tokens=48, overlap=min(sizes) - 1))
    assert all(nxt.start >= prev.end for prev, nxt in itertools.pairwise(no_overlap))  # no sentence fits: none


def test_only_a_sentence_over_the_budget_is_cut_and_it_is_noted(tok: Any) -> None:
    run_on = "The" + " and then".join(f" the van went past gate {i}" for i in range(40)) + "."
    doc = prose_doc(SENTENCES[0] + " " + run_on + " " + SENTENCES[1])
    chunks = chunk_document(doc, "c1", tok, small(chunk_tokens=40, overlap=8))
    assert_exact_and_within_budget(doc, chunks, tok, 40)
    noted = [c for c in chunks if c.meta.get("cut_sentence")]
    assert len(noted) >= 3 and all(c.text in run_on for c in noted)
    assert _cut_sentences(doc, chunks) == [run_on]
    assert chunks[0].text == SENTENCES[0] and chunks[-1].text == SENTENCES[1]
    for c in noted:  # cut at word gaps
        assert doc.text[c.start - 1].isspace() and (c.end == len(doc.text) or not doc.text[c.end].isalnum())


def test_an_over_long_message_is_split_between_its_sentences(tok: Any) -> None:
    body = " ".join(SENTENCES * 4)
    doc = messages_doc((Message(message_id="m1", thread_id="t", timestamp="2023-03-01T10:00:00", sender="Ann",
                                body=body),))
    chunks = chunk_document(doc, "c1", tok, small(chunk_tokens=50))
    pieces = [c.text[r.start:r.end] for c in chunks for r in message_records(c)]
    assert len(pieces) > 2 and " ".join(pieces) == body
    starts = {s for s, _ in split_sentences(body)}
    ends = {e for _, e in split_sentences(body)}
    offset = 0
    for piece in pieces:
        assert offset in starts and offset + len(piece) in ends
        offset += len(piece) + 1
