"""Duplicates across sources (issue 13): a UFDR report and a WhatsApp .txt export of the same chat, built in
tmp_path, ingested for real (Chroma in tmp_path, Presidio, the packaged embedder). A message already indexed from one
is not indexed again from the other; the citation panel lists both sources; `assistant remove` of the holder and a
re-ingest of it keep every message indexed exactly once; same key with different content is kept twice and reported."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from assistant.index.fsck import check
from assistant.loaders.phone.records import record_of
from assistant.text.messages import message_records
from assistant.ui.render import phone_badge
from tests import pa_report as pa

OWNER = ("+447700900001", "Sam Owner", True)
KIRA = ("+447700900418", "Kira Lane", False)
CHAT = [("m1", "10:00", KIRA, "Are you still coming to the retail park on Saturday?"),
        ("m2", "10:01", OWNER, "Yes, I will drive there after work."),
        ("m3", "10:03", KIRA, "Bring the blue bag with you."),
        ("m4", "10:05", KIRA, "The money is in the glovebox.")]
EXTRA = ("15/03/2024, 10:07 - Kira Lane: See you at the canal bridge at nine\n")  # only in the .txt


def write_ufdr(folder: Path, chat: list[tuple[str, str, tuple[str, str, bool], str]], name: str = "report.xml") \
        -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    msgs = [pa.instant_message(i, f"KEY-{i}", f"2024-03-15T{t}:00.000+00:00", who, text) for i, t, who, text in chat]
    pa.write_report(out, [("Chat", pa.chat("c1", "kira@s.whatsapp.net", [KIRA, OWNER], msgs))])
    (folder / name).write_text(out.getvalue(), encoding="utf-8")
    return folder


def write_txt(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"15/03/2024, {t} - {who[1]}: {text}\n" for _, t, who, text in CHAT[:3])
    (folder / "WhatsApp Chat with Kira.txt").write_text(lines + EXTRA, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from assistant.app import App
    from assistant.config import load_settings

    settings = load_settings(index_dir=tmp_path_factory.mktemp("index"))
    settings.llm.backend = "extractive"
    return App(settings)


def lines_of(app: Any, case: str) -> dict[str, list[tuple[str, Any]]]:
    """body -> [(source, phone record)] over every served chunk: where each message is indexed."""
    out: dict[str, list[tuple[str, Any]]] = {}
    for chunk in app.store.iter_chunks(case):
        for rec in message_records(chunk.meta):
            phone = record_of(rec.phone)
            out.setdefault(phone.body if phone else rec.body, []).append((chunk.meta["source"], phone))
    return out


def notes_of(report: Any, source: str) -> list[str]:
    return [n for s, n in report.notes if s == source]


def remove(app: Any, case: str, source: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    from assistant.cli.integrity import run_remove

    code = run_remove(argparse.Namespace(case=case, sources=[source], json=True, wait=0.0), app)
    assert code == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_a_message_from_two_sources_is_indexed_once_with_both_provenances(app: Any, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    case = "dup-merge"
    first = app.ingest([write_ufdr(tmp_path / "a", CHAT)], case, progress=False)
    assert first.ingested == ["report.xml"], first.failed
    second = app.ingest([write_txt(tmp_path / "b")], case, progress=False)
    assert second.ingested == ["WhatsApp Chat with Kira.txt"], second.failed
    assert "3 message(s) already indexed from report.xml: not indexed again, this file added to their provenance" \
        in notes_of(second, "WhatsApp Chat with Kira.txt")
    where = lines_of(app, case)
    for _, _, _, text in CHAT[:3]:
        assert [src for src, _ in where[text]] == ["report.xml"], text  # once, in the first source
        phone = where[text][0][1]
        assert phone.provenance[0].startswith("report.xml#model ")
        assert phone.provenance[1].startswith("WhatsApp Chat with Kira#line ")
    assert [src for src, _ in where["See you at the canal bridge at nine"]] == ["WhatsApp Chat with Kira.txt"]
    assert len(where[CHAT[3][3]][0][1].provenance) == 1  # not in the .txt: only its own source
    chunk = next(c for c in app.store.iter_chunks(case) if CHAT[0][3] in c.text)
    badge = phone_badge(next(r.phone for r in message_records(chunk.meta) if CHAT[0][3] in r.body))
    assert "read from 2 source(s)" in badge and "WhatsApp Chat with Kira#line 1" in badge
    assert check(app.store, case).clean

    again = app.ingest([tmp_path / "b"], case, progress=False)  # unchanged: nothing moves
    assert again.unchanged == ["WhatsApp Chat with Kira.txt"]

    # the holder removed: the .txt is read again from where it came from and now holds its messages itself
    removed = remove(app, case, "report.xml", capsys)
    assert removed["reindexed"] == ["WhatsApp Chat with Kira.txt"]
    where = lines_of(app, case)
    for _, _, _, text in CHAT[:3]:
        assert [src for src, _ in where[text]] == ["WhatsApp Chat with Kira.txt"], text
        assert len(where[text][0][1].provenance) == 1
    assert CHAT[3][3] not in where
    assert check(app.store, case).clean
    hits = app.retrieve(case, "where is the blue bag")
    assert any("Bring the blue bag" in p.text for p in hits)


def test_a_reingested_holder_keeps_the_merged_provenance(app: Any, tmp_path: Path) -> None:
    case = "dup-reingest"
    app.ingest([write_ufdr(tmp_path / "a", CHAT[:3])], case, progress=False)
    app.ingest([write_txt(tmp_path / "b")], case, progress=False)
    write_ufdr(tmp_path / "a", CHAT)  # a new version of the holder, with one more message
    report = app.ingest([tmp_path / "a"], case, progress=False)
    assert report.ingested == ["report.xml"] and report.replaced, report.failed
    where = lines_of(app, case)
    for _, _, _, text in CHAT[:3]:
        assert [src for src, _ in where[text]] == ["report.xml"], text
        assert any(p.startswith("WhatsApp Chat with Kira#line") for p in where[text][0][1].provenance)
    assert "WhatsApp Chat with Kira.txt" not in report.ingested  # re-pointed, not re-read
    assert check(app.store, case).clean

    write_ufdr(tmp_path / "a", CHAT[3:])  # the holder no longer has the .txt's messages: the .txt is read again
    report = app.ingest([tmp_path / "a"], case, progress=False)
    assert "WhatsApp Chat with Kira.txt" in report.ingested
    where = lines_of(app, case)
    for _, _, _, text in CHAT[:3]:
        assert [src for src, _ in where[text]] == ["WhatsApp Chat with Kira.txt"], text
    assert check(app.store, case).clean


def test_same_key_with_different_content_is_kept_twice_and_reported(app: Any, tmp_path: Path) -> None:
    case = "dup-conflict"
    app.ingest([write_ufdr(tmp_path / "a", CHAT)], case, progress=False)
    changed = [*CHAT[:3], ("m4", "10:05", KIRA, "The money is in the boot, not the glovebox.")]
    report = app.ingest([write_ufdr(tmp_path / "c", changed, name="second_report.xml")], case, progress=False)
    notes = notes_of(report, "second_report.xml")
    assert "3 message(s) already indexed from report.xml: not indexed again, this file added to their provenance" \
        in notes
    assert any(n.startswith("1 message(s) share an app message id") and "conflict, both kept" in n for n in notes)
    where = lines_of(app, case)
    assert [src for src, _ in where[CHAT[3][3]]] == ["report.xml"]
    assert [src for src, _ in where["The money is in the boot, not the glovebox."]] == ["second_report.xml"]


def test_a_source_whose_holder_cannot_be_read_again_is_reported(app: Any, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    case = "dup-gone"
    app.ingest([write_ufdr(tmp_path / "a", CHAT)], case, progress=False)
    app.ingest([write_txt(tmp_path / "b")], case, progress=False)
    (tmp_path / "b" / "WhatsApp Chat with Kira.txt").unlink()
    removed = remove(app, case, "report.xml", capsys)
    assert removed["reindexed"] == []
    assert any(n["source"] == "WhatsApp Chat with Kira.txt" and "ingest it again" in n["note"]
               for n in removed["notes"])


def test_a_source_wholly_merged_is_served_with_no_chunks_until_its_holder_goes(app: Any, tmp_path: Path,
                                                                               capsys: pytest.CaptureFixture[str]) \
        -> None:
    case = "dup-whole"
    app.ingest([write_ufdr(tmp_path / "a", CHAT)], case, progress=False)
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "chat.txt").write_text("".join(f"15/03/2024, {t} - {who[1]}: {text}\n" for _, t, who, text in CHAT),
                                     encoding="utf-8")
    report = app.ingest([folder], case, progress=False)
    assert report.ingested == ["chat.txt"] and report.chunks == 0, report.failed
    assert app.store.source_state(case, "chat.txt").n_chunks == 0
    assert check(app.store, case).clean
    removed = remove(app, case, "report.xml", capsys)
    assert removed["reindexed"] == ["chat.txt"]
    where = lines_of(app, case)
    assert all([src for src, _ in where[text]] == ["chat.txt"] for *_, text in CHAT)


def test_a_holder_rebuilt_from_its_chunks_keeps_only_live_provenance(app: Any, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The translation re-index rebuilds a source from its stored chunks (whose records carry the merged
    provenance): afterwards, removing the merged source must still take its entries out of the holder."""
    from assistant.translate.run import reindex_source

    case = "dup-rebuilt"
    app.ingest([write_ufdr(tmp_path / "a", CHAT)], case, progress=False)
    app.ingest([write_txt(tmp_path / "b")], case, progress=False)
    metas = [c.meta for c in app.store.iter_chunks(case) if c.meta["source"] == "report.xml"]
    assert reindex_source(app.store, app.ingestor, case, "report.xml", metas)
    where = lines_of(app, case)
    for _, _, _, text in CHAT[:3]:
        assert [src for src, _ in where[text]] == ["report.xml"], text
        assert sum(p.startswith("WhatsApp Chat with Kira#line") for p in where[text][0][1].provenance) == 1
    (tmp_path / "b" / "WhatsApp Chat with Kira.txt").unlink()  # removed for good: nothing to read again
    remove(app, case, "WhatsApp Chat with Kira.txt", capsys)
    where = lines_of(app, case)
    for _, _, _, text in CHAT[:3]:
        assert [p.split("#")[0] for p in where[text][0][1].provenance] == ["report.xml"], where[text]
    assert check(app.store, case).clean
