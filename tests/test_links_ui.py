"""Links tab handlers as plain functions of a real Session (real ingest of kestrel, plover, heron: `links_app`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.access.session import Session
from assistant.errors import AssistantError
from assistant.ui.links_tab import ALL_MY_CASES, chart_png, lookup_html, timeline_rows


def test_reviewer_lookup_shows_own_sources_and_only_existence_elsewhere(links_app: Any) -> None:
    page = lookup_html(Session.for_username(links_app, "rev-k"), "lk19xrt")
    assert "case kestrel" in page and "statements/witness_statement_ellery.txt" in page
    assert "case plover</b>" in page and "ask sup-p" in page
    assert "witness_statement_price" not in page and "plover:" not in page


def test_unknown_value_states_coverage(links_app: Any) -> None:
    page = lookup_html(Session.for_username(links_app, "rev-k"), "07700 900999")
    assert "no mention in" in page and "sources of 3 cases" in page


def test_chart_and_timeline_need_a_cleared_role(links_app: Any) -> None:
    reviewer = Session.for_username(links_app, "rev-k")
    with pytest.raises(AssistantError, match="supervisor"):
        chart_png(reviewer, "kestrel")
    with pytest.raises(AssistantError, match="supervisor"):
        timeline_rows(reviewer, "kestrel")


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
