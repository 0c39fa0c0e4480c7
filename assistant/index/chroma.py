"""The Chroma client of one index dir, kept current with writes made by other processes.

Chroma keeps a collection's vector index in memory per process and does not see what another process wrote to the
same folder: a long-lived reader (`assistant serve`) would go on searching the vectors it loaded while `assistant
ingest` swapped a source in another process (measured: the old ids keep coming back, the new chunks are never
found). So each dense read first compares the case's manifest generation with the last one this process saw; when
another process moved it, the client is reopened. Our own writes record their generation, so they never cost a
reopen. The reopen replaces this folder's entry in Chroma's per-process registry (the old system is left to the
garbage collector, as a query in another thread may still hold it)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class ChromaHandle:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._client = self._open()

    def _open(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        return chromadb.PersistentClient(path=str(self.path), settings=ChromaSettings(anonymized_telemetry=False))

    def collection(self, case: str) -> Any:
        return self._client.get_or_create_collection(
            f"case_{case}", embedding_function=None, metadata={"hnsw:space": "cosine"})

    def wrote(self, case: str, generation: int) -> None:
        """This process moved the case to `generation` (its own client already holds the change)."""
        with self._lock:
            self._seen[case] = generation

    def current(self, case: str, generation: int) -> None:
        """Reopen the client when another process moved the case since this process last looked."""
        with self._lock:
            seen = self._seen.get(case)
            self._seen[case] = generation
            if seen is None or seen == generation:
                return
            from chromadb.api.shared_system_client import SharedSystemClient

            identifier = str(self.path)
            SharedSystemClient._identifier_to_system.pop(identifier, None)
            SharedSystemClient._identifier_to_refcount.pop(identifier, None)
            self._client = self._open()
        log.info("chroma reopened case=%s generation %d -> %d (written by another process)", case, seen, generation)

    def delete(self, case: str) -> bool:
        """Drop the case's collection; False when there was none."""
        try:
            self._client.delete_collection(f"case_{case}")
        except Exception:  # no collection: nothing was ever written
            return False
        with self._lock:
            self._seen.pop(case, None)
        return True
