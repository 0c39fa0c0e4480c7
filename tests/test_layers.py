"""Layer rules of `assistant/`, checked on the source with `ast`: a module imports only its own package and layers
below its own. Layers, bottom to top (docs/architecture.md draws the same picture):

    leaves    ui_settings (a settings class config.py nests), kernel_egress (imports no other module of ours)
    base      types, errors, config, offline, perms, faults, procs
    text      pure string toolkit
    sources   loaders, pii, llm (model backends), access      (siblings: they never import each other)
    index     store, embedding, retrieval
    stages    ingest, verify                                  (siblings)
    answer, links                                            (siblings)
    conversation  follow-ups, stored conversations, digests
    app       the composition root
    ui, workers                                              (siblings)
    cli
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "assistant"
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"ui_settings", "kernel_egress"}),
    frozenset({"types", "errors", "config", "offline", "perms", "faults", "procs"}),
    frozenset({"text"}),
    frozenset({"loaders", "pii", "llm", "backends", "access"}),
    frozenset({"index"}),
    frozenset({"ingest", "verify"}),
    frozenset({"answer", "links"}),
    frozenset({"conversation", "translate"}),
    frozenset({"app"}),
    frozenset({"ui", "workers"}),
    frozenset({"cli"}),
)
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def unit_of(module: str) -> str:
    """'assistant.index.store' -> 'index'; 'assistant.types' -> 'types'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "assistant" else ""


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in `source`, relative imports resolved against `module`."""
    found: list[tuple[int, str]] = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "assistant":  # `from assistant import x` names modules
                found.extend((node.lineno, f"assistant.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, base))
    return found


def violations(source: str, module: str) -> list[str]:
    here = unit_of(module)
    out: list[str] = []
    for line, target in imported_modules(source, module):
        there = unit_of(target)
        if not there or there == here:
            continue
        if here not in LEVEL or there not in LEVEL:
            out.append(f"{module}:{line} imports {target}: {here or there!r} has no layer (add it to LAYERS)")
        elif LEVEL[there] >= LEVEL[here]:
            out.append(f"{module}:{line} imports {target}: layer {LEVEL[here]} ({here}) may only import layers "
                       f"below it, {there} is layer {LEVEL[there]}")
    return out


def _modules() -> list[tuple[str, Path]]:
    mods = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts[:-1]) if rel.name == "__init__" else list(rel.parts)
        mods.append((".".join(parts), path))
    return mods


def test_every_module_respects_the_layers() -> None:
    problems = [v for module, path in _modules() if module != "assistant"
                for v in violations(path.read_text(encoding="utf-8"), module)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("source", "module", "expected"), [
    ("from assistant.answer.answerer import Answerer", "assistant.index.retrieval", 1),  # upward
    ("import assistant.ui.render", "assistant.text.lexicon", 1),
    ("from assistant.loaders import load_path", "assistant.pii.tagger", 1),  # sibling
    ("from assistant import app", "assistant.config", 1),
    ("from . import support", "assistant.verify.verifier", 0),  # own package
    ("from ..index import store", "assistant.answer.extractive", 0),  # below
    ("from assistant.text.lexicon import stem\nimport json", "assistant.index.store", 0),
    ("from assistant.newstage import x", "assistant.answer.extractive", 1),  # unknown package
])
def test_the_checker_catches_upward_and_sibling_imports(source: str, module: str, expected: int) -> None:
    assert len(violations(source, module)) == expected


def test_size_limits_of_the_package_layout() -> None:
    """No folder over 12 modules, no module over 300 lines, the median module under 150."""
    folders: dict[Path, int] = {}
    lengths: dict[str, int] = {}
    for module, path in _modules():
        lengths[module] = len(path.read_text(encoding="utf-8").splitlines())
        if path.name != "__init__.py":
            folders[path.parent] = folders.get(path.parent, 0) + 1
    crowded = {str(k.relative_to(ROOT.parent)): n for k, n in folders.items() if n > 12}
    assert not crowded, crowded
    long = {m: n for m, n in lengths.items() if n > 300}
    assert not long, long
    ordered = sorted(lengths.values())
    assert ordered[len(ordered) // 2] < 150
