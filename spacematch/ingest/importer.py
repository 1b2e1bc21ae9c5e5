"""Layer import: read a property layer file, validate every feature, replace the layer atomically.

Flask-free: the CLI, the demo loader, the benchmark and the tests call :func:`import_layer`.

Formats: GeoJSON, GeoPackage, Shapefile (``.shp`` or a zipped one) and CSV, read with pyogrio by
:mod:`spacematch.ingest.read`, which also settles the CRS (every file must declare one; nothing is
guessed) and bounds the cost of a bad file (``max_bytes``, ``max_vertices``, UTF-8 only).
Attribute names are mapped by a small declarative mapping (TOML or JSON; the format is documented
in :mod:`spacematch.ingest.mapping`), a preset, or nothing when the columns already carry the
design's field names.

Defaults where the file is silent (a mapping's ``[defaults]`` overrides them): ``status``
beschikbaar; ``accessible`` false; ``available_from`` the import date (the space is available
now); ``available_until`` empty (permanent); ``area_m2`` the polygon's own area in RD New, which
beats a mapping default (a point without area and without a default is a problem);
``rent_eur_m2_year`` has none: a missing rent is a problem unless the mapping gives a default,
because a guessed rent would silently skew the price score.

Geometry must be Point, Polygon or MultiPolygon (2D; Z is dropped), valid after reprojection, and
its representative point must lie in a buurt: a feature outside Amsterdam is reported, never
dropped.

Re-import: a property whose id persists keeps its stored status once the workflow has moved it
on from beschikbaar (in_optie, toegewezen, ingetrokken); the file's status applies to new ids and
to ids still beschikbaar. Any problem aborts the import before anything is written.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import func, select
from tqdm import tqdm

from spacematch.db import Store, bump_data_version
from spacematch.domain.areas import AreaIndex
from spacematch.geo import RD_NEW, to_rd
from spacematch.ingest.attributes import map_attributes
from spacematch.ingest.limits import MAX_FILE_BYTES, MAX_VERTICES
from spacematch.ingest.mapping import empty_mapping, load_mapping, merge
from spacematch.ingest.presets import PRESETS
from spacematch.ingest.problems import LayerError, Problem, Problems
from spacematch.ingest.read import Source, crs_label, read_source
from spacematch.models import Layer, Property

__all__ = [
    "PRESETS",
    "ImportResult",
    "LayerError",
    "Problem",
    "import_layer",
    "load_mapping",
]

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
GEOM_TYPES = {0: "Point", 3: "Polygon", 6: "MultiPolygon"}
TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
INSERT_BATCH = 10_000


@dataclass(frozen=True)
class ImportResult:
    """What an import did. ``kept_status`` counts persisting ids whose workflow status was kept
    over the file's; ``stages`` holds seconds per stage (read, validate, write) for benchmarks."""

    layer: str
    count: int
    source_crs: str
    seconds: float
    kept_status: int
    stages: dict[str, float] = field(default_factory=dict, compare=False)


def _resolve_mapping(preset: str | None, mapping: str | Path | dict | None) -> dict:
    """The preset and/or the mapping as one normalised mapping (the mapping wins where both
    speak; a mapping can also name its preset with ``extends``)."""
    out = empty_mapping()
    if preset is not None:
        if preset not in PRESETS:
            message = f"unknown preset {preset!r} (presets: {', '.join(PRESETS)})"
            raise LayerError([Problem(None, "mapping", message)])
        out = load_mapping(PRESETS[preset])
    if mapping is not None:
        out = merge(out, load_mapping(mapping))
    return out


def import_layer(
    store: Store,
    path: str | Path,
    *,
    layer: str,
    title: str | None = None,
    preset: str | None = None,
    mapping: str | Path | dict | None = None,
    is_demo: bool = False,
    progress: bool = False,
    areas: AreaIndex | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_vertices: int = MAX_VERTICES,
) -> ImportResult:
    """Validate a layer file and replace the layer with it in one transaction.

    Raises LayerError with every problem found, before anything is written; the previous
    version of the layer then stays as it was. ``areas`` saves rebuilding the buurt index when
    several layers are imported in a row. ``max_bytes`` (file size) and ``max_vertices`` (per
    feature) bound the time and memory a file may cost; see :mod:`spacematch.ingest.read`.
    """
    started = time.perf_counter()
    path = Path(path)
    problems = Problems()
    if not SLUG_RE.fullmatch(layer):
        problems.file(
            "layer",
            f"invalid layer name {layer!r}: use 1-64 lower-case letters, "
            "digits, '-' or '_', starting with a letter or digit",
        )
    try:
        spec = _resolve_mapping(preset, mapping)
    except LayerError as err:
        raise LayerError(problems.items + err.problems) from None
    source = read_source(path, spec, problems, max_bytes=max_bytes, max_vertices=max_vertices)
    if source is None:
        raise LayerError(problems.items)
    read_done = time.perf_counter()

    n = len(source.frame)
    with tqdm(
        total=n,
        unit=" features",
        desc=f"{layer}: validating",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        if areas is None and source.crs is not None:
            with store.sessions() as session:
                areas = AreaIndex.from_session(session)
        table = map_attributes(source.frame, spec, layer, problems)
        geo = _geometry(source, problems, areas)
        _fill_area(table, geo, source, problems)
        if problems:
            raise LayerError(problems.items)
        validate_done = time.perf_counter()
        bar.set_description(f"{layer}: writing")
        source_crs = crs_label(source.crs)
        kept = _replace(
            store,
            {**table, **geo["columns"]},
            slug=layer,
            title=title or spec["title"],
            source=path.name,
            is_demo=is_demo,
            source_crs=source_crs,
            bar=bar,
        )
    finished = time.perf_counter()
    stages = {
        "read": read_done - started,
        "validate": validate_done - read_done,
        "write": finished - validate_done,
    }
    return ImportResult(layer, n, source_crs, finished - started, kept, stages)


def _fill_area(table: dict, geo: dict, source: Source, problems: Problems) -> None:
    """A plot without area_m2 gets its polygon's area, a point the mapping's default area;
    a point without either is a problem."""
    is_polygon = np.isin(geo["type_id"], (3, 6))
    given = table.pop("area_given")
    default = table.pop("area_default")
    fill = ~given & is_polygon & geo["ok"]
    table["area_m2"][fill] = geo["area"][fill]
    rest = ~given & ~is_polygon
    if default is not None:
        table["area_m2"][rest] = float(default)
    else:
        problems.mask(
            rest & ~source.geom_reported,
            "area_m2",
            "missing (only a polygon's area can be computed)",
        )


def _geometry(source: Source, problems: Problems, areas: AreaIndex | None) -> dict[str, Any]:
    """Check geometries, reproject them to RD New and join them to buurten, all vectorised.

    Returns ``ok`` (usable geometry inside a buurt), ``type_id``, ``area`` (m², RD New) and the
    Property geometry columns.
    """
    geoms = source.geoms
    n = len(geoms)
    reported = source.geom_reported
    is_missing = shapely.is_missing(geoms)
    problems.mask(is_missing & ~reported, "geometry", "geometry is missing")
    empty = ~is_missing & shapely.is_empty(geoms)
    problems.mask(empty, "geometry", "geometry is empty")
    type_id = shapely.get_type_id(geoms)
    bad_type = ~is_missing & ~empty & ~np.isin(type_id, list(GEOM_TYPES))
    problems.mask(
        bad_type,
        "geometry",
        lambda i: (
            f"geometry type {TYPE_NAMES[type_id[i]]} is "
            "not supported (Point, Polygon or MultiPolygon)"
        ),
    )
    ok = ~(is_missing | empty | bad_type)

    rd = np.full(n, None, dtype=object)
    crs = source.crs
    if crs is None:
        ok[:] = False
    else:
        label = crs_label(crs)
        if crs.is_geographic and ok.any():
            bounds = np.zeros((n, 4))
            bounds[ok] = shapely.bounds(geoms[ok])
            wild = ok & ((np.abs(bounds[:, [0, 2]]) > 180) | (np.abs(bounds[:, [1, 3]]) > 90)).any(
                1
            )
            problems.mask(
                wild,
                "geometry",
                f"coordinates are not longitude/latitude as {label} "
                "requires: is the CRS declared right?",
            )
            ok &= ~wild
        if crs.equals(RD_NEW):
            rd[ok] = geoms[ok]
        elif ok.any():
            rd[ok] = to_rd(geoms[ok], crs.to_wkt())
        bounds = np.full((n, 4), np.nan)
        bounds[ok] = shapely.bounds(rd[ok])
        unprojectable = ok & ~np.isfinite(bounds).all(axis=1)
        problems.mask(unprojectable, "geometry", f"coordinates cannot be reprojected from {label}")
        ok &= ~unprojectable
        invalid = np.zeros(n, dtype=bool)
        invalid[ok] = ~shapely.is_valid(rd[ok])
        if invalid.any():
            reasons = np.full(n, None, dtype=object)
            reasons[invalid] = shapely.is_valid_reason(rd[invalid])
            problems.mask(invalid, "geometry", lambda i: f"geometry is invalid: {reasons[i]}")
        ok &= ~invalid

    buurt = np.full(n, None, dtype=object)
    if ok.any():
        if areas is None or len(areas.buurt_codes) == 0:
            problems.file("geometry", "no buurten in the store: load the areas first (init-db)")
            ok[:] = False
        else:
            buurt[ok] = areas.buurt_of(rd[ok])
            outside = ok & (buurt == None)  # noqa: E711
            problems.mask(outside, "geometry", "outside Amsterdam: lies in no buurt")
            ok &= ~outside

    area = np.zeros(n)
    area[ok] = shapely.area(rd[ok])
    geom_type = np.full(n, "", dtype=object)
    for tid, name in GEOM_TYPES.items():
        geom_type[type_id == tid] = name
    columns: dict[str, Any] = {"geom_type": geom_type, "buurt_code": buurt}
    if ok.all():  # only a clean file is written; skip the work otherwise
        points = shapely.point_on_surface(rd)
        bounds = shapely.bounds(rd)
        columns.update(
            geom=shapely.to_wkb(rd),
            x=shapely.get_x(points),
            y=shapely.get_y(points),
            minx=bounds[:, 0],
            miny=bounds[:, 1],
            maxx=bounds[:, 2],
            maxy=bounds[:, 3],
        )
    return {"ok": ok, "type_id": type_id, "area": area, "columns": columns}


# --- writing ---------------------------------------------------------------------------------


def _replace(
    store: Store,
    table: dict[str, Any],
    *,
    slug: str,
    title: str | None,
    source: str,
    is_demo: bool,
    source_crs: str,
    bar: tqdm,
) -> int:
    """Replace the layer's properties in one transaction; returns how many statuses were kept."""
    n = len(table["source_id"])
    table = {**table, "layer": slug, "id": (f"{slug}." + pd.Series(table["source_id"])).to_numpy()}
    keys = [c.name for c in Property.__table__.columns]
    columns = []
    for key in keys:
        value = table[key]
        columns.append(value.tolist() if isinstance(value, np.ndarray) else [value] * n)
    with store.session() as session:
        # Lock the layer's rows (PostgreSQL; SQLite locks the whole file on write anyway), so a
        # workflow step taken during the import is not lost between reading and replacing.
        row = session.get(Layer, slug, with_for_update=True)
        query = select(Property.id, Property.status).where(Property.layer == slug)
        stored = dict(session.execute(query.with_for_update()).all())
        kept = 0
        if stored:
            mapped = pd.Series(table["id"], dtype=object).map(stored)
            previous = mapped.to_numpy(object)
            keep = mapped.notna().to_numpy(bool) & (previous != "beschikbaar")
            kept = int((keep & (previous != table["status"])).sum())
            status = np.where(keep, previous, table["status"])
            columns[keys.index("status")] = status.tolist()

        if row is None:
            row = Layer(slug=slug, title=title or _default_title(slug))
            session.add(row)
        else:
            row.title = title or row.title
            row.imported_at = func.now()
        row.source, row.is_demo, row.feature_count, row.source_crs = source, is_demo, n, source_crs
        session.flush()

        session.execute(Property.__table__.delete().where(Property.__table__.c.layer == slug))
        insert = Property.__table__.insert()
        for start in range(0, n, INSERT_BATCH):
            stop = min(start + INSERT_BATCH, n)
            batch = [
                dict(zip(keys, values, strict=True))
                for values in zip(*(c[start:stop] for c in columns), strict=True)
            ]
            session.execute(insert, batch)
            bar.update(stop - start)
        bump_data_version(session)
    return kept


def _default_title(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").capitalize()
