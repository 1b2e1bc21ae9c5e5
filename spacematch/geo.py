"""CRS constants and transforms.

All geometry is stored and computed in RD New (EPSG:28992, metres); WGS84 (EPSG:4326, lon/lat)
exists only at the edges: maps, GeoJSON and the OGC API.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

RD_NEW = CRS.from_epsg(28992)
WGS84 = CRS.from_epsg(4326)

# Amsterdam's bounding box in RD New, generously padded (Weesp included); a feature outside it
# is refused on import as "outside Amsterdam".
AMSTERDAM_BOUNDS_RD = (100_000.0, 470_000.0, 145_000.0, 500_000.0)


@cache
def transformer(source: str, target: str) -> Transformer:
    """Cached, always lon/lat-ordered transformer between two CRS given as strings."""
    return Transformer.from_crs(
        CRS.from_user_input(source), CRS.from_user_input(target), always_xy=True
    )


def rd_to_wgs84_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return transformer("EPSG:28992", "EPSG:4326").transform(x, y)


def wgs84_to_rd_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return transformer("EPSG:4326", "EPSG:28992").transform(lon, lat)


def _transform_coords(trans: Transformer, coords: np.ndarray) -> np.ndarray:
    x, y = trans.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def to_wgs84(geoms: np.ndarray | shapely.Geometry) -> np.ndarray | shapely.Geometry:
    """RD New geometries to WGS84, vectorised over an array of geometries."""
    trans = transformer("EPSG:28992", "EPSG:4326")
    return shapely.transform(geoms, lambda c: _transform_coords(trans, c))


def to_rd(geoms: np.ndarray | shapely.Geometry, source_crs: str) -> np.ndarray | shapely.Geometry:
    """Geometries in any CRS to RD New (a no-op for RD New itself)."""
    if CRS.from_user_input(source_crs).equals(RD_NEW):
        return geoms
    trans = transformer(source_crs, "EPSG:28992")
    return shapely.transform(geoms, lambda c: _transform_coords(trans, c))


def rfc7946(geoms: np.ndarray | shapely.Geometry, *, precision: float = 1e-7) -> Any:
    """RD New geometries as RFC 7946 demands: WGS84 lon/lat, exterior rings counter-clockwise.

    A precision of 1e-7 degrees is about 1 cm, more than a property location needs.
    """
    out = to_wgs84(geoms)
    out = shapely.orient_polygons(out, exterior_cw=False)
    return shapely.set_precision(out, precision, mode="pointwise") if precision else out
