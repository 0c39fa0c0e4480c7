"""Cross-source duplicates survive a crash (issue 13): a real `assistant ingest` of a WhatsApp .txt whose messages a
UFDR already holds is SIGKILLed before and after the manifest swap (index.durable kill points); `assistant fsck`
must see what the key table was left with, `fsck --repair` must make it agree, and every message ends indexed once
with both provenances. Real processes, a real index in tmp_path."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from assistant.index.store import IndexStore
from assistant.loaders.phone.records import record_of
from assistant.text.messages import message_records
from tests.killharness import run_cli
from tests.test_cross_source_dedup import CHAT, write_txt, write_ufdr
from tests.test_fault_injection import CASE, _fsck, _ingest

pytestmark = pytest.mark.slow  # six child processes, each loading the models (about a CPU-minute)

TXT = "WhatsApp Chat with Kira.txt"


def _where(index_dir: Path) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    store = IndexStore(index_dir)
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for chunk in store.iter_chunks(CASE):
        for rec in message_records(chunk.meta):
            phone = record_of(rec.phone)
            assert phone is not None
            out.setdefault(phone.body, []).append((str(chunk.meta["source"]), phone.provenance))
    store.manifest.close()
    return out


def test_a_crash_around_the_swap_leaves_every_message_indexed_once(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    assert _ingest(index_dir, write_ufdr(tmp_path / "a", CHAT)).returncode == 0
    txt = write_txt(tmp_path / "b")

    killed = _ingest(index_dir, txt, kill="before_swap")  # key rows written, version never served
    assert killed.returncode == -signal.SIGKILL
    where = _where(index_dir)
    assert all(len(where[text]) == 1 and len(where[text][0][1]) == 1 for *_, text in CHAT)  # nothing half-merged
    assert _fsck(index_dir)[0] == 1
    code, fixed = _fsck(index_dir, "--repair")
    assert code == 0, fixed

    killed = _ingest(index_dir, txt, kill="after_swap")  # served, holder provenance not yet recomputed
    assert killed.returncode == -signal.SIGKILL
    code, found = _fsck(index_dir)
    assert code == 1 and "message_keys" in {p["kind"] for p in found["problems"]}, found
    code, fixed = _fsck(index_dir, "--repair")
    assert code == 0, fixed
    where = _where(index_dir)
    for _, _, _, text in CHAT[:3]:
        assert [src for src, _ in where[text]] == ["report.xml"], text
        assert any(p.startswith("WhatsApp Chat with Kira#line") for p in where[text][0][1]), where[text]
    assert [src for src, _ in where["See you at the canal bridge at nine"]] == [TXT]

    done = run_cli(index_dir, "remove", "--case", CASE, "report.xml", "--json")
    assert done.returncode == 0, done.stderr
    where = _where(index_dir)
    assert all([src for src, _ in where[text]] == [TXT] for *_, text in CHAT[:3])
    assert _fsck(index_dir)[0] == 0
