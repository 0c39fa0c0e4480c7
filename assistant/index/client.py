"""The one place a Chroma client is made: embedded under the index folder (the one-machine default), or an HTTP
client of a Chroma server (`index.chroma_url`), loopback only unless `index.allow_remote` says otherwise."""

from __future__ import annotations

import fcntl
import ipaddress
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.config import IndexSettings
from assistant.errors import AssistantError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChromaEndpoint:
    host: str
    port: int
    ssl: bool

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other name needs DNS and may resolve off the machine


def parse_chroma_url(url: str, allow_remote: bool = False) -> ChromaEndpoint:
    """`http(s)://host:port` -> endpoint. A host that is not loopback is refused unless `allow_remote`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AssistantError(f"ASSISTANT_INDEX__CHROMA_URL={url!r} is not an http(s)://host:port URL")
    if parts.path not in ("", "/") or parts.query or parts.username or parts.password:
        raise AssistantError(f"ASSISTANT_INDEX__CHROMA_URL={url!r}: give only scheme, host and port")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 8000)
    except ValueError as exc:
        raise AssistantError(f"ASSISTANT_INDEX__CHROMA_URL={url!r}: bad port ({exc})") from exc
    host = parts.hostname
    if not allow_remote and not is_loopback_host(host):
        raise AssistantError(
            f"ASSISTANT_INDEX__CHROMA_URL={url!r} is not on this machine (loopback); Chroma has no authentication or "
            "TLS of its own. Set ASSISTANT_INDEX__ALLOW_REMOTE=true only for a server behind a TLS proxy on a "
            "trusted network")
    return ChromaEndpoint(host, port, parts.scheme == "https")


def make_client(index_dir: Path, settings: IndexSettings | None = None) -> Any:
    """A Chroma client: embedded under index_dir/chroma when no server is configured, else an HTTP client
    (checked to answer now, so a wrong URL fails here with a message saying what to do)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings is None or not settings.chroma_url.strip():
        # Two processes opening a new index at once race on creating its tables ("table collections already
        # exists"): opening is serialised across processes by a lock file beside the case locks.
        from assistant.perms import private_dir

        fd = os.open(private_dir(index_dir / "locks") / "chroma-open.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)
        finally:
            os.close(fd)  # closing releases the lock
    endpoint = parse_chroma_url(settings.chroma_url, settings.allow_remote)
    try:
        client = chromadb.HttpClient(host=endpoint.host, port=endpoint.port, ssl=endpoint.ssl,
                                     settings=chroma_settings)
        client.heartbeat()
    except Exception as exc:
        raise AssistantError(
            f"Chroma server not reachable at {endpoint.url} ({type(exc).__name__}): start it with "
            f"`assistant index-server --port {endpoint.port}` or unset ASSISTANT_INDEX__CHROMA_URL to use the "
            "embedded index") from exc
    log.info("chroma server url=%s", endpoint.url)
    return client


# A Chroma server whose HNSW cache (index.server_cache_collections) evicts a collection whose vector index was never
# written to disk cannot load it again ("Error creating hnsw segment reader: Nothing found on disk", chromadb 1.x):
# by default nothing is written before 1,000 vectors, so every small case or side space broke once evicted. Writing
# every 2 vectors (the least Chroma accepts) made 6,000 adds no slower (3.9 s vs 4.1 s, /tmp probe on this machine);
# a collection of one vector is still never written (docs/scale.md).
SYNC_EVERY = 2


def collection_metadata(settings: IndexSettings | None = None) -> dict[str, str | int]:
    """Metadata of a new case collection: cosine space, the measured query-time ef, and vectors written to disk
    every SYNC_EVERY adds so a server may evict it and load it again."""
    ef = settings.search_ef if settings is not None else IndexSettings().search_ef
    return {"hnsw:space": "cosine", "hnsw:search_ef": ef, "hnsw:sync_threshold": SYNC_EVERY,
            "hnsw:batch_size": SYNC_EVERY}


# The Chroma client of one index dir, kept current with writes made by other processes.
#
# Chroma keeps a collection's vector index in memory per process and does not see what another process wrote to the
# same folder: a long-lived reader (`assistant serve`) would go on searching the vectors it loaded while `assistant
# ingest` swapped a source in another process (measured: the old ids keep coming back, the new chunks are never
# found). So each dense read first compares the case's manifest generation with the last one this process saw; when
# another process moved it, the client is reopened. Our own writes record their generation, so they never cost a
# reopen. The reopen replaces this folder's entry in Chroma's per-process registry (the old system is left to the
# garbage collector, as a query in another thread may still hold it).
class ChromaHandle:
    """The client `index.client.make_client` makes (embedded, or a Chroma server, which needs no reopening)."""

    def __init__(self, index_dir: Path, settings: IndexSettings | None = None) -> None:
        self.index_dir = index_dir
        self.settings = settings
        self.embedded = settings is None or not settings.chroma_url.strip()
        self._meta = collection_metadata(settings)
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._held: dict[tuple[str, str], Any] = {}  # (case, space) -> collection kept for reads (`reader`)
        self._clean: dict[str, Any] = {}  # case -> the state in which all its stored chunks were counted served
        self._client = self._open()

    def _open(self) -> Any:
        return make_client(self.index_dir, self.settings)

    def collection(self, case: str) -> Any:
        return self.space(case, "case")

    def space(self, case: str, space: str) -> Any:
        """A collection of the case: "case" (the main one) or a second vector space ("ml": index.languages)."""
        col = self._client.get_or_create_collection(f"{space}_{case}", embedding_function=None, metadata=self._meta)
        self._configured_ef(col)
        with self._lock:
            self._held[(case, space)] = col
        return col

    # Asking the server for the collection is a round trip of its own (get_or_create_collection: 1.6 ms of server CPU
    # and 1.2 ms of client CPU a call, benchmarks/bench_scale.py's 10k server case, /tmp probe at load 8), paid
    # twice by every question (dense search, then the passages). A question's reads use the collection this
    # process last got instead; it is dropped when another process moves the case (`current`), when the case is
    # deleted here, and by `forget` when the server no longer has it (deleted and made again elsewhere).
    # A collection keeps the ef it was made with; `index.search_ef` is applied to an older one here. Chroma 1.5.9
    # stores a `modify(configuration=...)` at once; an index already loaded keeps searching with the old ef until
    # the server restarts (150k-vector server copy: recall@50 and server CPU unchanged until then,
    # benchmarks/bench_ef_reload.py), one loaded after the modify uses the new ef (docs/scale.md).
    def _configured_ef(self, col: Any) -> None:
        ef = self._meta["hnsw:search_ef"]
        hnsw = (getattr(col, "configuration_json", None) or {}).get("hnsw") or {}
        if "ef_search" in hnsw and hnsw["ef_search"] != ef:
            col.modify(configuration={"hnsw": {"ef_search": ef}})
            log.info("chroma collection ef_search %s -> %s (applies when the index is next loaded)",
                     hnsw["ef_search"], ef)

    def reader(self, case: str, space: str = "case") -> Any:
        """The case's collection for a read, kept between reads."""
        with self._lock:
            col = self._held.get((case, space))
        return col if col is not None else self.space(case, space)

    def forget(self, case: str) -> None:
        """Drop the kept collections of the case: the next read asks the server for them again."""
        with self._lock:
            self._drop(case)

    def _drop(self, case: str) -> None:  # with the lock held
        self._clean.pop(case, None)
        for key in [key for key in self._held if key[0] == case]:
            del self._held[key]

    def all_served(self, case: str, state: Any = None) -> Any:
        """The case state (store.dense_query's: generation, served versions) in which every stored chunk was
        counted served, or record `state` as one; forgotten with the kept collections."""
        with self._lock:
            if state is not None:
                self._clean[case] = state
            return self._clean.get(case)

    def existing_space(self, case: str, space: str) -> Any | None:
        """A second vector space only if it was ever made: reading or deleting must not create one (creating writes
        to Chroma's catalog, and under a full disk chromadb 1.5.9's create_collection hung instead of failing)."""
        from chromadb.errors import NotFoundError

        try:
            return self._client.get_collection(f"{space}_{case}", embedding_function=None)
        except NotFoundError:
            return None

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
            self._drop(case)  # the case may have been deleted and made again: its collection is new
            if not self.embedded:
                return
            from chromadb.api.shared_system_client import SharedSystemClient

            identifier = str(self.index_dir / "chroma")  # the registry key make_client's PersistentClient uses
            SharedSystemClient._identifier_to_system.pop(identifier, None)
            SharedSystemClient._identifier_to_refcount.pop(identifier, None)
            self._client = self._open()
            self._held.clear()  # collections of the old client
            self._clean.clear()
        log.info("chroma reopened case=%s generation %d -> %d (written by another process)", case, seen, generation)

    def delete(self, case: str) -> bool:
        """Drop the case's collections (main, multilingual, EmbeddingGemma); False when there was no main one."""
        for space in ("ml", "gm"):
            try:
                self._client.delete_collection(f"{space}_{case}")
            except Exception:  # no such vectors: the case holds no untranslated originals
                log.debug("delete no_side_collection case=%s space=%s", case, space)
        try:
            self._client.delete_collection(f"case_{case}")
        except Exception:  # no collection: nothing was ever written
            return False
        finally:
            self.forget(case)
        with self._lock:
            self._seen.pop(case, None)
        return True
