"""Protected-person masking in Debian chromium against the real App (demo case, extractive backend, the demo's
protected-persons file as `assistant demo` applies it): a reviewer's answer about the suspect is readable while every
field about the protected child (answer, citation labels with file names and locators, passages, message headers) is
masked. Screenshots in tests/artifacts/protected-*.png."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_app_browser import ARTIFACTS, _choose_case, _login

pytestmark = pytest.mark.browser
pytest.importorskip("playwright")

CHILD = re.compile(r"kacp|zielinsk|nowak|900\s?265|17/06/2007|larkspur", re.IGNORECASE)


def _answer(page: Any, question: str) -> str:
    page.locator("#question textarea").fill(question)
    page.locator("#ask-btn").click()
    page.locator("#answered-by").get_by_text("About this answer").wait_for()
    page.wait_for_function("() => !document.querySelector('#chat').innerText.includes('Searching the case material')")
    return str(page.locator("#chat").inner_text())


@pytest.mark.parametrize(("question", "about_child"), [
    ("Which phones did Marek Wolski use and who was in his car?", False),  # cites the suspect's passages
    ("What did Marek tell the boy about the new phone?", True)])  # cites messages to and from the child
def test_reviewer_reads_the_suspect_while_the_child_is_masked(demo_server: dict[str, Any], browser: Any,
                                                              question: str, about_child: bool) -> None:
    page = _login(browser, demo_server["url"], "reviewer1", "kestrel-review")
    try:
        _choose_case(page, "kestrel")
        page.locator("#conv-new").click()  # the shared server holds reviewer1's earlier conversations
        chat = _answer(page, question)
        assert re.search(r"Marek|WOLSKI|Wolski", chat), chat[:300]  # the suspect, not a placeholder
        assert "<PERSON_" not in chat
        labels = page.locator("#citations label")
        labels.first.wait_for()
        seen_placeholder = False
        for i in range(labels.count()):
            labels.nth(i).click()
            page.locator("#passage-panel .passage-panel").first.wait_for()
            panel = page.locator("#passage-panel").inner_html()
            assert not CHILD.search(panel), CHILD.search(panel)
            seen_placeholder |= "PROTECTED_1_" in panel
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"protected-{len(question)}.png"), full_page=True)
        html = page.content()
        assert not CHILD.search(html), CHILD.search(html)  # labels (file names, locators), chat, panel, filters
        assert seen_placeholder or not about_child, "the child is in these passages: shown as a placeholder"
    finally:
        page.context.close()


def test_sender_filter_naming_the_child_is_refused(demo_server: dict[str, Any]) -> None:
    from assistant.access.session import Session
    from assistant.errors import AccessDenied
    from assistant.types import RetrievalFilters

    with pytest.raises(AccessDenied, match="protected person"):
        Session.for_username(demo_server["app"], "reviewer1").ask("kestrel", "What was said?",
                                                             RetrievalFilters(sender="Kacpra"))
