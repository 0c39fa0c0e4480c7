"""Evaluation suites. Each module exposes `run(settings, *, quick=False, progress=True) -> dict`.

The helpers below are shared by the retrieval suites (scifact, hotpotqa, crosslingual): they work at the level of
Embedder + Bm25Index + dense_search + rrf_fuse, the same functions the product's retriever is built from, without
PII tagging or Chroma (not what these suites measure, and too slow for 5k abstracts on 2 cores)."""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.config import Settings
from evals import metrics

log = logging.getLogger(__name__)


def make_embedder(settings: Settings) -> Any:
    from assistant.index.embedding import Embedder

    return Embedder(settings.embedding, cache_dir=settings.cache_dir)


def progress_iter(items: Iterable[Any], *, desc: str, total: int | None = None, enabled: bool = True) -> Iterable[Any]:
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, total=total, leave=False, dynamic_ncols=True)


def token_windows(title: str, sentences: Sequence[str], count_tokens: Callable[[list[str]], list[int]],
                  max_tokens: int) -> list[str]:
    """Pack whole sentences into windows of at most `max_tokens` wordpieces, each prefixed with the title.

    A sentence longer than the budget on its own is split on words. Windows do not overlap: every token of the
    document is embedded exactly once and nothing is silently truncated by the model's max_seq_length."""
    title_len = count_tokens([title])[0] if title else 0
    budget = max(16, max_tokens - title_len)
    pieces: list[tuple[str, int]] = []
    lengths = count_tokens(list(sentences)) if sentences else []
    for sent, n in zip(sentences, lengths, strict=True):
        if n <= budget:
            pieces.append((sent, n))
            continue
        words = sent.split()
        step = max(1, int(len(words) * budget / max(n, 1) * 0.9))
        for i in range(0, len(words), step):
            part = " ".join(words[i : i + step])
            pieces.append((part, count_tokens([part])[0]))
    windows: list[str] = []
    cur: list[str] = []
    cur_len = 0
    for text, n in pieces:
        if cur and cur_len + n > budget:
            windows.append(" ".join(cur))
            cur, cur_len = [], 0
        cur.append(text.strip())
        cur_len += n
    if cur or not windows:
        windows.append(" ".join(cur))
    return [f"{title}\n{w}".strip() for w in windows]


def tokenizer_counter(tokenizer: Any) -> Callable[[list[str]], list[int]]:
    def count(texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]

    return count


@dataclass
class Rankings:
    """Per-query ranked doc ids (best first) for each retriever, at a depth large enough for any fusion setting."""

    bm25: dict[str, list[str]] = field(default_factory=dict)
    dense: dict[str, list[str]] = field(default_factory=dict)


def bm25_rankings(ids: Sequence[str], texts: Sequence[str], queries: dict[str, str], depth: int,
                  progress: bool = True, desc: str = "bm25") -> dict[str, list[str]]:
    from assistant.index.bm25 import Bm25Index

    index = Bm25Index.build(list(ids), list(texts))
    out: dict[str, list[str]] = {}
    for qid, text in progress_iter(queries.items(), desc=desc, total=len(queries), enabled=progress):
        out[qid] = [doc for doc, _ in index.search(text, depth)]
    return out


def dense_rankings(matrix: np.ndarray, unit_ids: Sequence[str], query_vecs: dict[str, np.ndarray], depth: int,
                   unit_to_doc: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Dense ranking per query. With `unit_to_doc` (windows -> doc), units are max-pooled per document: the doc's
    score is its best window's, taken from the full sorted unit list so pooling is exact."""
    from assistant.index.retrieval import dense_search

    out: dict[str, list[str]] = {}
    k_units = len(unit_ids) if unit_to_doc else depth
    for qid, vec in query_vecs.items():
        hits = dense_search(matrix, unit_ids, vec, k_units)
        if unit_to_doc is None:
            out[qid] = [u for u, _ in hits]
        else:
            out[qid] = list(dict.fromkeys(unit_to_doc[u] for u, _ in hits))[:depth]
    return out


def fuse(bm25: Sequence[str], dense: Sequence[str], *, rrf_k: int, candidate_k: int,
         weights: tuple[float, float] = (1.0, 1.0), top: int = 100) -> list[str]:
    from assistant.index.retrieval import rrf_fuse

    fused = rrf_fuse([list(bm25[:candidate_k]), list(dense[:candidate_k])], k=rrf_k, weights=list(weights))
    return [doc for doc, _ in fused[:top]]


def ranking_metrics(runs: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """nDCG@10, recall@10, recall@100, MRR (@100) over the queries in qrels (a missing run counts as empty)."""
    qids = sorted(qrels)
    rank = [runs.get(q, []) for q in qids]
    rel = [qrels[q] for q in qids]
    return {
        "ndcg@10": metrics.mean(metrics.ndcg_at_k(r, g, 10) for r, g in zip(rank, rel, strict=True)),
        "recall@10": metrics.mean(metrics.recall_at_k(r, g, 10) for r, g in zip(rank, rel, strict=True)),
        "recall@100": metrics.mean(metrics.recall_at_k(r, g, 100) for r, g in zip(rank, rel, strict=True)),
        "mrr": metrics.mrr(rank, rel, k=100),
    }


SABOTAGE_ENV = "ASSISTANT_EVAL_SABOTAGE"


def sabotage_enabled() -> bool:
    return os.environ.get(SABOTAGE_ENV, "") not in ("", "0", "false", "False")


def maybe_sabotage(runs: dict[str, list[str]]) -> dict[str, list[str]]:
    """Deliberately worsened retriever for demonstrating the CI gate: with ASSISTANT_EVAL_SABOTAGE=1 (or
    `python -m evals ... --sabotage`) each query's top 20 is shuffled. Never set in normal runs."""
    if not sabotage_enabled():
        return runs
    log.warning("eval sabotage enabled: rankings shuffled")
    out = {}
    for qid, ranking in runs.items():
        head = list(ranking[:20])
        random.Random(qid).shuffle(head)
        out[qid] = head + list(ranking[20:])
    return out


SAMPLE_ENV = "ASSISTANT_EVAL_SAMPLE"


def sample_slice(items: Sequence[Any]) -> tuple[list[Any], str]:
    """The items selected by ASSISTANT_EVAL_SAMPLE="START:STOP" (`python -m evals ... --sample START:STOP`), e.g.
    a dev part "0:30" and a held-out part "30:60" of a fixed question order; all items when unset."""
    spec = os.environ.get(SAMPLE_ENV, "").strip()
    if not spec:
        return list(items), f"0:{len(items)}"
    start, sep, stop = spec.partition(":")
    if not sep or not start.strip().isdigit() or not stop.strip().isdigit() or int(start) >= int(stop):
        raise ValueError(f"{SAMPLE_ENV}={spec!r}: expected START:STOP with START < STOP, e.g. 0:30")
    return list(items[int(start) : int(stop)]), f"{int(start)}:{min(int(stop), len(items))}"


def rounded(obj: Any, digits: int = 4) -> Any:
    """Round floats recursively so metrics.json stays readable."""
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [rounded(v, digits) for v in obj]
    return obj


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.marks[name] = round(time.perf_counter() - self.start - sum(self.marks.values()), 2)
