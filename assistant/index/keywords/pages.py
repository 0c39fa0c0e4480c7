"""A collection read page by page with the next page read ahead on a second thread: Chroma's reads spend most of
their time outside the GIL (tokenising a page and reading the next then overlap on 2 cores), so a case's pass (the
keyword build of finalize) takes about the longer of the two instead of their sum. Two pages are in memory at once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


def read_pages(col: Any, include: list[str], page: int) -> Iterator[dict[str, Any]]:
    """`col.get(include=..., limit=page, offset=...)` for offsets 0, page, 2*page... until a short page."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as ahead:
        offset = 0
        pending: Future[Any] | None = ahead.submit(col.get, include=include, limit=page, offset=offset)
        try:
            while pending is not None:
                got: dict[str, Any] = pending.result()
                offset += page
                pending = ahead.submit(col.get, include=include, limit=page, offset=offset) \
                    if len(got["ids"]) == page else None
                yield got
        finally:
            if pending is not None:
                pending.cancel()
