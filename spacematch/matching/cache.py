"""One current ``MatchIndex`` per process, rebuilt only when the store's data version moves.

Every ``get()`` asks the store for its data version (one cheap query), so several processes
sharing a database each notice a write on their next call. A lock makes concurrent callers in
one process wait for a single rebuild instead of each building their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..areas import AreaIndex
from ..db import Store
from .index import MatchIndex


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

    def get(self) -> MatchIndex:
        """The index for the store's current data version."""
        version = self.store.data_version()
        index = self._index
        if index is not None and index.data_version == version:
            return index
        with self._lock:
            index = self._index
            if index is None or index.data_version != version:
                index = MatchIndex.from_store(self.store, self.areas())
                self._index = index
                self.builds += 1
            return index

    def invalidate(self) -> None:
        """Forget the index (the next ``get`` rebuilds), e.g. after the areas were reloaded."""
        with self._lock:
            self._index = None
