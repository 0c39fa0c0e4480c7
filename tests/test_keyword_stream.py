"""The keyword index built in one streamed pass (keywords/scoring.py) scores exactly as bm25s did on real text, is
saved and loaded as data-only arrays, and a case read in pages gives the same index whatever the page size."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.config import load_settings
from assistant.index import store as store_module
from assistant.index.bm25 import Bm25Index
from assistant.index.keywords.scoring import Bm25Builder
from assistant.index.persisted import load_bm25, part_path, save_bm25
from assistant.index.store import IndexStore
from assistant.ingest.batches import write_version
from assistant.text.lexicon import search_terms
from assistant.types import Chunk


def scifact_texts() -> tuple[list[str], list[str], list[str]]:
    from evals.datasets import load_scifact

    data = load_settings().eval_data
    if not (data / "scifact" / "scifact.zip").exists():
        pytest.skip(f"SciFact not found under the eval_data setting ({data}): the bm25s comparison needs real text")
    sf = load_scifact(data)
    return [d.doc_id for d in sf.corpus], [d.text for d in sf.corpus], list(sf.queries.values())


def test_scores_equal_bm25s_on_scifact(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.index.keywords import scoring

    bm25s = pytest.importorskip("bm25s")
    monkeypatch.setattr(scoring, "SLICE", 9_999)  # scored across many slices
    ids, texts, queries = scifact_texts()
    tokens = [search_terms(t) for t in texts]
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    reference = bm25s.BM25()
    reference.index([t or ["\u2205"] for t in tokens], show_progress=False)
    builder = Bm25Builder()
    for cid, toks in zip(ids, tokens, strict=True):
        builder.add(cid, toks)
    ours = builder.finish()
    for query in queries[:150]:
        q = search_terms(query)
        if not any(t in reference.vocab_dict for t in q):
            continue
        expected = reference.get_scores(q)
        np.testing.assert_allclose(ours.scores(q), expected, rtol=1e-6, atol=1e-6)
        docs, _ = reference.retrieve([q], k=10, show_progress=False)
        assert [d for d, _ in ours.search_tokens(q, 10)] == [ids[int(d)] for d in docs[0]]


def test_saved_index_loads_back_the_same(tmp_path: Path) -> None:
    index = Bm25Index.build(["a", "b", "c", "d"], ["blue van at the quay", "red van", "", "quay quay dawn"])
    stamp = (0, 1, "x")
    save_bm25(tmp_path, "case", stamp, index)
    loaded = load_bm25(tmp_path, "case", stamp)
    assert loaded is not None and list(loaded.ids) == list(index.ids) == ["a", "b", "c", "d"]
    assert list(loaded.terms) == list(index.terms) and loaded.terms.find("quay") >= 0 > loaded.terms.find("zz")
    assert loaded.search("quay van", 4) == index.search("quay van", 4)
    assert [d for d, _ in loaded.search("quay", 4)] == ["d", "a"]  # two occurrences beat one
    assert load_bm25(tmp_path, "case", (0, 2, "x")) is None  # another generation: stale, never used


def test_ties_at_the_cut_keep_the_lowest_rows() -> None:
    """Ten documents score the same; asking for fewer keeps the first rows in order, for any k, as the whole list
    does (argpartition alone keeps an arbitrary subset of the tied ones)."""
    texts = [f"ledger entry {n}" for n in range(10)] + ["ledger ledger entry", "nothing here"]
    index = Bm25Index.build([f"d{n}" for n in range(len(texts))], texts)
    whole = [d for d, _ in index.search("ledger", 20)]
    assert whole[0] == "d10" and whole[1:] == [f"d{n}" for n in range(10)]  # "d11" has no match: never listed
    for k in range(1, 12):
        assert [d for d, _ in index.search("ledger", k)] == whole[:k]


def test_saved_index_is_mapped_where_it_lies_not_read(tmp_path: Path) -> None:
    """BM25_FORMAT 6: loading maps the file (bench_keyword_cache.py's cold first question); every array is a read-only
    view of the map, 64-byte aligned, and np.load still reads the same file as a plain .npz."""
    index = Bm25Index.build(["a", "b", "c"], ["blue van at the quay", "red van", "quay quay dawn"])
    save_bm25(tmp_path, "case", (0, 1, "x"), index)
    loaded = load_bm25(tmp_path, "case", (0, 1, "x"))
    assert loaded is not None
    for array in (loaded.data, loaded.indices, loaded.indptr, loaded.term_ids, loaded.ids.blob, loaded.terms.blob):
        assert not array.flags.owndata and not array.flags.writeable and array.ctypes.data % 64 == 0
    with np.load(part_path(tmp_path, "case", "bm25"), allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["data"], index.data)
    assert loaded.search("quay van", 3) == index.search("quay van", 3)


@pytest.mark.parametrize("page", [4, 7, 23, 50])  # 23: the case ends on a full page
def test_paged_build_equals_the_whole_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: int) -> None:
    monkeypatch.setattr(store_module, "TEXT_PAGE", page)
    words = "parcel garage van quay dawn money north road keys".split()
    texts = [" ".join(words[(i * 3 + j) % len(words)] for j in range(1 + i % 5)) for i in range(23)]
    chunks = [Chunk(chunk_id=f"alpha:{i:03d}", case="alpha", source="notes.txt", locator=f"line {i}", text=t,
                    start=0, end=len(t), content_hash=f"h{i}", source_hash="s", kind="text")
              for i, t in enumerate(texts)]
    store = IndexStore(tmp_path / "idx")
    write_version(store, "alpha", "notes.txt", "s", chunks, np.random.default_rng(0).random((23, 8)))
    assert store.finalize("alpha") == 23
    streamed = store.keyword_index("alpha")
    whole = Bm25Index.build([c.chunk_id for c in chunks], texts)
    for query in ("parcel van", "quay dawn keys", "north"):
        assert dict(streamed.search(query, 23)) == pytest.approx(dict(whole.search(query, 23)))
    assert store.cached_cases() == []


METAS = [
    {"source": "a.csv", "kind": "messages", "senders": "Ann, Bob", "ts_start": "2023-03-01T10:00",
     "ts_end": "2023-03-02T09:00", "entity_types": ["PERSON", "PHONE_NUMBER"]},
    {"source": "a.csv", "kind": "messages", "senders": "bob", "ts_start": "2023-03-05T10:00",
     "ts_end": "2023-03-05T11:00"},
    {"source": "b.txt", "kind": "text", "entity_types": ["PERSON"]},
    {"source": "b.txt", "kind": "messages", "senders": "", "ts_start": "", "ts_end": ""},
    {"source": "c.ufdr", "kind": "messages", "senders": "Ann", "ts_start": "2023-02-28T23:59",
     "ts_end": "2023-03-01T00:10", "entity_types": ["PHONE_NUMBER"]},
]
FILTERS = [
    {"source": "a.csv"}, {"source": "zzz"}, {"entity_type": "PERSON"}, {"entity_type": "IBAN_CODE"},
    {"sender": " ann "}, {"sender": "BOB"}, {"sender": "carol"}, {"date_from": "2023-03-02"},
    {"date_to": "2023-03-01"}, {"date_from": "2023-03-01", "date_to": "2023-03-01"},
    {"sender": "bob", "date_from": "2023-03-03"}, {"source": "b.txt", "entity_type": "PERSON"},
]


@pytest.mark.parametrize("spec", FILTERS)
def test_filter_columns_select_what_the_metadata_rule_selects(spec: dict[str, str]) -> None:
    from assistant.index.keywords.columns import ColumnsBuilder
    from assistant.index.retrieval import _matches
    from assistant.index.store import StoredChunk
    from assistant.types import RetrievalFilters

    builder = ColumnsBuilder()
    for meta in METAS:
        builder.add(meta)
    filters = RetrievalFilters(**spec)
    expected = [_matches(StoredChunk(str(n), "", meta), filters) for n, meta in enumerate(METAS)]
    assert builder.finish().mask(filters).tolist() == expected
    assert any(expected) or spec in ({"source": "zzz"}, {"entity_type": "IBAN_CODE"}, {"sender": "carol"})


def test_a_filtered_question_never_loads_the_case_texts(tmp_path: Path) -> None:
    from assistant.config import RetrievalSettings
    from assistant.index.retrieval import Retriever
    from assistant.types import RetrievalFilters

    store = IndexStore(tmp_path / "idx")
    for source, word in (("a.txt", "parcel"), ("b.txt", "van")):
        chunks = [Chunk(chunk_id=f"alpha:{source}:{i}", case="alpha", source=source, locator=f"line {i}",
                        text=f"note {i} about the {word} and the garage", start=0, end=30, content_hash=f"{source}{i}",
                        source_hash=word, kind="text") for i in range(5)]
        write_version(store, "alpha", source, word, chunks, np.random.default_rng(1).random((5, 8)))
    store.finalize("alpha")

    class Vectors:
        def embed_query(self, text: str) -> np.ndarray:
            return np.random.default_rng(2).random(8)

    retriever = Retriever(IndexStore(tmp_path / "idx"), Vectors(), RetrievalSettings())  # type: ignore[arg-type]
    got = retriever.retrieve("alpha", "garage parcel van", filters=RetrievalFilters(source="b.txt"))
    assert got and {p.source for p in got} == {"b.txt"}
    assert retriever.store.cached_cases() == []


def test_term_counts_equal_the_tokeniser_on_real_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """keywords/terms.py's ASCII fast path and stem memo give Counter(search_terms(text)) exactly: same terms, counts
    and first-seen order (the vocabulary's column order depends on it), on SciFact and on non-ASCII text."""
    from collections import Counter

    from assistant.index.keywords import terms as terms_module
    from assistant.index.keywords.terms import TermCounter

    monkeypatch.setattr(terms_module, "MEMO_WORDS", 3_000)  # the memo is emptied a few times on the way
    _, texts, queries = scifact_texts()
    extra = ["Łukasz Wiśniewski's van", "قال أحمد: الطَّرْد في المرآب ٢٠٢٣", "It’s O'Neil's 07700 900418 ŞEHİR",
             "", "the of and", "don't DON'T don’t 12ab ab12 x'y'z"]
    vocab: dict[str, int] = {}
    counter, names = TermCounter(vocab), list[str]()
    for text in texts[:800] + queries[:100] + extra:
        terms = search_terms(text)
        ids, length = counter.counts(text)
        names.extend(list(vocab)[len(names):])  # ids are given in first-seen order
        assert [(names[t], n) for t, n in ids.items()] == list(Counter(terms).items()) and length == len(terms)
    assert names == list(dict.fromkeys(t for text in texts[:800] + queries[:100] + extra for t in search_terms(text)))


def test_spilled_build_equals_the_one_block_build_bit_for_bit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of 5,000 entries spilled and merged a few thousand entries at a time (keywords/runs.py) make the same
    arrays as one block in memory, and the file written from the pieces is the same bytes as `save_bm25`'s."""
    from assistant.index.keywords import scoring
    from assistant.index.persisted import save_bm25_parts

    ids, texts, _ = scifact_texts()
    tokens = [search_terms(t) for t in texts[:1500]]

    def build(block: int) -> Bm25Builder:
        builder = Bm25Builder(block, spill_dir=tmp_path)
        for cid, toks in zip(ids, tokens, strict=False):
            builder.add(cid, toks)
        return builder

    whole = build(1 << 30).finish()
    monkeypatch.setattr(scoring, "SLICE", 3_001)
    spilled = build(5_000)
    assert len(spilled._runs._spilled) > 10  # sorted runs on disk, merged by `finish`
    index, pieces, entries = build(5_000).finish_parts()
    save_bm25_parts(tmp_path / "a", "case", (0, 1, "x"), index, pieces, entries)
    save_bm25(tmp_path / "b", "case", (0, 1, "x"), whole)
    streamed, saved = (part_path(tmp_path / d, "case", "bm25").read_bytes() for d in ("a", "b"))
    assert streamed == saved
    merged = spilled.finish()
    for name in ("data", "indices", "indptr", "term_ids"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name))
    assert list(merged.ids) == list(whole.ids) and list(merged.terms) == list(whole.terms)
    assert {p.name for p in tmp_path.iterdir()} == {"a", "b"}  # no temporary file left behind
    assert {p.name for p in (tmp_path / "a" / "bm25").iterdir()} == {"case.bm25.npz"}


def test_pieces_short_of_their_length_leave_no_file(tmp_path: Path) -> None:
    from assistant.index.durable import atomic_file
    from assistant.index.keywords.mapped import Pieces, write_npz

    target = tmp_path / "x.npz"
    with pytest.raises(ValueError, match="announced"), atomic_file(target) as fh:
        write_npz(fh, {"a": Pieces(np.dtype(np.int32), 5, iter([np.arange(3, dtype=np.int32)]))})
    assert list(tmp_path.iterdir()) == []


def test_numeric_dates_are_spelled_out_from_either_form() -> None:
    from assistant.index.bm25 import date_words

    assert date_words("sent 2023-03-14T19:02, paid 5/4/2023 and again 14/03/2023") == ["14 March 2023", "5 April 2023"]
    assert date_words("2023-13-01 and 01/13/2023") == []  # no 13th month in either form
    assert date_words("14 03 2023 at 19:02") == []  # no separator: not scanned, nothing found


def test_terms_are_kept_in_utf8_byte_order_and_found() -> None:
    """The vocabulary is sorted by code point (= UTF-8 byte order, what `Strings.find` bisects), astral and
    accented terms included."""
    texts = ["zebra Łukasz ärger", "日本 \U0001f600x ﬁle", "\uffefmark Zürich 42"]
    index = Bm25Index.build(["a", "b", "c"], texts)
    terms = list(index.terms)
    assert terms == sorted(terms, key=lambda t: t.encode("utf-8")) and len(terms) >= 7
    for n, text in enumerate(texts):
        for term in search_terms(text):
            assert index.terms.find(term) >= 0
        assert index.search(text, 1)[0][0] == "abc"[n]
