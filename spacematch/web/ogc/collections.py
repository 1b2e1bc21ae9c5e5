"""The OGC API collections and their queryables. Flask-free. The items query is parsed in
``query``, the tables are built in ``tables`` and the areas' shapes made in ``shapes``.

One geometry type per collection, because QGIS (and a GeoPackage layer) fixes a layer's type
from its first features and draws nothing of another type:

* ``properties`` (Point): every stored property; a plot (kavel) as its representative point
  (``point_on_surface``, always inside the plot).
* ``plots`` (MultiPolygon): the properties stored with an outline, as their outline.
* ``needs`` (Point): *open* needs only, the export's allow-list of public fields (no contact data,
  no token, no free text). A need's own point is snapped to the centre of a 100 m cell (it may be
  where an initiative's members live, and must not pinpoint a home); a need that names areas only
  gets the representative point of their union. Planners' exports (login) carry the exact point.
* ``need-areas`` (MultiPolygon): the open needs that name preferred areas, with the union of those
  areas, simplified topology-preservingly with a tolerance of ``NEED_AREA_TOLERANCE_M`` in RD New
  (the planners' GeoPackage export keeps them exact).
* ``areas`` (MultiPolygon): the buurten with their supply and demand figures (aggregates only).

The features are the export tables' rows (``spacematch.export``), so QGIS sees the same
columns through the OGC API as in a downloaded GeoPackage. Each collection is built whole once
per store data version (``build``) and filtered and paged in memory: a stable order (by id) for
paging, and a bbox, datetime and attribute filter over a few thousand rows cost milliseconds.

Coordinates: stored and served in RD New (EPSG:28992) exactly as stored when asked with
``crs``; by default CRS84 (WGS84 lon/lat), rounded to 1e-7 degrees (1 cm).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spacematch.models import (
    LEGAL_FORMS,
    PROPERTY_STATUSES,
    SECTORS,
    USES,
)

if TYPE_CHECKING:
    pass


NEED_POINT_GRID_M = 100.0
NEED_AREA_TOLERANCE_M = 5.0
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RD_NEW = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS_URIS = (CRS84, RD_NEW)
# Other spellings clients send for the same two CRSs.
CRS_ALIASES = {
    CRS84: CRS84, "urn:ogc:def:crs:OGC:1.3:CRS84": CRS84, "OGC:CRS84": CRS84,
    "[OGC:CRS84]": CRS84, RD_NEW: RD_NEW, "urn:ogc:def:crs:EPSG::28992": RD_NEW,
    "EPSG:28992": RD_NEW, "[EPSG:28992]": RD_NEW,
}  # fmt: skip
COMMON_PARAMS = ("f", "lang", "bbox", "bbox-crs", "datetime", "limit", "offset", "crs")
FEATURE_PARAMS = ("f", "lang", "crs")
MAX_OFFSET = 10**9


@dataclass(frozen=True)
class Queryable:
    """An attribute filter ``?name=a,b``: a feature matches when its value is one of them."""

    title: str
    column: str  # the table column tested ("" for area: the feature's buurten)
    kind: str = "enum"  # enum: the column's value; list: one of its comma-joined values; area
    choices: Callable[[Mapping[str, Any]], list[str]] = field(default=lambda ctx: [])


def _area_choices(ctx: Mapping[str, Any]) -> list[str]:
    return []  # any area code (stadsdeel, gebied, wijk, buurt): too many to list


QUERYABLES: dict[str, Queryable] = {
    "layer": Queryable("Laag (layer slug)", "layer", choices=lambda ctx: ctx["layers"]),
    "status": Queryable("Status", "status", choices=lambda ctx: list(PROPERTY_STATUSES)),
    "use": Queryable("Gebruik (one of the uses)", "uses", "list", lambda ctx: list(USES)),
    "area": Queryable("Gebied (stadsdeel, gebied, wijk or buurt code)", "", "area", _area_choices),
    "sector": Queryable("Sector", "sector", choices=lambda ctx: list(SECTORS)),
    "legal_form": Queryable("Rechtsvorm", "legal_form", choices=lambda ctx: list(LEGAL_FORMS)),
    "stadsdeel": Queryable("Stadsdeel (code)", "stadsdeel", choices=lambda ctx: ctx["stadsdelen"]),
}


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    geometry_type: str  # the one GeoJSON geometry type of every feature
    filters: tuple[str, ...] = ()  # queryables, each a query parameter
    temporal: str = ""  # what datetime filters on; empty: no temporal property
    precision: float = 1e-7  # CRS84 rounding, degrees


PROPERTY_FILTERS = ("layer", "status", "use", "area")
NEED_FILTERS = ("sector", "legal_form", "use", "area")
COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            "properties",
            "Leegstaand gemeentelijk vastgoed",
            "Panden en kavels die de gemeente aanbiedt voor de gemeenschapseconomie, elk als "
            "punt (een kavel als een punt binnen de kavel; de omtrek staat in 'plots'). "
            "datetime filtert op de beschikbaarheid (available_from - available_until).",
            "Point",
            filters=PROPERTY_FILTERS,
            temporal="availability",
        ),
        Collection(
            "plots",
            "Kavels en andere panden met een omtrek",
            "De panden en kavels met een vastgelegde omtrek, als (Multi)Polygon; dezelfde "
            "velden als 'properties'. datetime filtert op de beschikbaarheid.",
            "MultiPolygon",
            filters=PROPERTY_FILTERS,
            temporal="availability",
        ),
        Collection(
            "needs",
            "Ruimtevragen van initiatieven (open)",
            "Open ruimtevragen, alleen openbare velden: geen contactgegevens. Elk als punt: een "
            "eigen punt afgerond op het midden van een cel van 100 m, anders een punt binnen de "
            "voorkeursgebieden (die staan in 'need-areas'). datetime filtert op needed_from.",
            "Point",
            filters=NEED_FILTERS,
            temporal="needed_from",
        ),
        Collection(
            "need-areas",
            "Voorkeursgebieden van open ruimtevragen",
            "De open ruimtevragen die gebieden noemen, met de vereniging van die gebieden als "
            "MultiPolygon, vereenvoudigd met behoud van topologie (tolerantie 5 m in RD New). "
            "Zelfde velden als 'needs'. datetime filtert op needed_from.",
            "MultiPolygon",
            filters=NEED_FILTERS,
            temporal="needed_from",
            precision=1e-6,
        ),
        Collection(
            "areas",
            "Aanbod en vraag per buurt",
            "Per buurt: beschikbare panden en m², open ruimtevragen, gevraagde m² (minimum, "
            "verdeeld over de buurten die een vraag accepteert) en het aandeel vragen met een "
            "passend aanbod (score >= 0,5). Bron gebiedsindeling: Gemeente Amsterdam.",
            "MultiPolygon",
            filters=("stadsdeel", "area"),
        ),
    )
}
