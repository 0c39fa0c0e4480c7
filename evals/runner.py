"""Suite registry, threshold gate and the `python -m evals` / `assistant eval` entry points.

Suites are registered by import name and imported lazily, so a suite whose module is missing (or fails to import)
is reported as unavailable without breaking the others. Thresholds live in evals/thresholds.toml:

    [scifact]
    "ndcg@10" = 0.68                      # minimum
    "cross_case_leaks" = { max = 0 }      # maximum

Metric paths are dotted into the suite's result dict ("retrievers.bm25.ndcg@10")."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.config import Settings, load_settings

log = logging.getLogger(__name__)

SuiteFn = Callable[..., dict[str, Any]]
EVALS_DIR = Path(__file__).resolve().parent
THRESHOLDS = EVALS_DIR / "thresholds.toml"
HISTORY = EVALS_DIR / "results" / "history.jsonl"

# name -> module; the module exposes run(settings, *, quick=False, progress=True) -> dict
SUITE_MODULES: dict[str, str] = {
    "scifact": "evals.suites.scifact",
    "scifact_sample": "evals.suites.scifact_sample",
    "hotpotqa": "evals.suites.hotpotqa",
    "crosslingual": "evals.suites.crosslingual",
    "demo": "evals.suites.demo",
    "demo_heldout": "evals.suites.demo_heldout",
    "pii": "evals.suites.pii",
    "verifier": "evals.suites.verifier",
    "clapnq": "evals.suites.clapnq",
    "clapnq_model": "evals.suites.clapnq_model",
    "corruptions": "evals.suites.corruptions",
    "langid": "evals.suites.langid",
    "xquad": "evals.suites.xquad",
    "withheld": "evals.suites.withheld",
    "injection": "evals.suites.injection",
    "conversation": "evals.suites.conversation",
}
# The CI selection: suite -> quick flag. Sized for ~15 min cold / a few minutes warm on 2 cores.
CI_SUITES: dict[str, bool] = {
    "scifact_sample": True, "hotpotqa": True, "crosslingual": True, "demo": False, "demo_heldout": False,
    "pii": True, "verifier": True, "clapnq": True, "corruptions": True, "injection": True, "conversation": False,
    "langid": True, "xquad": True,
}
_REGISTERED: dict[str, SuiteFn] = {}  # in-process registrations (tests, plugins) win over SUITE_MODULES


def register_suite(name: str, fn: SuiteFn) -> None:
    _REGISTERED[name] = fn


def unregister_suite(name: str) -> None:
    _REGISTERED.pop(name, None)


def suite_names() -> list[str]:
    return list(dict.fromkeys([*SUITE_MODULES, *_REGISTERED]))


def suite_status(name: str) -> tuple[bool, str]:
    """(available, reason) without importing the suite."""
    if name in _REGISTERED:
        return True, "registered"
    module = SUITE_MODULES.get(name)
    if module is None:
        return False, f"unknown suite {name!r}"
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    return (True, module) if found else (False, f"module {module} does not exist yet")


def load_suite(name: str) -> SuiteFn:
    if name in _REGISTERED:
        return _REGISTERED[name]
    ok, reason = suite_status(name)
    if not ok:
        raise LookupError(reason)
    module = importlib.import_module(SUITE_MODULES[name])
    fn = getattr(module, "run", None)
    if not callable(fn):
        raise LookupError(f"{SUITE_MODULES[name]} has no run(settings, *, quick, progress)")
    return fn  # type: ignore[no-any-return]


def run_suite(name: str, settings: Settings | None = None, quick: bool = False,
              progress: bool = True) -> dict[str, Any]:
    """Run one suite and return its metrics plus `_meta` (wall time, quick). Raises LookupError if unavailable."""
    settings = settings or load_settings()
    fn = load_suite(name)
    start = time.perf_counter()
    result = dict(fn(settings, quick=quick, progress=progress))
    result["_meta"] = {"seconds": round(time.perf_counter() - start, 1), "quick": quick}
    log.info("suite done name=%s seconds=%.1f", name, result["_meta"]["seconds"])
    return result


# ------------------------------------------------------------------------------------------------ thresholds / gate
@dataclass(frozen=True)
class Bound:
    suite: str
    metric: str
    minimum: float | None = None
    maximum: float | None = None


def load_thresholds(path: Path = THRESHOLDS) -> list[Bound]:
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    bounds: list[Bound] = []
    for suite, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"{path}: [{suite}] must be a table of metric = minimum")
        for metric, spec in table.items():
            if isinstance(spec, int | float) and not isinstance(spec, bool):
                bounds.append(Bound(suite, metric, minimum=float(spec)))
            elif isinstance(spec, dict) and set(spec) <= {"min", "max"} and spec:
                bounds.append(Bound(suite, metric, minimum=_opt_float(spec.get("min")),
                                    maximum=_opt_float(spec.get("max"))))
            else:
                raise ValueError(f"{path}: {suite}.{metric} must be a number or {{min = x}} / {{max = y}}")
    return bounds


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def metric_at(result: dict[str, Any], path: str) -> Any:
    """Dotted lookup that also accepts keys containing dots or '@' (tries the longest key first)."""
    if path in result:
        return result[path]
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in result and isinstance(result[head], dict):
            return metric_at(result[head], ".".join(parts[cut:]))
    raise KeyError(path)


def check_gate(results: dict[str, dict[str, Any]], bounds: Sequence[Bound]) -> list[str]:
    """Failures (one line each) for every bound of a suite that ran; a suite that errored fails as a whole."""
    failures: list[str] = []
    for name, result in results.items():
        if "error" in result and "_skipped" not in result:
            failures.append(f"{name}: suite failed: {result['error']}")
    for b in bounds:
        result = results.get(b.suite)
        if result is None or "_skipped" in result or "error" in result:
            continue
        try:
            value = float(metric_at(result, b.metric))
        except (KeyError, TypeError, ValueError):
            failures.append(f"{b.suite}.{b.metric}: missing from the suite's output")
            continue
        if b.minimum is not None and value < b.minimum:
            failures.append(f"{b.suite}.{b.metric} = {value:.4f} is below the threshold {b.minimum:.4f}")
        if b.maximum is not None and value > b.maximum:
            failures.append(f"{b.suite}.{b.metric} = {value:.4f} is above the maximum {b.maximum:.4f}")
    return failures


# ------------------------------------------------------------------------------------------------ orchestration
def selection(target: str, quick: bool) -> dict[str, bool]:
    """Suite -> quick flag for a target: one suite name, `all` (every suite, full unless --quick) or `ci`."""
    if target == "ci":
        return dict(CI_SUITES)
    if target == "all":
        return dict.fromkeys(suite_names(), quick)
    if target not in suite_names():
        raise LookupError(f"unknown suite {target!r}: choose one of {', '.join(suite_names())}, all, ci")
    return {target: quick}


def run_many(plan: dict[str, bool], settings: Settings, progress: bool = True) -> dict[str, dict[str, Any]]:
    from tqdm.auto import tqdm

    results: dict[str, dict[str, Any]] = {}
    bar = tqdm(list(plan.items()), desc="eval", disable=not progress, dynamic_ncols=True)
    for name, quick in bar:
        bar.set_postfix_str(name)
        ok, reason = suite_status(name)
        if not ok:
            results[name] = {"_skipped": reason}
            log.warning("suite unavailable name=%s reason=%s", name, reason)
            continue
        try:
            results[name] = run_suite(name, settings, quick=quick, progress=progress)
        except Exception as exc:  # one broken suite is reported, the others still run
            log.exception("suite failed name=%s", name)
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return results


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=EVALS_DIR.parent, check=False)
        return out.stdout.strip()
    except OSError:
        return ""


def summary_line(report: dict[str, Any], bounds: Sequence[Bound]) -> dict[str, Any]:
    """One history.jsonl line: when, what, pass/fail and every gated metric's value."""
    values: dict[str, float] = {}
    for b in bounds:
        result = report["suites"].get(b.suite, {})
        try:
            values[f"{b.suite}.{b.metric}"] = round(float(metric_at(result, b.metric)), 4)
        except (KeyError, TypeError, ValueError):
            continue
    return {"timestamp": report["meta"]["timestamp"], "commit": report["meta"]["commit"],
            "target": report["meta"]["target"], "passed": report["gate"]["passed"],
            "seconds": report["meta"]["seconds"], "metrics": values}


def _quiet_libraries(record: logging.LogRecord) -> bool:
    noisy = record.name.startswith(("bm25s", "presidio-analyzer", "sentence_transformers", "httpx", "chromadb"))
    return not noisy or record.levelno >= logging.ERROR


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description="Run evaluation suites and gate them.")
    parser.add_argument("target", help=f"a suite ({', '.join(suite_names())}), all, ci, or list")
    parser.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    parser.add_argument("--quick", action="store_true", help="smaller samples where a suite supports it")
    parser.add_argument("--out", type=Path, help="write metrics.json, report.md and plots to this folder")
    parser.add_argument("--thresholds", type=Path, default=THRESHOLDS, help=argparse.SUPPRESS)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--no-history", action="store_true", help="do not append to evals/results/history.jsonl")
    parser.add_argument("--backend", default="extractive",
                        choices=["extractive", "auto", "ollama", "openai", "llamacpp"],
                        help="answering backend for suites that answer (default extractive: the gates in "
                             "thresholds.toml are calibrated on it; `auto` takes whatever model this machine has)")
    parser.add_argument("--sample", metavar="START:STOP", help="answer only these questions of a suite's fixed "
                        "order (hotpotqa), e.g. 0:30 (dev) and 30:60 (held-out)")
    parser.add_argument("--lang", help="only these languages of a multilingual suite (xquad), e.g. ro or ro,vi")
    parser.add_argument("--sabotage", action="store_true", help=argparse.SUPPRESS)  # shuffles rankings: gate demo
    args = parser.parse_args(argv)

    from assistant.offline import apply_offline_env

    apply_offline_env()
    logging.basicConfig(level=os.environ.get("ASSISTANT_LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:  # bm25s sets its own logger to DEBUG when imported
        handler.addFilter(_quiet_libraries)
    if args.target == "list":
        for name in suite_names():
            ok, reason = suite_status(name)
            print(f"{name:14s} {'available' if ok else 'unavailable'}  {reason}")
        return 0
    if args.sabotage:
        from evals.suites import SABOTAGE_ENV

        os.environ[SABOTAGE_ENV] = "1"
    if args.sample:
        from evals.suites import SAMPLE_ENV

        os.environ[SAMPLE_ENV] = args.sample
    if args.lang:
        from evals.suites.xquad import LANGS_ENV

        os.environ[LANGS_ENV] = args.lang
    try:
        plan = selection(args.target, args.quick)
        bounds = load_thresholds(args.thresholds)
    except (LookupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    settings.llm.backend = args.backend
    from assistant.offline import install_egress_guard, install_kernel_guard, model_hosts

    install_egress_guard(model_hosts(settings.llm))  # as every CLI command: loopback + the model host only
    install_kernel_guard(settings)  # and native code too (kernel_egress), before any suite starts a thread
    start = time.perf_counter()
    results = run_many(plan, settings, progress=not args.no_progress and not args.json)
    failures = check_gate(results, bounds)
    report = {
        "meta": {"timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "commit": git_commit(),
                 "target": args.target, "plan": plan, "seconds": round(time.perf_counter() - start, 1),
                 "sabotage": bool(args.sabotage), "backend": args.backend, "sample": args.sample or "",
                 "lang": args.lang or "",
                 "retrieval": settings.retrieval.model_dump(), "embedding_model": settings.embedding.model_path or
                 "packaged all-MiniLM-L6-v2"},
        "suites": results,
        "gate": {"passed": not failures, "failures": failures},
    }
    if args.out:
        from evals.report import write_report

        write_report(report, args.out, bounds)
    if args.out and not args.no_history and args.target in ("all", "ci") and not args.sabotage:
        HISTORY.parent.mkdir(parents=True, exist_ok=True)
        with HISTORY.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(summary_line(report, bounds), sort_keys=True) + "\n")
    if args.json:
        print(json.dumps(report if len(results) > 1 else {**results[next(iter(results))], "gate": report["gate"]},
                         indent=2, default=str))
    else:
        from evals.report import text_summary

        print(text_summary(report, bounds))
    return 0 if not failures else 1


def cli_main(suite: str, as_json: bool = False, quick: bool = False) -> int:
    """Entry point for `assistant eval SUITE [--json] [--quick]`."""
    argv = [suite, *(["--json"] if as_json else []), *(["--quick"] if quick else [])]
    return main(argv)
