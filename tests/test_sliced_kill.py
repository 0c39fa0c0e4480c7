"""A real `assistant ingest` SIGKILLed in the middle of a phone report indexed in slices (issue 13, `ingest.slices`).

The report (8 chats of 20 messages) is cut into slices of 40 messages (setting `ingest.slice_messages`), each slice
written in batches of 8 chunks. The child is SIGKILLed (with its process group, as a power cut would) as soon as its
log says the first slice is indexed: its chunks written, its duplicate-key rows recorded, its link mentions staged;
the swap not made. Then, read back by other processes:
- the case serves only the file ingested beside it; of the report, a pending version whose written chunks equal the
  uninterrupted run's, link rows staged only (no mention of it served);
- `assistant fsck` names the pending version (chunks written so far, total not known before the swap);
- the next ingest of the same file keeps those chunks ("resumed: k of n") and ends with exactly the chunks, the
  duplicate-key rows, the link mentions and aliases of an uninterrupted ingest into another index, and a clean fsck;
- on a copy of the killed index, `fsck --repair` instead drops the pending version, its key rows and its staged link
  rows, and leaves the case clean.
Real Chroma, Presidio and embedder in every child."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import pa_report as pa
from tests.killharness import ROOT, child_env, fsck, ingest_args, run_child, run_cli

pytestmark = pytest.mark.slow  # six child processes, three of them load the models

CASE = "sliced"
BIG = "report.xml"
SLICE = 40  # messages: two chats of 20 a slice, four slices
SETTINGS = {"ASSISTANT_INGEST__SLICE_MESSAGES": str(SLICE), "ASSISTANT_INGEST__COMMIT_BATCH": "8"}


def _report(path: Path, chats: int = 8, per_chat: int = 20) -> None:
    """Chats of three people; every fourth message names a phone number and an e-mail address (link mentions)."""
    owner = ("+447700900001", "", True)
    people = [(f"+4477009{n:05d}", f"Contact {n}", False) for n in range(2, 12)]
    out = io.StringIO()

    def chat(c: int) -> Any:
        a, b = people[c % 10], people[(c * 7 + 3) % 10]
        return pa.chat(f"c{c}", f"chat-{c}@g.us", [a, b, owner], (
            pa.instant_message(f"m{c}-{k}", f"K{c}-{k}", f"2024-04-{1 + k % 28:02d}T{k % 24:02d}:{c:02d}:00.000+00:00",
                               (a, b, owner)[k % 3],
                               f"Load {c}-{k} leaves dock {k % 9} tonight; ring {b[0]} or write to ops{c}@example.org"
                               if k % 4 == 0 else f"ok {c}-{k}, see you at gate {k % 7}", deleted=k % 17 == 0)
            for k in range(per_chat)))

    pa.write_report(out, (("Chat", chat(c)) for c in range(chats)), owner="Sam Vale")
    path.write_text(out.getvalue(), encoding="utf-8")


def dump(index_dir: str) -> None:
    """Print (JSON) what the case holds in every store, served or not; run in a child process, so no Chroma client
    of this one caches what a child changes."""
    from assistant.config import load_settings
    from assistant.index.store import IndexStore

    root = Path(index_dir)
    store = IndexStore(root, chroma=load_settings(index_dir=root).index)
    try:
        got = store.side_collection(CASE, "").get(include=["documents", "metadatas"])
        chunks = {i: [d, m] for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
        served = {s: [r.sha256, r.n_chunks] for s, r in store.manifest.served(CASE).items()}
        pending = [[r.source, r.sha256, r.n_chunks] for r in store.manifest.pending(CASE)]
    finally:
        store.manifest.close()

    def rows(db: str, sql: str) -> list[list[Any]]:
        with sqlite3.connect(root / db) as conn:
            found = conn.execute(sql, (CASE,)).fetchall()
        return sorted([v.hex() if isinstance(v, bytes) else v for v in r] for r in found)

    print(json.dumps({
        "chunks": chunks, "served": served, "pending": pending,
        "keys": rows("manifest.sqlite", "SELECT source, sha256, key, is_id, has_id, content, message_id, status, "
                     "chunk_ids, holder, holder_sha, holder_msg, provenance FROM msg_keys WHERE case_id=?"),
        "mentions": rows("links.sqlite", "SELECT * FROM mentions WHERE case_id=?"),
        "aliases": rows("links.sqlite", "SELECT * FROM aliases WHERE case_id=?"),
        "link_sources": rows("links.sqlite", "SELECT source, chunks FROM sources WHERE case_id=?"),
        "staged": rows("links.sqlite", "SELECT source, value, chunk_id FROM pending_mentions WHERE case_id=?1 "
                       "UNION ALL SELECT source, alias, chunk_id FROM pending_aliases WHERE case_id=?1"),
    }))


def _state(index_dir: Path) -> dict[str, Any]:
    done = run_child(["-c", f"from tests.test_sliced_kill import dump; dump({str(index_dir)!r})"], child_env())
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout))


def _ingest(index_dir: Path, folder: Path) -> dict[str, Any]:
    done = run_cli(index_dir, *ingest_args(folder, CASE), settings=SETTINGS)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout))


def _kill_after_first_slice(index_dir: Path, folder: Path) -> tuple[int, int]:
    """Run the ingest, SIGKILL it (and its process group) when its log says a slice is indexed; its exit status and
    the chunks that slice wrote."""
    env = child_env(index_dir, **SETTINGS, ASSISTANT_LOG_LEVEL="INFO")
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli.main", *ingest_args(folder, CASE)], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    chunks = 0
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "slice indexed" in line:
                os.killpg(proc.pid, signal.SIGKILL)
                chunks = int(line.rsplit("chunks=", 1)[1])
                break
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    return proc.returncode, chunks


def _of(state: dict[str, Any], source: str) -> dict[str, Any]:
    return {cid: c for cid, c in state["chunks"].items() if c[1]["source"] == source}


def test_an_ingest_killed_mid_report_is_never_served_and_resumes_to_an_uninterrupted_runs_end(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    _report(folder / BIG)
    (folder / "a_note.txt").write_text("The harbour master logged the grey trawler at six.\n", encoding="utf-8")
    reference_dir, killed_dir, repaired_dir = tmp_path / "reference", tmp_path / "killed", tmp_path / "repaired"

    uninterrupted = _ingest(reference_dir, folder)
    assert sorted(uninterrupted["ingested"]) == ["a_note.txt", BIG]
    expected = _state(reference_dir)
    whole = _of(expected, BIG)
    total, sha = len(whole), expected["served"][BIG][0]
    assert expected["served"][BIG][1] == total and uninterrupted["chunks"] == total + 1
    assert expected["mentions"] and expected["keys"] and not expected["staged"]

    code, first = _kill_after_first_slice(killed_dir, folder)
    assert code == -signal.SIGKILL and 0 < first < total  # killed with slices and the swap still to come
    killed = _state(killed_dir)
    assert killed["pending"] == [[BIG, sha, 0]]  # the count is known at the swap only
    assert set(killed["served"]) == {"a_note.txt"}  # nothing of the report served
    written = _of(killed, BIG)
    assert first <= len(written) < total and all(whole[cid] == c for cid, c in written.items())
    assert not any(m[3] == BIG for m in killed["mentions"]) and [BIG] not in [s[:1] for s in killed["link_sources"]]
    staged = [s for s in killed["staged"] if s[0] == BIG]
    assert staged and {s[2] for s in staged} <= set(written)  # mentions of written chunks only, waiting for the swap
    assert any(k[0] == BIG for k in killed["keys"])  # rows of an unserved version: never counted

    code, found = fsck(killed_dir, CASE)
    assert code == 1, found
    problems = {p["kind"]: p for p in found["problems"]}
    assert problems["pending"]["source"] == BIG and "staged_links" not in problems  # the resume will drop them
    assert (f"partially committed: {len(written)} chunks, written in slices, total not known before the swap"
            in problems["pending"]["detail"]) and "resumes" in problems["pending"]["repair"]
    assert "message_keys" not in problems  # the key rows of a version in flight wait with it, as its chunks do
    shutil.copytree(killed_dir, repaired_dir)

    resumed = _ingest(killed_dir, folder)
    assert resumed["ingested"] == [BIG] and resumed["unchanged"] == ["a_note.txt"] and resumed["chunks"] == total
    assert {"source": BIG, "note": f"resumed: {len(written)} of {total} chunks were committed by an interrupted "
            "ingest of the same bytes and kept"} in resumed["notes"]
    assert _state(killed_dir) == expected  # chunks, key rows, mentions, aliases: none duplicated, none missing
    code, report = fsck(killed_dir, CASE)
    assert code == 0 and report["clean"] and report["chunks"] == total + 1, report

    code, report = fsck(repaired_dir, CASE, "--repair")  # or, instead of resuming, repair the killed index
    assert code == 0 and report["clean"], report
    assert any(line.startswith(f"{BIG}: dropped a pending version ({len(written)} chunks)")
               for line in report["repaired"])
    assert any(line.startswith(f"{BIG}: deleted {len(staged)} staged link row(s)") for line in report["repaired"])
    left = _state(repaired_dir)
    assert set(left["served"]) == {"a_note.txt"} and not left["pending"] and not _of(left, BIG)
    assert not left["staged"] and not any(k[0] == BIG for k in left["keys"])
