"""Dev measurement: EmbeddingGemma's question-answering similarity as a refusal feature and as a sentence chooser.

    python -m evals.gemma_qa clapnq [--cache DIR] [--fresh]   # ClapNQ dev half only: AUC, combiner rates (10x5 CV)
    python -m evals.gemma_qa choose [--cache DIR] [--fresh]   # gold sentence ranked first: HotpotQA 0:30, demo tuning

EmbeddingGemma-300M (the installed re-scorer, `llm.embedding_model`) was trained with task prompts; its model card
gives "task: question answering | query: " for questions and "title: none | text: " for documents. The question is
embedded under three query prompts (`QUERY_PROMPTS`: question answering, search result, fact checking) against the
same document vectors, so the prompts compare at the cost of one more query each.

`clapnq` adds, per question, the Gemma cosine of the question with: the best of all sentences (`max`), the sentence
today's support ranks first (`top`), the best of today's top three (`top3`), the passage (`passage`), and the best
sentence's margin over the median sentence (`margin`), to the combiner's features (`answerability.FEATURES`), then
reports each feature's AUC (answerable vs unanswerable) and the combiner's dev rates fitted on the rows and
cross-validated (`fit_answerability.cross_validate`, 10 repeats of 5 folds) for feature sets with and without them.
Only ClapNQ's dev half is read (`fit_answerability.dev_rows`' rule); nothing here is shipped or gated.

`choose` ranks the sentences the extractive answerer scores (`score_sentences` over the passages it gets) by today's
support and by Gemma, and counts questions whose first sentence is gold: HotpotQA questions 0:30 (the dev part by
the `--sample` convention) over their two supporting passages, gold = a supporting-fact sentence; the demo tuning
part (evals/cases/demo.jsonl, never the held-out file) over the passages `App.ask` retrieved (extractive backend),
gold = a sentence holding a gold evidence string, Gemma re-ranking today's first `DEMO_HEAD` sentences only.
Vectors are cached by sha256(prompt + text) in DIR, so reruns cost no encoding.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

QUERY_PROMPTS = {"qa": "task: question answering | query: ", "sr": "task: search result | query: ",
                 "fc": "task: fact checking | query: "}
DOC_PROMPT = "title: none | text: "
PARTS = ("max", "top", "top3", "passage", "margin")
DEMO_HEAD = 10  # about 60 units a demo question; all of them cost ~10 min a question at load 7


class GemmaVectors:
    """EmbeddingGemma vectors (L2-normalised) by sha256(prompt + text), kept in `cache_dir`/gemma_vecs.pkl."""

    def __init__(self, cache_dir: Path, encode: Callable[[list[str]], np.ndarray] | None = None) -> None:
        self.path = cache_dir / "gemma_vecs.pkl"
        self.cache: dict[str, np.ndarray] = pickle.loads(self.path.read_bytes()) if self.path.exists() else {}
        self._encode = encode
        self.encoded, self.cpu_s = 0, 0.0

    def _model(self) -> Callable[[list[str]], np.ndarray]:
        if self._encode is None:
            import torch
            from sentence_transformers import SentenceTransformer

            from assistant.config import load_settings
            from assistant.llm import embedding_model

            folder = embedding_model.installed_dir(load_settings().cache_dir)
            if folder is None:
                raise SystemExit("EmbeddingGemma is not installed: `assistant models install embeddinggemma`")
            torch.set_num_threads(1)
            model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
            model.max_seq_length = 512  # as index.languages.rerank
            self._encode = lambda texts: np.asarray(model.encode(texts, normalize_embeddings=True, batch_size=16,
                                                                 convert_to_numpy=True), dtype=np.float32)
        return self._encode

    def vecs(self, prompt: str, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256((prompt + t).encode()).hexdigest() for t in texts]
        todo = {k: prompt + t for k, t in zip(keys, texts, strict=True) if k not in self.cache}
        if todo:
            start = time.process_time()
            out = self._model()(list(todo.values()))
            self.cpu_s += time.process_time() - start
            self.encoded += len(todo)
            self.cache.update(zip(todo, np.asarray(out, dtype=np.float32), strict=True))
        return np.stack([self.cache[k] for k in keys])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(pickle.dumps(self.cache))


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """P(a positive scores above a negative), ties counting half."""
    p, n = np.asarray(pos, dtype=float)[:, None], np.asarray(neg, dtype=float)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def gemma_features(g: GemmaVectors, question: str, sentences: Sequence[str],
                   passages: Sequence[str]) -> dict[str, float]:
    """Per query prompt, the `PARTS` cosines; `sentences` best first by today's support (empty: all 0)."""
    if not sentences:
        return {f"g{tag}_{part}": 0.0 for tag in QUERY_PROMPTS for part in PARTS}
    sv, pv = g.vecs(DOC_PROMPT, sentences), g.vecs(DOC_PROMPT, passages)
    out: dict[str, float] = {}
    for tag, prompt in QUERY_PROMPTS.items():
        q = g.vecs(prompt, [question])[0]
        cs = sv @ q
        out.update({f"g{tag}_max": float(cs.max()), f"g{tag}_top": float(cs[0]), f"g{tag}_top3": float(cs[:3].max()),
                    f"g{tag}_passage": float((pv @ q).max()), f"g{tag}_margin": float(cs.max() - np.median(cs))})
    return out


def clapnq_rows(g: GemmaVectors) -> list[Any]:
    """`fit_answerability.dev_rows` with the Gemma features added to each row's feature dict."""
    from evals.fit_answerability import dev_rows

    done = 0

    def extra(question: str, scored: list[Any], passages: list[Any]) -> dict[str, float]:
        nonlocal done
        feats = gemma_features(g, question, [s.text for s in scored], [p.text for p in passages])
        done += 1
        if done % 50 == 0:
            g.save()
        return feats

    rows = dev_rows(extra)
    g.save()
    return rows


def clapnq_report(rows: list[Any]) -> dict[str, Any]:
    from assistant.answer.answerability import FEATURES
    from evals.fit_answerability import choose_floor, cross_validate, fit_combiner, rates

    keys = list(rows[0][3])
    report: dict[str, Any] = {"n": len(rows), "n_answerable": sum(1 for r in rows if r[0]),
                              "support_only": rates(rows, None)}
    report["auc"] = {k: round(auc([r[3][k] for r in rows if r[0]], [r[3][k] for r in rows if not r[0]]), 4)
                     for k in keys}
    sets: dict[str, tuple[str, ...]] = {"today": FEATURES}
    for tag in QUERY_PROMPTS:
        sets[f"+g{tag}_max,passage"] = (*FEATURES, f"g{tag}_max", f"g{tag}_passage")
        sets[f"+g{tag}_all"] = (*FEATURES, *(f"g{tag}_{p}" for p in PARTS))
    sets["+gqa_top"] = (*FEATURES, "gqa_top")
    sets["support+gqa_max,passage"] = ("support", "gqa_max", "gqa_passage")
    sets["gqa_only"] = tuple(f"gqa_{p}" for p in PARTS)
    report["combiner"] = {}
    for name, names in sets.items():
        fitted = choose_floor(rows, fit_combiner(rows, names, 0.1))
        report["combiner"][name] = {"fit_rows": rates(rows, fitted),
                                    "cv10": cross_validate(rows, names, 0.1, 10, floor=fitted.min_support)}
    return report


def first_is_gold(rows: Sequence[dict[str, Any]], key: str) -> tuple[int, int]:
    """(questions whose first sentence by `key` is gold, questions with a gold sentence among those scored);
    "support" is today's order (rows hold sentences best first), any other key a score list, highest first."""
    usable = [r for r in rows if any(r["gold"])]
    hits = sum(bool(r["gold"][0 if key == "support" else int(np.argmax(r[key]))]) for r in usable)
    return hits, len(usable)


def hotpot_gold(title: str, sentences: Sequence[str], facts: Sequence[int]) -> list[tuple[int, int]]:
    """Character spans of the supporting sentences `facts` in the passage text `title\\n` + sentences joined."""
    spans, at = [], len(title) + 1
    for k, sent in enumerate(sentences):
        if k in facts:
            spans.append((at, at + len(sent)))
        at += len(sent)
    return spans


def _ranked(g: GemmaVectors, question: str, texts: Sequence[str], gold: list[bool]) -> dict[str, Any]:
    sv = g.vecs(DOC_PROMPT, texts)
    return {"gold": gold, **{tag: (sv @ g.vecs(p, [question])[0]).tolist() for tag, p in QUERY_PROMPTS.items()}}


def hotpot_rows(g: GemmaVectors, settings: Any) -> list[dict[str, Any]]:
    from assistant.answer.extractive import score_sentences
    from assistant.index.embedding import Embedder
    from assistant.types import Passage
    from evals.datasets import load_hotpotqa

    data = load_hotpotqa(settings.eval_data)
    embedder = Embedder(settings.embedding, cache_dir=settings.cache_dir)
    rows = []
    for q in data.questions[0:30]:
        titles = list(q.supporting_titles)
        passages = [Passage(t, "hotpotqa", t, "", data.passage_text(t), 0.0, i) for i, t in enumerate(titles, 1)]
        gold = {i: hotpot_gold(t, data.corpus[t], [k for ft, k in q.supporting_facts if ft == t])
                for i, t in enumerate(titles)}
        scored = score_sentences(q.question, passages, embedder=embedder, scoring=settings.answer.scoring)
        marks = [any(a <= (s.start + s.end) / 2 < b for a, b in gold[s.passage]) for s in scored]
        rows.append(_ranked(g, q.question, [s.text for s in scored], marks) if scored else {"gold": []})
    return rows


def demo_rows(g: GemmaVectors, settings: Any) -> list[dict[str, Any]]:
    from assistant.answer.extractive import _line, score_sentences
    from assistant.app import App
    from evals import metrics
    from evals.datasets import load_demo_questions
    from evals.suites.demo import _resolve

    rows = []
    settings.llm.backend = "extractive"  # as `python -m evals demo` (the runner's --backend default)
    with tempfile.TemporaryDirectory(prefix="gemma-qa-demo-") as tmp:
        app = App(settings.model_copy(update={"index_dir": Path(tmp) / "indexes"}))
        app.ingest([_resolve(settings.demo_dir)], settings.demo_case, progress=False)
        for q in load_demo_questions():  # the tuning part only
            if not q.answerable or not q.evidence:
                continue
            case = q.case or settings.demo_case
            passages = list(app.ask(case, q.question, user="eval").retrieved)
            scored = score_sentences(q.question, passages, embedder=app.embedder.for_case(case),
                                     scoring=settings.answer.scoring)
            # a message is read with its line (sender, time), as today's support reads it
            texts = [_line(passages[s.passage].text, s.start, s.end) if passages[s.passage].kind == "messages"
                     else s.text for s in scored]
            marks = [any(metrics.contains_evidence(t, e) or metrics.contains_evidence(e, s.text) for e in q.evidence)
                     for s, t in zip(scored, texts, strict=True)]
            # Gemma re-ranks today's first DEMO_HEAD only: a demo question scores about 60 message lines
            rows.append({"id": q.id, **_ranked(g, q.question, texts[:DEMO_HEAD], marks[:DEMO_HEAD])}
                        if scored else {"gold": []})
    return rows


def main(argv: list[str] | None = None) -> int:
    from assistant.config import load_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("clapnq", "choose"))
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "gemma_qa")
    parser.add_argument("--fresh", action="store_true", help="recompute rows (vectors stay cached)")
    args = parser.parse_args(argv)
    g = GemmaVectors(args.cache)
    rows_file = args.cache / f"{args.what}_rows.pkl"
    start = time.time()
    if rows_file.exists() and not args.fresh:
        rows = pickle.loads(rows_file.read_bytes())
    else:
        settings = load_settings()
        rows = (clapnq_rows(g) if args.what == "clapnq"
                else {"hotpotqa_0_30": hotpot_rows(g, settings), "demo_tuning": demo_rows(g, settings)})
        g.save()
        rows_file.write_bytes(pickle.dumps(rows))
    if args.what == "clapnq":
        report = clapnq_report(rows)
    else:
        report = {name: {key: "{}/{}".format(*first_is_gold(part, key)) for key in ("support", *QUERY_PROMPTS)}
                  for name, part in rows.items()}
    report["cost"] = {"wall_s": round(time.time() - start, 1), "gemma_texts_encoded": g.encoded,
                      "gemma_cpu_s": round(g.cpu_s, 1)}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
