"""A phone file's records merged and ordered on disk (`loaders.phone.merge.MergedRecords`) give exactly the document
the in-memory merge gave (`merge_duplicates`, then each thread sorted by timestamp, ids made unique), and the parse
worker's frames carry that document however many frames it takes (issue 13: bounded memory on large reports)."""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.ingest import wire
from assistant.loaders import parse_source, parse_source_stream, read_source
from assistant.loaders.phone import build_document, stream_document
from assistant.loaders.phone.merge import merge_duplicates
from assistant.loaders.phone.records import PhoneRecord, to_message
from assistant.types import Document, Message
from tests import pa_report as pa


def in_memory(records: list[PhoneRecord]) -> tuple[Message, ...]:
    """The previous in-memory build: merge, group threads in first-kept order, stable sort by timestamp, unique ids."""
    merged, _ = merge_duplicates(records)
    threads: dict[str, list[PhoneRecord]] = {}
    for r in merged:
        threads.setdefault(r.thread, []).append(r)
    out = [to_message(r) for rs in threads.values() for r in sorted(rs, key=lambda r: r.timestamp)]
    ids = Counter(m.message_id for m in out)
    seen: Counter[str] = Counter()
    fixed = []
    for m in out:
        seen[m.message_id] += 1
        fixed.append(m if ids[m.message_id] == 1 else replace(m, message_id=f"{m.message_id}#{seen[m.message_id]}"))
    return tuple(fixed)


def mixed_records(n: int, seed: int) -> list[PhoneRecord]:
    """Messages of several threads out of time order, equal timestamps, repeated app ids (merged), text duplicates,
    a duplicate whose own thread is new (never seen through it), repeated record ids, calls and contacts."""
    rng = random.Random(seed)
    out: list[PhoneRecord] = []
    for k in range(n):
        thread = rng.choice(["chat-a", "chat-b", "chat-ç", "calls", ""])
        kind = "call" if thread == "calls" else rng.choice(["message", "message", "system", "contact"])
        app_id = rng.choice(["", f"K{rng.randint(0, n // 3)}"]) if kind == "message" else ""
        out.append(PhoneRecord(kind=kind, record_id=f"r{rng.randint(0, n // 2)}", thread=thread,  # type: ignore[arg-type]
                               timestamp=f"2024-03-{rng.randint(1, 3):02d}T10:{rng.randint(0, 5):02d}:00+00:00",
                               body=rng.choice(["hi", "see you at 5", "", "Łódź?"]), sender=rng.choice(["A", "B"]),
                               app_id=app_id, deleted=rng.random() < 0.1, source_app="WhatsApp",
                               provenance=(f"f{k % 3}#model {k}",)))
    out.append(replace(out[0], thread="only-through-a-duplicate", provenance=("other#1",)))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_disk_merge_gives_the_in_memory_document(seed: int) -> None:
    records = mixed_records(300, seed)
    expected = in_memory(records)
    doc, notes, messages = stream_document(iter(records), "x.xml", "0" * 64, ["n"])
    try:
        assert len(messages) == len(expected) and doc.messages == ()
        assert tuple(messages) == expected  # same messages, order, ids, provenance
        assert tuple(messages) == expected  # read again: the same
    finally:
        messages.close()
    merged, dups = merge_duplicates(records)
    kinds = Counter(r.kind for r in merged)
    assert dups > 0 and f"{dups} duplicate(s) merged" in notes[0] and f"{kinds['message']} message(s)" in notes[0]
    assert notes[1:] == ["n"]
    assert build_document(records, "x.xml", "0" * 64, ["n"]) == (replace(doc, messages=expected), notes)


def report(path: Path) -> Path:
    out = io.StringIO()
    kira, owner = ("+447700900418", "Kira Lane", False), ("+447700900001", "", True)
    chats = [("Chat", pa.chat(f"c{c}", f"chat-{c}@g.us", [kira, owner], [
        pa.instant_message(f"m{c}-{k}", f"K{c}-{k % 7}", f"2024-03-{1 + (k * 5) % 9:02d}T10:00:00.000+00:00",
                           kira if k % 2 else owner, f"message {k} of chat {c}", deleted=k % 11 == 0)
        for k in range(12)])) for c in range(3)]
    pa.write_report(out, [*chats, ("SMS", [pa.sms("s1", "2024-03-14T09:00:00.000+00:00", "+447700900777", "4471")]),
                          ("Call", [pa.call("k1", "2024-03-15T10:12:00.000+00:00", "Incoming", "07700 900418",
                                            "Kira Lane", "00:02:31")])], owner="Sam Vale")
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_the_worker_frames_carry_the_streamed_report_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read = read_source(report(tmp_path / "report.xml"), tmp_path)
    expected = parse_source(read)  # the whole Document, in this process
    # 12 messages a chat on 7 app ids (5 merged), 3 chats, the SMS, the call, the device record
    assert len(expected[0].messages) == 3 * 7 + 3 and "15 duplicate(s) merged" in expected[1][0]
    monkeypatch.setattr(wire, "ROWS_PER_FRAME", 5)  # several frames, the last one short
    doc, notes, messages = parse_source_stream(read)
    try:
        frames = list(wire.encode_reply("ok", (doc, notes, messages), 1))
    finally:
        messages.close()
    assert len(frames) == 1 + -(-len(expected[0].messages) // 5)
    blob = b"".join(frames)
    got = wire.read_reply(io.BytesIO(blob).read, len(blob))
    assert got == ("ok", expected, 1)
    locators = [m.message_id for m in got[1][0].messages]
    assert len(set(locators)) == len(locators)  # ids unique inside the document, as citations need


def test_a_stream_that_falls_short_of_its_count_is_refused() -> None:
    class Short:
        def __len__(self) -> int:
            return 3

        def __iter__(self):  # type: ignore[no-untyped-def]
            yield Message("1", "t", "2024", "A", "hi")

        def close(self) -> None: ...

    doc = Document(source="s", kind="messages", text="", sha256="0" * 64)
    with pytest.raises(ValueError, match="1 messages streamed, 3 announced"):
        list(wire.encode_reply("ok", (doc, [], Short()), 1))
