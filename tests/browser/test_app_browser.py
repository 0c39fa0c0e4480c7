"""The real Gradio app in Debian chromium (driven by pip playwright; never `playwright install`).

Two server flavours, same UI and the same checks: `fake` (tests/test_session.FakeApp: canned answers, no models;
proves the UI wiring and the server-side access checks) and `real` (assistant.app.App with the demo case ingested
into a temp index). Screenshots land in
tests/artifacts/. Waits are on `load` plus selectors, never `networkidle` (Gradio keeps a connection open).
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from assistant.llm.runtime import free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None,
                       reason="Debian chromium not installed: run scripts/install_browser.sh"),
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DEMO_DIR = ROOT / "demo" / "operation-kestrel"
HERON_DIR = ROOT / "tests" / "corpus" / "operation-heron"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DEMO_QUESTION = "Who offered new SIM cards and a phone?"
TIMEOUT_MS = 120_000  # a real answer on 2 busy cores can take a while


def _build_fake(index_dir: Path) -> Any:
    from assistant.access.demo import seed_demo_users
    from assistant.config import load_settings
    from tests.test_session import FakeApp

    app = FakeApp(load_settings(index_dir=index_dir, demo_index_dir=index_dir))
    seed_demo_users(app)
    return app


def _build_real(index_dir: Path) -> Any:
    from assistant.access.demo import seed_demo_users
    from assistant.access.session import Session
    from assistant.app import App
    from assistant.config import load_settings

    settings = load_settings(index_dir=index_dir, demo_index_dir=index_dir)
    settings.llm.backend = "extractive"
    app = App(settings)
    seed_demo_users(app)
    report = app.ingest([DEMO_DIR], "kestrel", progress=False)
    assert report.ingested, report.failed
    if HERON_DIR.exists():
        app.ingest([HERON_DIR], "heron", progress=False)
    Session.for_username(app, "admin").ask("kestrel", DEMO_QUESTION)  # build every lazy service now
    return app


@contextmanager
def served(app: Any) -> Iterator[dict[str, Any]]:
    """Serve `app`'s UI on a free loopback port with login required; closed on exit."""
    from assistant.ui.build import serve

    app.settings.ui.port = free_port()
    app.settings.ui.host = "127.0.0.1"
    app.settings.ui.auth = True
    demo = serve(app, prevent_thread_lock=True)
    try:
        yield {"app": app, "demo": demo, "url": f"http://127.0.0.1:{app.settings.ui.port}"}
    finally:
        demo.close()


@pytest.fixture(scope="module", params=["fake", "real"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`fake` is served here; `real` is the session's served demo (tests/browser/conftest.py)."""
    if request.param == "real":
        yield {**request.getfixturevalue("demo_server"), "flavour": "real"}
        return
    with served(_build_fake(tmp_path_factory.mktemp("browser-fake"))) as fake:
        yield {**fake, "flavour": "fake"}


def _login(browser: Any, url: str, username: str, password: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url + "/", wait_until="load")
    page.locator("input[type=password]").wait_for()
    page.locator("input[type=text]").first.fill(username)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name="Login").click()
    page.locator("#whoami").get_by_text(f"Logged in as {username}").wait_for()
    return page


def _choose_case(page: Any, case: str) -> None:
    dropdown = page.locator("#case-select input")
    dropdown.click()
    page.get_by_role("option", name=case, exact=True).click()
    page.wait_for_function(
        "v => document.querySelector('#case-select input').value === v", arg=case, timeout=10_000)


def _shot(page: Any, flavour: str, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{flavour}-{name}.png"), full_page=True)


def test_reviewer_asks_and_opens_a_highlighted_citation(server: dict[str, Any], browser: Any) -> None:
    page = _login(browser, server["url"], "reviewer1", "kestrel-review")
    try:
        _choose_case(page, "kestrel")
        page.locator("#question textarea").fill(DEMO_QUESTION)
        page.locator("#ask-btn").click()
        page.locator("#answered-by").get_by_text("About this answer").wait_for()
        _shot(page, server["flavour"], "reviewer1-answer")
        first = page.locator("#citations label").first
        first.wait_for()
        first.click()
        mark = page.locator("#passage-panel mark")
        mark.first.wait_for(state="visible")
        assert mark.first.is_visible()
        assert mark.first.inner_text().strip()
        _shot(page, server["flavour"], "reviewer1-citation")
        records = server["app"].audit.records(kind="answer", user="reviewer1")
        assert records and records[-1].case == "kestrel"
    finally:
        page.context.close()


def _fn_index(demo: Any, name: str) -> int:
    for i, block_fn in enumerate(demo.fns.values() if isinstance(demo.fns, dict) else demo.fns):
        if getattr(block_fn, "name", "") == name:
            return int(getattr(block_fn, "_id", i))
    raise AssertionError(f"no event handler named {name}")


def _raw_event(page: Any, url: str, fn_index: int, data: list[Any]) -> list[dict[str, Any]]:
    """Call an event the way the frontend does, with this page's login cookie, and collect the SSE messages."""
    session_hash = uuid.uuid4().hex[:11]
    joined = page.request.post(f"{url}/gradio_api/queue/join", data=json.dumps(
        {"data": data, "fn_index": fn_index, "session_hash": session_hash, "event_data": None, "trigger_id": None}),
        headers={"Content-Type": "application/json"})
    if not joined.ok:
        return [{"msg": "rejected", "status": joined.status, "text": joined.text()}]
    stream = page.request.get(f"{url}/gradio_api/queue/data?session_hash={session_hash}", timeout=TIMEOUT_MS)
    events = []
    for line in stream.text().splitlines():
        if line.startswith("data:"):
            events.append(json.loads(line[5:].strip()))
    return events


def test_reviewer2_cannot_select_or_call_kestrel(server: dict[str, Any], browser: Any) -> None:
    app = server["app"]
    page = _login(browser, server["url"], "reviewer2", "heron-review")
    try:
        page.locator("#case-select input").click()
        options = page.get_by_role("option")
        time.sleep(0.5)
        names = [o.inner_text().strip() for o in options.all()]
        assert "kestrel" not in names
        _shot(page, server["flavour"], "reviewer2-cases")
        page.keyboard.press("Escape")
        # Forge the call: the ask event with case "kestrel", sent with reviewer2's own login cookie.
        before = len(app.audit.records(kind="answer"))
        events = _raw_event(page, server["url"], _fn_index(server["demo"], "on_ask"),
                            ["kestrel", DEMO_QUESTION, [], "", "", "", "", "", "", ""])
        completed = [e for e in events if e.get("msg") in ("process_completed", "rejected")]
        assert completed, events
        final = completed[-1]
        assert final.get("msg") == "rejected" or final.get("success") is False, final
        if final.get("msg") == "process_completed":
            assert "not assigned to case 'kestrel'" in json.dumps(final.get("output", {})), final
        assert len(app.audit.records(kind="answer")) == before
        assert not any(r.case == "kestrel" and r.kind != "denied" for r in app.audit.records(user="reviewer2"))
        assert app.audit.records(user="reviewer2", kind="denied", case="kestrel")  # the denial is on record
    finally:
        page.context.close()


def test_supervisor_flags_an_answer(server: dict[str, Any], browser: Any) -> None:
    app = server["app"]
    if not any(r.user == "reviewer1" for r in app.audit.records(kind="answer", case="kestrel")):  # run alone too
        from assistant.access.session import Session

        Session.for_username(app, "reviewer1").ask("kestrel", DEMO_QUESTION)
    page = _login(browser, server["url"], "supervisor1", "kestrel-audit")
    try:
        page.get_by_role("tab", name="Supervisor").click()
        page.locator("#s-refresh").click()
        page.wait_for_function("() => (document.querySelector('#audit-table')?.innerText || '').includes('reviewer1')")
        _shot(page, server["flavour"], "supervisor1-records")
        seq = app.audit.records(kind="answer", case="kestrel")[-1].seq
        page.locator("#s-seq input").fill(str(seq))
        page.locator("#s-open").click()
        page.locator("#record-view").get_by_text(f"Record {seq}").wait_for()
        page.locator("#s-comment textarea").fill("quote refers to a different handset")
        page.locator("#s-flag").click()
        page.locator("#s-confirm").click()  # decisions take two steps
        page.locator("#review-msg").get_by_text("flagged").wait_for()
        _shot(page, server["flavour"], "supervisor1-flag")
        latest = app.audit.review_status("kestrel")[seq]
        assert latest.user == "supervisor1" and latest.payload["decision"] == "flagged"
        page.get_by_text("Accuracy over time").click()
        page.locator("#acc-btn").click()
        page.get_by_text("accuracy", exact=False).filter(has_text="Approved").first.wait_for()
        page.get_by_text("Export", exact=True).click()
        page.locator("#x-btn").click()  # no case chosen: refused with a message, nothing exported
        page.get_by_text("choose a case to export").first.wait_for()
        _shot(page, server["flavour"], "supervisor1-accuracy")
        assert app.audit.records(kind="export") == []
        assert app.audit.verify().ok
        assert page.get_by_role("tab", name="Admin").count() == 0
    finally:
        page.context.close()


def test_admin_adds_a_user_and_ingests(server: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    if server["flavour"] != "fake":
        pytest.skip("ingest through the browser is exercised with the fake app (the real one is slow on 2 cores)")
    (tmp_path / "note.txt").write_text("A short note.", encoding="utf-8")
    server["app"].settings.ui.ingest_roots = [str(tmp_path)]  # the folder field reads under configured roots only
    page = _login(browser, server["url"], "admin", "kestrel-admin")
    try:
        page.get_by_role("tab", name="Admin").click()
        page.locator("#a-case textarea").fill("otter")
        page.locator("#a-folder textarea").fill(str(tmp_path))
        page.locator("#a-ingest").click()
        page.get_by_text("Ingest finished").wait_for()
        page.get_by_label("New user's username").fill("reviewer7")
        page.get_by_label("Password").fill("otter-review-7")
        page.get_by_label("Assign case (optional)").fill("otter")
        page.get_by_role("button", name="Add user").click()
        page.get_by_text("Added reviewer").wait_for()
        _shot(page, server["flavour"], "admin-users")
        user = server["app"].users.get("reviewer7")
        assert user is not None and user.cases == ("otter",)
        assert server["app"].audit.records(kind="ingest", case="otter")[0].user == "admin"
    finally:
        page.context.close()
