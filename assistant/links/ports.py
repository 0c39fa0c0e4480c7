"""What the links modules need from the application, as Protocols: they never import the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from assistant.links.lookup import LinkLookup
from assistant.links.store import LinkStore
from assistant.types import Passage


class StoredText(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def meta(self) -> dict[str, Any]: ...


class ChunkCatalog(Protocol):
    def catalog(self, case: str) -> tuple[Mapping[str, StoredText], Any]: ...

    def has_case(self, case: str) -> bool: ...


class LinksApp(Protocol):
    @property
    def store(self) -> ChunkCatalog: ...

    @property
    def link_store(self) -> LinkStore: ...

    @property
    def links(self) -> LinkLookup: ...

    def get_chunk(self, case: str, chunk_id: str) -> Passage | None: ...
