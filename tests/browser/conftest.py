"""Fixtures every browser test shares: the headless Debian chromium (launched once per module) and the real App
serving the demo cases, built and served once for the whole session (ingesting and warming the models is the slow
part, so one build serves every module).

The served demo is what `assistant demo` gives a reviewer: kestrel with its protected child
(demo/kestrel_protected.json), plover and, when present, the heron test case, the documented demo users, the
extractive backend, login required."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.test_app_browser import ARTIFACTS, CHROMIUM_ARGS, ROOT, _build_real, served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if shutil.which("chromium") is None:
        pytest.skip("Debian chromium not installed: run scripts/install_browser.sh")
    from assistant.cli.protect import protect
    from assistant.pii.protected import read_persons_file

    app = _build_real(tmp_path_factory.mktemp("browser-demo"))
    protect(app, "kestrel", read_persons_file(ROOT / "demo" / "kestrel_protected.json"), "test")
    report = app.ingest([ROOT / "demo" / "operation-plover"], "plover", progress=False)
    assert report.ingested, report.failed
    with served(app) as server:
        yield server
