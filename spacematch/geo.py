"""CRS constants and transforms.

All geometry is stored and computed in RD New (EPSG:28992, metres); WGS84 (EPSG:4326, lon/lat)
exists only at the edges: maps, GeoJSON and the OGC API.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias, overload

# numpy, shapely and pyproj are imported where they are used, so that a command that needs no
# geometry (`flask --help`, `create-user`) does not pay for loading them.
if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import shapely
    from pyproj import CRS, Transformer

    RD_NEW: CRS
    WGS84: CRS


@cache
def _crs(epsg: int) -> CRS:
    from pyproj import CRS

    return CRS.from_epsg(epsg)


_CONSTANTS = {"RD_NEW": 28992, "WGS84": 4326}


def __getattr__(name: str) -> Any:
    """RD_NEW and WGS84 (pyproj CRS objects), built on first use."""
    if name in _CONSTANTS:
        return _crs(_CONSTANTS[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Amsterdam's bounding box in RD New, generously padded (Weesp included); a feature outside it
# is refused on import as "outside Amsterdam".
AMSTERDAM_BOUNDS_RD = (100_000.0, 470_000.0, 145_000.0, 500_000.0)


@cache
def transformer(source: str, target: str) -> Transformer:
    """Cached, always lon/lat-ordered transformer between two CRS given as strings."""
    from pyproj import CRS, Transformer

    return Transformer.from_crs(
        CRS.from_user_input(source), CRS.from_user_input(target), always_xy=True
    )


FloatArray: TypeAlias = "npt.NDArray[np.float64]"
GeometryArray: TypeAlias = "npt.NDArray[np.object_]"  # shapely geometries (or None)


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
    import numpy as np

    x, y = trans.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


# shapely is untyped: a single geometry is Any to mypy, so the array form comes first.
@overload
def to_wgs84(geoms: GeometryArray) -> GeometryArray: ...
@overload
def to_wgs84(geoms: shapely.Geometry) -> shapely.Geometry: ...
def to_wgs84(geoms: GeometryArray | shapely.Geometry) -> GeometryArray | shapely.Geometry:
    """RD New geometries to WGS84, vectorised over an array of geometries."""
    import shapely

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
    import shapely
    from pyproj import CRS

    if CRS.from_user_input(source_crs).equals(_crs(28992)):
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
    import shapely

    out = to_wgs84(geoms)
    out = shapely.orient_polygons(out, exterior_cw=False)
    return shapely.set_precision(out, precision, mode="pointwise") if precision else out
