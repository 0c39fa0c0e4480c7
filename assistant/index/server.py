"""A Chroma server on loopback, run from the `chromadb` wheel's own `chroma run` (no other install): used by tests
and benchmarks (a free port, started and stopped around them) and by `assistant index-server` for a shared index.

The server reads a YAML config written here: loopback address, port, data folder, no reset, the HNSW index pool
cache bounded to `cache_collections` collections, so memory stays bounded however many cases are queried, and the
cache of collection descriptions. Without the latter, Chroma 1.5.9's server reads a collection's row, segments and
configuration from SQLite on every query, get and count; with it a dense query at 30k chunks costs the server 0.97
instead of 1.77 ms of CPU (p50 1.49 vs 2.18 ms; benchmarks/bench_query_cpu.py, docs/scale.md). Chroma drops an entry
itself when its collection is modified or deleted through this server (tests/test_chroma_server.py)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType

from assistant.errors import AssistantError
from assistant.offline import OFFLINE_ENV
from assistant.procs import free_port, stop_process, wait_ready

log = logging.getLogger(__name__)

# Collection descriptions kept (a few KB each: one per case queried lately) and for how long; 60 s is Chroma's own
# setting for its distributed front end. Other servers never change this one's collections (one server a folder).
DESCRIPTIONS_CACHED = 256
DESCRIPTION_TTL_S = 60
LAUNCH = "import sys; from chromadb.cli.cli import app; sys.argv = ['chroma', *sys.argv[1:]]; app()"


def server_config(path: Path, host: str, port: int, cache_collections: int,
                  descriptions: int = DESCRIPTIONS_CACHED) -> str:
    """The `chroma run` config (YAML; JSON strings are valid YAML scalars). `descriptions=0` leaves Chroma's default,
    no description cache (benchmarks/bench_query_cpu.py compares the two)."""
    cached = [
        "collections_with_segments_provider:",
        "  cache:",
        "    lru:",
        f"      capacity: {int(descriptions)}",
        f"  cache_ttl_secs: {DESCRIPTION_TTL_S}",
        "  permitted_parallelism: 180",
        "  cache_invalidation_retry_policy:",
        "    delay_ms: 0",
        "    max_retries: 3",
    ] if descriptions > 0 else []
    return "\n".join([
        f"port: {int(port)}",
        f"listen_address: {json.dumps(host)}",
        f"persist_path: {json.dumps(str(path))}",
        "allow_reset: false",
        "segment_manager:",
        "  hnsw_index_pool_cache_config:",
        "    memory:",
        f"      capacity: {int(cache_collections)}",
        "      shards: 1",
        *cached,
        ""])


class ChromaServer:
    """`chroma run` in a child process. `with ChromaServer(path) as server:` starts it, waits for its heartbeat,
    and stops it on exit; `server.url` is what `index.chroma_url` should hold."""

    def __init__(self, path: Path, port: int = 0, host: str = "127.0.0.1", cache_collections: int = 4,
                 start_timeout_s: float = 30.0, descriptions: int = DESCRIPTIONS_CACHED) -> None:
        self.path = Path(path)
        self.descriptions = descriptions
        self.host = host
        self.port = port or free_port()
        self.cache_collections = cache_collections
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ChromaServer:
        self.path.mkdir(parents=True, exist_ok=True)
        config = self.path / "chroma-server.yaml"
        config.write_text(server_config(self.path, self.host, self.port, self.cache_collections,
                                         self.descriptions), encoding="utf-8")
        env = {**os.environ, **OFFLINE_ENV}
        self._log = (self.path / "chroma-server.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-c", LAUNCH, "run", str(config)], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, env=env)
        failure = wait_ready(self.proc, self.alive, self.start_timeout_s, self.url)
        if failure is not None:
            self.stop()
            raise AssistantError(f"Chroma server {failure} (see {self.path / 'chroma-server.log'})")
        log.info("chroma server started url=%s pid=%d", self.url, self.proc.pid)
        return self

    def alive(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1.0) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self) -> None:
        stop_process(self.proc)
        self._close_log()

    def _close_log(self) -> None:
        handle = getattr(self, "_log", None)
        if handle is not None and not handle.closed:
            handle.close()

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
