"""Data at rest is the owner's only: folders 0700, files 0600.

Entry points set a 0077 umask (`restrict_umask`), so whatever the process creates (Chroma's files, SQLite's
journals, exports) is private from the start; `private_dir`/`private_file` set the modes explicitly where we create
state ourselves, and `secure_tree` tightens an index folder written before this existed (or by a process with a
laxer umask)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
PRIVATE_UMASK = 0o077
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def restrict_umask() -> int:
    """Set the process umask to 0077; returns the previous one."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700."""
    path.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make an existing file 0600, with its SQLite journal files when present."""
    for candidate in (path, *(path.with_name(path.name + s) for s in SQLITE_SIDECARS)):
        try:
            if stat.S_IMODE(candidate.stat().st_mode) != FILE_MODE:
                candidate.chmod(FILE_MODE)
        except FileNotFoundError:
            continue
    return path


def write_private_text(path: Path, text: str) -> Path:
    """Write a text file created 0600 (never readable by others, not even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return private_file(path)


def secure_tree(root: Path) -> int:
    """Every folder under `root` 0700, every regular file 0600 (links are not followed). Returns how many modes
    changed."""
    changed = 0
    if not root.is_dir():
        return 0
    for here, dirs, files in os.walk(root):
        for name, mode in [(here, DIR_MODE)] + [(os.path.join(here, f), FILE_MODE) for f in files]:
            try:
                st = os.lstat(name)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(st.st_mode) or stat.S_IMODE(st.st_mode) == mode:
                continue
            os.chmod(name, mode)
            changed += 1
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(here, d))]
    if changed:
        log.info("secure_tree changed=%d", changed)
    return changed
