"""The child-process harness of the fault-injection tests (test_fault_injection, test_batch_resume,
test_audit_faults) and of benchmarks/bench_kill_points.py: run `assistant` (or a Python snippet) in a real child
process on an index folder, armed to SIGKILL itself at a kill point (assistant.faults) or limited to a file size (what
a full disk looks like to a writer); then read back what the case serves."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.faults import KILL_AT_ENV, KILL_ENV

ROOT = Path(__file__).resolve().parent.parent


def child_env(index_dir: Path | None = None, kill: str = "", at: int = 0, **settings: str) -> dict[str, str]:
    """This environment without any armed kill point, plus: the index folder and the extractive backend (when
    `index_dir` is given), `settings` (environment names), and the kill point `kill` on its `at`-th hit."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **settings}
    if index_dir is not None:
        env.update({"ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_LLM__BACKEND": "extractive"})
    env.pop(KILL_ENV, None)
    env.pop(KILL_AT_ENV, None)
    if kill:
        env[KILL_ENV] = kill
        if at:
            env[KILL_AT_ENV] = str(at)
    return env


def run_child(args: list[str], env: dict[str, str], fsize: int = 0,
              timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in the repository with `env`; under RLIMIT_FSIZE = `fsize` bytes when it is set."""
    def limit() -> None:  # Python ignores SIGXFSZ, so a write past the limit fails with EFBIG instead of killing it
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    preexec: Callable[[], None] | None = limit if fsize else None
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=ROOT, preexec_fn=preexec)


def run_cli(index_dir: Path, *args: str, kill: str = "", at: int = 0, fsize: int = 0, timeout: float = 600,
            settings: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`assistant ARGS` in a child process on `index_dir`."""
    env = child_env(index_dir, kill, at, **(settings or {}))
    return run_child(["-m", "assistant.cli.main", *args], env, fsize, timeout)


def ingest_args(folder: Path, case: str, *extra: str) -> list[str]:
    return ["ingest", str(folder), "--case", case, "--no-progress", "--json", *extra]


def fsck(index_dir: Path, case: str, *extra: str) -> tuple[int, dict[str, Any]]:
    """`assistant fsck --case CASE --json`: its exit status and report (no output: not clean, "no output")."""
    done = run_cli(index_dir, "fsck", "--case", case, "--json", *extra)
    if not done.stdout.strip():
        return done.returncode, {"clean": False, "problems": [f"no output: {done.stderr[-500:]}"]}
    return done.returncode, dict(json.loads(done.stdout))


def served(index_dir: Path, case: str) -> dict[str, tuple[str, int]]:
    """source -> (sha256, chunk count) of every version the case serves, read from its manifest."""
    from assistant.index.manifest import Manifest

    manifest = Manifest(index_dir / "manifest.sqlite")
    try:
        return {src: (row.sha256, row.n_chunks) for src, row in manifest.served(case).items()}
    finally:
        manifest.close()


def side_entries(index_dir: Path, case: str) -> dict[str, dict[str, str]]:
    """side collection ("ml", "gm") -> entry id -> version (sha256) of every entry stored, served or not."""
    from assistant.config import load_settings
    from assistant.index.languages.versions import SPACES
    from assistant.index.store import IndexStore

    store = IndexStore(index_dir, chroma=load_settings(index_dir=index_dir).index)
    try:
        out = {}
        for space in SPACES:
            got = store.side_collection(case, space).get(include=["metadatas"])
            metas = got["metadatas"] or []
            out[space] = {i: str((m or {}).get("source_hash")) for i, m in zip(got["ids"], metas, strict=True)}
        return out
    finally:
        store.manifest.close()
