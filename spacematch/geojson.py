"""RFC 7946 GeoJSON from RD New geometries: WGS84 lon/lat, no ``crs`` member, exterior rings
counter-clockwise. One serialiser for the API, the maps, the exports and the OGC API."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from spacematch import geo

if TYPE_CHECKING:
    import shapely


def geometries_wgs84(
    wkbs: Sequence[bytes], *, precision: float = 1e-7
) -> list[dict[str, Any] | None]:
    """RD New WKB to RFC 7946 geometry mappings, vectorised over the whole list.

    ``precision`` in degrees: 1e-7 (1 cm) by default; map outlines need no better than 1e-5.
    """
    import shapely

    if not wkbs:
        return []
    return geojson_geometries(shapely.from_wkb(list(wkbs)), precision=precision)


def geojson_geometries(
    geoms: Sequence[shapely.Geometry | None], *, precision: float = 1e-7
) -> list[dict[str, Any] | None]:
    import numpy as np
    import shapely

    if not len(geoms):
        return []
    out = geo.rfc7946(np.array(list(geoms), dtype=object), precision=precision)
    return [None if text is None else json.loads(text) for text in shapely.to_geojson(out)]


def feature_collection(features: Iterable[dict[str, Any]], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **members}
