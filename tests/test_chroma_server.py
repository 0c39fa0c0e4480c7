"""Server mode: the same case ingested through a real Chroma server on loopback (`chroma run` from the chromadb
wheel, started by assistant.index.server on a free port) answers exactly as the embedded index does."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import IndexSettings, load_settings
from assistant.errors import AssistantError
from assistant.index.client import make_client, parse_chroma_url
from assistant.index.server import ChromaServer
from assistant.llm.runtime import free_port
from tests.conftest import HERON_DIR

QUESTIONS = [
    "What car was Ryan found in?",
    "What is GARSIDE's phone number?",
    "Why was the case closed?",
    "Who examined the Motorola?",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with ChromaServer(tmp_path_factory.mktemp("chroma-server"), cache_collections=2) as srv:
        yield srv


def _app(index_dir: Path, chroma_url: str = "") -> Any:
    from assistant.app import App

    settings = load_settings(index_dir=index_dir)
    settings.llm.backend = "extractive"
    settings.index.chroma_url = chroma_url
    return App(settings)


def _view(answer: Any) -> dict[str, Any]:
    payload = answer.to_json()
    return {
        "status": payload["status"], "answer": payload["answer"],
        "citations": [(c["chunk_id"], c["quote"], c["verified"]) for c in payload["citations"]],
        "retrieved": [r["chunk_id"] for r in payload["retrieved"]],
    }


def test_ingest_and_ask_through_a_server_match_embedded(server: ChromaServer, tmp_path: Path) -> None:
    embedded, remote = _app(tmp_path / "embedded"), _app(tmp_path / "remote", server.url)
    for app in (embedded, remote):
        report = app.ingest([HERON_DIR], "heron", progress=False)
        assert report.ingested and not report.failed, report.failed
    assert remote.store.count("heron") == embedded.store.count("heron") > 0
    assert not (tmp_path / "remote" / "chroma").exists()  # the vectors live in the server's folder
    assert (server.path / "chroma.sqlite3").exists()
    answered = 0
    for question in QUESTIONS:
        want, got = _view(embedded.ask("heron", question)), _view(remote.ask("heron", question))
        assert got == want, question
        answered += want["status"] == "answered"
    assert answered >= 2  # the comparison covers real citations, not only refusals


def test_a_restarted_server_serves_the_same_case(tmp_path: Path) -> None:
    """Stop the server, start it again on the same folder (another port): a new app process with the same index
    folder answers as before, from what the server persisted."""
    with ChromaServer(tmp_path / "server", cache_collections=1) as first:
        app = _app(tmp_path / "idx", first.url)
        assert app.ingest([HERON_DIR], "heron", progress=False).ingested
        before = _view(app.ask("heron", QUESTIONS[0]))
        count = app.store.count("heron")
    with ChromaServer(tmp_path / "server", cache_collections=1) as second:
        assert second.port != first.port or not first.alive()
        again = _app(tmp_path / "idx", second.url)
        assert again.store.count("heron") == count
        assert _view(again.ask("heron", QUESTIONS[0])) == before
        assert before["status"] == "answered"


def test_chroma_url_validation() -> None:
    assert parse_chroma_url("http://127.0.0.1:8001").port == 8001
    assert parse_chroma_url("http://localhost:9000/").host == "localhost"
    assert parse_chroma_url("http://[::1]:9000").host == "::1"
    for url in ("http://10.0.0.5:8000", "http://chroma.internal:8000", "https://example.org"):
        with pytest.raises(AssistantError, match="not on this machine"):
            parse_chroma_url(url)
    assert parse_chroma_url("https://chroma.internal:8443", allow_remote=True).ssl
    for bad in ("ftp://127.0.0.1:1", "127.0.0.1:8000", "http://127.0.0.1:8000/api", "http://u:p@127.0.0.1:1"):
        with pytest.raises(AssistantError):
            parse_chroma_url(bad)


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(AssistantError, match=f"not reachable at http://127.0.0.1:{port}.*index-server"):
        make_client(tmp_path, IndexSettings(chroma_url=f"http://127.0.0.1:{port}"))


def test_a_server_that_cannot_start_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:  # the port is already bound: chroma run exits, and start() says so
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ChromaServer(tmp_path, port=taken.getsockname()[1], start_timeout_s=30)
        try:
            with pytest.raises(AssistantError, match="while starting"):
                server.start()
        finally:
            server.stop()


def test_new_case_collections_carry_the_configured_search_ef(server: ChromaServer, tmp_path: Path) -> None:
    from assistant.index.store import IndexStore

    for url in ("", server.url):
        store = IndexStore(tmp_path / f"idx{len(url)}", chroma=IndexSettings(chroma_url=url, search_ef=123))
        collection = store._collection("efcase")
        assert collection.configuration_json["hnsw"]["ef_search"] == 123
        assert collection.configuration_json["hnsw"]["space"] == "cosine"


def test_an_existing_collection_is_moved_to_the_configured_search_ef(server: ChromaServer, tmp_path: Path) -> None:
    from assistant.index.client import ChromaHandle

    for url in ("", server.url):
        old = ChromaHandle(tmp_path / f"old{len(url)}", IndexSettings(chroma_url=url, search_ef=123))
        old.collection("efcase").add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
        new = ChromaHandle(tmp_path / f"old{len(url)}", IndexSettings(chroma_url=url, search_ef=45))
        assert new.collection("efcase").configuration_json["hnsw"]["ef_search"] == 45
        again = new._client.get_collection("case_efcase")  # stored, not only on the client's copy
        assert again.configuration_json["hnsw"]["ef_search"] == 45
        assert again.count() == 2 and again.configuration_json["hnsw"]["space"] == "cosine"



def _raw_client(server: ChromaServer) -> Any:
    import chromadb

    return chromadb.HttpClient(host=server.host, port=server.port)


def test_the_server_keeps_collection_descriptions_in_memory(server: ChromaServer) -> None:
    """The description cache is on (server.py): once read, a collection's row is not read again for each query, so
    a change made in SQLite behind the server's back is not seen. Without the cache the second query fails with
    "expecting embedding with dimension of 3"."""
    import sqlite3

    col = _raw_client(server).create_collection("described")
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
    assert col.query(query_embeddings=[[1.0, 0.0]], n_results=1)["ids"] == [["a"]]
    with sqlite3.connect(server.path / "chroma.sqlite3") as db:
        db.execute("UPDATE collections SET dimension = 3 WHERE name = 'described'")
    assert col.query(query_embeddings=[[1.0, 0.0]], n_results=1)["ids"] == [["a"]]


def test_a_deleted_or_changed_collection_is_never_served_from_the_cache(server: ChromaServer) -> None:
    """Chroma drops a cached description when the collection is deleted or modified through the server: a case
    deleted and made again under its name serves its new vectors at once (of another dimension), a handle to the
    deleted one gets an error, never the old vectors, and a new search ef is what the next read sees."""
    import chromadb.errors

    client = _raw_client(server)
    old = client.create_collection("remade")
    old.add(ids=["old1", "old2"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
    assert old.query(query_embeddings=[[1.0, 0.0]], n_results=1)["ids"] == [["old1"]]
    client.delete_collection("remade")
    new = client.create_collection("remade")
    new.add(ids=["new1", "new2", "new3"], embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert new.query(query_embeddings=[[0.0, 1.0, 0.0]], n_results=1)["ids"] == [["new2"]]
    assert new.count() == 3
    with pytest.raises(chromadb.errors.ChromaError):
        old.query(query_embeddings=[[1.0, 0.0]], n_results=1)
    with pytest.raises(chromadb.errors.ChromaError):
        old.count()
    new.modify(configuration={"hnsw": {"ef_search": 77}})
    assert client.get_collection("remade").configuration_json["hnsw"]["ef_search"] == 77


def test_small_collections_evicted_from_the_server_cache_load_again(tmp_path: Path) -> None:
    """A server caching one collection, three small ones queried in turn: each is evicted and loaded again from
    disk. With Chroma's default (nothing written before 1,000 vectors) the second round failed with "Nothing found on
    disk"; our collections are written every index.client.SYNC_EVERY vectors."""
    import numpy as np

    from assistant.index.client import ChromaHandle

    rng = np.random.default_rng(3)
    with ChromaServer(tmp_path / "server", cache_collections=1) as srv:
        handle = ChromaHandle(tmp_path / "idx", IndexSettings(chroma_url=srv.url))
        spaces = [handle.space("small", name) for name in ("case", "ml", "gm")]
        for n, col in enumerate(spaces, start=2):
            col.add(ids=[f"c{i}" for i in range(n)], embeddings=rng.random((n, 8)).tolist())
        for _ in range(3):
            for n, col in enumerate(spaces, start=2):
                got = col.query(query_embeddings=[rng.random(8).tolist()], n_results=n)
                assert len(got["ids"][0]) == n


def test_index_server_command_serves_and_stops_its_chroma(tmp_path: Path) -> None:
    import subprocess
    import sys
    import urllib.request

    from tests.conftest import ROOT

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli.main", "index-server", "--port", str(port),
                             "--path", str(tmp_path / "data")], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**__import__("os").environ, "ASSISTANT_INDEX_DIR": str(tmp_path / "idx")})
    try:
        assert proc.stdout is not None
        assert f"ASSISTANT_INDEX__CHROMA_URL=http://127.0.0.1:{port}" in proc.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=5) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    with pytest.raises(OSError):  # the chroma child went with it
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
