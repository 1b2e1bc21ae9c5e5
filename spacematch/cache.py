"""One reusable cache for values derived from the store: rebuilt when the store's version moves.

Every cached thing in the app (the matching index's property side, the overview's columns, the
OGC API's tables, the planner's figures) is a pure function of the store's contents, so one rule
serves them all: keep the value with the version it was built from, and rebuild when a caller
sees a newer version. A lock makes concurrent callers in one process wait for a single rebuild
instead of each building their own; readers of a fresh value take no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class VersionedCache(Generic[T]):
    """Values keyed by name, each tagged with the version it was built from (thread-safe)."""

    def __init__(self) -> None:
        self._values: dict[Hashable, tuple[Hashable, T]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()  # guards _locks only
        self.builds = 0

    def _key_lock(self, key: Hashable) -> threading.Lock:
        """One lock per key: a build may use another key's value (the supply-demand map reads
        the area outlines) without waiting on itself."""
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: Hashable, version: Hashable, build: Callable[[], T]) -> T:
        """The value for ``key`` built at ``version``; ``build()`` runs once per new version."""
        hit = self._values.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        with self._key_lock(key):
            hit = self._values.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
            value = build()
            self._values[key] = (version, value)
            with self._lock:
                self.builds += 1
            return value

    def peek(self, key: Hashable) -> tuple[Hashable, T] | None:
        """``(version, value)`` as last built, or None; for callers that may reuse an old value."""
        return self._values.get(key)

    def clear(self) -> None:
        self._values.clear()
