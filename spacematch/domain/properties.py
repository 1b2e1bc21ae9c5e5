"""Querying stored properties by layer, area, status, bbox, size and rent. Flask-free.

Parameters arrive as strings (from a URL or the CLI) and are checked all at once; a bad one raises
an ApiError naming it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from spacematch import geo
from spacematch.domain.areas import AreaIndex
from spacematch.domain.messages import Message, MessageError
from spacematch.errors import ApiError, Text
from spacematch.models import (
    PUBLIC_STATUSES,
    USES,
    Layer,
    Property,
)

if TYPE_CHECKING:
    import shapely


MAX_LIMIT = 1_000_000
# EPSG:28992's area of use (west, south, east, north) in degrees, as EPSG gives it.
RD_AREA_OF_USE = (3.2, 50.75, 7.22, 53.7)


@dataclass(frozen=True)
class PropertyFilter:
    bbox: tuple[float, float, float, float] | None = None  # WGS84 lon/lat
    area: str | None = None
    layer: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    use: tuple[str, ...] = ()
    min_area: float | None = None
    max_area: float | None = None
    max_rent: float | None = None  # € per m² per year, the layer's own rent field
    available_from: dt.date | None = None  # available on or before this date
    limit: int | None = None
    offset: int = 0


def parse_filter(
    args: Mapping[str, str],
    *,
    areas: AreaIndex,
    layers: set[str],
    statuses: tuple[str, ...] = PUBLIC_STATUSES,
) -> PropertyFilter:
    """Parse query parameters; every bad one is named in a single 400 error.

    ``statuses`` are those the caller may ask for: let units (``verhuurd``) only for officers.
    """
    errors: dict[str, str | Text] = {}
    choices = {"layer": layers, "status": set(statuses), "use": set(USES)}
    values = parse_place_and_lists(args, choices, areas=areas, errors=errors)
    for name in ("min_area", "max_area", "max_rent"):
        if args.get(name) not in (None, ""):
            try:
                number = float(args[name])
                if not math.isfinite(number) or number < 0:
                    raise ValueError
                values[name] = number
            except ValueError:
                errors[name] = Message("param_not_negative")
    if args.get("available_from"):
        try:
            values["available_from"] = dt.date.fromisoformat(args["available_from"].strip())
        except ValueError:
            errors["available_from"] = Message("param_date")
    for name, low, high in (("limit", 1, MAX_LIMIT), ("offset", 0, 10**9)):
        if args.get(name) not in (None, ""):
            try:
                number = int(args[name])
                if not low <= number <= high:
                    raise ValueError
                values[name] = number
            except ValueError:
                errors[name] = Message("param_whole", {"low": str(low), "high": str(high)})
    if errors:
        raise ApiError(errors)
    return PropertyFilter(**values)


def parse_place_and_lists(
    args: Mapping[str, str],
    choices: Mapping[str, set[str]],
    *,
    areas: AreaIndex,
    errors: dict[str, str | Text],
) -> dict[str, Any]:
    """The filters every dataset parses alike (the property filter and the other exports):
    ``bbox``, ``area`` and the comma-separated lists named in ``choices`` (name -> known values).

    Returns the valid values; each bad one goes into ``errors`` instead, so that the caller can
    name all of them in one 400.
    """
    values: dict[str, Any] = {}
    if args.get("bbox"):
        try:
            values["bbox"] = parse_bbox(args["bbox"])
        except MessageError as err:
            errors["bbox"] = err.message
    if args.get("area"):
        if args["area"] not in areas:
            errors["area"] = Message("param_area", {"code": repr(args["area"])})
        else:
            values["area"] = args["area"]
    for name, allowed in choices.items():
        raw = args.get(name)
        if raw:
            items = tuple(v.strip() for v in raw.split(",") if v.strip())
            unknown = [v for v in items if v not in allowed]
            if unknown:
                errors[name] = Message(
                    "param_unknown",
                    {
                        "name": name,
                        "values": ", ".join(unknown),
                        "known": ", ".join(sorted(allowed)),
                    },
                )
            else:
                values[name] = items
    return values


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` in WGS84 (the OGC API order)."""
    parts = raw.split(",")
    if len(parts) != 4:
        raise MessageError("bbox_numbers")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise MessageError("bbox_numbers") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise MessageError("bbox_finite")
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise MessageError("bbox_range")
    return minx, miny, maxx, maxy


def bbox_to_rd(bbox: tuple[float, float, float, float]) -> shapely.Polygon:
    """A WGS84 bbox as a polygon in RD New (edges densified: the transform bends them).

    The box is first clipped to RD New's area of use (the Netherlands, ``RD_AREA_OF_USE``): far
    outside it the projection's coordinates are meaningless (the whole world became a window
    that matched nothing). Every stored geometry lies inside, so clipping loses no feature; a
    box wholly outside gives an empty polygon, which matches nothing.
    """
    import numpy as np
    import shapely

    west, south, east, north = RD_AREA_OF_USE
    bbox = (max(bbox[0], west), max(bbox[1], south), min(bbox[2], east), min(bbox[3], north))
    if bbox[0] > bbox[2] or bbox[1] > bbox[3]:
        return shapely.Polygon()
    box = shapely.segmentize(shapely.box(*bbox), max_segment_length=(bbox[2] - bbox[0]) / 16 or 1)
    lon_lat = shapely.get_coordinates(box)
    x, y = geo.wgs84_to_rd_xy(lon_lat[:, 0], lon_lat[:, 1])
    return shapely.Polygon(np.column_stack([x, y]))


Columns = tuple[QueryableAttribute[Any] | ColumnElement[Any], ...]


@overload
def build_query(
    flt: PropertyFilter, *, areas: AreaIndex, columns: None = None
) -> tuple[Select[Property], shapely.Geometry | None]: ...
@overload
def build_query(
    flt: PropertyFilter, *, areas: AreaIndex, columns: Columns
) -> tuple[Select[*tuple[Any, ...]], shapely.Geometry | None]: ...
def build_query(
    flt: PropertyFilter, *, areas: AreaIndex, columns: Columns | None = None
) -> tuple[Select[*tuple[Any, ...]], shapely.Geometry | None]:
    """The filter as SQL (bbox by bounds overlap; callers refine polygons exactly)."""
    query: Select[*tuple[Any, ...]] = (select(*columns) if columns else select(Property)).order_by(
        Property.id
    )
    window = None
    if flt.bbox:
        window = bbox_to_rd(flt.bbox)
        if window.is_empty:
            return query.where(false()), window
        minx, miny, maxx, maxy = window.bounds
        query = query.where(
            Property.maxx >= minx,
            Property.minx <= maxx,
            Property.maxy >= miny,
            Property.miny <= maxy,
        )
    if flt.area:
        buurten = areas.buurten_in(flt.area)
        query = query.where(Property.buurt_code.in_(buurten))
    if flt.layer:
        query = query.where(Property.layer.in_(flt.layer))
    # Let units are context for officers, who ask for them by status; never listed otherwise.
    query = query.where(Property.status.in_(flt.status or PUBLIC_STATUSES))
    for use in flt.use:
        query = query.where(("," + Property.uses + ",").contains(f",{use},"))
    if flt.min_area is not None:
        query = query.where(Property.area_m2 >= flt.min_area)
    if flt.max_area is not None:
        query = query.where(Property.area_m2 <= flt.max_area)
    if flt.max_rent is not None:
        query = query.where(Property.rent_eur_m2_year <= flt.max_rent)
    if flt.available_from is not None:
        query = query.where(Property.available_from <= flt.available_from)
    return query, window


def find_properties(session: Session, flt: PropertyFilter, *, areas: AreaIndex) -> list[Property]:
    """Properties matching the filter, ordered by id; exact geometry test for polygons in a bbox."""
    import numpy as np
    import shapely

    query, window = build_query(flt, areas=areas)
    if window is None:
        if flt.offset:
            query = query.offset(flt.offset)
        if flt.limit is not None:
            query = query.limit(flt.limit)
        return list(session.scalars(query))
    rows = list(session.scalars(query))
    shapely.prepare(window)
    polygons = [i for i, r in enumerate(rows) if r.geom_type != "Point"]
    if polygons:
        geoms = shapely.from_wkb([rows[i].geom for i in polygons])
        outside = {polygons[i] for i in np.flatnonzero(~shapely.intersects(window, geoms))}
        rows = [r for i, r in enumerate(rows) if i not in outside]
    points = [r for r in rows if r.geom_type == "Point"]
    if points:
        inside = shapely.contains_xy(window, [r.x for r in points], [r.y for r in points])
        drop = {p.id for p, ok in zip(points, inside, strict=True) if not ok}
        rows = [r for r in rows if r.id not in drop]
    end = None if flt.limit is None else flt.offset + flt.limit
    return rows[flt.offset : end]


def count_properties(session: Session, flt: PropertyFilter, *, areas: AreaIndex) -> int:
    """How many properties match the filter, ignoring ``limit`` and ``offset`` (for paging)."""
    unpaged = dataclasses.replace(flt, limit=None, offset=0)
    query, window = build_query(unpaged, areas=areas)
    if window is None:
        counted = select(func.count()).select_from(query.order_by(None).subquery())
        return int(session.scalar(counted) or 0)
    return len(find_properties(session, unpaged, areas=areas))


def layer_slugs(session: Session) -> set[str]:
    return set(session.scalars(select(Layer.slug)))


def map_unmapped_uses(session: Session, property_id: str, uses: list[str]) -> Property | None:
    """Give a unit of unknown kind (stored without use class) its use classes, so it is matched.

    Only a property without use classes can be mapped this way: a file's own use classes are the
    file's to change. The layer import keeps these use classes on re-import while the file still
    gives the unit none. Returns None for an unknown property; raises ValueError for bad uses or
    a property that already has use classes.
    """
    from spacematch.db import bump_data_version

    chosen = [u for u in USES if u in set(uses)]
    if not chosen or len(chosen) != len(set(uses)):
        raise ValueError("uses")
    prop = session.get(Property, property_id, with_for_update=True)
    if prop is None:
        return None
    if prop.uses:
        raise ValueError("mapped")
    prop.uses = ",".join(chosen)
    bump_data_version(session)
    return prop
