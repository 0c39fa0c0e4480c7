"""`assistant ask-server` (a warm process on loopback) answers `assistant ask` exactly as the CLI answers in its
own process; a stale state file or no server falls back to answering in process. Real processes, real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.llm.runtime import free_port
from tests.conftest import HERON_DIR, ROOT

QUESTION = "What car was Ryan found in?"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.cli.main", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    index = tmp_path_factory.mktemp("ask-index")
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index), "ASSISTANT_LLM__BACKEND": "extractive",
           "PYTHONPATH": str(ROOT)}
    done = _cli(env, "ingest", str(HERON_DIR), "--case", "heron", "--no-progress")
    assert done.returncode == 0, done.stderr
    return env


@pytest.fixture(scope="module")
def server(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli.main", "ask-server"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # printed once warm and listening
    assert "ask-server on http://127.0.0.1:" in line, proc.stderr.read() if proc.stderr else line
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


def test_a_stale_state_file_falls_back_to_answering_in_process(env: dict[str, str]) -> None:
    """Runs before the server starts: a state file left by a dead server (nobody on its port)."""
    state = Path(env["ASSISTANT_INDEX_DIR"]) / "ask-server.json"
    state.write_text(json.dumps({"port": free_port(), "pid": 1, "token": "x"}))
    try:
        done = _cli(env, "ask", "--case", "heron", "--json", QUESTION)
    finally:
        state.unlink()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "answered"


def test_forwarded_answer_equals_the_in_process_answer(env: dict[str, str], server: subprocess.Popen[str]) -> None:
    state = json.loads((Path(env["ASSISTANT_INDEX_DIR"]) / "ask-server.json").read_text())
    assert state["pid"] == server.pid
    assert oct((Path(env["ASSISTANT_INDEX_DIR"]) / "ask-server.json").stat().st_mode & 0o777) == "0o600"
    local = _cli(env, "ask", "--case", "heron", "--json", "--local", QUESTION)
    forwarded = _cli(env, "ask", "--case", "heron", "--json", QUESTION)
    assert local.returncode == forwarded.returncode == 0, (local.stderr, forwarded.stderr)
    want, got = json.loads(local.stdout), json.loads(forwarded.stdout)
    assert got == want
    assert got["status"] == "answered" and got["citations"]


def test_bad_input_through_the_server_is_exit_2_with_the_reason(env: dict[str, str],
                                                               server: subprocess.Popen[str]) -> None:
    done = _cli(env, "ask", "--case", "nosuchcase", "--json", QUESTION)
    assert done.returncode == 2
    assert "nosuchcase" in done.stderr and "ingest" in done.stderr


def test_a_wrong_token_is_refused(env: dict[str, str], server: subprocess.Popen[str]) -> None:
    import urllib.error
    import urllib.request

    state = json.loads((Path(env["ASSISTANT_INDEX_DIR"]) / "ask-server.json").read_text())
    req = urllib.request.Request(f"http://127.0.0.1:{state['port']}/ask", method="POST", data=b"{}",
                                 headers={"X-Ask-Token": "guess"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 403
