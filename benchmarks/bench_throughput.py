"""Ingest throughput on the same e-mail, ours against a PrivateGPT-style pipeline (issue 19: goal >= 3x the baseline).

    .venv/bin/python benchmarks/bench_throughput.py [--files 200] [--join 1] [--runs 3] [--corpus DIR] [--batch-size 10]

The corpus is the first --files e-mails (numeric order) of the Enron set under `settings.eval_data`
(enron/enron_with_categories/*/N.txt), or any folder of .txt files given with --corpus; they are copied into a
scratch folder so both pipelines read the same bytes. Each run ingests them twice, each time in a fresh child
process (models loaded and warmed before the clock starts, the same torch thread count `embedding.torch_threads`):
  * baseline: llama-index's own parts, as PrivateGPT assembles them: SimpleDirectoryReader, SentenceSplitter (sized
    like our prose chunks: `embedding.chunk_tokens` / `chunk_overlap_tokens` wordpieces of the same MiniLM
    tokenizer, since llama-index's default tokenizer would download tiktoken), an IngestionPipeline with the
    packaged all-MiniLM-L6-v2 behind llama-index's BaseEmbedding (what HuggingFaceEmbedding does: normalised
    sentence-transformers vectors, llama-index's default batch of 10 unless --batch-size), then a Chroma collection
    written the way llama-index's Chroma store does (node_to_metadata_dict metadata, text as the document).
    No PII tagging, no keyword index.
  * ours: `App.ingest` (Ingestor with Presidio PII, chunking, MiniLM, Chroma, dedup, links, keyword finalize),
    embedding cache off so every text is embedded.
KB/s = input bytes / wall time of the ingest call. Ours also reports its stage breakdown (`IngestReport.timings`).
The two alternate (baseline first on odd runs) so a change of machine load hits both alike. Writes
benchmarks/results/throughput.json. No assertion: the numbers are for reading."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).resolve().parent / "results" / "throughput.json"


def pick_corpus(source: Path, n: int, dest: Path, join: int) -> int:
    """Copy the first n .txt files (numeric stem order, then name) under `source` into `dest`, or `join` of them at a
    time into one file (a large export: many commit batches per file); total bytes."""
    files = sorted(source.rglob("*.txt"), key=lambda p: (int(p.stem) if p.stem.isdigit() else 1 << 62, p.as_posix()))
    dest.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(files[:n]):
        if join > 1:
            with (dest / f"joined_{i // join:05d}.txt").open("ab") as fh:
                fh.write(path.read_bytes() + b"\n\n")
        else:
            shutil.copyfile(path, dest / f"{i:05d}_{re.sub(r'[^A-Za-z0-9_.-]', '_', path.name)}")
    return sum(p.stat().st_size for p in dest.iterdir())


def run_baseline(corpus: Path, work: Path, batch_size: int) -> dict[str, Any]:
    import chromadb
    import torch
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.vector_stores.utils import node_to_metadata_dict
    from pydantic import PrivateAttr
    from sentence_transformers import SentenceTransformer

    from assistant.config import load_settings
    from assistant.index.embedding import packaged_model_path

    settings = load_settings(index_dir=work)
    torch.set_num_threads(max(1, settings.embedding.torch_threads))

    class MiniLM(BaseEmbedding):  # type: ignore[misc]
        _model: Any = PrivateAttr()

        def __init__(self, **kw: Any) -> None:
            super().__init__(model_name="all-MiniLM-L6-v2", **kw)
            self._model = SentenceTransformer(packaged_model_path(), device="cpu")
            self._model.max_seq_length = settings.embedding.max_seq_length

        def _vectors(self, texts: list[str]) -> list[list[float]]:
            return self._model.encode(texts, batch_size=self.embed_batch_size, normalize_embeddings=True,
                                      show_progress_bar=False).tolist()  # type: ignore[no-any-return]

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._vectors([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._vectors([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._vectors(texts)

    embed = MiniLM(embed_batch_size=batch_size)
    tokenizer = embed._model.tokenizer
    splitter = SentenceSplitter(chunk_size=settings.embedding.chunk_tokens,
                                chunk_overlap=settings.embedding.chunk_overlap_tokens,
                                tokenizer=lambda text: tokenizer.tokenize(text))
    client = chromadb.PersistentClient(path=str(work / "chroma"),
                                       settings=chromadb.Settings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("baseline", metadata={"hnsw:space": "cosine"})
    embed.get_text_embedding_batch(["warm up the embedder"])
    t0 = time.perf_counter()
    docs = SimpleDirectoryReader(str(corpus)).load_data()
    t1 = time.perf_counter()
    nodes = IngestionPipeline(transformations=[splitter, embed]).run(documents=docs)
    t2 = time.perf_counter()
    step = client.get_max_batch_size()
    for start in range(0, len(nodes), step):
        part = nodes[start : start + step]
        collection.add(ids=[n.node_id for n in part], embeddings=[n.get_embedding() for n in part],
                       documents=[n.get_content() for n in part],
                       metadatas=[node_to_metadata_dict(n, remove_text=True, flat_metadata=True) for n in part])
    t3 = time.perf_counter()
    return {"wall_s": t3 - t0, "chunks": collection.count(),
            "stages_s": {"read": t1 - t0, "split_embed": t2 - t1, "write": t3 - t2}}


def run_ours(corpus: Path, work: Path) -> dict[str, Any]:
    from assistant.app import App
    from assistant.config import load_settings

    settings = load_settings(index_dir=work)
    settings.embedding.cache = False
    app = App(settings)
    app.pii.tag("warm up the tagger")
    app.embedder.embed_query("warm up the embedder")
    app.ingestor  # noqa: B018 - built (parse worker, dedup) before the clock starts
    if app.multilingual is not None:  # its models load on the first non-English chunk: loaded here, not timed
        app.multilingual.encoder.encode(["warm up"], query=False)
        if app.multilingual.gemma is not None:
            app.multilingual.gemma.scorer.documents(["warm up"])
    t0 = time.perf_counter()
    report = app.ingest([corpus], "bench", progress=False)
    wall = time.perf_counter() - t0
    app.ingestor.parser.close()
    return {"wall_s": wall, "chunks": report.chunks, "failed": len(report.failed),
            "stages_s": {k: v for k, v in report.timings.items()}}


def child(kind: str, corpus: Path, batch_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-tp-{kind}-", dir=os.environ.get("TMPDIR")) as tmp:
        row = run_baseline(corpus, Path(tmp), batch_size) if kind == "baseline" else run_ours(corpus, Path(tmp))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--corpus", type=Path, help="folder of .txt files (default: the Enron set under eval_data)")
    ap.add_argument("--batch-size", type=int, default=10, help="baseline embedding batch (llama-index default 10)")
    ap.add_argument("--join", type=int, default=1, help="e-mails concatenated into one file (1: one file each)")
    ap.add_argument("--only", choices=["baseline", "ours"], help="run one side only")
    ap.add_argument("--child", choices=["baseline", "ours"], help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.dir, args.batch_size)))
        return
    from assistant.config import load_settings

    source = args.corpus or load_settings().eval_data / "enron" / "enron_with_categories"
    kinds = [args.only] if args.only else ["baseline", "ours"]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-tp-corpus-", dir=os.environ.get("TMPDIR")) as tmp:
        corpus = Path(tmp) / "mail"
        size = pick_corpus(source, args.files, corpus, args.join)
        for run in range(args.runs):
            for kind in kinds if run % 2 == 0 else kinds[::-1]:
                out = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(corpus),
                                      "--batch-size", str(args.batch_size)], check=True, capture_output=True,
                                     text=True)
                row = {"run": run, "kind": kind, **json.loads(out.stdout.strip().splitlines()[-1])}
                row["kb_per_s"] = round(size / 1024 / row["wall_s"], 2)
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary: dict[str, Any] = {"files": args.files, "join": args.join, "bytes": size, "baseline_batch": args.batch_size}
    for kind in kinds:
        speeds = [r["kb_per_s"] for r in rows if r["kind"] == kind]
        summary[f"{kind}_kb_per_s"] = {"median": statistics.median(speeds), "all": speeds}
    if len(kinds) == 2:
        ratios = [next(r["kb_per_s"] for r in rows if r["run"] == n and r["kind"] == "ours")
                  / next(r["kb_per_s"] for r in rows if r["run"] == n and r["kind"] == "baseline")
                  for n in range(args.runs)]
        summary["ratio"] = {"median": round(statistics.median(ratios), 2), "per_run": [round(x, 2) for x in ratios]}
    print(json.dumps(summary))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"command": " ".join(sys.argv), "summary": summary, "rows": rows}, indent=2) + "\n",
                       encoding="utf-8")


if __name__ == "__main__":
    main()
