"""What a role may see of a link chart and a timeline, computed on the server from the case's protected persons
(`pii.protected`, the same matcher as answers and passages).

Cleared roles (`pii.cleared_roles`) see both in clear. Other roles see every protected identifier masked: node labels
(a node that is a protected person stays, with its links, labelled `<PROTECTED_k_NAME>`), node ids, the file names
and locators of every citation, an event's text, file and locator, and an event's date when it is a protected date
of birth. Roles in `pii.mask_all_pii_roles` are refused: a chart and a timeline are built from identifiers, and they
may see none. The timeline's and chart's callers (UI, CLI) go through `LinkView`, so a new view (a per-person
timeline) is masked the same way by calling it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import networkx as nx

from assistant.config import PiiSettings
from assistant.errors import AccessDenied
from assistant.links.timeline import Cite, Event
from assistant.pii.protected import ProtectedSet, protected_set
from assistant.types import Answer

_REPEATED = re.compile(r"(<PROTECTED_\d+_[A-Z]+>)(?:[\s_.\-]+\1)+")


@dataclass(frozen=True)
class LinkView:
    """The protected persons of the cases shown, applied to what the links package shows one role."""

    clear: bool
    protected: tuple[ProtectedSet, ...] = ()

    @classmethod
    def for_role(cls, role: str, settings: PiiSettings, index_dir: Path, cases: Sequence[str]) -> LinkView:
        if settings.sees_clear(role):
            return cls(True)
        if role.strip().lower() in {r.strip().lower() for r in settings.mask_all_pii_roles}:
            raise AccessDenied(f"role {role!r} sees every identifier masked, so link charts and timelines (built "
                               "from identifiers) are not offered to it")
        return cls(False, tuple(p for case in cases if (p := protected_set(index_dir, case))))

    @classmethod
    def for_lookup(cls, role: str, settings: PiiSettings, index_dir: Path, cases: Sequence[str]) -> LinkView:
        """A look-up shows files and locators, never text: every role not cleared gets the protected view (strict
        roles included), so a typed value can be checked against every case's protected persons."""
        if settings.sees_clear(role):
            return cls(True)
        return cls(False, tuple(p for case in cases if (p := protected_set(index_dir, case))))

    def text(self, value: str) -> str:
        """`value` with every protected identifier of the shown cases replaced by its placeholder."""
        if self.clear or not value:
            return value
        for p in self.protected:
            value = p.sub(value)
        return value

    def label(self, value: str) -> str:
        """A node label: masked, one placeholder for a name written in several words ("Kacper Zielinski")."""
        return _REPEATED.sub(r"\1", self.text(value))

    def probes(self, typed: str) -> bool:
        """Whether `typed` (a filter, an `about`) names a protected person this role may not see."""
        return not self.clear and any(p.find(typed) for p in self.protected)

    def cite(self, cite: dict[str, str]) -> dict[str, str]:
        return {**cite, "source": self.text(cite.get("source", "")), "locator": self.text(cite.get("locator", ""))}

    def graph(self, graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
        """The chart with labels, ids and citations masked. Nodes are never merged: two nodes whose masked ids
        coincide (two name forms of one protected person) stay two, the second id suffixed `#2`."""
        if self.clear:
            return graph
        out: nx.MultiDiGraph = nx.MultiDiGraph()
        ids: dict[Any, str] = {}
        for n, data in graph.nodes(data=True):
            prefix = str(n).split(":", 1)[0]
            label = self.label(str(data.get("label", "")))
            nid = base = f"{prefix}:{label}"
            k = 1
            while nid in out:
                k += 1
                nid = f"{base}#{k}"
            ids[n] = nid
            out.add_node(nid, **{**data, "label": label})
        for u, v, key, data in graph.edges(keys=True, data=True):
            out.add_edge(ids[u], ids[v], key=key,
                         **{**data, "citations": [self.cite(c) for c in data.get("citations", [])]})
        return out

    def events(self, events: Iterable[Event]) -> list[Event]:
        """Timeline events masked, in the same order (the clear-text order: a masked date keeps its place)."""
        if self.clear:
            return list(events)
        return [replace(e, timestamp=self.text(e.timestamp), also=tuple(self.text(d) for d in e.also),
                        text=self.text(e.text),
                        citation=Cite(e.citation.chunk_id, self.text(e.citation.source),
                                      self.text(e.citation.locator))) for e in events]

    def answer(self, answer: Answer) -> Answer:
        """Every string of a timeline answer a reader sees (question, text, notes, each citation's quote, passage
        text, file and locator) passed through `text`."""
        if self.clear:
            return answer
        citations = tuple(replace(c, quote=self.text(c.quote), text=self.text(c.text), source=self.text(c.source),
                                  locator=self.text(c.locator)) for c in answer.citations)
        return replace(answer, question=self.text(answer.question), answer=self.text(answer.answer),
                       citations=citations, notes=tuple(self.text(n) for n in answer.notes))
