"""The OGC API's items pages: the prepared collections (rebuilt when the store's data version
moves), their GeoJSON features and the bounded cache of serialised pages."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from flask import Response, current_app

from spacematch import geo
from spacematch.export.tables import Table
from spacematch.web.common import area_index, index_cache, match_weights
from spacematch.web.ogc import openapi
from spacematch.web.ogc.collections import (
    RD_NEW,
    Collection,
)
from spacematch.web.ogc.shapes import AreaShapes
from spacematch.web.ogc.tables import Prepared, build
from spacematch.web.state import state


def features(table: Table, collection: Collection, crs: str) -> list[dict[str, Any]]:
    """GeoJSON features: CRS84 per RFC 7946 (rounded to the collection's precision), or RD New
    with the stored coordinates untouched (Python floats, written in full by json)."""
    import numpy as np
    import shapely

    geoms = np.array(table.geoms, dtype=object)
    if crs == RD_NEW:
        geometries = [None if g is None else shapely.geometry.mapping(g) for g in geoms]
    elif len(geoms):
        out = geo.rfc7946(geoms, precision=collection.precision)
        geometries = [None if t is None else json.loads(t) for t in shapely.to_geojson(out)]
    else:
        geometries = []
    return [
        {"type": "Feature", "id": row[table.id_column], "geometry": geometry, "properties": row}
        for row, geometry in zip(table.rows, geometries, strict=True)
    ]


def _geojson(data: bytes, crs: str) -> Response:
    response = Response(data, mimetype=openapi.GEOJSON)
    response.headers["Content-Crs"] = f"<{crs}>"
    return response


def _default_limit() -> int:
    return int(current_app.config["OGC_DEFAULT_LIMIT"])


def _max_limit() -> int:
    return int(current_app.config["OGC_MAX_LIMIT"])


def _prepared(cid: str) -> tuple[int, Prepared]:
    """The whole collection, rebuilt only when the store's data version moves."""
    store = state().store
    version = store.data_version()
    areas = area_index()
    # The simplified area outlines depend on the areas only (kept for the app's life).
    shapes = state().cache.get("ogc_shapes", 0, lambda: AreaShapes(areas))
    prepared = state().cache.get(
        ("ogc_collection", cid),
        version,
        lambda: build(
            cid, store, areas=areas, index=index_cache().get, weights=match_weights(),
            shapes=shapes,
        ),
    )  # fmt: skip
    return version, prepared


class PageCache:
    """Serialised item pages, least recently used first out; entries of an older data version
    are never hit again (the version is in the key) and age out."""

    def __init__(self, size: int) -> None:
        self.size, self.lock = size, threading.Lock()
        self.entries: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()

    def get(self, key: tuple) -> bytes | None:
        with self.lock:
            data = self.entries.get(key)
            if data is not None:
                self.entries.move_to_end(key)
            return data

    def put(self, key: tuple, data: bytes) -> None:
        with self.lock:
            self.entries[key] = data
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def _page_cache() -> PageCache:
    """The app's page cache (bounded, least recently used out), kept in the app state."""
    size = int(current_app.config["OGC_PAGE_CACHE_ENTRIES"])
    cache: PageCache = state().cache.get("ogc_pages", 0, lambda: PageCache(size))
    return cache
