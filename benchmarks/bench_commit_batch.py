"""What committing a big file in batches costs, as a curve over the batch size (the setting ingest.commit_batch).

    .venv/bin/python benchmarks/bench_commit_batch.py [--chunks 2048] [--sample 256]

A message export is built from public Enron e-mail bodies (the dev half: folders 1-4 of enron_with_categories, read
through the `eval_data` setting) and chunked as the ingest does. Then:
1. per-chunk cost of what a batch does besides writing (PII tagging + embedding), on `--sample` chunks;
2. the write itself, `ingest.batches.BatchWriter.write` into a fresh embedded Chroma, for each batch size, with the
   tags and vectors computed once beforehand (tagging and embedding batch internally at 32, so their cost does not
   depend on the commit batch): seconds per chunk, and the overhead against one single batch as a share of the
   per-chunk tag + embed cost;
3. what a crash loses at most: one batch of tag + embed work, in seconds.
Writes benchmarks/results/commit_batch.json. Compare shares and ratios between machines, not seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import load_settings
from assistant.index.embedding import Embedder
from assistant.index.manifest import SourceRow
from assistant.index.store import IndexStore
from assistant.ingest.batches import BatchWriter
from assistant.ingest.chunking import chunk_document
from assistant.ingest.tokenizer import load_tokenizer
from assistant.offline import apply_offline_env
from assistant.pii.tagger import PiiTagger
from assistant.types import Chunk, Document, Message

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SIZES = (16, 64, 256, 1024, 4096)
DEV_FOLDERS = ("1", "2", "3", "4")


def _messages(eval_data: Path, wanted: int) -> list[Message]:
    root = eval_data / "enron" / "enron_with_categories"
    out: list[Message] = []
    for folder in DEV_FOLDERS:
        for path in sorted((root / folder).glob("*.txt")):
            text = path.read_text(encoding="utf-8", errors="replace")
            body = " ".join(text.split("\n\n", 1)[-1].split())[:600]
            if body:
                n = len(out)
                out.append(Message(f"m{n}", "t1", f"2001-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}", f"s{n % 7}",
                                   body))
            if len(out) >= wanted:
                return out
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=2048)
    ap.add_argument("--sample", type=int, default=256)
    args = ap.parse_args()
    apply_offline_env()
    settings = load_settings()
    messages = _messages(Path(settings.eval_data), args.chunks * 2)  # windows of 6 overlapping by 2: ~1 chunk / 4
    doc = Document("export.csv", "messages", "", "f" * 64, messages=tuple(messages))
    chunks = chunk_document(doc, "bench", load_tokenizer(settings.embedding.model_path), settings)[: args.chunks]
    embedder = Embedder(settings.embedding)  # no cache: every vector computed
    tagger = PiiTagger(settings.pii)
    sample = chunks[: args.sample]
    tagger.tag_many([sample[0].text])  # load spaCy outside the timing
    embedder.embed_texts([sample[0].text])
    t0 = time.perf_counter()
    entities = tagger.tag_many([c.text for c in sample])
    t1 = time.perf_counter()
    sample_vectors = embedder.embed_texts([c.text for c in sample])
    t2 = time.perf_counter()
    tag_s, embed_s = (t1 - t0) / len(sample), (t2 - t1) / len(sample)
    # every chunk gets a sample chunk's spans (when they fit) and its vector plus a little noise: the write's cost
    # depends on sizes and shapes, not on which spans or vectors they are
    tagged = {c.chunk_id: replace(c, entities=tuple(e for e in entities[i % len(sample)] if e.end <= len(c.text)))
              for i, c in enumerate(chunks)}
    rng = np.random.default_rng(0)
    vectors = np.resize(sample_vectors, (len(chunks), sample_vectors.shape[1]))
    vectors = vectors + rng.normal(0, 0.01, vectors.shape).astype(vectors.dtype)
    state = {"at": 0}

    def tag(part: Any) -> list[Chunk]:
        return [tagged[c.chunk_id] for c in part]

    def embed(texts: list[str]) -> Any:
        start = state["at"] % len(chunks)
        state["at"] += len(texts)
        return vectors[start : start + len(texts)]

    rows: list[dict[str, Any]] = []
    for size in (*[s for s in SIZES if s < len(chunks)], len(chunks)):
        times = []
        for _ in range(2):
            with tempfile.TemporaryDirectory() as tmp:
                store = IndexStore(Path(tmp) / "idx")
                state["at"] = 0
                writer = BatchWriter(store, "bench", SourceRow("export.csv", "f" * 64, "", len(chunks)), size)
                start = time.perf_counter()
                writer.write(chunks, tag, embed, {})
                writer.swap()
                times.append((time.perf_counter() - start) / len(chunks))
                store.manifest.close()
        rows.append({"batch": size, "write_s_per_chunk": statistics.median(times)})
    single = rows[-1]["write_s_per_chunk"]
    for row in rows:
        row["overhead_vs_one_batch_share_of_tag_embed"] = round((row["write_s_per_chunk"] - single)
                                                                 / (tag_s + embed_s), 4)
        row["work_lost_at_crash_s"] = round(row["batch"] * (tag_s + embed_s), 1)
    result = {"chunks": len(chunks), "tag_s_per_chunk": round(tag_s, 5), "embed_s_per_chunk": round(embed_s, 5),
              "rows": rows}
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "commit_batch.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
