"""The OGC API collections, their items query and their in-memory tables. Flask-free.

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

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from spacematch import geo
from spacematch.domain.areas import AreaIndex
from spacematch.domain.properties import bbox_to_rd
from spacematch.errors import ApiError
from spacematch.export.public import NEED_COLUMNS, need_row, select_needs
from spacematch.export.tables import (
    PROPERTY_COLUMNS,
    ExportQuery,
    Table,
    property_row,
)
from spacematch.models import (
    LEGAL_FORMS,
    PROPERTY_STATUSES,
    SECTORS,
    USES,
    Layer,
    Need,
    Property,
)

if TYPE_CHECKING:
    import numpy as np
    import shapely


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


# -- the query ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemsQuery:
    limit: int
    offset: int = 0
    window: shapely.Geometry | None = None  # RD New; empty: matches nothing
    period: tuple[dt.date | None, dt.date | None] | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    crs: str = CRS84


def parse_crs(raw: str | None, name: str, errors: dict[str, str]) -> str:
    if raw in (None, ""):
        return CRS84
    crs = CRS_ALIASES.get(raw.strip())
    if crs is None:
        errors[name] = f"unsupported CRS; supported: {', '.join(CRS_URIS)}"
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
            if not 0 <= offset <= MAX_OFFSET:
                raise ValueError
        except ValueError:
            errors["offset"] = f"must be a whole number from 0 to {MAX_OFFSET}"
    crs = parse_crs(args.get("crs"), "crs", errors)
    bbox_crs = parse_crs(args.get("bbox-crs"), "bbox-crs", errors)
    window = None
    if args.get("bbox"):
        try:
            window = parse_bbox(args["bbox"], bbox_crs)
        except ValueError as err:
            errors["bbox"] = str(err)
    period = None
    if args.get("datetime"):
        try:
            period = parse_datetime(args["datetime"])
        except ValueError as err:
            errors["datetime"] = str(err)
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
            errors[name] = f"unknown {name} {', '.join(unknown)}" + (
                f"; known: {', '.join(sorted(known))}" if spec.kind != "area" else ""
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
        raise ValueError("must be 4 numbers minx,miny,maxx,maxy (or 6 with minz and maxz)")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError("must be numbers: minx,miny,maxx,maxy") from None
    if not all(math.isfinite(v) for v in numbers):
        raise ValueError("must be finite numbers")
    if len(numbers) == 6:
        if numbers[2] > numbers[5]:
            raise ValueError("minz must not exceed maxz")
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if crs == RD_NEW:
        if minx > maxx or miny > maxy:
            raise ValueError("must be minx<=maxx and miny<=maxy (RD New metres)")
        return shapely.box(minx, miny, maxx, maxy)
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValueError(
            "longitudes must lie within [-180, 180], latitudes minlat<=maxlat in [-90, 90]"
        )
    boxes = [(minx, miny, maxx, maxy)]
    if minx > maxx:
        boxes = [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    parts_rd = [bbox_to_rd(b) for b in boxes]
    return shapely.union_all([p for p in parts_rd if not p.is_empty] or [shapely.Polygon()])


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


# -- the tables --------------------------------------------------------------------------------


@dataclass
class Prepared:
    """One collection, whole, as served: rows ordered by id, geometries of the collection's one
    type (RD New), and per row the buurten it lies in (for ``area``)."""

    collection: Collection
    table: Table
    buurten: list[frozenset[str]]
    context: dict[str, Any]  # the known values of the enum filters
    texts: dict[str, list[str]] = field(default_factory=dict)

    def geometry_texts(self, crs: str) -> list[str]:
        """Every feature's geometry as GeoJSON text in ``crs``, made once per CRS (a page is then
        a join of strings): CRS84 per RFC 7946 (counter-clockwise, rounded to the collection's
        precision), RD New as stored (Python floats, written in full)."""
        import numpy as np
        import shapely

        texts = self.texts.get(crs)
        if texts is None:
            geoms = np.array(self.table.geoms, dtype=object)
            if crs == RD_NEW:
                texts = [
                    "null" if g is None else json.dumps(shapely.geometry.mapping(g)) for g in geoms
                ]
            elif len(geoms):
                out = geo.rfc7946(geoms, precision=self.collection.precision)
                texts = ["null" if t is None else t for t in shapely.to_geojson(out)]
            else:
                texts = []
            self.texts[crs] = texts
        return texts

    def features_json(self, positions: Iterable[int], crs: str) -> str:
        """The features at ``positions`` as the text of a GeoJSON array."""
        texts, rows, id_column = self.geometry_texts(crs), self.table.rows, self.table.id_column
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        return (
            "["
            + ",".join(
                f'{{"type":"Feature","id":{dumps(rows[i][id_column])},"geometry":{texts[i]},'
                f'"properties":{dumps(rows[i])}}}'
                for i in positions
            )
            + "]"
        )

    def select(self, q: ItemsQuery, areas: AreaIndex) -> np.ndarray:
        """Positions of the rows matching the query's filters, in order (not yet paged)."""
        import numpy as np
        import shapely

        rows = self.table.rows
        keep = np.ones(len(rows), dtype=bool)
        for name, values in q.filters.items():
            spec = QUERYABLES[name]
            wanted = set(values)
            if spec.kind == "area":
                wanted = {b for v in values for b in areas.buurten_in(v)}
                hits = [bool(b & wanted) for b in self.buurten]
            elif spec.kind == "list":
                hits = [bool(wanted.intersection((r[spec.column] or "").split(","))) for r in rows]
            else:
                hits = [r[spec.column] in wanted for r in rows]
            keep &= np.asarray(hits, dtype=bool)
        if q.window is not None:
            if q.window.is_empty:
                keep[:] = False
            elif keep.any():
                shapely.prepare(q.window)
                geoms = np.array(self.table.geoms, dtype=object)
                keep &= shapely.intersects(q.window, geoms)
        if q.period is not None and self.collection.temporal:
            keep &= np.asarray([_in_period(r, self.collection, q.period) for r in rows], dtype=bool)
        return np.flatnonzero(keep)


def as_type(geoms: list[shapely.Geometry | None], geometry_type: str) -> list:
    """Every geometry as ``geometry_type``: Point (a polygon's representative point, always
    inside it) or MultiPolygon (a Polygon wrapped)."""
    import shapely

    out: list[shapely.Geometry | None] = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(None)
        elif geometry_type == "Point":
            out.append(g if g.geom_type == "Point" else shapely.point_on_surface(g))
        elif g.geom_type == "Polygon":
            out.append(shapely.MultiPolygon([g]))
        elif g.geom_type == "MultiPolygon":
            out.append(g)
        else:
            polys = shapely.get_parts(g)
            out.append(shapely.MultiPolygon([p for p in polys if p.geom_type == "Polygon"]))
    return out


def _sorted(table: Table, buurten: list[frozenset[str]]) -> tuple[Table, list[frozenset[str]]]:
    """Ordered by id in Python, so both stores (SQLite and PostgreSQL collations) page alike."""
    order = sorted(range(len(table)), key=lambda i: table.rows[i][table.id_column])
    return table.take(order), [buurten[i] for i in order]


def build(
    cid: str,
    store: Any,
    *,
    areas: AreaIndex,
    index: Callable[[], Any],
    weights: Mapping[str, float] | None,
    shapes: AreaShapes | None = None,
) -> Prepared:
    """The whole collection ``cid`` as served (rebuilt by the caller when the data change)."""
    import shapely

    collection = COLLECTIONS[cid]
    shapes = shapes if shapes is not None and shapes.areas is areas else AreaShapes(areas)
    with store.sessions() as session:
        context = {
            "layers": sorted(session.scalars(select(Layer.slug))),
            "stadsdelen": sorted(c for c, lv in areas.levels.items() if lv == "stadsdeel"),
        }
        if cid in ("properties", "plots"):
            rows = list(session.scalars(select(Property)))
            if cid == "plots":
                rows = [r for r in rows if r.geom_type != "Point"]
            geoms = list(shapely.from_wkb([r.geom for r in rows])) if rows else []
            table = Table("properties" if cid == "properties" else "plots", PROPERTY_COLUMNS,
                          [property_row(r, areas) for r in rows], geoms)  # fmt: skip
            buurten = [frozenset([r.buurt_code]) for r in rows]
        elif cid in ("needs", "need-areas"):
            needs = select_needs(
                session, ExportQuery(dataset="needs", status=("open",)), areas=areas
            )
            if cid == "need-areas":
                needs = [n for n in needs if any(c in areas for c in n.area_list)]
            geoms, buurten = _need_shapes(needs, shapes, areas_only=cid == "need-areas")
            table = Table(cid, NEED_COLUMNS, [need_row(n, areas) for n in needs], geoms)
    if cid == "areas":
        from spacematch.export.figures import areas_table

        table = areas_table(store, ExportQuery(dataset="areas"), areas=areas, index=index,
                            weights=weights)  # fmt: skip
        buurten = [frozenset([code]) for code in table.ids()]
    table.geoms = as_type(table.geoms, collection.geometry_type)
    table, buurten = _sorted(table, buurten)
    return Prepared(collection, table, buurten, context)


class AreaShapes:
    """Per set of area codes: the union, a point inside it, the buurten it covers and (only when
    asked: measuring it is the costly part) the union simplified by ``simplify_within``. Kept as
    long as the app's AreaIndex (the areas change only with a new index), so a data change
    rebuilds the needs in milliseconds."""

    def __init__(self, areas: AreaIndex) -> None:
        self.areas = areas
        self.cache: dict[tuple[str, ...], tuple[Any, Any, frozenset[str]]] = {}
        self.simple: dict[tuple[str, ...], Any] = {}

    def key(self, codes: list[str]) -> tuple[str, ...]:
        return tuple(sorted({c for c in codes if c in self.areas}))

    def get(self, codes: list[str]) -> tuple[Any, Any, frozenset[str]]:
        """``(union, point inside it, buurten)``."""
        import shapely

        key = self.key(codes)
        hit = self.cache.get(key)
        if hit is None:
            union = shapely.union_all([self.areas.geoms[c] for c in key]) if key else None
            inside = shapely.point_on_surface(union) if union is not None else None
            buurten = frozenset(b for c in key for b in self.areas.buurten_in(c))
            hit = self.cache[key] = (union, inside, buurten)
        return hit

    def simplified(self, codes: list[str]) -> Any:
        key = self.key(codes)
        if key not in self.simple:
            union = self.get(codes)[0]
            self.simple[key] = (
                simplify_within(union, NEED_AREA_TOLERANCE_M) if union is not None else None
            )
        return self.simple[key]


def _need_shapes(
    needs: list[Need], shapes: AreaShapes, *, areas_only: bool
) -> tuple[list, list[frozenset[str]]]:
    """``needs``: the snapped point, else a point inside the areas' union. ``need-areas``: the
    union of the preferred areas, simplified. And per need the buurten it accepts (its areas',
    plus the buurt of its point, as ``exports.need_buurten``)."""
    import numpy as np
    import shapely

    geoms: list[shapely.Geometry | None] = []
    buurten: list[frozenset[str]] = []
    with_point = [n for n in needs if n.x is not None and n.y is not None]
    point_buurt = dict(
        zip(
            (n.id for n in with_point),
            shapes.areas.buurt_of_points(
                np.array([n.x for n in with_point], dtype=float),
                np.array([n.y for n in with_point], dtype=float),
            )
            if with_point
            else [],
            strict=True,
        )
    )
    grid = NEED_POINT_GRID_M
    for need in needs:
        _, inside, covered = shapes.get(need.area_list)
        own = point_buurt.get(need.id)
        buurten.append(covered | {own} if own is not None else covered)
        if areas_only:
            geoms.append(shapes.simplified(need.area_list))
        elif need.x is not None and need.y is not None:
            x, y = (need.x // grid + 0.5) * grid, (need.y // grid + 0.5) * grid
            geoms.append(shapely.Point(x, y))
        else:
            geoms.append(inside)
    return geoms, buurten


def simplify_within(geom: shapely.Geometry, limit_m: float) -> shapely.Geometry:
    """``geom`` simplified topology-preservingly (valid, no ring lost) and no further than
    ``limit_m`` from it (Hausdorff distance, measured on edges densified to a tenth).

    GEOS's topology-preserving Douglas-Peucker alone does not keep that promise: a 5 m
    tolerance moved the union of wijken MH and MM by 8.6 m (checked with buffers). So each
    result is measured, and the tolerance halved until it holds (the exact geometry last).
    """
    import shapely

    tolerance = limit_m
    for _ in range(4):
        simpler = shapely.simplify(geom, tolerance, preserve_topology=True)
        if shapely.hausdorff_distance(simpler, geom, densify=0.1) <= limit_m:
            return simpler
        tolerance /= 2
    return geom


def spatial_extent(areas: AreaIndex) -> list[float]:
    """Amsterdam's bounds in CRS84, from the stadsdelen (rounded outwards)."""
    import shapely

    union = shapely.union_all([g for c, g in areas.geoms.items() if areas.levels[c] == "stadsdeel"])
    envelope: shapely.Geometry = geo.to_wgs84(shapely.envelope(union))  # one geometry in, one out
    minx, miny, maxx, maxy = envelope.bounds
    return [
        math.floor(minx * 1000) / 1000,
        math.floor(miny * 1000) / 1000,
        math.ceil(maxx * 1000) / 1000,
        math.ceil(maxy * 1000) / 1000,
    ]


def storage_extent(areas: AreaIndex) -> list[float]:
    """Amsterdam's bounds in RD New (whole metres, outwards)."""
    import shapely

    union = shapely.union_all([g for c, g in areas.geoms.items() if areas.levels[c] == "stadsdeel"])
    minx, miny, maxx, maxy = union.bounds
    return [math.floor(minx), math.floor(miny), math.ceil(maxx), math.ceil(maxy)]
