"""The dense side's reads on real Chroma (embedded and a loopback server): a question keeps the case's collection
between reads and asks the server for ids and distances only when every stored chunk is served, and it returns the
same hits (ids, order, scores) as the search with metadata and the served filter; unserved chunks (a crash's
leftovers, an ingest in flight) are still filtered out, and a collection deleted and made again elsewhere is found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.config import IndexSettings
from assistant.index.manifest import SourceRow
from assistant.index.server import ChromaServer
from assistant.index.store import IndexStore
from assistant.ingest.batches import BatchWriter, write_version
from assistant.types import Chunk

DIM, N, K = 16, 200, 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with ChromaServer(tmp_path_factory.mktemp("chroma-dense"), cache_collections=2) as srv:
        yield srv


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> IndexStore:
    url = request.getfixturevalue("server").url if request.param == "server" else ""
    return IndexStore(tmp_path / "idx", chroma=IndexSettings(chroma_url=url))


def _chunks(case: str, source: str, n: int) -> list[Chunk]:
    return [Chunk(chunk_id=f"{case}:{source}:{i}", case=case, source=source, locator=f"msg {i}", text=f"message {i}",
                  start=0, end=9, content_hash=f"h{i}", source_hash=source, kind="text") for i in range(n)]


def _vectors(seed: int, n: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float32)


def _reference(store: IndexStore, case: str, query: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The search as it was: k plus the unserved count, with metadata, unserved hits dropped."""
    col = store.side_collection(case, "")
    count = col.count()
    served = store.manifest.served(case)
    unserved = max(0, count - sum(r.n_chunks for r in served.values()))
    res = col.query(query_embeddings=[query.tolist()], n_results=min(k + unserved, count),
                    include=["distances", "metadatas"])
    hashes = {src: row.sha256 for src, row in served.items()}
    return [(cid, 1.0 - float(d)) for cid, d, meta in zip(res["ids"][0], res["distances"][0], res["metadatas"][0],
                                                          strict=True)
            if hashes.get(str(meta["source"])) == meta["source_hash"]][:k]


def test_dense_hits_equal_the_search_with_metadata(store: IndexStore) -> None:
    write_version(store, "c", "a.csv", "a.csv", _chunks("c", "a.csv", N), _vectors(1, N))
    queries = _vectors(2, 8)
    for q in queries:
        got = store.dense_query("c", q, K)
        assert len(got) == K and got == _reference(store, "c", q, K)
    assert len(store.dense_query("c", queries[0], N + 50)) == N  # more asked than held: all of them


def test_unserved_chunks_are_still_filtered_out(store: IndexStore) -> None:
    write_version(store, "c", "a.csv", "a.csv", _chunks("c", "a.csv", N), _vectors(1, N))
    ghosts = _vectors(3, 30)  # leftovers of a version the manifest does not serve, placed where the queries look
    store.side_collection("c", "").upsert(
        ids=[f"ghost{i}" for i in range(30)], embeddings=ghosts.tolist(),
        metadatas=[{"case": "c", "source": "a.csv", "source_hash": "old"} for _ in range(30)])
    for q in ghosts[:5]:
        got = store.dense_query("c", q, K)
        assert len(got) == K and not any(cid.startswith("ghost") for cid, _ in got)
        assert got == _reference(store, "c", q, K)


def test_a_version_written_after_a_clean_search_is_still_filtered_out(store: IndexStore) -> None:
    """Once a case state was counted all served, searches skip the count; an ingest that starts writing a new
    version (pending in the manifest, not yet swapped in) must still never be served, nor after it is abandoned."""
    write_version(store, "c", "a.csv", "a.csv", _chunks("c", "a.csv", N), _vectors(1, N))
    ahead = _vectors(5, 40)
    for q in ahead[:3]:  # the state is now known clean
        assert store.dense_query("c", q, K) == _reference(store, "c", q, K)
    writer = BatchWriter(store, "c", SourceRow("b.csv", "b.csv", "", 40), 16)
    writer.write(_chunks("c", "b.csv", 40), list, lambda texts: ahead[[int(t.split()[1]) for t in texts]], {})
    for q in ahead[:5]:  # the in-flight chunks are the nearest ones
        got = store.dense_query("c", q, K)
        assert len(got) == K and not any(":b.csv:" in cid for cid, _ in got)
        assert got == _reference(store, "c", q, K)
    writer.swap()  # served now: found
    assert store.dense_query("c", ahead[7], K)[0][0] == "c:b.csv:7"


def test_a_collection_deleted_and_made_again_elsewhere_is_read_again(store: IndexStore, tmp_path: Path) -> None:
    """The kept collection goes stale when the case is dropped and ingested again while this process holds the
    same manifest generation: the read asks for the new collection instead of failing."""
    write_version(store, "c", "a.csv", "a.csv", _chunks("c", "a.csv", N), _vectors(1, N))
    q = _vectors(2, 1)[0]
    before = store.dense_query("c", q, K)
    assert store.get_chunks("c", [before[0][0]])
    generation = store.generation("c")
    client = store._chroma._client  # the same server (or embedded folder), as another process would see it
    client.delete_collection("case_c")
    fresh = client.create_collection("case_c", embedding_function=None, metadata={"hnsw:space": "cosine"})
    moved = _vectors(4, N)
    fresh.add(ids=[c.chunk_id for c in _chunks("c", "a.csv", N)], embeddings=moved.tolist(),
              metadatas=[{"case": "c", "source": "a.csv", "source_hash": "a.csv"} for _ in range(N)],
              documents=[f"again {i}" for i in range(N)])
    assert store.generation("c") == generation
    after = store.dense_query("c", moved[7], K)
    assert after[0][0] == "c:a.csv:7" and after == _reference(store, "c", moved[7], K)
    assert store.get_chunks("c", ["c:a.csv:7"])["c:a.csv:7"].text == "again 7"
