"""GeoJSON (RFC 7946) output of stored records. Flask-free.

Geometry goes from RD New to WGS84 here, at the edge, with exterior rings counter-clockwise and
no ``crs`` member.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import shapely

from . import geo
from .areas import AreaIndex
from .models import Property

PROPERTY_FIELDS = (
    "layer", "name", "address", "area_m2", "rent_eur_m2_year", "uses", "available_from",
    "available_until", "accessible", "status", "department", "contact",
)  # fmt: skip


def property_record(row: Property, areas: AreaIndex | None = None) -> dict[str, Any]:
    """The public attributes of one property, JSON-ready."""
    record: dict[str, Any] = {"id": row.id}
    for name in PROPERTY_FIELDS:
        value = getattr(row, name)
        record[name] = value.isoformat() if hasattr(value, "isoformat") else value
    record["uses"] = row.use_list
    record["rent_eur_month"] = round(row.rent_eur_m2_year * row.area_m2 / 12, 2)
    record["meanwhile"] = row.available_until is not None
    record["buurt"] = row.buurt_code
    if areas is not None:
        record["buurt_name"] = areas.names.get(row.buurt_code, "")
        record["wijk"] = row.buurt_code[:2]
        record["stadsdeel"] = row.buurt_code[:1]
    return record


def geometries_wgs84(wkbs: Sequence[bytes]) -> list[dict]:
    """RD New WKB to RFC 7946 geometry mappings, vectorised over the whole list."""
    if not wkbs:
        return []
    geoms = geo.rfc7946(shapely.from_wkb(list(wkbs)))
    return [json.loads(text) for text in shapely.to_geojson(geoms)]


def property_features(rows: Sequence[Property], areas: AreaIndex | None = None) -> list[dict]:
    geometries = geometries_wgs84([r.geom for r in rows])
    return [
        {"type": "Feature", "id": row.id, "geometry": geometry, "properties": property_record(row, areas)}
        for row, geometry in zip(rows, geometries, strict=True)
    ]


def feature_collection(features: Iterable[dict], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **members}
