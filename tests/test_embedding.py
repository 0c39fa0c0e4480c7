"""The packaged embedder ranks by meaning, and its cache is keyed by content, not by where things live."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import EmbeddingSettings
from assistant.index.embedding import Embedder, model_fingerprint


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    return Embedder(EmbeddingSettings(), cache_dir=tmp_path_factory.mktemp("cache"))


def test_vectors_are_normalised_and_rank_by_meaning(embedder: Embedder) -> None:
    docs = ["The boy was collected by a taxi from the bus station.",
            "The custody sergeant recorded the detainee's property.",
            "Heavy rain flooded the football pitch on Saturday."]
    vecs = embedder.embed_texts(docs)
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    q = embedder.embed_query("Which cab picked the child up?")
    assert int(np.argmax(vecs @ q)) == 0


def test_second_embedding_of_the_same_text_comes_from_the_cache(embedder: Embedder,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["a sentence seen once", "another sentence seen once"]
    first = embedder.embed_texts(texts)

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was called for cached text")

    monkeypatch.setattr(embedder, "_encode", no_model)
    again = embedder.embed_texts(list(reversed(texts)))
    assert np.array_equal(again, first[::-1])


def test_fingerprint_depends_on_content_not_path(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text('{"dim": 384}')
        (tmp_path / name / "model.safetensors").write_bytes(b"\x00weights")
    assert model_fingerprint(str(tmp_path / "a")) == model_fingerprint(str(tmp_path / "b"))
    (tmp_path / "b" / "model.safetensors").write_bytes(b"\x01weights")
    assert model_fingerprint(str(tmp_path / "a")) != model_fingerprint(str(tmp_path / "b"))
