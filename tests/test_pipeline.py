"""End-to-end known-answer tests on the bundled demo case, with real Chroma, Presidio and the packaged embedder."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_DIR, ROOT

GOLD = [json.loads(line) for line in (ROOT / "evals" / "cases" / "demo.jsonl").read_text().splitlines() if line]
ANSWERABLE = [g for g in GOLD if g["answerable"]]
UNANSWERABLE = [g for g in GOLD if not g["answerable"]]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _evidence_in(passages: list[Any], evidence: list[str]) -> bool:
    texts = [_norm(p.text) for p in passages]
    return any(_norm(e) in t for e in evidence for t in texts)


def test_gold_set_is_big_enough() -> None:
    assert len(GOLD) >= 15
    assert len(UNANSWERABLE) >= 3


def test_gold_evidence_retrieved_in_top5_for_at_least_90_percent(demo_app: Any) -> None:
    hits = [g["id"] for g in ANSWERABLE if _evidence_in(demo_app.retrieve("kestrel", g["question"], top_k=5),
                                                         g["evidence"])]
    missed = sorted({g["id"] for g in ANSWERABLE} - set(hits))
    assert len(hits) / len(ANSWERABLE) >= 0.90, f"missed: {missed}"


@pytest.mark.parametrize("gold", UNANSWERABLE, ids=[g["id"] for g in UNANSWERABLE])
def test_unanswerable_questions_get_no_evidence(demo_app: Any, gold: dict[str, Any]) -> None:
    answer = demo_app.ask("kestrel", gold["question"])
    assert answer.status == "no_evidence", answer.answer
    assert answer.citations == ()
    assert "not found in the case material" in answer.answer.lower()


def test_answerable_questions_are_answered_with_verified_citations(demo_app: Any) -> None:
    answered = with_evidence = 0
    for gold in ANSWERABLE:
        answer = demo_app.ask("kestrel", gold["question"])
        if answer.status == "answered":
            answered += 1
            assert answer.citations, gold["id"]
            for c in answer.citations:
                assert c.verified and c.quote and c.quote in c.text, gold["id"]
                assert f"[{c.n}]" in answer.answer
            quotes = [_norm(c.quote) for c in answer.citations]
            with_evidence += any(_norm(e) in q or q in _norm(e) for e in gold["evidence"] for q in quotes)
    assert answered / len(ANSWERABLE) >= 0.8  # 31/38
    # 25/38 quote the gold evidence itself (27/38 while chunk cuts could split a sentence: k03 and k34 had been
    # answered from a chunk ending mid-sentence; whole-sentence chunks, issue 12)
    assert with_evidence / len(ANSWERABLE) >= 0.65


def test_questions_never_cross_cases(demo_app: Any) -> None:
    for gold in GOLD:
        for p in demo_app.retrieve("kestrel", gold["question"]):
            assert p.case == "kestrel" and p.chunk_id.startswith("kestrel:")
    for p in demo_app.retrieve("heron", "who used the phone number and which car was seen"):
        assert p.case == "heron"


def test_identifier_found_across_written_forms(demo_app: Any) -> None:
    """A question quoting the digits without spaces finds a passage that wrote them with spaces, and v.v."""
    spaced = re.compile(r"07700 900\d{3}")
    passages_with_spaced = [p for p in demo_app.store.catalog("kestrel")[0].values() if spaced.search(p.text)]
    assert passages_with_spaced, "demo case should write a phone number with a space"
    number = spaced.search(passages_with_spaced[0].text).group(0)  # type: ignore[union-attr]
    hits = demo_app.retrieve("kestrel", f"who used {number.replace(' ', '')}", top_k=5)
    assert any(number in p.text or number.replace(" ", "") in p.text for p in hits)


def test_reingest_unchanged_does_no_work(demo_app: Any) -> None:
    before = demo_app.store.count("kestrel")
    report = demo_app.ingest([DEMO_DIR], "kestrel", progress=False)
    assert report.ingested == [] and len(report.unchanged) > 0
    assert report.timings["embed"] == 0.0 and report.timings["pii"] == 0.0
    assert demo_app.store.count("kestrel") == before


def test_bad_files_are_reported_and_good_ones_kept(tmp_path: Path) -> None:
    from assistant.app import App
    from assistant.config import load_settings

    app = App(load_settings(index_dir=tmp_path / "idx"))
    report = app.ingest([ROOT / "tests" / "corpus" / "bad"], "badcase", progress=False)
    failed = dict(report.failed)
    assert "ok.txt" in report.ingested
    for name in ("empty.txt", "corrupt.pdf", "broken.docx", "bad_messages.csv"):
        assert failed.get(name), name
    assert any(src.endswith("notes.xyz") for src in failed)
    assert "body" in failed["bad_messages.csv"]
    assert report.exit_code == 0
    nothing = app.ingest([ROOT / "tests" / "corpus" / "bad" / "empty.txt"], "emptycase", progress=False)
    assert nothing.exit_code == 2


def test_untranslated_messages_are_reported_at_ingest_and_named_in_answers(tmp_path: Path) -> None:
    from assistant.app import App
    from assistant.config import load_settings

    export = tmp_path / "case" / "phone.csv"
    export.parent.mkdir()
    export.write_text("message_id,thread_id,timestamp,sender,recipient,language,body,translation\n"
                      "m1,t1,2023-03-14T15:20:03,Marek,Kacper,pl,dzisiaj o siódmej za stacją benzynową,\n"
                      "m2,t1,2023-03-14T15:21:00,Marek,Kacper,ro,vino singur,come alone\n"
                      "m3,t1,2023-03-14T15:22:00,Kacper,Marek,en,ok see you at the petrol station,\n", encoding="utf-8")
    app = App(load_settings(index_dir=tmp_path / "idx"))
    report = app.ingest([export.parent], "xcase", progress=False)
    assert report.ingested == ["phone.csv"]
    assert [n for s, n in report.notes if s == "phone.csv" and n.startswith("1 message(s) have no English")]
    answer = app.ask("xcase", "What did Marek say to Kacper on 14 March?")
    assert any("no English translation (pl 1; ids m1)" in n for n in answer.notes)


def test_crash_mid_ingest_leaves_resumable_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.app import App
    from assistant.config import load_settings
    from assistant.index.manifest import Manifest

    app = App(load_settings(index_dir=tmp_path / "idx"))
    real = Manifest.complete
    calls = {"n": 0}

    def crashing(self: Manifest, case: str, row: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # the third file's chunks are in Chroma; die before the swap marks it complete
            raise KeyboardInterrupt("simulated crash")
        real(self, case, row)

    monkeypatch.setattr(Manifest, "complete", crashing)
    with pytest.raises(KeyboardInterrupt):
        app.ingest([DEMO_DIR], "crashy", progress=False)
    monkeypatch.setattr(Manifest, "complete", real)
    states = [s for _, _, s in app.store.sources("crashy")]
    assert states.count("pending") == 1 and states.count("complete") == 2
    pending = next(src for src, _, s in app.store.sources("crashy") if s == "pending")
    assert pending not in {c.meta["source"] for c in app.store.catalog("crashy")[0].values()}  # never served
    report = app.ingest([DEMO_DIR], "crashy", progress=False)
    assert len(report.unchanged) == 2 and not report.failed
    assert all(s == "complete" for _, _, s in app.store.sources("crashy"))
    chunks, _ = app.store.catalog("crashy")
    per_source = {src: n for src, n, _ in app.store.sources("crashy")}
    assert len(chunks) == sum(per_source.values())


def test_ask_json_matches_the_cli_contract(demo_app: Any, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli import main as cli

    monkeypatch.setattr(cli, "_app", lambda: demo_app)
    code = cli.main(["ask", "--case", "kestrel", "--json", ANSWERABLE[0]["question"]])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert {"question", "case", "status", "answer", "backend", "citations", "retrieved"} <= set(out)
    assert out["case"] == "kestrel" and out["status"] in ("answered", "no_evidence")
    for c in out["citations"]:
        assert {"n", "chunk_id", "source", "locator", "quote", "text", "verified"} <= set(c)
    for r in out["retrieved"]:
        assert {"chunk_id", "case", "source", "locator", "score", "text"} <= set(r)
        assert r["case"] == "kestrel" and not r["source"].startswith("/")


def test_unknown_case_is_a_clear_error(demo_app: Any) -> None:
    from assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="no index"):
        demo_app.retrieve("nosuchcase", "anything")
