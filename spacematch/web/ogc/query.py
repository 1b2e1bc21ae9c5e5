"""The OGC API items query: the parameters of ``/ogc/collections/<id>/items`` parsed and
checked all at once (every bad one named), CRS, bbox and datetime included. Flask-free."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spacematch.domain.areas import AreaIndex
from spacematch.domain.messages import Message, MessageError
from spacematch.domain.properties import bbox_to_rd
from spacematch.errors import ApiError, Text
from spacematch.web.ogc.collections import (
    COMMON_PARAMS,
    CRS84,
    CRS_ALIASES,
    CRS_URIS,
    MAX_OFFSET,
    QUERYABLES,
    RD_NEW,
    Collection,
)

if TYPE_CHECKING:
    import shapely


@dataclass(frozen=True)
class ItemsQuery:
    limit: int
    offset: int = 0
    window: shapely.Geometry | None = None  # RD New; empty: matches nothing
    period: tuple[dt.date | None, dt.date | None] | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    crs: str = CRS84


def parse_crs(raw: str | None, name: str, errors: dict[str, str | Text]) -> str:
    if raw in (None, ""):
        return CRS84
    crs = CRS_ALIASES.get(raw.strip())
    if crs is None:
        errors[name] = Message("ogc_crs", {"crs": ", ".join(CRS_URIS)})
        return CRS84
    return crs


def parse_items_query(
    collection: Collection,
    args: Mapping[str, str],
    *,
    default_limit: int,
    max_limit: int,
    context: Mapping[str, Any],
    areas: AreaIndex,
) -> ItemsQuery:
    """Every bad parameter named in one 400. A limit above the maximum is served as the maximum,
    as the OGC standard's own example does ("ask for 50000, get up to 10000"); below 1 is an error.
    """
    errors: dict[str, str | Text] = {}
    allowed = (*COMMON_PARAMS, *collection.filters)
    for name in args:
        if name not in allowed:
            errors[name] = Message("ogc_collection_param", {"allowed": ", ".join(allowed)})
    limit, offset = default_limit, 0
    if args.get("limit", "") != "":
        try:
            limit = int(args["limit"])
            if limit < 1:
                raise ValueError
            limit = min(limit, max_limit)
        except ValueError:
            errors["limit"] = Message("param_whole", {"low": "1", "high": str(max_limit)})
    if args.get("offset", "") != "":
        try:
            offset = int(args["offset"])
            if not 0 <= offset <= MAX_OFFSET:
                raise ValueError
        except ValueError:
            errors["offset"] = Message("param_whole", {"low": "0", "high": str(MAX_OFFSET)})
    crs = parse_crs(args.get("crs"), "crs", errors)
    bbox_crs = parse_crs(args.get("bbox-crs"), "bbox-crs", errors)
    window = None
    if args.get("bbox"):
        try:
            window = parse_bbox(args["bbox"], bbox_crs)
        except ValueError as err:
            errors["bbox"] = err.message if isinstance(err, MessageError) else str(err)
    period = None
    if args.get("datetime"):
        try:
            period = parse_datetime(args["datetime"])
        except MessageError as err:
            errors["datetime"] = err.message
    filters: dict[str, tuple[str, ...]] = {}
    for name in collection.filters:
        raw = args.get(name)
        if not raw:
            continue
        values = tuple(v.strip() for v in raw.split(",") if v.strip())
        spec = QUERYABLES[name]
        if spec.kind == "area":
            unknown = [v for v in values if v not in areas]
        else:
            known = set(spec.choices(context))
            unknown = [v for v in values if v not in known]
        if unknown:
            listed = {"name": name, "values": ", ".join(unknown)}
            errors[name] = (
                Message("ogc_unknown_values", listed)
                if spec.kind == "area"
                else Message("param_unknown", {**listed, "known": ", ".join(sorted(known))})
            )
        elif values:
            filters[name] = values
    if errors:
        raise ApiError(errors)
    return ItemsQuery(
        limit=limit, offset=offset, window=window, period=period, filters=filters, crs=crs
    )


def parse_bbox(raw: str, crs: str = CRS84) -> shapely.Geometry:
    """The bbox as a window in RD New: 4 numbers, or 6 (with heights, which are ignored).

    In CRS84 ``minlon > maxlon`` is a box across the antimeridian (OGC API Features 7.15.3):
    it is split at 180°. Every part is clipped to RD New's area of use (where every stored
    feature lies), so ``-180,-90,180,90`` selects everything and a box over the Pacific nothing.
    """
    import shapely

    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise MessageError("ogc_bbox_count")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise MessageError("ogc_bbox_numbers") from None
    if not all(math.isfinite(v) for v in numbers):
        raise MessageError("bbox_finite")
    if len(numbers) == 6:
        if numbers[2] > numbers[5]:
            raise MessageError("ogc_bbox_z")
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if crs == RD_NEW:
        if minx > maxx or miny > maxy:
            raise MessageError("ogc_bbox_rd")
        return shapely.box(minx, miny, maxx, maxy)
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise MessageError("ogc_bbox_wgs84")
    boxes = [(minx, miny, maxx, maxy)]
    if minx > maxx:
        boxes = [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    parts_rd = [bbox_to_rd(b) for b in boxes]
    return shapely.union_all([p for p in parts_rd if not p.is_empty] or [shapely.Polygon()])


def parse_datetime(raw: str) -> tuple[dt.date | None, dt.date | None]:
    """An RFC 3339 instant or ``start/end`` interval (``..`` or empty = open), compared by day."""
    parts = raw.split("/")
    if len(parts) > 2:
        raise MessageError("ogc_datetime")
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
            raise MessageError("ogc_datetime_part", part=repr(part)) from None
    start, end = (bounds[0], bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
    if start and end and start > end:
        raise MessageError("ogc_interval")
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
