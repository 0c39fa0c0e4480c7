"""A static picture of a link chart (matplotlib, Agg backend): node colour by kind, size by degree, labels kept
for the best-connected nodes so the picture stays readable at a few hundred nodes."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from assistant.perms import private_file

COLOURS = {"person": "#1f77b4", "phone": "#d62728", "device": "#9467bd", "vehicle": "#2ca02c",
           "account": "#ff7f0e"}
MAX_LABELS = 60  # beyond this many labels at 200 nodes the text overlaps into noise (looked at, 12x9 in, 100 dpi)


def render_png(graph: nx.MultiDiGraph, path: Path, *, title: str = "", seed: int = 7) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    simple = nx.Graph(graph.to_undirected())
    fig, ax = plt.subplots(figsize=(12, 9), dpi=100)
    if simple.number_of_nodes():
        pos = nx.kamada_kawai_layout(simple)  # spreads a dense core better than a spring layout
        pos = nx.spring_layout(simple, pos=pos, seed=seed, iterations=30,
                               k=2.0 / max(1, simple.number_of_nodes()) ** 0.5)
        degree = dict(simple.degree())
        kinds = nx.get_node_attributes(graph, "kind")
        nx.draw_networkx_edges(simple, pos, ax=ax, alpha=0.25, width=0.6)
        nx.draw_networkx_nodes(simple, pos, ax=ax, node_size=[30 + 25 * degree[n] for n in simple],
                               node_color=[COLOURS.get(kinds.get(n, ""), "#7f7f7f") for n in simple])
        top = sorted(simple, key=lambda n: (-degree[n], n))[:MAX_LABELS]
        labels = {n: str(graph.nodes[n].get("label", n)) for n in top}
        nx.draw_networkx_labels(simple, pos, labels=labels, ax=ax, font_size=7)
        for kind, colour in COLOURS.items():
            ax.scatter([], [], c=colour, label=kind)
        ax.legend(loc="lower left", fontsize=8, frameon=False)
    ax.set_title(title or f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} links", fontsize=10)
    ax.set_axis_off()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return private_file(path)
