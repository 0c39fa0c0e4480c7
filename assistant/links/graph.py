"""The link chart of one or more cases, as a networkx MultiDiGraph: people, phones, devices, vehicles and accounts
as nodes. Edges: co-mention in one sentence of a passage (a table row, a message line; passage-wide pairs linked
every name of a report to every number in it), message sender -> recipient, a contact saved under a name, a device
used with a number (both in one sentence), a declared alias, and calls (seized-phone call records). Every edge
keeps its citations.

Export: GraphML (citations as a JSON string attribute, since GraphML holds scalars) and two CSV files."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from assistant.links.identifiers import IMEI, NAME, PHONE, extract, normalize_name
from assistant.loaders.phone.records import record_of
from assistant.perms import private_file
from assistant.text.messages import message_records
from assistant.text.sentences import split_sentences

if TYPE_CHECKING:
    from assistant.links.ports import LinksApp

NODE_KIND = {NAME: "person", PHONE: "phone", IMEI: "device", "vehicle": "vehicle", "bank_account": "account",
             "email": "account", "handle": "account"}
CO_MENTION, MESSAGE, CALL, SAVED_CONTACT, DEVICE, ALIAS = ("co_mention", "message", "call", "saved_contact", "device",
                                                         "alias")
_SAVED_AS = re.compile(r"\bsaved\s+(?:as|under)\s+[\"“'‘]?([A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*){0,2})", re.I)
MAX_COMENTION = 12  # a sentence naming more identifiers than this is a list: its pairs say nothing


def node_id(value: str, kind: str) -> str:
    return f"{kind}:{value}"


class ChartBuilder:
    def __init__(self) -> None:
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        self.case_names: dict[str, list[str]] = {}  # case -> every indexed name, matched in sentences by surname

    def node(self, value: str, kind: str, case: str) -> str:
        nid = node_id(value, kind)
        if nid not in self.graph:
            self.graph.add_node(nid, label=value, kind=NODE_KIND.get(kind, kind), cases=case)
        elif case not in self.graph.nodes[nid]["cases"].split(","):
            self.graph.nodes[nid]["cases"] += f",{case}"
        return nid

    def edge(self, u: str, v: str, kind: str, cite: dict[str, str]) -> None:
        if u == v:
            return
        if kind not in (MESSAGE, CALL) and u > v:  # undirected kinds are stored once, in one order
            u, v = v, u
        if not self.graph.has_edge(u, v, key=kind):
            self.graph.add_edge(u, v, key=kind, kind=kind, weight=0, citations=[])
        data = self.graph.edges[u, v, kind]
        where = (cite["case"], cite["source"], cite["locator"])
        if kind in (MESSAGE, CALL) and any((c["case"], c["source"], c["locator"]) == where for c in data["citations"]):
            return  # the same message seen again in an overlapping window
        data["weight"] += 1
        data["citations"].append(cite)

    def add_passage(self, case: str, chunk_id: str, source: str, locator: str, text: str, meta: dict[str, Any],
                    values: Iterable[tuple[str, str]]) -> None:
        cite = {"case": case, "chunk_id": chunk_id, "source": source, "locator": locator}
        values = list(values)
        for value, kind in values:
            self.node(value, kind, case)
        names = [(n, NAME) for n in self.case_names.get(case, [])] or values
        for start, end in split_sentences(text):  # co-mention in one sentence (or one table row / message line)
            unit = self._unit_ids(text[start:end], names, case)
            if 2 <= len(unit) <= MAX_COMENTION:
                for u, v in combinations(sorted(unit), 2):
                    self.edge(u, v, CO_MENTION, cite)
        for r in message_records(meta):
            record = record_of(r.phone)  # seized-phone evidence says what the record is
            kind = MESSAGE if record is None or record.kind == "message" else CALL if record.kind == "call" else ""
            sender, recipient = normalize_name(r.sender), normalize_name(r.recipient)
            if kind and sender and recipient:
                loc = f"thread {r.thread_id} / {r.message_id} / {r.timestamp}"
                self.edge(self.node(sender, NAME, case), self.node(recipient, NAME, case), kind,
                          {**cite, "locator": f"{locator.split(' / ')[0]} / {loc}"})
        if not message_records(meta):
            self._sentences(case, text, cite)

    def _unit_ids(self, unit: str, values: list[tuple[str, str]], case: str) -> set[str]:
        """Identifiers written in one sentence, and the passage's names whose surname it mentions ("POPESCU
        drives ... KM68 WRV" names Andrei POPESCU)."""
        ids = {self.node(f.value, f.type, case) for f in extract(unit)}
        for value, kind in values:
            if kind == NAME and re.search(rf"\b{re.escape(value.split()[-1])}\b", unit, re.I):
                ids.add(self.node(value, kind, case))
        return ids

    def _sentences(self, case: str, text: str, cite: dict[str, str]) -> None:
        for start, end in split_sentences(text):
            sentence = text[start:end]
            found = extract(sentence)
            phones = [f.value for f in found if f.type == PHONE]
            imeis = [f.value for f in found if f.type == IMEI]
            for m in _SAVED_AS.finditer(sentence):
                name = normalize_name(m.group(1))
                for p in phones:
                    self.edge(self.node(name, NAME, case), self.node(p, PHONE, case), SAVED_CONTACT, cite)
            for i in imeis:
                for p in phones:
                    self.edge(self.node(i, IMEI, case), self.node(p, PHONE, case), DEVICE, cite)


def build_graph(app: LinksApp, cases: Iterable[str]) -> nx.MultiDiGraph:
    builder = ChartBuilder()
    for case in cases:
        stored, _ = app.store.catalog(case)
        indexed = app.link_store.chunk_values(case)
        builder.case_names[case] = [v for v, t in app.link_store.case_values(case).items() if t == NAME]
        for chunk_id, (source, locator, values) in sorted(indexed.items()):
            chunk = stored.get(chunk_id)
            text, meta = (chunk.text, chunk.meta) if chunk is not None else ("", {})
            builder.add_passage(case, chunk_id, source, locator, text, meta, values)
        for name, alias, chunk_id in app.link_store.case_aliases(case):
            source, locator, _ = indexed.get(chunk_id, ("", "", []))
            builder.edge(builder.node(name, NAME, case), builder.node(alias, NAME, case), ALIAS,
                         {"case": case, "chunk_id": chunk_id, "source": source, "locator": locator})
        for chunk_id, chunk in sorted(stored.items()):  # message windows naming no identifier still link people
            if chunk.meta.get("kind") == "messages" and chunk_id not in indexed:
                builder.add_passage(case, chunk_id, str(chunk.meta.get("source", "")),
                                    str(chunk.meta.get("locator", "")), chunk.text, chunk.meta, ())
    return builder.graph


def cite_text(cites: list[dict[str, str]]) -> str:
    return " | ".join(f"{c['case']}: {c['source']} — {c['locator']} [{c['chunk_id']}]" for c in cites)


def export_graph(graph: nx.MultiDiGraph, out: Path) -> list[Path]:
    """Write links.graphml, nodes.csv and edges.csv under `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    flat = nx.MultiDiGraph()
    flat.add_nodes_from(graph.nodes(data=True))
    for u, v, k, d in graph.edges(keys=True, data=True):
        flat.add_edge(u, v, key=k, kind=d["kind"], weight=d["weight"],
                      citations=json.dumps(d["citations"], ensure_ascii=False))
    paths = [out / "links.graphml", out / "nodes.csv", out / "edges.csv"]
    nx.write_graphml(flat, paths[0])
    with paths[1].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "label", "kind", "cases", "degree"])
        for n, d in sorted(graph.nodes(data=True)):
            w.writerow([n, d["label"], d["kind"], d["cases"], graph.degree(n)])
    with paths[2].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source", "target", "kind", "weight", "citations"])
        for u, v, _k, d in sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2])):
            w.writerow([u, v, d["kind"], d["weight"], cite_text(d["citations"])])
    for path in paths:
        private_file(path)  # names and numbers in clear: the owner's only
    return paths
