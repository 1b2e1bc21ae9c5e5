"""CRS constants and transforms.

All geometry is stored and computed in RD New (EPSG:28992, metres); WGS84 (EPSG:4326, lon/lat)
exists only at the edges: maps, GeoJSON and the OGC API.
"""

from __future__ import annotations

from functools import cache
from typing import overload

import numpy as np
import numpy.typing as npt
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


FloatArray = npt.NDArray[np.float64]
GeometryArray = npt.NDArray[np.object_]  # an object array of shapely geometries (or None)


@overload
def rd_to_wgs84_xy(x: float, y: float) -> tuple[float, float]: ...
@overload
def rd_to_wgs84_xy(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]: ...
def rd_to_wgs84_xy(
    x: float | FloatArray, y: float | FloatArray
) -> tuple[float | FloatArray, float | FloatArray]:
    """RD New x/y to WGS84 lon/lat: floats for floats, arrays for arrays."""
    return transformer("EPSG:28992", "EPSG:4326").transform(x, y)


@overload
def wgs84_to_rd_xy(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_rd_xy(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]: ...
def wgs84_to_rd_xy(
    lon: float | FloatArray, lat: float | FloatArray
) -> tuple[float | FloatArray, float | FloatArray]:
    """WGS84 lon/lat to RD New x/y: floats for floats, arrays for arrays."""
    return transformer("EPSG:4326", "EPSG:28992").transform(lon, lat)


def _transform_coords(trans: Transformer, coords: FloatArray) -> FloatArray:
    x, y = trans.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


# shapely is untyped: a single geometry is Any to mypy, so the array form comes first.
@overload
def to_wgs84(geoms: GeometryArray) -> GeometryArray: ...
@overload
def to_wgs84(geoms: shapely.Geometry) -> shapely.Geometry: ...
def to_wgs84(geoms: GeometryArray | shapely.Geometry) -> GeometryArray | shapely.Geometry:
    """RD New geometries to WGS84, vectorised over an array of geometries."""
    trans = transformer("EPSG:28992", "EPSG:4326")
    return shapely.transform(geoms, lambda c: _transform_coords(trans, c))


@overload
def to_rd(geoms: GeometryArray, source_crs: str) -> GeometryArray: ...
@overload
def to_rd(geoms: shapely.Geometry, source_crs: str) -> shapely.Geometry: ...
def to_rd(
    geoms: GeometryArray | shapely.Geometry, source_crs: str
) -> GeometryArray | shapely.Geometry:
    """Geometries in any CRS to RD New (a no-op for RD New itself)."""
    if CRS.from_user_input(source_crs).equals(RD_NEW):
        return geoms
    trans = transformer(source_crs, "EPSG:28992")
    return shapely.transform(geoms, lambda c: _transform_coords(trans, c))


@overload
def rfc7946(geoms: GeometryArray, *, precision: float = 1e-7) -> GeometryArray: ...
@overload
def rfc7946(geoms: shapely.Geometry, *, precision: float = 1e-7) -> shapely.Geometry: ...
def rfc7946(
    geoms: GeometryArray | shapely.Geometry, *, precision: float = 1e-7
) -> GeometryArray | shapely.Geometry:
    """RD New geometries as RFC 7946 demands: WGS84 lon/lat, exterior rings counter-clockwise.

    A precision of 1e-7 degrees is about 1 cm, more than a property location needs.
    """
    out = to_wgs84(geoms)
    out = shapely.orient_polygons(out, exterior_cw=False)
    return shapely.set_precision(out, precision, mode="pointwise") if precision else out
