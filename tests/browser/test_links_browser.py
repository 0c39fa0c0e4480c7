"""The Links tab in Debian chromium against the real app (kestrel and plover ingested, the documented demo users):
a reviewer's look-up shows only the existence of the other case; a supervisor draws the link chart and the timeline;
a reviewer draws them too, with the protected child (demo/kestrel_protected.json) masked.
Screenshots land in tests/artifacts/links-*.png."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from tests.browser.test_app_browser import ARTIFACTS, TIMEOUT_MS, _login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None,
                       reason="Debian chromium not installed: run scripts/install_browser.sh"),
]


def _open_links_tab(page: Any) -> None:
    page.get_by_role("tab", name="Links").click()
    page.locator("#links-value textarea, #links-value input").first.wait_for()


def _draw_kestrel_chart(page: Any, shot: str) -> None:
    """Open the Links tab, draw kestrel's link chart and check it has nodes; a screenshot of it as `shot`."""
    _open_links_tab(page)
    page.locator("#links-case input").click()
    page.get_by_role("option", name="kestrel", exact=True).click()
    page.locator("#links-chart-btn").click()
    page.locator("#links-chart img").wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "nodes" in page.locator("#links-chart-note").inner_text()
    page.locator("#links-chart").screenshot(path=str(ARTIFACTS / shot))


def test_reviewer_sees_only_existence_of_the_other_case(demo_server: dict[str, Any], browser: Any) -> None:
    page = _login(browser, demo_server["url"], "reviewer1", "kestrel-review")
    try:
        _open_links_tab(page)
        page.locator("#links-value textarea, #links-value input").first.fill("lk19xrt")
        page.locator("#links-go").click()
        result = page.locator("#links-result")
        result.get_by_text("ask supervisor2").wait_for()
        text = result.inner_text()
        assert "case kestrel" in text and "witness_statement_ellery.txt" in text
        assert "witness_statement_price" not in text
        page.screenshot(path=str(ARTIFACTS / "links-reviewer1-lookup.png"), full_page=True)
    finally:
        page.context.close()


def test_supervisor_draws_chart_and_timeline(demo_server: dict[str, Any], browser: Any) -> None:
    page = _login(browser, demo_server["url"], "supervisor1", "kestrel-audit")
    try:
        _draw_kestrel_chart(page, "links-supervisor1-chart.png")
        page.locator("#links-about textarea, #links-about input").first.fill("Andrei")
        page.locator("#links-timeline-btn").click()
        page.wait_for_function("() => document.querySelector('#links-timeline').innerText.includes('Andrei → Marek')")
        page.screenshot(path=str(ARTIFACTS / "links-supervisor1-timeline.png"), full_page=True)
    finally:
        page.context.close()


def test_reviewer_draws_chart_and_timeline_with_the_child_masked(demo_server: dict[str, Any], browser: Any) -> None:
    child = re.compile(r"kacp|zielinsk|nowak|900\s?265|17/06/2007|larkspur", re.IGNORECASE)
    page = _login(browser, demo_server["url"], "reviewer1", "kestrel-review")
    try:
        _draw_kestrel_chart(page, "links-reviewer1-chart.png")
        page.locator("#links-about textarea, #links-about input").first.fill("Marek")
        page.locator("#links-timeline-btn").click()
        page.wait_for_function("() => document.querySelector('#links-timeline').innerText.includes('PROTECTED_1')",
                               timeout=TIMEOUT_MS)
        text = page.locator("#links-timeline").inner_text()
        assert "Marek" in text and not child.search(text)
        page.screenshot(path=str(ARTIFACTS / "links-reviewer1-timeline.png"), full_page=True)
    finally:
        page.context.close()
