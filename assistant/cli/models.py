"""`assistant models list | install [NAME ...] | verify [NAME ...]`: the local instruct models and the multilingual
re-scorer (EmbeddingGemma, `llm.embedding_model`) in the cache."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from assistant.llm import embedding_model
from assistant.llm.catalog import MODELS
from assistant.llm.local import runtime_missing
from assistant.llm.models import install, installed_path, models_dir, packaged_smollm2_path, remove_partial, verify

if TYPE_CHECKING:
    from assistant.app import App


def cmd_list(args: argparse.Namespace, app: App) -> int:
    cache = app.settings.cache_dir
    print(f"runtime: {runtime_missing() or 'xllamacpp installed'}")
    print(f"models folder: {models_dir(cache)}")
    for name, model in MODELS.items():
        path = installed_path(name, cache)
        state = f"installed ({path})" if path else "not installed"
        print(f"{name}\t{model.size / 1e6:.0f} MB\t{state}\t{model.upstream}")
    smoke = packaged_smollm2_path()
    print(f"smollm2\tsmoke-test model\t{smoke or 'not installed'}")
    gemma = embedding_model.installed_dir(cache)
    print(f"{embedding_model.NAME}\t1270 MB\t{f'installed ({gemma})' if gemma else 'not installed'}\t"
          "EmbeddingGemma-300M, re-scores non-English candidates (Gemma terms of use)")
    print(f"configured: backend={app.settings.llm.backend} local_model={app.settings.llm.local_model}")
    return 0


def _names(args: argparse.Namespace) -> list[str]:
    names: list[str] = list(args.names or [*MODELS, embedding_model.NAME])
    known = [*MODELS, embedding_model.NAME]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"error: unknown model(s) {', '.join(unknown)}: choose from {', '.join(known)}")
    return names


def cmd_install(args: argparse.Namespace, app: App) -> int:
    cache = app.settings.cache_dir
    remove_partial(cache)
    for name in _names(args):
        started = time.perf_counter()
        if name == embedding_model.NAME:
            path = embedding_model.install(cache)
        else:
            path = install(name, cache, progress=not args.no_progress)
        print(f"{name}: {path} (sha256 verified, {time.perf_counter() - started:.1f} s)")
    return 0


def cmd_verify(args: argparse.Namespace, app: App) -> int:
    cache = app.settings.cache_dir
    bad = 0
    for name in _names(args):
        if name == embedding_model.NAME:
            ok = embedding_model.installed_dir(cache) is not None
        else:
            ok = verify(MODELS[name], models_dir(cache) / MODELS[name].filename)
        bad += not ok
        print(f"{name}: {'ok' if ok else 'MISSING OR CORRUPT (run `assistant models install ' + name + '`)'}")
    return 2 if bad else 0


def register(sub: Any) -> None:
    models = sub.add_parser("models", help="list, install or verify the local instruct models (offline, pinned)")
    msub = models.add_subparsers(dest="models_command", required=True)
    ls = msub.add_parser("list", help="what is installed and what answers")
    ls.set_defaults(func=cmd_list)
    ins = msub.add_parser("install", help="download the pinned parts, join them, check both hashes")
    ins.add_argument("names", nargs="*", help=f"default: all ({', '.join([*MODELS, embedding_model.NAME])}; "
                     f"{embedding_model.NAME} is 1.15 GB to download, 1.27 GB unpacked)")
    ins.add_argument("--no-progress", action="store_true")
    ins.set_defaults(func=cmd_install, kernel_guard_off="`models install` downloads pinned, hashed packages from the "
                     "package registry")
    ver = msub.add_parser("verify", help="re-hash the installed files (exit 2 if any is missing or corrupt)")
    ver.add_argument("names", nargs="*")
    ver.set_defaults(func=cmd_verify)
