"""The working day in Debian chromium against the real App (demo case, extractive backend): a follow-up resolved
and shown (and still there after a reload), a person's month summarised with every line cited, a message citation
opening exactly one highlighted message, a flag a stray click cannot turn into an approval, and a filter that
rejects "March 2023" with a message. Screenshots in tests/artifacts/conversation-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.browser.test_app_browser import _choose_case, _login

pytestmark = pytest.mark.browser  # skipped without chromium by the conftest's import of the same module marks
pytest.importorskip("playwright")


def _shot(page: Any, name: str) -> None:
    from tests.browser.test_app_browser import ARTIFACTS

    page.screenshot(path=str(ARTIFACTS / f"conversation-{name}.png"), full_page=True)


def _submit(page: Any, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#ask-btn").click()


def _ask(page: Any, question: str, n_bot: int = 1) -> str:
    """Ask and wait until the `n_bot`-th answer of the conversation is complete; its text."""
    _submit(page, question)
    page.wait_for_function(
        "n => { const b = document.querySelectorAll('#chat [data-testid=\"bot\"]');"
        " return b.length >= n && !b[b.length-1].innerText.includes('Searching the case material'); }",
        arg=n_bot, timeout=120_000)
    return str(page.locator("#chat [data-testid='bot']").last.inner_text())


@contextmanager
def _page(server: dict[str, Any], browser: Any, user: str, password: str,
          case: str | None = "kestrel") -> Iterator[Any]:
    """Logged in as `user`; with `case` chosen and a new conversation started (the session's server has served
    other modules' questions already); the browser context is closed on exit."""
    page = _login(browser, server["url"], user, password)
    try:
        if case is not None:
            _choose_case(page, case)
            page.locator("#conv-new").click()
        yield page
    finally:
        page.context.close()


def test_follow_up_is_resolved_shown_and_survives_a_reload(demo_server: dict[str, Any], browser: Any) -> None:
    with _page(demo_server, browser, "reviewer1", "kestrel-review") as page:
        _ask(page, "Who is Marek Wolski?")
        text = _ask(page, "What car does he drive?", n_bot=2)
        assert "Searched for: What car does Marek Wolski drive?" in text
        assert "Vauxhall" in text
        _shot(page, "follow-up")
        record = demo_server["app"].audit.records(kind="answer", user="reviewer1")[-1]
        assert record.payload["asked"] == "What car does he drive?"
        page.reload(wait_until="load")
        page.locator("#whoami").get_by_text("Logged in as reviewer1").wait_for()
        page.locator("#chat").get_by_text("Searched for: What car does Marek Wolski drive?").wait_for()
        assert page.locator("#conv-select input").input_value().strip() != ""
        restored = page.locator("#chat").inner_text()
        assert "'type': 'text'" not in restored and "Who is Marek Wolski?" in restored
        _shot(page, "follow-up-after-reload")


def test_month_summary_every_line_cited(demo_server: dict[str, Any], browser: Any) -> None:
    with _page(demo_server, browser, "supervisor1", "kestrel-audit") as page:
        text = _ask(page, "Summarise what Marek Wolski did in March 2023")
        assert "Events in time order" in text
        _shot(page, "month-summary")
        lines = [ln.strip() for ln in text.splitlines() if re.match(r"^(?:- )?2023-03-\d\d", ln.strip())]
        assert len(lines) >= 10 and all(re.search(r"\[\d+\]$", ln) for ln in lines), lines
        page.locator("#citations label").nth(len(lines) - 1).wait_for()
        assert page.locator("#citations label").count() == len(lines)
        _shot(page, "month-summary")


def test_message_citation_opens_one_highlighted_message(demo_server: dict[str, Any], browser: Any) -> None:
    with _page(demo_server, browser, "reviewer1", "kestrel-review") as page:
        _ask(page, "What did Marek say about the fare?")
        label = page.locator("#citations label").filter(has_text="/ msg HE3-").first
        label.wait_for()
        assert re.search(r"/ msg HE3-\d{4} / from \S+ / 2023-", label.inner_text())
        label.click()
        page.locator("#passage-panel mark").first.wait_for(state="visible")
        assert page.locator("#passage-panel tr.cited").count() == 1
        assert page.locator("#passage-panel mark").count() == 1
        assert "not found verbatim" not in page.locator("#passage-panel").inner_text()
        _shot(page, "message-citation")


def test_a_flag_cannot_become_an_approval_by_a_stray_click(demo_server: dict[str, Any], browser: Any) -> None:
    app = demo_server["app"]
    with _page(demo_server, browser, "supervisor1", "kestrel-audit", case=None) as page:
        page.get_by_role("tab", name="Supervisor").click()
        page.wait_for_function("() => (document.querySelector('#audit-table')?.innerText || '').includes('admin')")
        seq = app.audit.records(kind="answer", case="kestrel")[-1].seq
        page.locator("#s-seq input").fill(str(seq))
        page.locator("#s-open").click()
        page.locator("#record-view").get_by_text("Decision history").wait_for()
        page.locator("#s-comment textarea").fill("quote refers to a different handset")
        page.locator("#s-flag").click()
        page.locator("#confirm-msg").get_by_text("records it as flagged").wait_for()
        page.locator("#s-confirm").click()
        page.locator("#review-msg").get_by_text("flagged").wait_for()
        assert page.locator("#s-comment textarea").input_value() == ""
        page.locator("#s-approve").click()  # the stray click
        page.locator("#confirm-msg").get_by_text("CHANGES the decision from flagged").wait_for()
        _shot(page, "flag-stray-click")
        assert app.audit.review_status("kestrel")[seq].payload["decision"] == "flagged"
        page.locator("#s-cancel").click()
        page.locator("#confirm-msg").get_by_text("Nothing recorded").wait_for()
        assert app.audit.review_status("kestrel")[seq].payload["decision"] == "flagged"
        assert len([r for r in app.audit.records(kind="review") if r.payload["answer_seq"] == seq]) == 1


def test_filter_rejects_march_2023_with_a_message(demo_server: dict[str, Any], browser: Any) -> None:
    app = demo_server["app"]
    with _page(demo_server, browser, "reviewer1", "kestrel-review") as page:
        before = len(app.audit.records(kind="answer"))
        page.get_by_text("Filters", exact=True).click()
        page.locator("#f-from input, #f-from textarea").first.fill("March 2023")
        _submit(page, "Where did Marek go?")
        page.locator("#filter-msg").get_by_text("is not a date").wait_for()
        assert "YYYY-MM-DD" in page.locator("#filter-msg").inner_text()
        assert page.locator("#chat").get_by_text("Searching the case material").count() == 0
        assert len(app.audit.records(kind="answer")) == before
        _shot(page, "filter-rejected")


def _pick_day(page: Any, elem_id: str, month_year: str, day: str) -> None:
    """Choose a day with the date input's own calendar (Gradio's bundled picker, nothing fetched)."""
    page.locator(f"#{elem_id} button.calendar").click()
    picker = page.locator(".picker-container").last
    header = picker.locator(".month-year")
    header.wait_for()
    for _ in range(120):  # back month by month from today
        if " ".join(header.inner_text().split()) == month_year:
            break
        picker.locator("button.nav-button").first.click()
    assert " ".join(header.inner_text().split()) == month_year
    picker.locator("button.day:not(.other-month)").get_by_text(day, exact=True).click()
    picker.get_by_role("button", name="Done").click()


def test_a_date_range_set_with_the_picker_is_applied(demo_server: dict[str, Any], browser: Any) -> None:
    app = demo_server["app"]
    with _page(demo_server, browser, "supervisor1", "kestrel-audit") as page:
        page.get_by_text("Filters", exact=True).click()
        _pick_day(page, "f-from", "March 2023", "1")
        assert page.locator("#f-from input.time").input_value() == "2023-03-01"
        page.locator("#f-to input.time").fill("31/03/2023")  # the typed UK form is still accepted
        _shot(page, "date-picker")
        text = _ask(page, "What do we know about Marek Wolski?")
        _shot(page, "date-range-applied")
        days = re.findall(r"^(?:- )?(\d{4}-\d\d-\d\d)", text, re.M)
        assert days and all(d.startswith("2023-03-") for d in days), days
        assert page.locator("#filter-msg").inner_text().strip() == ""
        record = app.audit.records(kind="answer", user="supervisor1")[-1]
        assert (record.payload["filters"]["date_from"], record.payload["filters"]["date_to"]) == (
            "2023-03-01", "2023-03-31")


def test_when_did_a_person_go_missing_is_a_cited_timeline(demo_server: dict[str, Any], browser: Any) -> None:
    with _page(demo_server, browser, "supervisor1", "kestrel-audit") as page:
        text = _ask(page, "When did Kacper go missing?")
        days = re.findall(r"^(?:- )?(\d{4}-\d\d-\d\d)", text, re.M)
        assert days == sorted(days) and {"2023-01-21", "2023-03-10", "2023-03-22"} <= set(days)
        assert "Gaps:" in text and "Mentioned without a date:" in text
        page.locator("#citations label").nth(len(days) - 1).wait_for()
        _shot(page, "person-timeline")


def test_a_question_of_three_parts_answers_each_part_or_says_it_is_missing(demo_server: dict[str, Any],
                                                                           browser: Any) -> None:
    with _page(demo_server, browser, "supervisor1", "kestrel-audit") as page:
        text = _ask(page, "Who was arrested on 22 March 2023, where, and what was found in the car?")
        _shot(page, "three-parts")
        asked = ["Who was arrested on 22 March 2023?", "Where was the person arrested on 22 March 2023?",
                 "What was found in the car on 22 March 2023?"]
        lines = [ln.strip() for ln in text.splitlines() if any(ln.strip().startswith(a) for a in asked)]
        assert [next(a for a in asked if ln.startswith(a)) for ln in lines] == asked, text
        assert all(re.search(r"\[\d+\]", ln) or "Not found in the case material" in ln for ln in lines), lines
        cited = sorted({int(n) for ln in lines for n in re.findall(r"\[(\d+)\]", ln)})
        assert cited and cited == list(range(1, len(cited) + 1))
        page.locator("#citations label").nth(len(cited) - 1).wait_for()
        assert page.locator("#citations label").count() == len(cited)
