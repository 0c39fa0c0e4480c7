"""Links tab handlers as plain functions of a real Session (real ingest of kestrel, plover, heron: `links_app`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.access.session import Session
from assistant.errors import AccessDenied, AssistantError
from assistant.ui.links_tab import ALL_MY_CASES, chart_png, lookup_html, timeline_rows


def test_reviewer_lookup_shows_own_sources_and_only_existence_elsewhere(links_app: Any) -> None:
    page = lookup_html(Session.for_username(links_app, "rev-k"), "lk19xrt")
    assert "case kestrel" in page and "statements/witness_statement_ellery.txt" in page
    assert "case plover</b>" in page and "ask sup-p" in page
    assert "witness_statement_price" not in page and "plover:" not in page


def test_unknown_value_states_coverage(links_app: Any) -> None:
    page = lookup_html(Session.for_username(links_app, "rev-k"), "07700 900999")
    assert "no mention in" in page and "sources of 3 cases" in page


def _strings(graph: Any) -> list[str]:
    """Every string a chart shows or exports: node ids and attributes, edge ends and citations."""
    out = [str(n) for n in graph.nodes] + [str(v) for _, d in graph.nodes(data=True) for v in d.values()]
    for u, v, d in graph.edges(data=True):
        out += [str(u), str(v)] + [str(x) for c in d["citations"] for x in c.values()]
    return out


def test_reviewer_chart_and_timeline_mask_the_protected_child(links_app: Any, kestrel_child: Any) -> None:
    from assistant.links.graph import build_graph
    from assistant.links.masking import LinkView

    reviewer, sup = Session.for_username(links_app, "rev-k"), Session.for_username(links_app, "sup-k")
    path, note = chart_png(reviewer, "kestrel")  # offered now, masked on the server
    assert Path(path).read_bytes()[:4] == b"\x89PNG" and "across 1 case(s)" in note
    clear = build_graph(links_app, ["kestrel"])
    assert any(kestrel_child.search(s) for s in _strings(clear))
    view = LinkView.for_role("reviewer", links_app.settings.pii, links_app.settings.index_dir, ["kestrel"])
    masked = view.graph(clear)
    assert not [s for s in _strings(masked) if kestrel_child.search(s)]
    assert (masked.number_of_nodes(), masked.number_of_edges()) == (clear.number_of_nodes(), clear.number_of_edges())
    child = [n for n, d in clear.nodes(data=True)  # nodes naming only the child ("Kacper", "Kacper Nowak")
             if d["kind"] == "person" and all(kestrel_child.match(w) for w in d["label"].split())]
    shown = [n for n, d in masked.nodes(data=True) if d["label"] == "<PROTECTED_1_NAME>"]
    assert child and len(shown) == len(child)  # the child's nodes stay, with their links
    assert sorted(masked.degree(n) for n in shown) == sorted(clear.degree(n) for n in child)
    assert any("WOLSKI" in d["label"].upper() for _, d in masked.nodes(data=True))  # the suspect in clear

    rows, sup_rows = timeline_rows(reviewer, "kestrel"), timeline_rows(sup, "kestrel")
    assert len(rows) == len(sup_rows) and any(kestrel_child.search(" ".join(r)) for r in sup_rows)
    assert not [r for r in rows if kestrel_child.search(" ".join(r))]
    from assistant.links.timeline import Cite, prose_events

    (born,) = prose_events("On 17/06/2007 Kacper Zielinski was born.", Cite("c1", "Kacper_notes.txt", "p. 1"))
    assert born.timestamp == "2007-06-17"
    (shown_born,) = view.events([born])  # an event dated by the child's birth: its date is masked too
    assert (shown_born.timestamp, shown_born.citation.source) == ("<PROTECTED_1_DOB>", "<PROTECTED_1_NAME>_notes.txt")
    assert any("<PROTECTED_1_NAME>" in r[1] for r in rows) and any("Marek" in r[1] for r in rows)
    kinds = [(r.kind, r.payload.get("what")) for r in links_app.audit.records(case="kestrel", user="rev-k")]
    assert ("view", "link chart") in kinds and ("view", "timeline") in kinds


def test_a_timeline_about_the_protected_child_is_refused_to_a_reviewer(links_app: Any, kestrel_child: Any) -> None:
    reviewer = Session.for_username(links_app, "rev-k")
    for about in ("Kacpra", "07700900265"):
        with pytest.raises(AccessDenied, match="protected person"):
            timeline_rows(reviewer, "kestrel", about)
    assert links_app.audit.records(case="kestrel", user="rev-k", kind="denied")[-1].payload["action"] == "filter"
    with pytest.raises(AccessDenied, match="protected person"):  # nor which files hold a guessed number
        lookup_html(reviewer, "+44 7700 900265")
    assert "case kestrel" in lookup_html(Session.for_username(links_app, "sup-k"), "07700 900265")
    assert timeline_rows(reviewer, "kestrel", "Wolski")
    assert timeline_rows(Session.for_username(links_app, "sup-k"), "kestrel", "Kacper")  # cleared: allowed


def test_a_strict_role_is_refused_the_chart(links_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(links_app.settings.pii, "mask_all_pii_roles", ["reviewer"])
    with pytest.raises(AccessDenied, match="not offered"):
        chart_png(Session.for_username(links_app, "rev-k"), "kestrel")


def test_supervisor_chart_of_own_cases_only(links_app: Any) -> None:
    sup = Session.for_username(links_app, "sup-k")
    path, note = chart_png(sup, ALL_MY_CASES)
    assert Path(path).read_bytes()[:4] == b"\x89PNG" and "across 1 case(s)" in note
    with pytest.raises(AssistantError, match="not assigned"):
        chart_png(sup, "plover")


def test_supervisor_timeline_rows(links_app: Any) -> None:
    rows = timeline_rows(Session.for_username(links_app, "sup-p"), "plover", "Wolfie")
    assert rows and all("wolfie" in r[1].lower() for r in rows)
    assert [r[0][:19] for r in rows] == sorted(r[0][:19] for r in rows)


def test_ui_builds_with_the_links_tab(links_app: Any) -> None:
    from assistant.ui.build import build_ui

    demo = build_ui(links_app)
    assert any(getattr(b, "elem_id", None) == "links-value" for b in demo.blocks.values())


def test_chart_downloads_are_the_masked_graph_audited_private_and_deleted(links_app: Any, kestrel_child: Any,
                                                                           tmp_path: Path) -> None:
    """Issue 15: GraphML/CSV/PNG downloads in the Links tab, through the same LinkView as `assistant links --graph`,
    audited, 0600 in a 0700 per-session folder deleted at the next export, when the session ends, or when stale."""
    import os
    import stat

    from assistant.links.graph import build_graph, export_graph
    from assistant.links.masking import LinkView
    from assistant.ui.links.exports import SessionFolders, export_chart

    folders = SessionFolders(root=tmp_path / "gradio", max_age_s=900)
    reviewer, sup = Session.for_username(links_app, "rev-k"), Session.for_username(links_app, "sup-k")
    (graphml,) = map(Path, export_chart(reviewer, "kestrel", "graphml", first := folders.fresh("sess-1")))
    view = LinkView.for_role("reviewer", links_app.settings.pii, links_app.settings.index_dir, ["kestrel"])
    cli_like = export_graph(view.graph(build_graph(links_app, ["kestrel"])), tmp_path / "cli")
    assert graphml.read_bytes() == cli_like[0].read_bytes()  # exactly the CLI's masked export
    assert "&lt;PROTECTED_1_NAME&gt;" in graphml.read_text(encoding="utf-8")  # XML-escaped
    assert not kestrel_child.search(graphml.read_text(encoding="utf-8"))
    assert stat.S_IMODE(graphml.stat().st_mode) == 0o600 and stat.S_IMODE(first.stat().st_mode) == 0o700
    second = folders.fresh("sess-1")
    csvs = [Path(p) for p in export_chart(reviewer, "kestrel", "csv", second)]
    assert not first.exists()  # the session's previous export is gone
    assert [p.name for p in csvs] == ["nodes.csv", "edges.csv"] and sorted(os.listdir(second)) == sorted(
        ["nodes.csv", "edges.csv"])
    assert not [p for p in csvs if kestrel_child.search(p.read_text(encoding="utf-8"))]
    (png,) = export_chart(reviewer, ALL_MY_CASES, "png", folders.fresh("sess-1"))
    assert Path(png).read_bytes()[:4] == b"\x89PNG" and stat.S_IMODE(Path(png).stat().st_mode) == 0o600
    (clear,) = export_chart(sup, "kestrel", "graphml", folders.fresh("sess-2"))
    assert kestrel_child.search(Path(clear).read_text(encoding="utf-8"))  # a cleared role's export is in clear
    records = [r.payload for r in links_app.audit.records(case="kestrel", user="rev-k", kind="view")]
    assert {(p.get("what"), p.get("format"), p.get("via"), p.get("clear")) for p in records} >= {
        ("link chart export", "graphml", "ui", False), ("link chart export", "csv", "ui", False),
        ("link chart export", "png", "ui", False)}
    with pytest.raises(AssistantError, match="not assigned"):
        export_chart(sup, "plover", "csv", folders.fresh("sess-2"))
    stale = folders.fresh("sess-3")
    os.utime(stale, (0, 0))
    folders.drop("sess-1")  # the session ended
    assert not Path(png).parent.exists() and stale.exists()
    folders.fresh("sess-4")
    assert not stale.exists()  # a session that vanished without unload: swept at the next export


def test_person_timeline_in_the_links_tab_is_masked_bounded_and_audited(links_app: Any, kestrel_child: Any) -> None:
    """Issue 18: the person timeline of the chat and CLI, in the Links tab, through the role's LinkView."""
    from assistant.access.auth import UserError
    from assistant.ui.links.person import person_timeline

    reviewer, sup = Session.for_username(links_app, "rev-k"), Session.for_username(links_app, "sup-k")
    note, rows = person_timeline(reviewer, "kestrel", "Marek Wolski")
    _, sup_rows = person_timeline(sup, "kestrel", "Marek Wolski")
    assert rows and len(rows) == len(sup_rows) and "Timeline of Marek Wolski" in note.replace("\\", "")
    assert any(kestrel_child.search(" ".join(r)) for r in sup_rows)
    assert not [r for r in rows if kestrel_child.search(" ".join(r))] and not kestrel_child.search(note)
    assert any("<PROTECTED_1_NAME>" in r[2] for r in rows)
    _, march = person_timeline(reviewer, "kestrel", "Marek Wolski", "March 2023")
    dated = [r for r in march if r[0] != "(undated)"]
    assert dated and len(march) < len(rows)
    assert all(r[0].startswith("2023-03") or "2023-03" in r[1] for r in dated)
    with pytest.raises(AccessDenied, match="protected person"):
        person_timeline(reviewer, "kestrel", "Kacpra")
    with pytest.raises(UserError, match="not understood"):
        person_timeline(reviewer, "kestrel", "Marek Wolski", "the spring")
    kinds = [(r.kind, r.payload.get("what") or r.payload.get("action"))
             for r in links_app.audit.records(case="kestrel", user="rev-k")]
    assert ("view", "person timeline") in kinds and ("denied", "filter") in kinds
