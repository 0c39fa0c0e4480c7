"""The SQLite identifier index on its own (real SQLite in tmp_path): replace-by-source, aliases, coverage."""

from __future__ import annotations

from pathlib import Path

from assistant.links.indexer import ChunkView, chunk_mentions, index_source, rebuild
from assistant.links.store import LinkStore


def view(cid: str, source: str, text: str) -> ChunkView:
    return ChunkView(cid, source, f"lines for {cid}", text)


def test_replace_source_drops_old_mentions(tmp_path: Path) -> None:
    store = LinkStore(tmp_path / "links.sqlite")
    index_source(store, "a", "s.txt", [view("a:1", "s.txt", "ring 07700 900418 or 07700900418")])
    hits = store.mentions(["+447700900418"])
    assert [(m.case, m.chunk_id, m.count) for m in hits] == [("a", "a:1", 2)]
    index_source(store, "a", "s.txt", [view("a:1", "s.txt", "now LK19 XRT only")])
    assert store.mentions(["+447700900418"]) == []
    assert [m.chunk_id for m in store.mentions(["LK19XRT"])] == ["a:1"]


def test_alias_groups_are_transitive_across_cases(tmp_path: Path) -> None:
    store = LinkStore(tmp_path / "links.sqlite")
    index_source(store, "a", "x.txt", [view("a:1", "x.txt", 'Marek WOLSKI, also known as "Wolfie", was seen.')])
    index_source(store, "b", "y.txt", [view("b:1", "y.txt", "Wolfie aka Wolf was seen.")])
    assert store.alias_group("marek wolski") == {"marek wolski", "wolfie"}  # "Wolfie aka Wolf": one word, no pair
    index_source(store, "b", "y.txt", [view("b:1", "y.txt", "Lee Wolfie, known as Wolfie, was seen.")])
    assert store.alias_group("marek wolski") == {"marek wolski", "wolfie", "lee wolfie"}


def test_coverage_counts_sources_and_cases(tmp_path: Path) -> None:
    store = LinkStore(tmp_path / "links.sqlite")
    assert store.coverage().sources == 0 and store.coverage().indexed_up_to == ""
    index_source(store, "a", "1.txt", [view("a:1", "1.txt", "x"), view("a:2", "1.txt", "y")])
    index_source(store, "b", "2.txt", [view("b:1", "2.txt", "z")])
    cov = store.coverage()
    assert (cov.sources, cov.cases, cov.chunks) == (2, 2, 3)
    assert cov.indexed_up_to.endswith("Z") and cov.indexed_up_to[:2] == "20"


def test_rebuild_matches_incremental_and_drops_removed_cases(tmp_path: Path) -> None:
    corpus = {"a": [view("a:1", "1.txt", "IMEI 35-291011-482736-7 and @W0lfie_94")],
              "b": [view("b:1", "2.txt", "IMEI 352910114827367, mail X@Y.org")]}
    inc = LinkStore(tmp_path / "inc.sqlite")
    for case, views in corpus.items():
        index_source(inc, case, views[0].source, views)
    inc_values = {c: inc.case_values(c) for c in corpus}
    rebuilt = LinkStore(tmp_path / "rebuilt.sqlite")
    index_source(rebuilt, "gone", "old.txt", [view("gone:1", "old.txt", "07700 900418")])
    assert rebuild(rebuilt, sorted(corpus), lambda c: corpus[c], progress=False)[0] == 2
    assert {c: rebuilt.case_values(c) for c in corpus} == inc_values
    assert rebuilt.cases() == ["a", "b"] and rebuilt.mentions(["+447700900418"]) == []


def test_message_bodies_count_for_identifiers() -> None:
    v = ChunkView("m:1", "msgs.csv", "l", "[t] A -> B: call the new number", extra_texts=("dzwoń 07700 900771",))
    assert chunk_mentions(v).values == {("+447700900771", "phone"): 1}


def test_ingest_hook_follows_a_changed_file(links_app: object, tmp_path: Path) -> None:
    """Real ingest (the session's Presidio and embedder, a fresh index): re-ingesting an edited file replaces its
    identifiers; an unchanged re-ingest leaves them alone."""
    from assistant.app import App
    from assistant.config import load_settings

    app = App(load_settings(index_dir=tmp_path / "index"))
    for shared in ("pii", "embedder", "tokenizer"):
        app.__dict__[shared] = getattr(links_app, shared)
    folder = tmp_path / "case"
    folder.mkdir()
    note = folder / "note.txt"
    note.write_text("The caller used 07700 900123 and drove LK19 XRT.\n", encoding="utf-8")
    app.ingest([folder], "alpha", progress=False)
    assert set(app.link_store.case_values("alpha")) == {"+447700900123", "LK19XRT"}
    app.ingest([folder], "alpha", progress=False)
    assert set(app.link_store.case_values("alpha")) == {"+447700900123", "LK19XRT"}
    note.write_text("The caller now uses +44 7700 900456.\n", encoding="utf-8")
    report = app.ingest([folder], "alpha", progress=False)
    assert report.ingested == ["note.txt"]
    assert set(app.link_store.case_values("alpha")) == {"+447700900456"}
    assert app.link_store.coverage().sources == 1


def test_staged_rows_are_read_by_no_one_until_committed_and_a_fresh_stage_drops_a_failed_try(tmp_path: Path) -> None:
    store = LinkStore(tmp_path / "links.sqlite")
    index_source(store, "a", "r.xml", [view("a:0", "r.xml", "old LK19 XRT")])
    parts = [[view("a:0", "r.xml", "ring 07700 900418")],
             [view("a:1", "r.xml", 'Marek WOLSKI, also known as "Wolfie"')]]
    store.stage("a", "r.xml", [chunk_mentions(v) for v in [view("a:5", "r.xml", "LK20 ABC")]], fresh=True)  # a crash
    for k, part in enumerate(parts):
        store.stage("a", "r.xml", [chunk_mentions(v) for v in part], fresh=k == 0)
        assert store.mentions(["+447700900418"]) == [] and [m.chunk_id for m in store.mentions(["LK19XRT"])] == ["a:0"]
    assert store.alias_group("marek wolski") == {"marek wolski"}
    rows = store.commit_staged("a", "r.xml", 2)
    whole = LinkStore(tmp_path / "whole.sqlite")
    assert rows == index_source(whole, "a", "r.xml", [v for part in parts for v in part])
    assert store.chunk_values("a") == whole.chunk_values("a") and store.case_sources("a") == {"r.xml": 2}
    assert store.mentions(["LK19XRT"]) == [] and store.mentions(["LK20ABC"]) == []
    assert store.alias_group("marek wolski") == {"marek wolski", "wolfie"}
    assert store.commit_staged("a", "r.xml", 2) == 0  # nothing left staged


def test_a_source_indexed_whole_after_a_crashed_sliced_try_leaves_nothing_staged(tmp_path: Path) -> None:
    store = LinkStore(tmp_path / "links.sqlite")
    store.stage("a", "r.xml", [chunk_mentions(view("a:5", "r.xml", "LK20 ABC"))], fresh=True)  # a sliced try, killed
    store.stage("a", "s.xml", [chunk_mentions(view("a:9", "s.xml", "LK21 DEF"))], fresh=True)  # another source's
    assert store.staged("a") == {"r.xml": 1, "s.xml": 1}
    index_source(store, "a", "r.xml", [view("a:0", "r.xml", "ring 07700 900418")])  # then the file indexed whole
    assert store.staged("a") == {"s.xml": 1}  # read by no one, and no later try of r.xml would have dropped them
    store.drop_staged("a", "s.xml")
    assert store.staged("a") == {} and store.mentions(["LK20ABC"]) == []
    assert [m.chunk_id for m in store.mentions(["+447700900418"])] == ["a:0"]
