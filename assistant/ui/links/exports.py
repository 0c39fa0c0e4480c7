"""Downloads of the link chart from the Links tab (GraphML, CSV, PNG). Built from the role's `LinkView` graph, the
same masked graph as `assistant links --graph` (a reviewer's export masks the protected persons), and audited like it:
a `view` record per case ("link chart export", the format, clear or masked, via ui).

Files are written 0600 in a private (0700, unguessable) folder per browser session under Gradio's own file cache, so
Gradio serves them where they are and keeps no copy elsewhere. A session's previous export is deleted when it exports
again, its folder when the session ends (the tab is closed: `drop`, wired to Gradio's unload event), and any export
folder older than `max_age_s` at the next export of any session (a session that vanished without an unload)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from assistant.access.session import Session
from assistant.errors import AssistantError
from assistant.perms import private_dir

FORMATS: dict[str, tuple[str, ...]] = {"graphml": ("links.graphml",), "csv": ("nodes.csv", "edges.csv"),
                                       "png": ("links.png",)}


class SessionFolders:
    """One private export folder per session key (Gradio's session hash)."""

    def __init__(self, root: Path | None = None, max_age_s: float = 900.0) -> None:
        self.root = root  # default: Gradio's cache (GRADIO_TEMP_DIR), where files are served without a copy
        self.max_age_s = max_age_s
        self._folders: dict[str, Path] = {}
        self._lock = threading.Lock()

    def _base(self) -> Path:
        if self.root is None:
            from gradio.utils import get_upload_folder

            self.root = Path(get_upload_folder())
        return private_dir(self.root / "links-exports")

    def fresh(self, key: str) -> Path:
        """An empty folder for `key`'s new export; its previous export and stale folders are deleted first."""
        with self._lock:
            self._remove(self._folders.pop(key, None))
            base = self._base()
            now = time.time()
            for old in [p for p in base.iterdir() if p.is_dir() and now - p.stat().st_mtime > self.max_age_s]:
                self._remove(old)
                self._folders = {k: f for k, f in self._folders.items() if f != old}
            folder = Path(tempfile.mkdtemp(prefix="s-", dir=base))  # 0700
            self._folders[key] = folder
            return folder

    def drop(self, key: str) -> None:
        """The session ended: its export folder goes."""
        with self._lock:
            self._remove(self._folders.pop(key, None))

    @staticmethod
    def _remove(folder: Path | None) -> None:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def export_chart(session: Session, case: str, fmt: str, folder: Path) -> list[str]:
    """The chart of `case` (or of every case of the user, ALL_MY_CASES) written in `fmt` to `folder`, as the role may
    see it; returns the files' paths."""
    from assistant.links.graph import build_graph, export_graph
    from assistant.links.render import render_png
    from assistant.ui.links_tab import ALL_MY_CASES, app_of, link_view

    if fmt not in FORMATS:
        raise AssistantError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    cases = session.cases() if case == ALL_MY_CASES else [session.require_case(case)]
    if not cases:
        raise AssistantError("no case to export")
    view = link_view(session, cases, "link chart export", format=fmt, via="ui")
    graph = view.graph(build_graph(app_of(session), cases))
    if fmt == "png":
        return [str(render_png(graph, folder / "links.png", title=f"Link chart: {', '.join(cases)}"))]
    written = export_graph(graph, folder)
    for path in written:
        if path.name not in FORMATS[fmt]:
            path.unlink()
    return [str(p) for p in written if p.name in FORMATS[fmt]]
