"""What the overview map draws for one view: properties, or grid clusters when there are many.

A browser cannot usefully draw 100,000 markers, and sending them costs tens of megabytes. So for
a bounding box holding more than ``max_features`` matches the server sums them into grid cells of
about 48 screen pixels at the requested zoom (computed in RD New metres) and returns one point per
cell with its count; zooming in eventually yields the properties themselves.

Filtering for the clusters runs on numpy columns of every property, read once per store data
version (``PropertyColumns``), so a view costs milliseconds rather than a 100k-row SQL read.
The feature path goes through ``properties.find_properties``, the same code as the API. Flask-free.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from spacematch import geo
from spacematch.cache import VersionedCache
from spacematch.db import Store
from spacematch.domain.areas import AreaIndex
from spacematch.domain.properties import PropertyFilter, bbox_to_rd, find_properties
from spacematch.export.tables import property_features
from spacematch.geojson import feature_collection
from spacematch.models import PUBLIC_STATUSES, USES, Property

MAX_FEATURES = 1_500
CELL_PIXELS = 48
EARTH_CIRCUMFERENCE_M = 40_075_016.686
AMSTERDAM_LAT_COS = math.cos(math.radians(52.37))


def cell_size_m(zoom: int) -> float:
    """Ground size of ``CELL_PIXELS`` Web Mercator pixels at Amsterdam's latitude."""
    metres_per_pixel: float = EARTH_CIRCUMFERENCE_M * AMSTERDAM_LAT_COS / (256 * 2**zoom)
    return CELL_PIXELS * metres_per_pixel


@dataclass
class PropertyColumns:
    """Every stored property as numpy columns, for vectorised filtering."""

    data_version: int
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    layer: npt.NDArray[np.object_]  # slug
    status: npt.NDArray[np.object_]
    buurt: npt.NDArray[np.object_]  # code
    area: npt.NDArray[np.float64]
    rent: npt.NDArray[np.float64]
    uses: npt.NDArray[np.int64]  # bitmask over models.USES
    available_from: npt.NDArray[np.datetime64]  # datetime64[D]

    @classmethod
    def read(cls, store: Store) -> PropertyColumns:
        version = store.data_version()
        cols = (
            Property.x, Property.y, Property.layer, Property.status, Property.buurt_code,
            Property.area_m2, Property.rent_eur_m2_year, Property.uses, Property.available_from,
        )  # fmt: skip
        with store.sessions() as session:
            rows = session.execute(select(*cols)).all()
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in cols]
        bits = {use: 1 << i for i, use in enumerate(USES)}
        masks: dict[str, int] = {}
        for text in set(columns[7]):
            masks[text] = sum(bits.get(u, 0) for u in text.split(","))
        return cls(
            data_version=version,
            x=np.asarray(columns[0], dtype=float), y=np.asarray(columns[1], dtype=float),
            layer=np.asarray(columns[2], dtype=object), status=np.asarray(columns[3], dtype=object),
            buurt=np.asarray(columns[4], dtype=object), area=np.asarray(columns[5], dtype=float),
            rent=np.asarray(columns[6], dtype=float),
            uses=np.asarray([masks[t] for t in columns[7]], dtype=np.int64),
            available_from=np.asarray(columns[8], dtype="datetime64[D]"),
        )  # fmt: skip

    def select(self, flt: PropertyFilter, *, areas: AreaIndex) -> npt.NDArray[np.intp]:
        """Positions matching the filter (bbox by the transformed window's bounds)."""
        keep = np.ones(len(self.x), dtype=bool)
        if flt.bbox:
            minx, miny, maxx, maxy = bbox_to_rd(flt.bbox).bounds
            keep &= (self.x >= minx) & (self.x <= maxx) & (self.y >= miny) & (self.y <= maxy)
        if flt.area:
            keep &= np.isin(self.buurt, np.asarray(areas.buurten_in(flt.area), dtype=object))
        if flt.layer:
            keep &= np.isin(self.layer, np.asarray(flt.layer, dtype=object))
        # Let units (verhuurd) only when asked for by status, as in properties.build_query.
        statuses = flt.status or PUBLIC_STATUSES
        keep &= np.isin(self.status, np.asarray(statuses, dtype=object))
        for use in flt.use:
            keep &= (self.uses & (1 << USES.index(use))) != 0
        if flt.min_area is not None:
            keep &= self.area >= flt.min_area
        if flt.max_area is not None:
            keep &= self.area <= flt.max_area
        if flt.max_rent is not None:
            keep &= self.rent <= flt.max_rent
        available_by = getattr(flt, "available_from", None)
        if available_by is not None:
            keep &= self.available_from <= np.datetime64(available_by, "D")
        return np.flatnonzero(keep)


class ColumnsCache:
    """One PropertyColumns per store, re-read when the store's data version moves (the app keeps
    its own in the app state's ``VersionedCache``; this is the same rule for scripts and tests)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: VersionedCache[PropertyColumns] = VersionedCache()

    def get(self) -> PropertyColumns:
        return self._cache.get(
            "columns", self.store.data_version(), lambda: PropertyColumns.read(self.store)
        )


def overview(
    session: Session,
    columns: PropertyColumns,
    flt: PropertyFilter,
    *,
    zoom: int,
    areas: AreaIndex,
    max_features: int = MAX_FEATURES,
) -> dict[str, Any]:
    """Features when few enough, else clusters; ``clustered`` says which."""
    positions = columns.select(flt, areas=areas)
    if len(positions) <= max_features:
        rows = find_properties(session, flt, areas=areas)
        return feature_collection(property_features(rows, areas), clustered=False,
                                  numberMatched=len(rows))  # fmt: skip
    xy = np.column_stack([columns.x[positions], columns.y[positions]])
    return feature_collection(_clusters(xy, cell_size_m(zoom)), clustered=True,
                              numberMatched=len(positions))  # fmt: skip


def _clusters(xy: npt.NDArray[np.float64], cell: float) -> list[dict[str, Any]]:
    """One feature per occupied grid cell, placed at the mean of its members."""
    if len(xy) == 0:
        return []
    cells = np.floor(xy / cell).astype(np.int64)
    key = cells[:, 0] * 1_000_003 + cells[:, 1]  # one int per cell: 1-D unique is much faster
    keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    sum_x = np.bincount(inverse, weights=xy[:, 0], minlength=len(keys))
    sum_y = np.bincount(inverse, weights=xy[:, 1], minlength=len(keys))
    lon, lat = geo.rd_to_wgs84_xy(sum_x / counts, sum_y / counts)
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(float(a), 6), round(float(b), 6)]},
            "properties": {"cluster": True, "count": int(n)},
        }
        for a, b, n in zip(lon, lat, counts, strict=True)
    ]
