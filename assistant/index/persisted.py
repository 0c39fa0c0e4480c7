"""The derived per-case files beside Chroma: a case's chunk catalog and its BM25 index, each in its own pickle under
index_dir/bm25, stamped with the BM25 format and the case's generation so a stale or old-format file is never used.
Kept apart so a question can load the small keyword index without the chunk texts."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Literal

from assistant.index.bm25 import BM25_FORMAT

Part = Literal["chunks", "bm25"]


def part_path(index_dir: Path, case: str, part: Part) -> Path:
    return index_dir / "bm25" / f"{case}.{part}.pkl"


def save_part(index_dir: Path, case: str, gen: int, part: Part, value: object) -> None:
    """Written to a temporary file then renamed, so a reader never sees a torn file."""
    path = part_path(index_dir, case, part)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(((BM25_FORMAT, gen), value), fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def load_part(index_dir: Path, case: str, gen: int, part: Part) -> object | None:
    """Our own pickle, written by save_part inside the index dir; None when absent, torn, old or stale."""
    path = part_path(index_dir, case, part)
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            stamp, value = pickle.load(fh)
    except Exception:  # a torn or old-format file is just rebuilt
        return None
    return value if stamp == (BM25_FORMAT, gen) else None
