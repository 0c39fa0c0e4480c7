"""EmbeddingGemma vectors stored at ingest (index.languages.gemma_space) on real components: real Chroma, the real
installed EmbeddingGemma (skipped when `assistant models install embeddinggemma` has not run), real ingest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.config import load_settings

FOREIGN = [("m1", "Samochód stoi na parkingu za szpitalem, kluczyki są w schowku."),
           ("m2", "Am pierdut portofelul în autobuzul de noapte spre gară."),
           ("m3", "سأرسل لك المال عن طريق البنك يوم الاثنين"),
           ("m4", "Tôi đã mua vé máy bay cho tuần sau rồi.")]
ENGLISH = [("m5", "The printer on the second floor is broken again, call facilities.")]
# two English messages for one question, which EmbeddingGemma ranks e1 first
NUMBER = [("e1", "POPESCU uses mobile number 07700 900733 for the deliveries."),
          ("e2", "Whose number is this? Nobody here knows whose phone number it is.")]


def _write(folder: Path, rows: list[tuple[str, str]], name: str = "phone.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["message_id,thread_id,timestamp,sender,recipient,body"]
    lines += [f'{mid},t{i},2024-05-0{i + 1}T10:00:00,A,B,"{body}"' for i, (mid, body) in enumerate(rows)]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def gapp(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from assistant.app import App
    from assistant.llm.embedding_model import installed_dir

    settings = load_settings(index_dir=tmp_path_factory.mktemp("gm") / "idx")
    if installed_dir(settings.cache_dir) is None:
        pytest.skip("EmbeddingGemma not installed (`assistant models install embeddinggemma`, run by `make llm`)")
    settings.chunking.message_window = 1
    settings.chunking.message_overlap = 0
    app = App(settings)
    root = _write(tmp_path_factory.mktemp("case"), FOREIGN + ENGLISH + NUMBER)
    _write(root, [("x1", "Mâine plouă, așa că ia o umbrelă cu tine.")], "other.csv")
    report = app.ingest([root], "gm", progress=False)
    assert sorted(report.ingested) == ["other.csv", "phone.csv"]
    return app


def _ids(app: Any) -> dict[str, str]:
    return {str(c.meta.get("message_ids", "")): c.chunk_id for c in app.store.iter_chunks("gm")}


def test_non_english_originals_get_stored_vectors_and_english_ones_do_not(gapp: Any) -> None:
    from assistant.index.languages.gemma_space import SPACE, rescoring_texts, text_key

    col = gapp.store.side_collection("gm", SPACE)
    got = col.get(include=["metadatas"])
    ids = _ids(gapp)
    by_chunk = {m["chunk_id"]: m for m in got["metadatas"]}
    assert set(by_chunk) == {ids[m] for m, _ in FOREIGN} | {ids["x1"]}  # not m5 (English)
    chunk = gapp.store.get_chunk("gm", ids["m3"])
    assert by_chunk[ids["m3"]]["key"] == text_key(rescoring_texts(chunk)[0])
    assert by_chunk[ids["x1"]]["source"] == "other.csv"


def test_rescoring_reads_the_stored_vectors_and_embeds_only_the_question(gapp: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.index.languages.gemma_space import rescoring_texts

    cross = gapp.crosslingual
    scorer = cross.scorer
    ids = _ids(gapp)
    head = [ids[m] for m in ("m2", "m4", "m3", "m1")]
    chunks = gapp.store.get_chunks("gm", head)
    texts = [rescoring_texts(chunks[c])[0] for c in head]
    fresh = scorer.scores("Where is the car parked?", texts)  # embeds them now (in-memory cache filled)
    assert fresh is not None and int(np.argmax(fresh)) == 3
    scorer._cache.clear()
    calls: list[int] = []
    model = scorer._load()
    real = model.encode_document
    monkeypatch.setattr(model, "encode_document", lambda texts, **kw: calls.append(len(texts)) or real(texts, **kw))
    stored = scorer.scores("Where is the car parked?", texts, cross.space.vectors("gm", head))
    assert calls == [] and stored is not None and np.allclose(stored, fresh, atol=1e-4)
    out = cross.rescore("gm", "Where is the car parked?", [(c, 1.0 - i / 10) for i, c in enumerate(head)], 60)
    assert calls == [] and out[0][0] == ids["m1"]
    # a text whose hash no longer matches its stored vector is embedded, never scored with the old vector
    scorer.scores("Where is the car parked?", [texts[0] + " (edited)"], cross.space.vectors("gm", head))
    assert calls == [1]


def test_rescoring_moves_foreign_candidates_but_keeps_the_fused_order_of_english_ones(gapp: Any) -> None:
    cross = gapp.crosslingual
    ids = _ids(gapp)
    question = "Whose number is +447700900733?"
    head = [ids["e2"], ids["e1"], ids["m1"], ids["m4"]]  # the fused order: e2 first
    chunks = gapp.store.get_chunks("gm", head)
    scores = cross.scorer.scores(question, [chunks[c].text for c in head])
    assert scores is not None and scores[1] > scores[0] > max(scores[2:])  # the model alone: e1, e2, foreign
    out = [c for c, _ in cross.rescore("gm", question, [(c, 1.0 - i / 10) for i, c in enumerate(head)], 60)]
    english = [ids["e2"], ids["e1"]]
    assert [c for c in out if c in english] == english  # without the rule e1 passes e2 (weight 4 on the model)
    # a foreign candidate the model prefers still passes the English ones
    out = [c for c, _ in cross.rescore("gm", "Where is the car parked?",
                                       [(c, 1.0 - i / 10) for i, c in enumerate(head[::-1])], 60)]
    assert out[0] == ids["m1"] and [c for c in out if c in english] == english[::-1]


def test_the_stored_space_finds_what_the_question_asks_for(gapp: Any) -> None:
    cross = gapp.crosslingual
    ids = _ids(gapp)
    qvec = cross.scorer.query_vector("How will the money be sent?")
    assert next(c for c, _ in cross.space.search("gm", qvec, 2)) == ids["m3"]
    assert cross._gemma_pool("gm", "What was lost on the night bus?")[0] == ids["m2"]


def test_removing_a_source_or_the_case_drops_its_vectors(gapp: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.main import build_parser
    from assistant.index.languages.gemma_space import SPACE

    col = gapp.store.side_collection("gm", SPACE)
    before = col.count()
    args = build_parser().parse_args(["remove", "--case", "gm", "other.csv", "--json"])
    assert args.func(args, gapp) == 0 and json.loads(capsys.readouterr().out)["removed"]
    assert col.count() == before - 1 and not col.get(where={"source": "other.csv"})["ids"]
    assert gapp.store.side_collection("gm", "ml").get(where={"source": "other.csv"})["ids"] == []
    assert gapp.store.delete_case("gm")
    assert gapp.store.side_collection("gm", SPACE).count() == 0


def test_without_the_model_ingest_stores_nothing_and_does_not_fail(tmp_path: Path) -> None:
    from assistant.app import App
    from assistant.index.languages.rerank import GemmaScorer

    app = App(load_settings(index_dir=tmp_path / "idx"))
    assert app.multilingual is not None and app.multilingual.gemma is not None
    app.multilingual.gemma.scorer = GemmaScorer(None)
    report = app.ingest([_write(tmp_path / "c", FOREIGN)], "nogm", progress=False)
    assert report.ingested == ["phone.csv"] and not report.failed
    assert app.store.side_collection("nogm", "gm").count() == 0
    assert app.store.side_collection("nogm", "ml").count() == len(FOREIGN)


def test_an_english_only_case_stores_nothing_and_never_loads_the_model(tmp_path: Path) -> None:
    from assistant.app import App
    from assistant.index.languages.crosslingual import Crosslingual
    from assistant.index.retrieval import Retriever

    app = App(load_settings(index_dir=tmp_path / "idx"))
    rows = [("e1", "The van was parked behind the hospital all night."), ("e2", "Send the money by bank on Monday."),
            *ENGLISH]
    app.ingest([_write(tmp_path / "c", rows)], "en", progress=False)
    assert app.store.side_collection("en", "gm").count() == 0
    cross = app.crosslingual
    plain = Crosslingual(app.store, app.multilingual, cross.scorer,
                         app.settings.language.model_copy(update={"rerank_search": 0}))
    for question in ("Where was the van parked?", "How will the money be sent?"):
        got = [p.chunk_id for p in app.retriever.retrieve("en", question)]
        without = Retriever(app.store, app.embedder, app.settings.retrieval, crosslingual=plain)
        assert got == [p.chunk_id for p in without.retrieve("en", question)]
    assert cross.scorer._model is None  # EmbeddingGemma was never loaded for English questions
