"""The SciFact headline goes through the product's own path (Ingestor + Retriever): checked here on a tiny corpus
with the real embedder, real Chroma and the real query-term tagger."""

from __future__ import annotations

from pathlib import Path

from assistant.config import load_settings
from evals.suites.product_path import product_rankings

DOCS = [
    ("d1", "Vitamin D and bone density\nVitamin D supplements increased bone mineral density in older women."),
    ("d2", "Statins and the heart\nStatin therapy lowered LDL cholesterol and cut cardiovascular events."),
    ("d3", "Sleep and memory\nSlow-wave sleep consolidates declarative memory in young adults."),
    ("d4", "Exercise and mood\nAerobic exercise reduced symptoms of depression over twelve weeks."),
]
QUERIES = {"q1": "Statins reduce cardiovascular events.", "q2": "Deep sleep helps memory consolidation.",
           "q3": "vitamin d supplementation improves bone density"}


def test_product_rankings_rank_the_document_that_answers_first_and_reuse_the_index(tmp_path: Path) -> None:
    settings = load_settings(cache_dir=tmp_path / "cache", index_dir=tmp_path / "indexes")
    runs, facts = product_rankings("tiny", DOCS, QUERIES, settings, progress=False)
    assert [runs[q][0] for q in ("q1", "q2", "q3")] == ["d2", "d3", "d1"]
    assert all(sorted(r) == sorted(set(r)) for r in runs.values())  # one entry per document
    assert facts["ingested_now"] == 4 and facts["failed"] == 0 and facts["chunks"] == 4
    again, facts2 = product_rankings("tiny", DOCS, QUERIES, settings, progress=False)
    assert again == runs and facts2["ingested_now"] == 0 and facts2["case"] == facts["case"]
    changed = settings.model_copy(update={"embedding": settings.embedding.model_copy(update={"chunk_tokens": 64})})
    assert product_rankings("tiny", DOCS, QUERIES, changed, progress=False)[1]["case"] != facts["case"]


def test_eval_index_lives_outside_the_checkout_and_old_code_versions_are_pruned(tmp_path: Path) -> None:
    import fcntl
    import os

    from evals.suites import eval_index

    settings = load_settings(cache_dir=tmp_path / "cache", index_dir=tmp_path / "indexes")
    base = tmp_path / "cache" / "eval-index"
    base.mkdir(parents=True)
    olds = []
    for i in range(5):  # five folders of older code versions, oldest first
        old = base / f"old{i}"
        old.mkdir()
        (old / ".lock").touch()
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
        olds.append(old)
    held = (olds[0] / ".lock").open("ab")  # another process still evaluates with the oldest version
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        root = eval_index.eval_root(settings)
    finally:
        held.close()
    assert root == base / eval_index.code_key() and root.is_dir()
    assert eval_index.code_key() == eval_index.code_key()
    kept = {p.name for p in base.iterdir() if p.is_dir()}
    # the current folder, the KEEP - 1 newest older ones, and the locked one (never deleted under a running eval)
    assert kept == {root.name, "old4", "old3", "old0"}
    assert not (tmp_path / "indexes").exists()  # nothing written into the checkout's index folder
