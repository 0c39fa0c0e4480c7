"""Report writer: metrics.json, report.md and PNG plots (matplotlib, Agg) for one eval run; and the console summary.

Plots: gated metrics against their thresholds per suite; SciFact retrievers against BEIR's published numbers;
PII per-entity bars when the pii suite reports per-entity scores; the ClapNQ refusal trade-off curve when the clapnq
suite reports a `curve` list."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _bounds_for(bounds: Sequence[Any], suite: str) -> list[Any]:
    return [b for b in bounds if b.suite == suite]


def _value(result: dict[str, Any], metric: str) -> float | None:
    from evals.runner import metric_at

    try:
        return float(metric_at(result, metric))
    except (KeyError, TypeError, ValueError):
        return None


def flatten(obj: Any, prefix: str = "", limit: int = 60) -> dict[str, Any]:
    """Scalar leaves as dotted keys (lists and private keys skipped), at most `limit` of them."""
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for key, value in obj.items():
            if str(key).startswith("_") or isinstance(value, list):
                continue
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(flatten(value, name, limit - len(out)))
            elif isinstance(value, int | float | str | bool) or value is None:
                out[name] = value
            if len(out) >= limit:
                break
    return out


# ------------------------------------------------------------------------------------------------ console
_CONSOLE_SKIP = {"timing_s", "languages", "by_kind", "top5", "cases", "published", "per_entity", "entities"}


def text_summary(report: dict[str, Any], bounds: Sequence[Any]) -> str:
    lines: list[str] = []
    for name, result in report["suites"].items():
        if "_skipped" in result:
            lines.append(f"{name}: skipped ({result['_skipped']})")
            continue
        if "error" in result:
            lines.append(f"{name}: ERROR {result['error']}")
            continue
        secs = result.get("_meta", {}).get("seconds", "?")
        lines.append(f"{name} ({secs}s):")
        shown = {b.metric for b in _bounds_for(bounds, name)}
        headline = {k: v for k, v in flatten(result, limit=200).items()
                    if k in shown or not any(part in _CONSOLE_SKIP or (part.isupper() and len(part) > 1)
                                             for part in k.split(".")[:-1])}
        for key, value in headline.items():
            bound = next((b for b in _bounds_for(bounds, name) if b.metric == key), None)
            mark = ""
            if bound is not None and isinstance(value, int | float):
                low = bound.minimum is not None and value < bound.minimum
                high = bound.maximum is not None and value > bound.maximum
                mark = "  FAIL" if low or high else "  ok"
                mark += f" (min {bound.minimum})" if bound.minimum is not None else f" (max {bound.maximum})"
            shown_value = f"{value:.4f}" if isinstance(value, float) else str(value)
            lines.append(f"  {key:32s} {shown_value}{mark}")
    gate = report["gate"]
    lines.append("gate: PASSED" if gate["passed"] else "gate: FAILED")
    lines.extend(f"  - {f}" for f in gate["failures"])
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ files
def write_report(report: dict[str, Any], out_dir: Path, bounds: Sequence[Any]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "metrics.json"]
    written[0].write_text(json.dumps(report, indent=2, default=str, sort_keys=False) + "\n", encoding="utf-8")
    plots = _plots(report, out_dir, bounds)
    written.extend(plots)
    md = out_dir / "report.md"
    md.write_text(_markdown(report, bounds, [p.name for p in plots]), encoding="utf-8")
    written.append(md)
    log.info("report written dir=%s files=%d", out_dir, len(written))
    return written


def _markdown(report: dict[str, Any], bounds: Sequence[Any], plots: list[str]) -> str:
    meta = report["meta"]
    gate = report["gate"]
    out = [
        f"# Evaluation report — {meta['timestamp']}",
        "",
        f"Commit `{meta.get('commit') or '?'}`, target `{meta['target']}`, {meta['seconds']} s. "
        f"Gate: **{'PASSED' if gate['passed'] else 'FAILED'}**.",
        "",
    ]
    if gate["failures"]:
        out += ["## Gate failures", "", *[f"- {f}" for f in gate["failures"]], ""]
    out += ["## Gated metrics", "", "| suite | metric | value | bound | ok |", "|---|---|---|---|---|"]
    for b in bounds:
        result = report["suites"].get(b.suite)
        if result is None:
            continue
        value = _value(result, b.metric)
        bound = f">= {b.minimum}" if b.minimum is not None else f"<= {b.maximum}"
        ok = value is not None and (b.minimum is None or value >= b.minimum) and (
            b.maximum is None or value <= b.maximum)
        shown = "missing" if value is None else f"{value:.4f}"
        out.append(f"| {b.suite} | `{b.metric}` | {shown} | {bound} | {'yes' if ok else '**no**'} |")
    out.append("")
    for name, result in report["suites"].items():
        out += [f"## {name}", ""]
        if "_skipped" in result or "error" in result:
            out += [f"Not run: {result.get('_skipped') or result.get('error')}", ""]
            continue
        out += ["| metric | value |", "|---|---|"]
        for key, value in flatten(result, limit=80).items():
            shown = f"{value:.4f}" if isinstance(value, float) else str(value)
            out.append(f"| `{key}` | {shown} |")
        out += [""] + [f"![{p}]({p})" for p in plots if p.startswith(name)] + [""]
    return "\n".join(out)


def _plots(report: dict[str, Any], out_dir: Path, bounds: Sequence[Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: list[Path] = []
    for name, result in report["suites"].items():
        if "_skipped" in result or "error" in result:
            continue
        try:
            paths += _suite_plots(plt, name, result, _bounds_for(bounds, name), out_dir)
        except Exception as exc:  # a plot must never lose the report
            log.warning("plot failed suite=%s error=%s", name, type(exc).__name__)
    return paths


def _suite_plots(plt: Any, name: str, result: dict[str, Any], bounds: list[Any], out_dir: Path) -> list[Path]:
    paths: list[Path] = []
    gated = [(b, _value(result, b.metric)) for b in bounds if b.minimum is not None]
    gated = [(b, v) for b, v in gated if v is not None]
    if gated:
        fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(gated) + 2), 3.5))
        xs = range(len(gated))
        bars = ax.bar(xs, [v for _, v in gated], color="#4c72b0", label="measured")
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
        ax.hlines([b.minimum for b, _ in gated], [x - 0.4 for x in xs], [x + 0.4 for x in xs], color="#c44e52",
                  linewidth=2, label="threshold", zorder=3)
        ax.set_xticks(list(xs), [b.metric for b, _ in gated], rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{name}: gated metrics")
        ax.legend(fontsize=8)
        paths.append(_save(plt, fig, out_dir / f"{name}_gate.png"))
    retrievers = result.get("retrievers")
    if isinstance(retrievers, dict) and retrievers:
        metric = "ndcg@10" if "ndcg@10" in next(iter(retrievers.values())) else next(iter(
            next(iter(retrievers.values()))))
        published = result.get("published", {})
        names = list(retrievers)
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.bar([n for n in names], [retrievers[n].get(metric, 0) for n in names], color="#4c72b0", label="measured")
        pub = [(n, published[n][metric]) for n in names if metric in published.get(n, {})]
        if pub:
            ax.scatter([n for n, _ in pub], [v for _, v in pub], color="#dd8452", marker="D", label="published",
                       zorder=3)
        ax.set_ylim(0, 1.0)
        ax.set_title(f"{name}: {metric} by retriever")
        ax.legend(fontsize=8)
        paths.append(_save(plt, fig, out_dir / f"{name}_retrievers.png"))
    for i, (where, table) in enumerate(entity_tables(result)[:3]):
        paths.append(_entity_plot(plt, name, table, out_dir, where, i))
    curve = result.get("curve")
    if isinstance(curve, list) and curve and all(isinstance(p, dict) for p in curve):
        paths.append(_curve_plot(plt, name, curve, out_dir))
    return paths


def entity_tables(obj: Any, path: str = "", depth: int = 0) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """Per-entity score tables anywhere in a result (e.g. pii's synth.ours): a dict of >= 3 entity names (upper
    case) each mapping to a dict with precision and recall. Aggregate rows (overall, untyped) are left out."""
    if not isinstance(obj, dict) or depth > 3:
        return []
    rows = {k: v for k, v in obj.items() if isinstance(k, str) and k.isupper() and isinstance(v, dict)
            and "precision" in v and "recall" in v}
    found = [(path or "per_entity", rows)] if len(rows) >= 3 else []
    for key, value in obj.items():
        if isinstance(value, dict) and key not in rows:
            found += entity_tables(value, f"{path}.{key}" if path else str(key), depth + 1)
    return found


def _entity_plot(plt: Any, name: str, per_entity: dict[str, dict[str, Any]], out_dir: Path, where: str,
                 index: int) -> Path:
    keys = [k for k in ("precision", "recall", "f2", "f1") if any(k in v for v in per_entity.values())][:3]
    ents = sorted(per_entity)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(ents) + 2), 4))
    width = 0.8 / max(1, len(keys))
    for i, key in enumerate(keys):
        ax.bar([x + i * width for x in range(len(ents))], [float(per_entity[e].get(key, 0) or 0) for e in ents],
               width=width, label=key)
    ax.set_xticks([x + width * (len(keys) - 1) / 2 for x in range(len(ents))], ents, rotation=45, ha="right",
                  fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{name}: per entity type ({where})")
    ax.legend(fontsize=8)
    return _save(plt, fig, out_dir / f"{name}_entities{'' if index == 0 else index}.png")


def _curve_plot(plt: Any, name: str, curve: list[dict[str, Any]], out_dir: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5, 4))
    x_key, y_key = "refusal_rate", "answered_rate"
    if all("refused_unanswerable" in p and "refused_answerable" in p for p in curve):  # clapnq's own keys
        curve = [{**p, x_key: p["refused_unanswerable"], y_key: 1.0 - p["refused_answerable"]} for p in curve]
    if all(x_key in p and y_key in p for p in curve):
        ax.plot([p[x_key] for p in curve], [p[y_key] for p in curve], marker="o")
        for p in curve:
            label = next((p[k] for k in ("threshold", "min_support") if k in p), None)
            if label is not None:
                ax.annotate(f"{label}", (p[x_key], p[y_key]), fontsize=6)
        ax.set_xlabel("unanswerable refused")
        ax.set_ylabel("answerable answered")
        ax.set_xlim(0, 1.02)
    else:
        x = next((k for k in ("threshold", "min_support") if k in curve[0]), None)
        numeric = [k for k, v in curve[0].items() if isinstance(v, int | float) and k != x]
        xs = [p.get(x, i) for i, p in enumerate(curve)] if x else list(range(len(curve)))
        for key in numeric:
            ax.plot(xs, [p.get(key) for p in curve], marker="o", label=key)
        ax.set_xlabel(x or "point")
        ax.legend(fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{name}: refusal trade-off")
    return _save(plt, fig, out_dir / f"{name}_curve.png")


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
