"""Where the eval suites keep the indexes of public corpora: outside the checkout, so a fresh clone reuses them.

`<cache_dir>/eval-index/<code key>/` holds the corpus files and the index built from them. The code key is a hash of
every source file that shapes what an index holds (loaders, text, chunking, PII, index store) and of the Chroma
version, so a checkout whose ingest code differs never reads an index another version built: it builds its own
folder. The case id inside still carries the settings that shape chunks (see product_path). A process holds an
exclusive lock on the folder for its lifetime, so two checkouts with the same code never write one Chroma folder at
once (the second waits). Folders of older code versions beyond the newest `KEEP` are deleted.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
from importlib import metadata
from pathlib import Path
from typing import IO

import assistant
from assistant.config import Settings
from assistant.perms import private_dir

log = logging.getLogger(__name__)

# the parts of the product whose code decides what an eval index holds
SHAPING = ("config.py", "types.py", "loaders", "text", "ingest", "pii", "index")
KEEP = 3  # code versions kept side by side (a branch switch back and forth stays warm)
_HELD: dict[Path, IO[bytes]] = {}


def code_key() -> str:
    """Hash of the index-shaping source files and the Chroma version (16 hex digits)."""
    package = Path(assistant.__file__).parent
    digest = hashlib.sha256(metadata.version("chromadb").encode())
    for name in SHAPING:
        target = package / name
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for path in files:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def eval_root(settings: Settings) -> Path:
    """This code version's eval-index folder, locked for this process (waits while another process holds it)."""
    base = private_dir(Path(settings.cache_dir).expanduser() / "eval-index")
    root = private_dir(base / code_key())
    if root not in _HELD:
        handle = (root / ".lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("eval index in use by another process; waiting folder=%s", root.name)
            fcntl.flock(handle, fcntl.LOCK_EX)
        _HELD[root] = handle
        root.touch()
        _prune(base, keep=root)
    return root


def _prune(base: Path, keep: Path) -> None:
    """Delete the folders of older code versions beyond the newest KEEP, skipping any another process holds."""
    folders = sorted((p for p in base.iterdir() if p.is_dir() and p != keep), key=lambda p: p.stat().st_mtime,
                     reverse=True)
    for old in folders[KEEP - 1:]:
        with (old / ".lock").open("ab") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(old, ignore_errors=True)
            log.info("eval index of an older code version removed folder=%s", old.name)
