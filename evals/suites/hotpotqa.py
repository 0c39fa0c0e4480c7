"""HotpotQA (100 questions, 994-passage corpus): multi-hop retrieval and answering.

Retrieval: the product's hybrid (BM25 + dense, RRF with settings.retrieval) over passages = title + sentences.
Supporting-passage recall@k is the fraction of a question's gold supporting passages in the top k; `both@k` is
the fraction of questions with *all* of them in the top k (what a multi-hop answer needs).

Answering: the extractive answerer (`assistant.answer.extractive.extractive_answer`) over the top
settings.retrieval.top_k passages. It answers with whole cited sentences, not short spans, so EM is expected to be
near 0 and token F1 low: they are reported for comparison with an LLM backend, next to the citation metrics that
matter here (citation precision = cited passage is a gold supporting passage; recall = gold passages that were
cited)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from assistant.config import Settings
from assistant.types import Passage
from evals import metrics
from evals.datasets import HotpotQA, load_hotpotqa
from evals.suites import (
    Timer,
    bm25_rankings,
    dense_rankings,
    fuse,
    make_embedder,
    maybe_sabotage,
    progress_iter,
    rounded,
    sample_slice,
)

log = logging.getLogger(__name__)

CASE = "hotpotqa"
DEPTH = 100


def load_answerer(settings: Settings, embedder: Any) -> tuple[Callable[[str, list[Passage]], Any] | None, str]:
    """The extractive answerer (the product's no-LLM backend) as (question, passages) -> Answer; else (None, why)."""
    try:
        from assistant.answer.extractive import extractive_answer
    except ImportError as exc:
        return None, f"assistant.answer.extractive not importable: {exc}"

    def answer(question: str, passages: list[Passage]) -> Any:
        return extractive_answer(question, CASE, passages, embedder=embedder, settings=settings.answer)

    return answer, "extractive"


def _model_backend(settings: Settings) -> Any:
    """The configured model backend, checked (BackendUnavailable says why it cannot answer), or None for the
    extractive answerer (backend `extractive`, or `auto` finding no model)."""
    if settings.llm.backend == "extractive":
        return None
    from assistant.llm import select_backend

    backend = select_backend(settings).backend
    if backend is not None:
        backend.check()
    return backend


def _answer_parts(result: Any, passages: Sequence[Passage]) -> tuple[str, list[str], bool]:
    """(answer text, cited chunk ids, refused) from an Answer-like object or dict."""
    get = result.get if isinstance(result, dict) else (lambda key, default=None: getattr(result, key, default))
    text = str(get("answer", None) or get("text", "") or "")
    status = str(get("status", "answered") or "answered")
    cited: list[str] = []
    for c in get("citations", ()) or ():
        cid = c.get("chunk_id") if isinstance(c, dict) else getattr(c, "chunk_id", None)
        n = c.get("n") if isinstance(c, dict) else getattr(c, "n", None)
        if cid:
            cited.append(str(cid))
        elif isinstance(n, int) and 1 <= n <= len(passages):
            cited.append(passages[n - 1].chunk_id)
    return text, cited, status == "no_evidence" or not text.strip()


def _passages(data: HotpotQA, titles: Sequence[str]) -> list[Passage]:
    return [Passage(chunk_id=t, case=CASE, source=t, locator="", text=data.passage_text(t), score=0.0, rank=i)
            for i, t in enumerate(titles, 1)]


def run(settings: Settings, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    timer = Timer()
    data = load_hotpotqa(settings.eval_data)
    questions = data.questions  # 100 questions cost little once the corpus is embedded: quick runs them all
    titles = list(data.corpus)
    texts = [data.passage_text(t) for t in titles]
    queries = {q.qid: q.question for q in questions}
    embedder = make_embedder(settings)
    qvecs = dict(zip(queries, embedder.embed_texts(list(queries.values())), strict=True))
    matrix = embedder.embed_texts(texts, show_progress=progress)
    n_long = sum(1 for n in (len(x) for x in embedder.tokenizer(texts, add_special_tokens=True)["input_ids"])
                 if n > settings.embedding.max_seq_length)
    timer.mark("embed_s")
    bm25 = bm25_rankings(titles, texts, queries, DEPTH, progress, "hotpotqa bm25")
    dense = dense_rankings(matrix, titles, qvecs, DEPTH)
    r = settings.retrieval
    weights = (float(getattr(r, "bm25_weight", 1.0)), float(getattr(r, "dense_weight", 1.0)))
    hybrid = {q: fuse(bm25[q], dense[q], rrf_k=r.rrf_k, candidate_k=r.candidate_k, weights=weights)
              for q in queries}
    runs = maybe_sabotage({"hybrid": hybrid, "bm25": bm25, "dense": dense}[r.mode])
    gold = {q.qid: set(q.supporting_titles) for q in questions}
    timer.mark("retrieve_s")

    def recall(run: dict[str, list[str]], k: int) -> float:
        return metrics.mean(metrics.recall_at_k(run[q], gold[q], k) for q in queries)

    def both(run: dict[str, list[str]], k: int) -> float:
        return metrics.mean(1.0 if gold[q] <= set(run[q][:k]) else 0.0 for q in queries)

    result: dict[str, Any] = {
        "dataset": "HotpotQA train subset (distractor setting, pooled corpus)",
        "n_questions": len(questions),
        "n_passages": len(titles),
        "passages_over_max_seq_length": n_long,
        "mode": r.mode,
        "support_recall@5": recall(runs, 5),
        "support_recall@10": recall(runs, 10),
        "support_both@5": both(runs, 5),
        "support_both@10": both(runs, 10),
        "retrievers": {name: {"support_recall@5": recall(x, 5), "support_recall@10": recall(x, 10),
                              "support_both@10": both(x, 10)}
                       for name, x in (("bm25", bm25), ("dense", dense), ("hybrid", hybrid))},
    }

    sample, span = sample_slice(questions)
    result["answer_sample"] = span
    model_backend = _model_backend(settings)
    if model_backend is not None:
        from evals.suites.hotpotqa_model import answer_metrics, best_support, model_answerer, support_band

        band = support_band()
        if band is not None:
            sample = [q for q in sample if band[0] <= best_support(
                settings, embedder, CASE, q.question, _passages(data, runs[q.qid][:r.top_k])) < band[1]]
            result["support_band"] = list(band)

        result["answer_backend"] = f"{model_backend.name}:{model_backend.model}"
        result["passages_shown_to_model"] = model_backend.max_passages or r.top_k
        support: dict[str, tuple[float, float]] = {}
        result["answer"] = answer_metrics(sample, lambda q: _passages(data, runs[q.qid][:r.top_k]),
                                          model_answerer(settings, embedder, model_backend, CASE, support),
                                          progress, support,
                                          settings.answer.short_min_support)
        backend = result["answer_backend"]
    else:
        answer_fn, backend = load_answerer(settings, embedder)
        result["answer_backend"] = backend
        if answer_fn is not None:
            result["answer"] = _answer_metrics(data, sample, runs, answer_fn, r.top_k, progress)
    timer.mark("answer_s")
    result["timing_s"] = timer.marks
    log.info("hotpotqa done recall@5=%.4f n=%d backend=%s", result["support_recall@5"], len(questions), backend)
    return rounded(result)


def _answer_metrics(data: HotpotQA, questions: Sequence[Any], runs: dict[str, list[str]],
                    answer_fn: Callable[[str, list[Passage]], Any], top_k: int, progress: bool) -> dict[str, Any]:
    em: list[float] = []
    f1: list[float] = []
    contains: list[float] = []
    cite_p: list[float] = []
    cite_r: list[float] = []
    refused = 0
    errors = 0
    for q in progress_iter(questions, desc="hotpotqa answer", total=len(questions), enabled=progress):
        passages = _passages(data, runs[q.qid][:top_k])
        try:
            text, cited, was_refused = _answer_parts(answer_fn(q.question, passages), passages)
        except Exception as exc:  # one failing question must not lose the batch
            log.warning("hotpotqa answer failed qid=%s error=%s", q.qid, type(exc).__name__)
            errors += 1
            text, cited, was_refused = "", [], True
        refused += int(was_refused)
        em.append(metrics.exact_match(text, q.answer))
        f1.append(metrics.token_f1(text, q.answer))
        contains.append(1.0 if metrics.normalize_answer(q.answer) in metrics.normalize_answer(text) else 0.0)
        gold = set(q.supporting_titles)
        unique = list(dict.fromkeys(cited))
        if unique:
            cite_p.append(sum(1 for c in unique if c in gold) / len(unique))
        cite_r.append(len(set(unique) & gold) / len(gold) if gold else 0.0)
    return {
        "n": len(questions),
        "em": metrics.mean(em),
        "f1": metrics.mean(f1),
        "answer_in_text": metrics.mean(contains),
        "citation_precision": metrics.mean(cite_p),
        "citation_precision_n": len(cite_p),
        "citation_recall": metrics.mean(cite_r),
        "refused": refused,
        "errors": errors,
        "passages_given": top_k,
    }
