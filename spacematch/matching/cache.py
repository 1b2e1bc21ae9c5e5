"""One current ``MatchIndex`` per process, rebuilt only when the store's data versions move.

Every ``get()`` asks the store for its versions (one cheap query), so several processes sharing
a database each notice a write on their next call. A lock makes concurrent callers in one
process wait for a single rebuild instead of each building their own.

Two versions, because the two sides of the index change at different rates: ``data_version``
moves on every write, ``property_version`` only on writes to properties (imports, workflow
steps). When only needs changed, the properties' arrays and R-trees are kept and only the open
needs are re-read. Ranking properties for one need reads the property side only (the need
itself comes from the request), so ``get(current_needs=False)`` skips even that: under a burst
of submissions a need's matches then cost no rebuild at all, and are exactly as fresh, since
the property side is always current.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeGuard

from spacematch.db import Store
from spacematch.domain.areas import AreaIndex
from spacematch.matching.index import MatchIndex


class IndexCache:
    def __init__(
        self, store: Store, areas: AreaIndex | Callable[[], AreaIndex] | None = None
    ) -> None:
        """``areas`` may be an AreaIndex, a callable giving one, or None (read from the store)."""
        self.store = store
        self._areas = areas
        self._index: MatchIndex | None = None
        self._lock = threading.Lock()
        self.builds = 0

    def areas(self) -> AreaIndex:
        if isinstance(self._areas, AreaIndex):
            return self._areas
        if callable(self._areas):
            return self._areas()
        with self.store.sessions() as session:
            self._areas = AreaIndex.from_session(session)
        return self._areas

    def get(
        self, *, current_needs: bool = True, versions: tuple[int, int] | None = None
    ) -> MatchIndex:
        """The index for the store's current data.

        ``current_needs=False``: the properties are current, the open needs may be older (what
        ranking properties for one need uses: ``rank_properties`` reads no other need).
        ``versions``: the store's ``(data_version, property_version)`` when the caller has just
        read them along with its own row (saves a query); the index is then at least that new.
        """
        version, property_version = versions or self.store.versions()

        def fresh(index: MatchIndex | None) -> TypeGuard[MatchIndex]:
            return (
                index is not None
                and index.property_version == property_version
                and (index.data_version == version or not current_needs)
            )

        index = self._index
        if fresh(index):
            return index
        with self._lock:
            index = self._index
            if not fresh(index):
                if index is not None and index.property_version == property_version:
                    index = index.with_needs_from(self.store)
                else:
                    index = MatchIndex.from_store(self.store, self.areas())
                self._index = index
                self.builds += 1
            return index

    def invalidate(self) -> None:
        """Forget the index (the next ``get`` rebuilds), e.g. after the areas were reloaded."""
        with self._lock:
            self._index = None
