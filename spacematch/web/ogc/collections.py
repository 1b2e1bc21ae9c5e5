"""The OGC API collections and their items query: bbox, datetime, limit, offset. Flask-free.

The features are the export tables' rows (``exports``/``monitor``), so QGIS sees the same
columns through the OGC API as in a downloaded GeoPackage.

What is public (the OGC API needs no login: QGIS and GDAL cannot fill in a login form):

* ``properties``: every stored property, as on the public map (its contact is the municipal
  department's mailbox, published on purpose: one place shows whom to call).
* ``needs``: *open* needs only, the export's allow-list of public fields (no contact data, no
  token, no free text), and a need's point snapped to the centre of a 100 m cell: the point may
  be where an initiative's members live, and must not pinpoint a home. Planners' exports (login)
  carry the exact point.
* ``areas``: the buurten with their supply and demand figures (aggregates only).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import func, select

from spacematch import geo
from spacematch.domain.areas import AreaIndex
from spacematch.domain.properties import (
    PropertyFilter,
    build_query,
    find_properties,
    layer_slugs,
    parse_bbox,
    parse_filter,
)
from spacematch.errors import ApiError
from spacematch.export.public import needs_table
from spacematch.export.tables import (
    PROPERTY_COLUMNS,
    ExportQuery,
    Table,
    filter_bbox,
    property_row,
)
from spacematch.models import Property

NEED_POINT_GRID_M = 100.0
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
COMMON_PARAMS = ("f", "lang", "bbox", "bbox-crs", "datetime", "limit", "offset")
MAX_OFFSET = 10**9


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    filters: tuple[str, ...] = ()  # extra query parameters (queryables) besides the core ones
    temporal: str = ""  # what datetime filters on; empty: no temporal property


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection(
            "properties",
            "Leegstaand gemeentelijk vastgoed",
            "Panden en kavels die de gemeente aanbiedt voor de gemeenschapseconomie (RD New -> "
            "WGS84). datetime filtert op de beschikbaarheid (available_from - available_until).",
            filters=("layer", "status", "area"),
            temporal="availability",
        ),
        Collection(
            "needs",
            "Ruimtevragen van initiatieven (open)",
            "Open ruimtevragen, alleen openbare velden: geen contactgegevens. Een punt is "
            "afgerond op het midden van een cel van 100 m. datetime filtert op needed_from.",
            temporal="needed_from",
        ),
        Collection(
            "areas",
            "Aanbod en vraag per buurt",
            "Per buurt: beschikbare panden en m², open ruimtevragen, gevraagde m² (minimum, "
            "verdeeld over de buurten die een vraag accepteert) en het aandeel vragen met een "
            "passend aanbod (score >= 0,5). Bron gebiedsindeling: Gemeente Amsterdam.",
        ),
    )
}


@dataclass(frozen=True)
class ItemsQuery:
    limit: int
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    period: tuple[dt.date | None, dt.date | None] | None = None
    filters: Mapping[str, str] | None = None


def parse_items_query(
    collection: Collection, args: Mapping[str, str], *, default_limit: int, max_limit: int
) -> ItemsQuery:
    """Every bad parameter named in one 400. A limit above the maximum is served as the maximum,
    as the OGC standard's own example does ("ask for 50000, get up to 10000"); below 1 is an error.
    """
    errors: dict[str, str] = {}
    allowed = (*COMMON_PARAMS, *collection.filters)
    for name in args:
        if name not in allowed:
            errors[name] = f"unknown parameter; this collection takes {', '.join(allowed)}"
    limit, offset = default_limit, 0
    if args.get("limit", "") != "":
        try:
            limit = int(args["limit"])
            if limit < 1:
                raise ValueError
            limit = min(limit, max_limit)
        except ValueError:
            errors["limit"] = f"must be a whole number from 1 to {max_limit}"
    if args.get("offset", "") != "":
        try:
            offset = int(args["offset"])
            if not 0 <= offset <= MAX_OFFSET:  # beyond it SQLite's integers overflow
                raise ValueError
        except ValueError:
            errors["offset"] = f"must be a whole number from 0 to {MAX_OFFSET}"
    bbox = None
    if args.get("bbox"):
        try:
            bbox = parse_bbox(args["bbox"])
        except ValueError as err:
            errors["bbox"] = str(err)
    if args.get("bbox-crs") not in (None, "", CRS84):
        errors["bbox-crs"] = f"only {CRS84} is supported"
    period = None
    if args.get("datetime"):
        try:
            period = parse_datetime(args["datetime"])
        except ValueError as err:
            errors["datetime"] = str(err)
    if errors:
        raise ApiError(errors)
    filters = {k: args[k] for k in collection.filters if args.get(k)}
    return ItemsQuery(limit=limit, offset=offset, bbox=bbox, period=period, filters=filters)


def parse_datetime(raw: str) -> tuple[dt.date | None, dt.date | None]:
    """An RFC 3339 instant or ``start/end`` interval (``..`` or empty = open), compared by day."""
    parts = raw.split("/")
    if len(parts) > 2:
        raise ValueError("must be an RFC 3339 date-time or an interval start/end")
    bounds: list[dt.date | None] = []
    for part in parts:
        if part in ("", "..") and len(parts) == 2:
            bounds.append(None)
            continue
        try:
            bounds.append(
                dt.datetime.fromisoformat(part.replace("z", "Z")).date()
                if "T" in part.upper()
                else dt.date.fromisoformat(part)
            )
        except ValueError:
            raise ValueError(f"{part!r} is not an RFC 3339 date or date-time") from None
    start, end = (bounds[0], bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
    if start and end and start > end:
        raise ValueError("the interval's start lies after its end")
    return start, end


def _in_period(
    row: dict[str, Any], collection: Collection, period: tuple[dt.date | None, dt.date | None]
) -> bool:
    start, end = period
    if collection.temporal == "availability":
        first = dt.date.fromisoformat(row["available_from"])
        last = dt.date.fromisoformat(row["available_until"]) if row["available_until"] else None
    elif collection.temporal == "needed_from":
        first = last = dt.date.fromisoformat(row["needed_from"])
    else:
        return True  # no temporal property: datetime does not restrict
    return (end is None or first <= end) and (start is None or last is None or last >= start)


def property_page(session: Any, q: ItemsQuery, *, areas: AreaIndex) -> tuple[Table, int]:
    """A page of properties and the number matched; paged in SQL unless bbox or datetime apply."""
    flt = parse_filter(dict(q.filters or {}), areas=areas, layers=layer_slugs(session))
    if q.bbox is None and q.period is None:
        query, _ = build_query(flt, areas=areas)
        matched = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = find_properties(session, _with(flt, limit=q.limit, offset=q.offset), areas=areas)
        return property_table(rows, areas), int(matched or 0)
    rows = find_properties(session, _with(flt, bbox=q.bbox), areas=areas)
    table = property_table(rows, areas)
    if q.period:
        table = table.take(
            i
            for i, r in enumerate(table.rows)
            if _in_period(r, COLLECTIONS["properties"], q.period)
        )
    return table.take(range(q.offset, min(q.offset + q.limit, len(table)))), len(table)


def _with(flt: PropertyFilter, **changes: Any) -> PropertyFilter:
    values = {k: getattr(flt, k) for k in flt.__dataclass_fields__}
    values.update(changes)
    return PropertyFilter(**values)


def property_table(rows: list[Property], areas: AreaIndex) -> Table:
    geoms = list(shapely.from_wkb([r.geom for r in rows])) if rows else []
    return Table("properties", PROPERTY_COLUMNS, [property_row(r, areas) for r in rows], geoms)


def table_page(table: Table, collection: Collection, q: ItemsQuery) -> tuple[Table, int]:
    """A page of an in-memory table (needs, areas) after the bbox and datetime filters."""
    table = filter_bbox(table, q.bbox)
    if q.period:
        table = table.take(
            i for i, r in enumerate(table.rows) if _in_period(r, collection, q.period)
        )
    return table.take(range(q.offset, min(q.offset + q.limit, len(table)))), len(table)


def public_needs(store: Any, *, areas: AreaIndex) -> Table:
    """Open needs, public fields, points snapped to a 100 m grid."""
    with store.sessions() as session:
        query = ExportQuery(dataset="needs", status=("open",))
        return needs_table(session, query, areas=areas, point_grid_m=NEED_POINT_GRID_M)


def areas_figures(
    store: Any, *, areas: AreaIndex, index: Callable[[], Any], weights: Mapping[str, float] | None
) -> Table:
    from spacematch.export.figures import areas_table

    return areas_table(
        store, ExportQuery(dataset="areas"), areas=areas, index=index, weights=weights
    )


def spatial_extent(areas: AreaIndex) -> list[float]:
    """Amsterdam's bounds in CRS84, from the stadsdelen (rounded outwards)."""
    union = shapely.union_all([g for c, g in areas.geoms.items() if areas.levels[c] == "stadsdeel"])
    minx, miny, maxx, maxy = geo.to_wgs84(shapely.envelope(union)).bounds
    return [
        math.floor(minx * 1000) / 1000,
        math.floor(miny * 1000) / 1000,
        math.ceil(maxx * 1000) / 1000,
        math.ceil(maxy * 1000) / 1000,
    ]
