"""Corrupted claims: does the verifier catch a claim that gets who did what to whom (or a value) wrong?

Source sentences (public data under the `eval_data` setting): HotpotQA gold supporting sentences (100 questions)
and ClapNQ dev answerable evidence sentences (300 records, Penn-tokenised text joined back). Each becomes a claim
as in the verifier suite (parentheticals removed, a leading pronoun replaced by the paragraph's title), cited
[1] to its own passage, which is the only passage retrieved: only the support checks decide.

Each claim is corrupted one way at a time (`evals.corruption`: role_swap, verb_opposite, verb_other, negation,
number, date, name; deterministic, seeded per record). Records are split by a hash of their id into a dev half,
which the role check was developed on, and a held-out half, which is reported and gated. Reported per split, per
source and overall: per kind the number of corrupted claims and the share caught (flagged by `verify_draft`), and
the share of uncorrupted claims still accepted ("clean_accepted"). Quick: 40 HotpotQA questions, 100 ClapNQ records.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections import defaultdict
from typing import Any

from assistant.config import Settings
from assistant.types import Passage
from assistant.verify.verifier import verify_draft
from evals.corruption import corrupt_all, parse, pools, verb_pool
from evals.suites.verifier import _cite, _sentence_claim

log = logging.getLogger(__name__)

SEED = 12
QUICK_HOTPOT = 40
QUICK_CLAPNQ = 100
KINDS = ("role_swap", "verb_opposite", "verb_other", "negation", "number", "date", "name")


def detokenize(text: str) -> str:
    """ClapNQ's Penn-tokenised text as ordinary prose ("Smith 's car ( red ) ." -> "Smith's car (red).")."""
    text = text.replace("``", '"').replace("''", '"').replace(" -- ", " — ")
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    text = re.sub(r"\( ", "(", text)
    text = re.sub(r" ([.,;:!?)%])", r"\1", text)
    text = re.sub(r"(\w) - (\w)", r"\1-\2", text)
    return re.sub(r"\s+", " ", text).strip()


def split_of(source: str, record_id: str) -> str:
    return "dev" if hashlib.sha256(f"{source}:{record_id}".encode()).digest()[0] % 2 == 0 else "heldout"


def _passage(source: str, record_id: str, title: str, text: str) -> Passage:
    return Passage(chunk_id=f"{record_id}:{title}", case=source, source=title, locator="", text=text, score=1.0,
                   rank=1)


def hotpot_sources(data: list[dict[str, Any]]) -> list[tuple[str, str, str, Passage]]:
    """(source, record id, claim, passage) for every gold supporting sentence."""
    out = []
    for item in data:
        paras = {str(t): s for t, s in item["context"]}
        for title, idx in item["supporting_facts"]:
            sents = paras.get(str(title))
            if sents is None or idx >= len(sents):
                continue
            passage = _passage("hotpotqa", str(item["_id"]), str(title), "".join(sents).strip())
            out.append(("hotpotqa", str(item["_id"]), _sentence_claim(sents[idx], str(title)), passage))
    return out


def clapnq_sources(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, Passage]]:
    out = []
    for row in rows:
        p = row["passages"][0]
        passage = _passage("clapnq", str(row["id"]), str(p["title"]), detokenize(str(p["text"])))
        for out_row in row.get("output", []) or []:
            for sent in out_row.get("selected_sentences", []) or []:
                out.append(("clapnq", str(row["id"]), _sentence_claim(detokenize(str(sent)), str(p["title"])),
                            passage))
            break  # one annotation per record
    return out


def build_cases(sources: list[tuple[str, str, str, Passage]]) -> list[dict[str, Any]]:
    docs = parse([claim for _, _, claim, _ in sources])
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, (source, _, _, _) in enumerate(sources):
        by_source[source].append(i)
    value_pool = {s: pools([sources[i][2] for i in idx]) for s, idx in by_source.items()}
    verbs = {s: verb_pool([docs[i] for i in idx]) for s, idx in by_source.items()}
    cases = []
    for k, ((source, rid, claim, passage), doc) in enumerate(zip(sources, docs, strict=True)):
        rng = random.Random(f"{SEED}:{source}:{rid}:{k}")
        split = split_of(source, rid)
        cases.append({"kind": "clean", "source": source, "split": split, "claim": claim, "p": passage})
        for kind, bad in corrupt_all(claim, passage.text, doc, value_pool[source], verbs[source], rng).items():
            cases.append({"kind": kind, "source": source, "split": split, "claim": bad, "p": passage})
    return cases


def _summary(rows: list[tuple[str, bool]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    clean = [acc for kind, acc in rows if kind == "clean"]
    out["clean_accepted"] = sum(clean) / len(clean) if clean else 0.0
    out["n_clean"] = len(clean)
    for kind in KINDS:
        got = [acc for k, acc in rows if k == kind]
        if got:
            out[kind] = {"n": len(got), "caught": round(sum(1 for a in got if not a) / len(got), 4)}
    return out


def run(settings: Settings, *, quick: bool = False, progress: bool = True, use_embedder: bool = True) -> dict[str, Any]:
    root = settings.eval_data
    hotpot = json.loads((root / "hotpotqa" / "hotpotqa_train.json").read_text(encoding="utf-8"))
    with (root / "clapnq" / "dev" / "clapnq_dev_answerable.jsonl").open(encoding="utf-8") as fh:
        clap = [json.loads(line) for line in fh if line.strip()]
    if quick:
        hotpot, clap = hotpot[:QUICK_HOTPOT], clap[:QUICK_CLAPNQ]
    cases = build_cases(hotpot_sources(hotpot) + clapnq_sources(clap))
    embedder = None
    if use_embedder:
        from assistant.index.embedding import Embedder

        embedder = Embedder(settings.embedding, cache_dir=settings.cache_dir)
    iterator: Any = cases
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(cases, desc="corruptions", leave=False)
    rows: dict[tuple[str, str], list[tuple[str, bool]]] = defaultdict(list)
    for case in iterator:
        v = verify_draft(_cite(case["claim"], "[1]"), [case["p"]], embedder=embedder, settings=settings.answer)
        accepted = v.kept > 0 and not v.flagged
        for key in ((case["split"], case["source"]), (case["split"], "all")):
            rows[key].append((case["kind"], accepted))
    out: dict[str, Any] = {"embedder": bool(embedder), "n_cases": len(cases)}
    for split in ("dev", "heldout"):
        out[split] = {src: _summary(rows[(split, src)]) for src in ("all", "hotpotqa", "clapnq")}
    held = out["heldout"]["all"]
    log.info("corruptions suite cases=%d heldout clean_accepted=%.3f %s", len(cases), held["clean_accepted"],
             " ".join(f"{k}={held[k]['caught']:.3f}" for k in KINDS if k in held))
    return out
