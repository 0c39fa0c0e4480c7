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


def _open(page: Any, label: Any) -> str:
    """Click a citation label and return the passage panel's HTML once it shows that citation (the empty panel has
    the same class, and the previous passage stays until the new one arrives: reading at once raced under load)."""
    number = re.match(r"\s*(\[\d+\])", label.inner_text())
    assert number, label.inner_text()
    label.click()
    page.wait_for_function(
        "n => { const p = document.querySelector('#passage-panel .passage-panel:not(.empty)');"
        " return p !== null && p.innerText.includes(n); }", arg=number.group(1))
    return str(page.locator("#passage-panel").inner_html())


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
            panel = _open(page, labels.nth(i))
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


def test_a_phone_export_named_after_the_child_shows_no_thread_device_or_file_name(demo_server: dict[str, Any],
                                                                                browser: Any, tmp_path: Any) -> None:
    """Issue 15 done-when: the citation panel showed `Kacper Nowak iPhone 07700900418~07700900999/m1` in clear. The
    demo's own exports do not name the child in a thread id, device or file name, so a case is added whose export
    does (file name, device, thread id, sender), protected with the demo's file; the suspect stays readable."""
    from assistant.cli.protect import protect
    from assistant.pii.protected import read_persons_file
    from tests.browser.test_app_browser import ROOT

    app = demo_server["app"]
    folder = tmp_path / "phones"
    folder.mkdir()
    thread, device = "Kacper Nowak iPhone 07700900265~07700900418", "Kacper Nowak iPhone"
    rows = [("m1", "Marek", "Kacper", "bring the new phone to the garage on mill lane tonight"),
            ("m2", "Kacper", "Marek", "ok i will bring it to the garage"),
            ("m3", "Marek", "Kacper", "good, tell nobody about the garage")]
    (folder / "Kacper_Zielinski_iPhone_messages.csv").write_text(
        "message_id,thread_id,timestamp,sender,recipient,language,body,translation,device\n" + "".join(
            f"{mid},{thread},2023-03-1{i}T20:00:00+00:00,{s},{r},en,{body},,{device}\n"
            for i, (mid, s, r, body) in enumerate(rows)), encoding="utf-8")
    assert app.ingest([folder], "kestrel-phone", progress=False).ingested
    protect(app, "kestrel-phone", read_persons_file(ROOT / "demo" / "kestrel_protected.json"), "test")
    app.users.add_user("reviewer-phone", "phone-review-pass-1", "reviewer")
    app.users.assign("reviewer-phone", "kestrel-phone")
    page = _login(browser, demo_server["url"], "reviewer-phone", "phone-review-pass-1")
    try:
        _choose_case(page, "kestrel-phone")
        chat = _answer(page, "What did Marek tell him to bring to the garage?")
        assert "Marek" in chat and "garage" in chat, chat[:300]
        labels = page.locator("#citations label")
        labels.first.wait_for()
        label_text = " ".join(labels.nth(i).inner_text() for i in range(labels.count()))
        assert "<PROTECTED_1_NAME>" in label_text and "<PROTECTED_1_PHONE>" in label_text, label_text
        panel = _open(page, labels.first)
        assert "PROTECTED_1_NAME" in panel and "Marek" in panel
        page.screenshot(path=str(ARTIFACTS / "protected-phone-export.png"), full_page=True)
        html = page.content()
        assert not CHILD.search(html), CHILD.search(html)  # file name, device, thread id, sender: nowhere in clear
    finally:
        page.context.close()
