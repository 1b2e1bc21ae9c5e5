"""Exports of properties, needs, matches and areas as GeoJSON, GeoPackage and CSV. Flask-free.

Every dataset is first built as a flat ``Table`` (scalar columns with a declared type, plus RD New
geometries), then written; so the three formats and the OGC API carry the same rows. Lists (uses,
area codes) are comma-joined strings everywhere, dates ISO 8601 strings.

Formats and CRS:

* GeoJSON: RFC 7946, WGS84 lon/lat, no ``crs`` member, exterior rings counter-clockwise.
* GeoPackage: RD New (EPSG:28992), the CRS a Dutch GIS planner works in, declared in the file and
  lossless (the store's own coordinates). One layer named after the dataset.
* CSV: UTF-8 with BOM (spreadsheets), geometry as WKT in WGS84 lon/lat in the column ``WKT``
  (GDAL and QGIS pick it up by that name). A CSV carries no CRS, and WGS84 is what every tool
  assumes then. Text cells starting with ``= + - @`` get a leading ``'`` (CSV injection).

Privacy: needs go out through the allow-list in ``spacematch.export.public`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from spacematch.domain.areas import AreaIndex
from spacematch.domain.messages import Message
from spacematch.domain.properties import (
    PropertyFilter,
    bbox_to_rd,
    find_properties,
    layer_slugs,
    parse_filter,
    parse_place_and_lists,
)
from spacematch.errors import ApiError, NotFound, Text
from spacematch.geojson import geojson_geometries, geometries_wgs84
from spacematch.models import (
    LEGAL_FORMS,
    NEED_STATUSES,
    SECTORS,
    Layer,
    Need,
    Property,
)

if TYPE_CHECKING:
    import shapely


if TYPE_CHECKING:  # the matching engine is imported where matches are ranked, not here
    from spacematch.matching import MatchIndex


class MatchOptions(TypedDict, total=False):
    """How the figures built on matches rank, declared once for every function that passes them
    on (``datasets.build_table``, the tables here, ``supply_demand``): ``index`` gives a matching
    index (the app passes its cached one; without it a fresh one is built from the store),
    ``weights`` the officers' criterion weights (without them the engine's defaults)."""

    index: Callable[[], MatchIndex] | None
    weights: Mapping[str, float] | None


PROPERTY_FIELDS = (
    "layer", "name", "address", "area_m2", "rent_eur_m2_year", "uses", "available_from",
    "available_until", "accessible", "status", "department", "contact",
)  # fmt: skip
COMMUNITY_LEGAL_FORMS = frozenset({"cooperatie", "stichting", "vereniging", "sociale_onderneming"})
DATASETS = ("properties", "needs", "matches", "areas")
FORMATS: dict[str, str] = {
    "geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
}  # fmt: skip
DEFAULT_MIN_SCORE = 0.5
# Parameters that are not filters but may ride along on any URL (the interface language).
IGNORED_PARAMS = frozenset({"lang"})
PROPERTY_PARAMS = ("area", "layer", "status", "bbox", "use", "min_area", "max_area", "max_rent",
                   "available_from")  # fmt: skip
DATASET_PARAMS: dict[str, tuple[str, ...]] = {
    "properties": PROPERTY_PARAMS,
    "needs": ("area", "status", "bbox", "sector", "legal_form"),
    "matches": ("area", "layer", "bbox", "min_score"),
    "areas": ("area", "layer", "bbox", "min_score"),
}

PROPERTY_COLUMNS: dict[str, str] = {
    "id": "str", "layer": "str", "name": "str", "address": "str", "area_m2": "float",
    "rent_eur_m2_year": "float", "rent_eur_month": "float", "uses": "str",
    "available_from": "str", "available_until": "str", "meanwhile": "bool", "accessible": "bool",
    "status": "str", "department": "str", "contact": "str", "buurt": "str", "buurt_name": "str",
    "wijk": "str", "stadsdeel": "str", "source": "str",
}  # fmt: skip


@dataclass
class Table:
    """One dataset as flat rows: ``columns`` maps name -> type (str, float, int, bool)."""

    name: str
    columns: dict[str, str]
    rows: list[dict[str, Any]]
    geoms: list[shapely.Geometry | None]  # RD New
    id_column: str = "id"

    def __len__(self) -> int:
        return len(self.rows)

    def ids(self) -> list[Any]:
        return [r[self.id_column] for r in self.rows]

    def take(self, positions: Iterable[int]) -> Table:
        positions = list(positions)
        rows, geoms = [self.rows[i] for i in positions], [self.geoms[i] for i in positions]
        return Table(self.name, self.columns, rows, geoms, self.id_column)


@dataclass(frozen=True)
class ExportQuery:
    """Validated export filters; ``properties`` keeps the property filter itself."""

    dataset: str
    property_filter: PropertyFilter | None = None  # for the properties dataset
    area: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    layer: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    sector: tuple[str, ...] = ()
    legal_form: tuple[str, ...] = ()
    min_score: float = DEFAULT_MIN_SCORE


def check_target(dataset: str, fmt: str) -> None:
    """404 naming what is unknown: the export URL's dataset or format."""
    errors: dict[str, str | Message] = {}
    if dataset not in DATASETS:
        errors["dataset"] = Message(
            "unknown_dataset", {"name": repr(dataset), "known": ", ".join(DATASETS)}
        )
    if fmt not in FORMATS:
        errors["format"] = Message(
            "unknown_format", {"name": repr(fmt), "known": ", ".join(FORMATS)}
        )
    if errors:
        raise NotFound(errors)


def parse_query(
    dataset: str, args: Mapping[str, str], *, session: Session, areas: AreaIndex
) -> ExportQuery:
    """Check the filters for one dataset; a bad or inapplicable one is a 400 naming it."""
    allowed = DATASET_PARAMS[dataset]
    errors: dict[str, str | Text] = {}
    for name in args:
        if name not in allowed and name not in IGNORED_PARAMS and args.get(name):
            errors[name] = Message(
                "param_not_filter", {"dataset": dataset, "filters": ", ".join(allowed)}
            )
    layers = layer_slugs(session)
    values: dict[str, Any] = {}
    if dataset == "properties":
        try:
            values["property_filter"] = parse_filter(
                {k: v for k, v in args.items() if k in allowed}, areas=areas, layers=layers
            )
        except ApiError as err:
            errors.update(err.messages)
    else:
        choices = {
            "layer": layers, "status": set(NEED_STATUSES), "sector": set(SECTORS),
            "legal_form": set(LEGAL_FORMS),
        }  # fmt: skip
        applicable = {name: known for name, known in choices.items() if name in allowed}
        values.update(parse_place_and_lists(args, applicable, areas=areas, errors=errors))
        if "min_score" in allowed and args.get("min_score"):
            try:
                values["min_score"] = float(args["min_score"])
                if not 0.0 <= values["min_score"] <= 1.0:
                    raise ValueError
            except ValueError:
                errors["min_score"] = Message("param_score")
    if errors:
        raise ApiError(errors)
    return ExportQuery(dataset=dataset, **values)


# -- records ----------------------------------------------------------------------------------


def property_record(row: Property, areas: AreaIndex | None = None) -> dict[str, Any]:
    """The public attributes of one property, JSON-ready (``uses`` as a list)."""
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


def layer_sources(session: Session) -> dict[str, str]:
    """Per layer, what an export says it comes from: "demo" for the generated demo, else the
    import's source and date ("vastgoed.geojson, 2026-12-01")."""
    rows = session.execute(select(Layer.slug, Layer.source, Layer.is_demo, Layer.imported_at))
    return {
        r.slug: "demo"
        if r.is_demo
        else f"{r.source}, {r.imported_at:%Y-%m-%d}"
        if r.imported_at
        else r.source
        for r in rows
    }


def property_row(
    row: Property, areas: AreaIndex, sources: dict[str, str] | None = None
) -> dict[str, Any]:
    """A property as a flat export row (``uses`` comma-joined)."""
    record = property_record(row, areas)
    record["uses"] = ",".join(record["uses"])
    record["source"] = (sources or {}).get(row.layer, "")
    return {name: record.get(name) for name in PROPERTY_COLUMNS}


def need_buurten(
    codes: Iterable[str], x: float | None, y: float | None, areas: AreaIndex
) -> set[str]:
    """The buurten a need accepts: those in its preferred areas, plus the buurt of its point."""
    out: set[str] = set()
    for code in codes:
        out.update(areas.buurten_in(code))
    if x is not None and y is not None:
        buurt = areas.buurt_of_points([x], [y])[0]
        if buurt is not None:
            out.add(buurt)
    return out


def need_geometries(
    rows: Sequence[Need], areas: AreaIndex, *, point_grid_m: float | None = None
) -> list[shapely.Geometry | None]:
    """Each need's point, else the union of its preferred areas (RD New).

    ``point_grid_m`` snaps points to the centre of a grid cell that size: the public OGC API uses
    it so that a point placed on someone's home is not published to the centimetre.
    """
    import shapely

    unions: dict[tuple[str, ...], shapely.Geometry | None] = {}
    out: list[shapely.Geometry | None] = []
    for row in rows:
        if row.x is not None and row.y is not None:
            x, y = row.x, row.y
            if point_grid_m:
                x = (x // point_grid_m + 0.5) * point_grid_m
                y = (y // point_grid_m + 0.5) * point_grid_m
            out.append(shapely.Point(x, y))
            continue
        key = tuple(sorted(c for c in row.area_list if c in areas))
        if key not in unions:
            unions[key] = shapely.union_all([areas.geoms[c] for c in key]) if key else None
        out.append(unions[key])
    return out


# -- tables -----------------------------------------------------------------------------------


def properties_table(session: Session, query: ExportQuery, *, areas: AreaIndex) -> Table:
    import shapely

    assert query.property_filter is not None  # parse_query sets it for this dataset
    rows = find_properties(session, query.property_filter, areas=areas)
    geoms = list(shapely.from_wkb([r.geom for r in rows])) if rows else []
    sources = layer_sources(session)
    return Table(
        "properties", PROPERTY_COLUMNS, [property_row(r, areas, sources) for r in rows], geoms
    )


def filter_bbox(table: Table, bbox: tuple[float, float, float, float] | None) -> Table:
    """Rows whose geometry intersects a WGS84 bbox (tested exactly, in RD New)."""
    import numpy as np
    import shapely

    if bbox is None or not len(table):
        return table
    window = bbox_to_rd(bbox)
    geoms = np.array(table.geoms, dtype=object)
    hits = shapely.intersects(window, geoms)
    return table.take(np.flatnonzero(hits & ~shapely.is_missing(geoms)))


# -- -------------------------------------------------------------------------------


def property_features(
    rows: Sequence[Property], areas: AreaIndex | None = None
) -> list[dict[str, Any]]:
    geometries = geometries_wgs84([r.geom for r in rows])
    return [
        {
            "type": "Feature",
            "id": row.id,
            "geometry": geometry,
            "properties": property_record(row, areas),
        }
        for row, geometry in zip(rows, geometries, strict=True)
    ]


def table_features(table: Table) -> list[dict[str, Any]]:
    """RFC 7946 features of a table; the id is kept in the properties too (GDAL reads it there)."""
    geometries = geojson_geometries(table.geoms)
    return [
        {"type": "Feature", "id": row[table.id_column], "geometry": geometry, "properties": row}
        for row, geometry in zip(table.rows, geometries, strict=True)
    ]
