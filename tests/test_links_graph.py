"""The link chart on the real demo cases (ingested by the module fixture of test_links_demo) and its exports."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from assistant.links.graph import ChartBuilder, build_graph, export_graph
from assistant.links.render import render_png
from tests.test_links_demo import DEMO_DIR


@pytest.fixture()
def app(links_app: Any) -> Any:
    return links_app


def test_chart_edges_carry_citations(app: Any) -> None:
    graph = build_graph(app, ["kestrel", "plover"])
    kinds = nx.get_node_attributes(graph, "kind")
    assert kinds["phone:+447700900418"] == "phone" and kinds["imei:352910114827367"] == "device"
    assert kinds["vehicle:LK19XRT"] == "vehicle" and kinds["handle:@w0lfie_94"] == "account"
    assert set(graph.nodes["phone:+447700900418"]["cases"].split(",")) == {"kestrel", "plover"}
    # message edges: one per distinct message sender -> recipient, counted from the export itself
    with (DEMO_DIR / "messages" / "phone_HE3_messages.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    sent = sum(1 for r in rows if r["sender"] == "Marek" and r["recipient"] == "Kacper")
    edge = graph.edges["name:marek", "name:kacper", "message"]
    assert edge["weight"] == sent == len(edge["citations"])
    assert all(c["source"] == "messages/phone_HE3_messages.csv" and "HE3-" in c["locator"] for c in edge["citations"])
    saved = graph.edges["name:wolfie", "phone:+447700900418", "saved_contact"]
    assert [c["source"] for c in saved["citations"]] == ["statements/witness_statement_price.txt"]
    device = graph.edges["imei:352910114827367", "phone:+447700900418", "device"]
    assert {c["case"] for c in device["citations"]} == {"kestrel"}
    assert graph.has_edge("name:marek wolski", "name:wolfie", "alias")
    for _u, _v, d in graph.edges(data=True):
        assert d["citations"], d
        for c in d["citations"]:
            passage = app.get_chunk(c["case"], c["chunk_id"])
            assert passage is not None and passage.source == c["source"]


def test_export_graphml_and_csv(app: Any, tmp_path: Path) -> None:
    graph = build_graph(app, ["plover"])
    paths = export_graph(graph, tmp_path / "out")
    back = nx.read_graphml(paths[0], force_multigraph=True)
    assert back.number_of_nodes() == graph.number_of_nodes() and back.number_of_edges() == graph.number_of_edges()
    with paths[2].open(encoding="utf-8") as fh:
        edges = list(csv.DictReader(fh))
    assert len(edges) == graph.number_of_edges() and all(e["citations"] for e in edges)
    assert {"co_mention", "message", "saved_contact", "alias"} <= {e["kind"] for e in edges}
    with paths[1].open(encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == graph.number_of_nodes()


def test_co_mention_is_per_sentence_or_row() -> None:
    builder = ChartBuilder()
    table = ("Saved name    Number          Attributed to\n"
             "Andi          07700 900733    Andrei POPESCU\n"
             "K             07700 900265    Kacper ZIELINSKI\n\n"
             "POPESCU drives KM68 WRV. The list: " + ", ".join(f"07700 9{i:05d}" for i in range(13)) + ".")
    builder.add_passage("c", "c:1", "s", "l", table, {}, [("andrei popescu", "name"), ("kacper zielinski", "name")])
    pairs = {tuple(sorted((u, v))) for u, v, _k in builder.graph.edges(keys=True)}
    assert pairs == {("name:andrei popescu", "phone:+447700900733"), ("name:kacper zielinski", "phone:+447700900265"),
                     ("name:andrei popescu", "vehicle:KM68WRV")}  # the 13-number list links nothing


@pytest.mark.slow
def test_render_200_nodes(tmp_path: Path) -> None:
    rng = random.Random(3)
    builder = ChartBuilder()
    kinds = ["name", "phone", "imei", "vehicle", "email"]
    nodes = [(f"v{i}", kinds[i % 5]) for i in range(200)]
    for i in range(300):
        pair = rng.sample(nodes, 2)
        builder.add_passage("c", f"c:{i}", "s", "l", "", {}, pair)
    path = render_png(builder.graph, tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 50_000


def test_seized_phone_call_records_are_call_edges() -> None:
    from assistant.loaders.phone.records import PhoneRecord, to_message

    call = PhoneRecord(kind="call", record_id="c1", thread="t", timestamp="2024-03-14T21:00:00+00:00",
                       body="outgoing call, 2 min", sender="Leah", recipients=("Wolfie",), direction="outgoing")
    note = PhoneRecord(kind="contact", record_id="k1", thread="contacts", timestamp="", body="contact Wolfie",
                       sender="Leah", recipients=("Wolfie",))
    text_msg = PhoneRecord(kind="message", record_id="m1", thread="t", timestamp="2024-03-14T21:05:00+00:00",
                           body="outside", sender="Wolfie", recipients=("Leah",))
    records = [{"message_id": m.message_id, "thread_id": m.thread_id, "timestamp": m.timestamp, "sender": m.sender,
                "recipient": m.recipient, "body": m.body, "phone": m.phone}
               for m in (to_message(r) for r in (call, note, text_msg))]
    builder = ChartBuilder()
    builder.add_passage("c", "c:1", "s.json", "PL/1", "", {"kind": "messages", "messages": json.dumps(records)}, [])
    edges = {(u, v, k) for u, v, k in builder.graph.edges(keys=True)}
    assert edges == {("name:leah", "name:wolfie", "call"), ("name:wolfie", "name:leah", "message")}
