"""The one app-state object: the store, the area index and the caches derived from the store.

``create_app`` builds one ``AppState`` and keeps it in ``app.extensions["spacematch"]``; views
reach it through ``state()``. Nothing here is loaded at import time: the area index and every
cached value are built on first use and rebuilt when the store's data version moves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from spacematch.cache import VersionedCache
from spacematch.db import Store

if TYPE_CHECKING:
    from spacematch.domain.areas import AreaIndex
    from spacematch.export.clusters import PropertyColumns
    from spacematch.matching.cache import IndexCache

EXTENSION_KEY = "spacematch"


@dataclass
class AppState:
    store: Store
    cache: VersionedCache[Any] = field(default_factory=VersionedCache)
    jobs: dict[str, Any] = field(default_factory=dict)  # background layer imports, by id
    _index: IndexCache | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def areas(self) -> AreaIndex:
        """The area hierarchy, read once (areas change only through ``init-db``, which
        restarts nothing but calls ``reset``)."""
        from spacematch.domain.areas import AreaIndex

        def build() -> AreaIndex:
            with self.store.sessions() as session:
                return AreaIndex.from_session(session)

        return self.cache.get("areas", 0, build)

    @property
    def index(self) -> IndexCache:
        """The matching index cache: two versions (all data / properties only), see
        ``spacematch.matching.cache``."""
        if self._index is None:
            from spacematch.matching.cache import IndexCache

            with self._lock:
                if self._index is None:
                    self._index = IndexCache(self.store, self.areas)
        return self._index

    def columns(self) -> PropertyColumns:
        """The properties as numpy columns for the overview map, per data version."""
        from spacematch.export.clusters import PropertyColumns

        return self.cache.get(
            "columns", self.store.data_version(), lambda: PropertyColumns.read(self.store)
        )

    def derived(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """Any value built from the whole store (``build()``), kept per data version."""
        return self.cache.get(key, self.store.data_version(), build)

    def reset(self) -> None:
        """Forget everything derived (after the areas were reloaded)."""
        self.cache.clear()
        if self._index is not None:
            self._index.invalidate()


def init_app(app: Flask, store: Store) -> AppState:
    app_state = AppState(store=store)
    app.extensions[EXTENSION_KEY] = app_state
    return app_state


def state(app: Flask | None = None) -> AppState:
    """This app's state (the current app's when none is given)."""
    app_state: AppState = (app or current_app).extensions[EXTENSION_KEY]
    return app_state
