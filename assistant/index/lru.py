"""A bounded least-recently-used map: the store keeps at most `capacity` case catalogs in memory, so a reviewer
moving across hundreds of cases does not grow the process without bound."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Not thread-safe on its own: the owner holds its lock around every call."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"LRU capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value, marked most recently used; None when absent."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: K, value: V) -> list[K]:
        """Store the value as most recently used; returns the keys evicted to stay within capacity."""
        self._items[key] = value
        self._items.move_to_end(key)
        evicted: list[K] = []
        while len(self._items) > self.capacity:
            old, _ = self._items.popitem(last=False)
            evicted.append(old)
        return evicted

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def keys(self) -> list[K]:
        """Least recently used first."""
        return list(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)
