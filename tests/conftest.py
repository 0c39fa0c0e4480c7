"""Shared fixtures. The socket guard fails any connection that would leave the machine."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.offline import EgressRefused, apply_offline_env, install_egress_guard, refusals

apply_offline_env()
# Tests choose their model explicitly; none should start whatever local model this machine happens to have.
os.environ.setdefault("ASSISTANT_LLM__BACKEND", "extractive")

pytest_plugins = ["tests.llm_server"]

NonLoopbackConnect = EgressRefused  # what a test sees when code under test tries to leave the machine


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """The product's own egress guard (assistant.offline), with an empty allowlist: loopback only."""
    install_egress_guard()
    yield


@pytest.fixture(autouse=True)
def _no_egress_attempt(request: pytest.FixtureRequest) -> Iterator[None]:
    """Code that swallows the guard's OSError (a client library turning it into "not reachable") still fails the
    test: any refused attempt during a test not marked `egress` is an error."""
    before = len(refusals())
    yield
    tried = refusals()[before:]
    if tried and request.node.get_closest_marker("egress") is None:
        pytest.fail(f"test tried to reach non-loopback host(s) {sorted(set(tried))}")


# ---- shared real-component fixtures ----------------------------------------------------------------------------
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "demo" / "operation-kestrel"
HERON_DIR = ROOT / "tests" / "corpus" / "operation-heron"


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real App (Chroma, Presidio, packaged embedder, extractive backend) with the demo case `kestrel` and the
    second case `heron` ingested into a temporary index dir. Built once per test session."""
    from assistant.app import App
    from assistant.config import load_settings

    index_dir = tmp_path_factory.mktemp("index")
    settings = load_settings(index_dir=index_dir)
    settings.llm.backend = "extractive"
    app = App(settings)
    report = app.ingest([DEMO_DIR], "kestrel", progress=False)
    assert report.ingested and not report.failed, report.failed
    heron = app.ingest([HERON_DIR], "heron", progress=False)
    assert heron.ingested, heron.failed
    return app


@pytest.fixture(scope="session")
def links_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Cases kestrel, plover (demo/operation-plover) and heron in a fresh index, with a reviewer of kestrel
    (rev-k), a supervisor of kestrel (sup-k) and one of plover (sup-p): the cross-case links tests."""
    from assistant.app import App
    from assistant.config import load_settings

    settings = load_settings(index_dir=tmp_path_factory.mktemp("links-index"))
    settings.llm.backend = "extractive"
    app = App(settings)
    for folder, case in ((DEMO_DIR, "kestrel"), (ROOT / "demo" / "operation-plover", "plover"), (HERON_DIR, "heron")):
        report = app.ingest([folder], case, progress=False)
        assert report.ingested and not report.failed, report.failed
    app.users.rounds = 4
    app.users.add_user("rev-k", "kestrel-pass-1", "reviewer")
    app.users.assign("rev-k", "kestrel")
    app.users.add_user("sup-k", "kestrel-pass-2", "supervisor")
    app.users.assign("sup-k", "kestrel")
    app.users.add_user("sup-p", "plover-pass-3", "supervisor")
    app.users.assign("sup-p", "plover")
    return app


@pytest.fixture()
def kestrel_child(links_app: Any) -> Iterator[re.Pattern[str]]:
    """The demo's child (demo/kestrel_protected.json) protected in `links_app`'s kestrel for one test, then
    unprotected again; yields a pattern matching every written form of the child's identifiers in the demo."""
    from assistant.pii.protected import protect, read_persons_file

    protect(links_app.settings.index_dir, links_app.audit, "test", "kestrel",
            read_persons_file(ROOT / "demo" / "kestrel_protected.json"), "test")
    yield re.compile(r"kacp|zielinsk|nowak|900\s?265|17/06/2007|2007-06-17|larkspur", re.IGNORECASE)
    (links_app.settings.index_dir / "protected" / "kestrel.json").unlink()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI a missing prerequisite (llama.cpp, chromium) must fail loudly, not hide behind a skip."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not (os.environ.get("CI") and report.skipped):
        return
    if any(item.iter_markers(name=m) for m in ("llm_server", "browser", "ocr")):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if "needs" in reason or "not installed" in reason:
            report.outcome = "failed"
            report.longrepr = f"prerequisite missing in CI: {reason}"
