"""Loaders for the public evaluation sets (read in place under settings.eval_data, never copied) and the demo gold file.

Every loader returns plain dataclasses or dicts; nothing here embeds, indexes or scores."""

from __future__ import annotations

import ast
import csv
import io
import json
import logging
import tokenize
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TATOEBA_LANGS = ("pol", "ron", "ara", "vie")
DEMO_CASES = Path(__file__).resolve().parent / "cases" / "demo.jsonl"


class DatasetMissing(FileNotFoundError):
    """A dataset file is not where settings.eval_data says it is."""


def _require(path: Path) -> Path:
    if not path.exists():
        raise DatasetMissing(f"evaluation data not found: {path} (set ASSISTANT_EVAL_DATA to the datasets folder)")
    return path


# --------------------------------------------------------------------------------------------------- SciFact
@dataclass(frozen=True)
class SciFactDoc:
    doc_id: str
    title: str
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        """Title and abstract as one text (the BEIR convention)."""
        return f"{self.title}\n{' '.join(self.sentences)}".strip()


@dataclass(frozen=True)
class SciFact:
    corpus: list[SciFactDoc]
    queries: dict[str, str]  # query id -> claim, only queries that have qrels
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: relevance}
    # SciFact's train claims with qrels built the way BEIR built test (qrels/test == the dev claims' cited_doc_ids):
    # a disjoint set to tune fusion on, so the test numbers are not tuned on themselves.
    train_queries: dict[str, str] = field(default_factory=dict)
    train_qrels: dict[str, dict[str, int]] = field(default_factory=dict)


def parse_sentence_array(raw: str) -> list[str]:
    """SciFact's CSV stores abstracts as a numpy array repr: "['s1'\\n 's2' ...]" (no commas). Read its string
    literals one by one with the Python tokenizer, so quotes and escapes inside sentences are handled exactly."""
    raw = raw.strip()
    if not raw:
        return []
    out: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(raw).readline):
            if tok.type == tokenize.STRING:
                out.append(str(ast.literal_eval(tok.string)))
    except (tokenize.TokenError, SyntaxError, ValueError):
        log.warning("scifact abstract not parseable as string array; kept raw len=%d", len(raw))
        return [raw.strip("[]")]
    return out


def _read_zip_csv(zf: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    with zf.open(name) as fh:
        return list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))


def load_scifact(data_dir: Path) -> SciFact:
    """SciFact as BEIR's test split: corpus (5,183), the 300 dev claims that BEIR's qrels/test scores, qrels."""
    root = data_dir / "scifact"
    qrels: dict[str, dict[str, int]] = {}
    with _require(root / "beir_qrels_test.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    with zipfile.ZipFile(_require(root / "scifact.zip")) as zf:
        names = set(zf.namelist())
        corpus_rows = _read_zip_csv(zf, "corpus_train.csv" if "corpus_train.csv" in names else "corpus.csv")
        claim_rows: list[dict[str, str]] = []
        for name in ("claims_validation.csv", "claims_dev.csv"):
            if name in names:
                claim_rows.extend(_read_zip_csv(zf, name))
        train_rows = _read_zip_csv(zf, "claims_train.csv") if "claims_train.csv" in names else []
    corpus = [SciFactDoc(r["doc_id"], r["title"].strip(), tuple(parse_sentence_array(r["abstract"])))
              for r in corpus_rows]
    queries: dict[str, str] = {}
    for row in claim_rows:  # the dev split is read first; a claim id appears once per evidence doc
        if row["id"] in qrels and row["id"] not in queries:
            queries[row["id"]] = row["claim"].strip()
    missing = set(qrels) - set(queries)
    if missing:
        log.warning("scifact qrels without a claim n=%d", len(missing))
    doc_ids = {d.doc_id for d in corpus}
    train_queries: dict[str, str] = {}
    train_qrels: dict[str, dict[str, int]] = {}
    for row in train_rows:
        cited = [c for c in row.get("cited_doc_ids", "").strip("[]").split() if c in doc_ids]
        if cited and row["id"] not in train_queries and row["id"] not in qrels:
            train_queries[row["id"]] = row["claim"].strip()
            train_qrels[row["id"]] = dict.fromkeys(cited, 1)
    return SciFact(corpus=corpus, queries=queries, qrels={q: qrels[q] for q in queries},
                   train_queries=train_queries, train_qrels=train_qrels)


# --------------------------------------------------------------------------------------------------- HotpotQA
@dataclass(frozen=True)
class HotpotQuestion:
    qid: str
    question: str
    answer: str
    supporting_titles: tuple[str, ...]
    supporting_facts: tuple[tuple[str, int], ...]
    qtype: str = ""
    level: str = ""


@dataclass(frozen=True)
class HotpotQA:
    questions: list[HotpotQuestion]
    corpus: dict[str, list[str]] = field(default_factory=dict)  # title -> sentences

    def passage_text(self, title: str) -> str:
        return f"{title}\n{''.join(self.corpus[title]).strip()}"


def load_hotpotqa(data_dir: Path) -> HotpotQA:
    root = data_dir / "hotpotqa"
    raw = json.loads(_require(root / "hotpotqa_train.json").read_text(encoding="utf-8"))
    corpus = json.loads(_require(root / "hotpotqa_train_corpus.json").read_text(encoding="utf-8"))
    questions = []
    for item in raw:
        facts = tuple((str(t), int(i)) for t, i in item["supporting_facts"])
        questions.append(HotpotQuestion(
            qid=str(item["_id"]), question=item["question"], answer=str(item["answer"]),
            supporting_titles=tuple(dict.fromkeys(t for t, _ in facts)), supporting_facts=facts,
            qtype=str(item.get("type", "")), level=str(item.get("level", ""))))
    return HotpotQA(questions=questions, corpus={str(k): list(v) for k, v in corpus.items()})


# --------------------------------------------------------------------------------------------------- Tatoeba
def load_tatoeba(data_dir: Path, lang: str, limit: int | None = None) -> list[tuple[str, str]]:
    """Line-aligned (english, foreign) pairs for one language."""
    root = data_dir / "tatoeba"
    eng = _require(root / f"tatoeba.{lang}-eng.eng").read_text(encoding="utf-8").splitlines()
    foreign = _require(root / f"tatoeba.{lang}-eng.{lang}").read_text(encoding="utf-8").splitlines()
    if len(eng) != len(foreign):
        raise ValueError(f"tatoeba {lang}: {len(eng)} English lines vs {len(foreign)} foreign lines")
    pairs = [(e.strip(), f.strip()) for e, f in zip(eng, foreign, strict=True) if e.strip() and f.strip()]
    return pairs[:limit] if limit else pairs


# --------------------------------------------------------------------------------------------------- demo gold
@dataclass(frozen=True)
class GoldQuestion:
    id: str
    case: str
    question: str
    answer: str = ""
    evidence: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    answerable: bool = True
    kind: str = ""


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with _require(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON: {exc}") from exc


def load_demo_questions(path: Path = DEMO_CASES) -> list[GoldQuestion]:
    out = []
    for row in iter_jsonl(path):
        out.append(GoldQuestion(
            id=str(row["id"]), case=str(row.get("case", "")), question=str(row["question"]),
            answer=str(row.get("answer", "")), evidence=tuple(str(e) for e in row.get("evidence", [])),
            sources=tuple(str(s) for s in row.get("sources", [])), answerable=bool(row.get("answerable", True)),
            kind=str(row.get("kind", ""))))
    return out
