"""The Links tab's chart downloads and person timeline in Debian chromium against the real app (kestrel ingested,
the demo users, the child of demo/kestrel_protected.json protected): reviewer1 downloads the GraphML, which Gradio
serves from the session's private folder, masked; closing the tab deletes the folder; the person timeline of the
suspect over March 2023 shows the child masked. Screenshots land in tests/artifacts/links-export-*.png.
(On the shared served demo app, `demo_server` in tests/browser/conftest.py.)"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_app_browser import ARTIFACTS, TIMEOUT_MS, _login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None,
                       reason="Debian chromium not installed: run scripts/install_browser.sh"),
]

CHILD = re.compile(r"kacp|zielinsk|nowak|900\s?265|17/06/2007|larkspur", re.IGNORECASE)


def _open_kestrel(page: Any) -> None:
    page.get_by_role("tab", name="Links").click()
    page.locator("#links-case input").click()
    page.get_by_role("option", name="kestrel", exact=True).click()


def test_reviewer_downloads_the_masked_graphml_and_closing_the_tab_deletes_it(demo_server: dict[str, Any],
                                                                              browser: Any) -> None:
    from gradio.utils import get_upload_folder

    page = _login(browser, demo_server["url"], "reviewer1", "kestrel-review")
    _open_kestrel(page)
    page.locator("#links-chart-btn").click()
    page.locator("#links-chart img").wait_for(state="visible", timeout=TIMEOUT_MS)
    page.locator("#links-export-graphml").click()
    link = page.locator("#links-export a").first
    link.wait_for(timeout=TIMEOUT_MS)
    href = link.get_attribute("href") or ""
    body = page.request.get(href if href.startswith("http") else demo_server["url"] + href).text()
    assert "graphml" in body and "&lt;PROTECTED_1_NAME&gt;" in body and not CHILD.search(body)
    page.locator("#links-export").screenshot(path=str(ARTIFACTS / "links-export-reviewer1-graphml.png"))
    base = Path(get_upload_folder()) / "links-exports"
    folders = [p for p in base.iterdir() if (p / "links.graphml").exists() or (p / "chart.png").exists()]
    assert len(folders) >= 2 and "links-exports" in href  # served where it was written: no copy elsewhere
    records = [r.payload for r in demo_server["app"].audit.records(case="kestrel", user="reviewer1", kind="view")]
    assert any(p.get("what") == "link chart export" and p.get("format") == "graphml" for p in records)
    page.context.close()  # the session ends: Gradio's unload event deletes its export and chart folders
    deadline = time.time() + 60
    while any(f.exists() for f in folders) and time.time() < deadline:
        time.sleep(1)
    assert not any(f.exists() for f in folders)


def test_reviewer_reads_the_suspects_march_timeline_with_the_child_masked(demo_server: dict[str, Any],
                                                                          browser: Any) -> None:
    page = _login(browser, demo_server["url"], "reviewer1", "kestrel-review")
    try:
        _open_kestrel(page)
        page.locator("#links-person textarea, #links-person input").first.fill("Marek Wolski")
        page.locator("#links-period textarea, #links-period input").first.fill("March 2023")
        page.locator("#links-person-btn").click()
        page.wait_for_function("() => document.querySelector('#links-person-timeline').innerText.includes('2023-03')",
                               timeout=TIMEOUT_MS)
        text = page.locator("#links-person-timeline").inner_text() + page.locator("#links-person-note").inner_text()
        assert "Timeline of Marek Wolski" in text and "PROTECTED_1" in text and not CHILD.search(text)
        page.screenshot(path=str(ARTIFACTS / "links-export-reviewer1-person-timeline.png"), full_page=True)
    finally:
        page.context.close()
