"""Which paths may be read at all: regular files inside the folder the user named, never pipes, devices or links out.

`refusal(path, root)` looks with `os.lstat` before anything is opened: opening a named pipe blocks until a writer
comes, and reading a device may never end. A symbolic link is followed only when it ends at a regular file inside
`root` (the ingested folder, or the parent of a file named on its own); a link loop or a dangling link is refused.
`open_regular` is the second line: it opens without blocking and checks the opened file itself, so a path swapped
for a pipe between the check and the read still cannot hang the ingest.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from assistant.errors import IngestError

__all__ = ["open_regular", "refusal"]


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def refusal(path: Path, root: Path) -> str | None:
    """Why `path` must not be read (never opened to find out), or None for a regular file that may be read."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot inspect: {exc.strerror or exc}"
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
        except RuntimeError:  # Python 3.11 reports a loop this way
            return "symbolic link loop (the link leads back to itself)"
        except FileNotFoundError:
            return "dangling symbolic link (its target does not exist)"
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "symbolic link loop (the link leads back to itself)"
            return f"cannot follow symbolic link: {exc.strerror or exc}"
        if not target.is_relative_to(root.resolve()):
            return f"symbolic link to a file outside the ingested folder ({target}); not followed"
        if target.is_dir():
            return "symbolic link to a folder; not followed (name the folder itself to ingest it)"
        info = os.stat(target)
    if not stat.S_ISREG(info.st_mode):
        return f"not a regular file: {_kind(info.st_mode)}; never opened"
    return None


def open_regular(path: Path, source: str) -> BinaryIO:
    """Open `path` for reading without blocking; IngestError(source, reason) unless it is a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise IngestError(source, "no such file") from exc
    except OSError as exc:
        raise IngestError(source, f"cannot read: {exc.strerror or exc}") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise IngestError(source, f"not a regular file: {_kind(mode)}")
    return os.fdopen(fd, "rb")
