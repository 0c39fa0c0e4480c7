"""Issue 17 'done when', on real components: the demo case kestrel and the second case plover (demo/) are ingested
through the real pipeline (Presidio, the packaged embedder, Chroma); the identifier index is filled by the ingest
hook. `assistant links` finds every identifier the two cases share, in any written form, and nothing else; a
reviewer of one case sees only the existence of the other; a supervisor's break-glass is audited. The app
(kestrel, plover and heron ingested, users rev-k, sup-k, sup-p) is the session fixture `links_app` (conftest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.links.lookup import BREAK_GLASS, EXISTENCE, FULL, AccessDenied

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "demo" / "operation-kestrel"

# What plover was written to share with kestrel, as each case spells it (see demo/operation-plover/README.md).
SHARED = {
    "+447700900418": ("07700 900418", "+44 7700 900418"),
    "LK19XRT": ("LK19 XRT", "lk19xrt"),
    "@w0lfie_94": ("@w0lfie_94", "@W0lfie_94"),
    "352910114827367": ("352910114827367", "35-291011-482736-7"),
    "marek wolski": ("Marek WOLSKI", "WOLSKI, Marek"),
}


@pytest.fixture()
def app(links_app: Any) -> Any:
    return links_app


def test_shared_identifiers_are_exactly_the_planted_ones(app: Any) -> None:
    kestrel, plover, heron = (set(app.link_store.case_values(c)) for c in ("kestrel", "plover", "heron"))
    assert kestrel & plover == set(SHARED)
    assert not heron & (kestrel | plover)


@pytest.mark.parametrize("value", sorted(SHARED))
def test_every_written_form_finds_both_cases(app: Any, value: str) -> None:
    for written in SHARED[value]:
        result = app.links.lookup(written, audit=False)
        assert result.normalized == value
        assert [c.case for c in result.cases] == ["kestrel", "plover"]
        for hit in result.cases:
            assert hit.access == FULL and hit.sources and hit.mentions >= len(hit.sources)
            for m in hit.sources:  # each cited chunk really holds the identifier in some form
                passage = app.get_chunk(hit.case, m.chunk_id)
                assert passage is not None and passage.source == m.source and passage.locator == m.locator


def test_alias_finds_the_name(app: Any) -> None:
    result = app.links.lookup("Wolfie", audit=False)
    assert set(result.values) == {"wolfie", "marek wolski"}
    assert [c.case for c in result.cases] == ["kestrel", "plover"]


def test_unknown_value_is_a_negative_assurance(app: Any, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.main import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(app.settings.index_dir))
    assert main(["links", "07700 900999", "--json", "--user", "rev-k"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == "07700 900999" and out["normalized"] == "+447700900999" and out["type"] == "phone"
    assert out["cases"] == []
    record = app.audit.records(kind="links")[-1]
    assert record.user.startswith("rev-k (claimed) via OS user ")  # the CLI's identity is the OS user
    cov = app.link_store.coverage()
    assert record.payload["assurance"] == (f"no mention in {cov.sources} sources of 3 cases, indexed up to "
                                           f"{cov.indexed_up_to}")


def test_reviewer_sees_only_existence_of_other_case(app: Any) -> None:
    result = app.links.lookup("+44 7700 900418", user="rev-k")
    hits = {c.case: c for c in result.cases}
    assert hits["kestrel"].access == FULL and hits["kestrel"].sources
    other = hits["plover"].to_json()
    assert other["access"] == EXISTENCE and other["sources"] == [] and other["contact"] == ["sup-p"]
    assert other["mentions"] >= 1
    text = json.dumps(result.to_json())
    assert "witness_statement_price" not in text and "plover:" not in text  # no source, no chunk id
    assert not app.audit.records(kind="break_glass", user="rev-k")


def test_break_glass_is_refused_to_reviewers_and_without_reason(app: Any) -> None:
    with pytest.raises(AccessDenied, match="role 'reviewer'"):
        app.links.lookup("LK19XRT", user="rev-k", reason="linked series of missing-child episodes")
    with pytest.raises(AccessDenied, match="reason"):
        app.links.lookup("LK19XRT", user="sup-k", reason="check")


def test_supervisor_break_glass_is_audited(app: Any) -> None:
    before = len(app.audit.records(kind="break_glass"))
    reason = "same vehicle in a missing-child episode, deconfliction"
    result = app.links.lookup("lk19 xrt", user="sup-k", reason=reason)
    hits = {c.case: c for c in result.cases}
    assert hits["kestrel"].access == FULL
    assert hits["plover"].access == BREAK_GLASS and hits["plover"].sources
    records = app.audit.records(kind="break_glass")
    assert len(records) == before + 1
    rec = records[-1]
    assert (rec.user, rec.case, rec.payload["reason"]) == ("sup-k", "plover", reason)
    assert rec.payload["chunk_ids"] == [m.chunk_id for m in hits["plover"].sources]
    assert app.audit.verify().ok


def test_rebuild_reproduces_the_ingest_index(app: Any, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli.main import main

    before = {c: app.link_store.case_values(c) for c in ("kestrel", "plover", "heron")}
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(app.settings.index_dir))
    assert main(["links", "--rebuild", "--no-progress"]) == 0
    assert "3 cases" in capsys.readouterr().out
    assert {c: app.link_store.case_values(c) for c in before} == before


def test_timeline_contract_on_plover(app: Any, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.main import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(app.settings.index_dir))
    assert main(["timeline", "--case", "plover", "--json"]) == 0
    events = json.loads(capsys.readouterr().out)
    keys = [e["timestamp"][:19] for e in events]
    assert keys == sorted(keys) and len(events) >= 10
    for e in events:
        assert set(e) >= {"timestamp", "text", "citation"}
        passage = app.get_chunk("plover", e["citation"]["chunk_id"])
        assert passage is not None and passage.source == e["citation"]["source"]
    patrol = [e for e in events if e["timestamp"] == "2024-03-14T23:00"]
    assert len(patrol) == 1 and "foot patrol" in patrol[0]["text"]
    assert sum(e["kind"] == "message" for e in events) == 7  # every message once, despite overlapping windows
    assert main(["timeline", "--case", "plover", "--about", "+447700900771", "--json"]) == 0
    about = json.loads(capsys.readouterr().out)
    assert [e["timestamp"] for e in about] == ["2024-03-15T08:03:51+00:00"]
    assert main(["timeline", "--case", "plover", "--user", "rev-k"]) != 0
    assert "not assigned" in capsys.readouterr().err


def test_cli_chart_export_and_timeline_are_masked_for_a_reviewer(app: Any, kestrel_child: Any, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.main import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(app.settings.index_dir))
    for user, out in (("rev-k", tmp_path / "rev"), ("sup-k", tmp_path / "sup")):
        assert main(["links", "--graph", "--case", "kestrel", "--user", user, "--out", str(out)]) == 0
    capsys.readouterr()
    files = ("links.graphml", "nodes.csv", "edges.csv")
    exported = {who: " ".join((tmp_path / who / f).read_text(encoding="utf-8") for f in files)
                for who in ("rev", "sup")}
    assert kestrel_child.search(exported["sup"]) and not kestrel_child.search(exported["rev"])
    assert "<PROTECTED_1_NAME>" in exported["rev"] and "WOLSKI" in exported["rev"].upper()
    rows = {who: (tmp_path / who / "nodes.csv").read_text(encoding="utf-8").count("\n") for who in ("rev", "sup")}
    assert rows["rev"] == rows["sup"]  # no node dropped or merged
    assert main(["timeline", "--case", "kestrel", "--user", "rev-k", "--json"]) == 0
    events = json.loads(capsys.readouterr().out)
    assert events and not kestrel_child.search(json.dumps(events, ensure_ascii=False))
    assert main(["timeline", "--case", "kestrel", "--user", "rev-k", "--about", "Kacper"]) == 2
    assert "protected person" in capsys.readouterr().err
    record = app.audit.records(case="kestrel", kind="denied")[-1]
    assert record.user.startswith("rev-k (claimed) via OS user ")
    assert main(["links", "07700900265", "--user", "rev-k"]) == 2  # a look-up cannot probe the child either
    assert "protected person" in capsys.readouterr().err
    assert main(["timeline", "--case", "kestrel", "--json"]) == 0  # no account for the OS user: pii.cli_role (admin)
    assert kestrel_child.search(capsys.readouterr().out)
