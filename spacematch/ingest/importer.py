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

Geometry must be Point, Polygon or MultiPolygon (2D; Z is dropped) and valid after reprojection.
Borders: a representative point in no buurt but within ``snap_m`` (25 m) of one takes the nearest
buurt (border slivers, quays, water); one further out is kept "buiten Amsterdam" (``buurt_code``
"", ``outside_m`` its distance): never in an area filter's results, matched only by distance to a
need's point. ``strict=True`` (``import-layer --strict``) refuses both, and unknown use values,
as problems.

Whole-city exports: features whose kind is in the mapping's ``skip_kinds`` are not imported, a
unit with a contract number is stored as let (``verhuurd``), and with ``unknown_uses = "import"``
a unit whose kind maps to no use class is stored unmatched; :mod:`spacematch.ingest.report`
counts each outcome, and the report is kept with the layer.

Re-import: a property whose id persists keeps its stored status once the workflow has moved it
on (in_optie, toegewezen, ingetrokken); the file's status (beschikbaar, or verhuurd from its
contracts) applies to new ids and to the others. Any problem (a file-level one always, a
feature's in any mode) aborts the import before anything is written.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Table, func, select
from tqdm import tqdm

from spacematch.db import Store, bump_data_version
from spacematch.domain.areas import AreaIndex
from spacematch.geo import RD_NEW, to_rd
from spacematch.ingest.attributes import column_key, map_attributes
from spacematch.ingest.limits import MAX_FILE_BYTES, MAX_VERTICES
from spacematch.ingest.mapping import empty_mapping, load_mapping, merge
from spacematch.ingest.presets import PRESETS
from spacematch.ingest.problems import LayerError, Problem, Problems
from spacematch.ingest.read import Source, crs_label, read_source
from spacematch.ingest.report import ImportReport, build_report
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
SNAP_M = 25.0  # a point this close to a buurt takes the nearest one
WORKFLOW_STATUSES = ("in_optie", "toegewezen", "ingetrokken")  # kept over the file's status


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
    report: ImportReport | None = field(default=None, compare=False)


def _resolve_mapping(
    preset: str | None, mapping: str | Path | dict[str, Any] | None
) -> dict[str, Any]:
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
    mapping: str | Path | dict[str, Any] | None = None,
    is_demo: bool = False,
    progress: bool = False,
    areas: AreaIndex | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_vertices: int = MAX_VERTICES,
    strict: bool = False,
    source_label: str | None = None,
    crs: str | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> ImportResult:
    """Validate a layer file and replace the layer with it in one transaction.

    Raises LayerError with every problem found, before anything is written; the previous
    version of the layer then stays as it was. ``areas`` saves rebuilding the buurt index when
    several layers are imported in a row. ``max_bytes`` (file size) and ``max_vertices`` (per
    feature) bound the time and memory a file may cost; see :mod:`spacematch.ingest.read`.
    ``strict`` refuses points outside the buurten and unknown use values too. ``source_label``
    names the source on the layer (default: the file's name), e.g. the API address a fetch read.
    ``crs`` declares the CRS of a file that carries none (as a mapping's ``crs`` would).
    ``on_progress(stage, done, total)`` is told of each stage (read, validate, write) and of the
    rows written, for the admin upload page's progress.
    """
    hook = on_progress or (lambda stage, done, total: None)
    hook("read", 0, 0)
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
    if crs is not None and spec["crs"] is None:
        spec = {**spec, "crs": crs}
    if strict:
        spec = {**spec, "unknown_uses": "refuse"}
    source = read_source(path, spec, problems, max_bytes=max_bytes, max_vertices=max_vertices)
    if source is None:
        raise LayerError(problems.items)
    read_done = time.perf_counter()

    total = len(source.frame)
    source, skipped = _skip_kinds(source, spec, problems)
    n = len(source.frame)
    hook("validate", 0, n)
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
        geo = _geometry(source, problems, areas, strict=strict)
        _fill_area(table, geo, source, problems)
        if problems:
            raise LayerError(problems.items)
        numbers = problems.numbers if problems.numbers is not None else np.arange(1, n + 1)
        report = build_report(
            total=total,
            numbers=numbers,
            skipped_numbers=skipped["numbers"],
            skipped_ids=skipped["ids"],
            skipped_kinds=skipped["kinds"],
            ids=table["source_id"],
            kinds=table["kind"],
            status=table["status"],
            unknown_kind=table.pop("unknown_kind"),
            place=geo.pop("place"),
            distance=geo["columns"]["outside_m"],
            unknown_values=table.pop("unknown_values"),
        )
        validate_done = time.perf_counter()
        bar.set_description(f"{layer}: writing")
        hook("write", 0, n)
        source_crs = crs_label(source.crs)
        kept = _replace(
            store,
            {**table, **geo["columns"]},
            slug=layer,
            title=title or spec["title"],
            source=source_label or path.name,
            is_demo=is_demo,
            source_crs=source_crs,
            bar=bar,
            report=report,
            hook=hook,
        )
    finished = time.perf_counter()
    stages = {
        "read": read_done - started,
        "validate": validate_done - read_done,
        "write": finished - validate_done,
    }
    return ImportResult(layer, n, source_crs, finished - started, kept, stages, report)


def _skip_kinds(
    source: Source, spec: dict[str, Any], problems: Problems
) -> tuple[Source, dict[str, np.ndarray]]:
    """Take out the features whose kind is one of the mapping's ``skip_kinds`` (dwellings,
    parking places: not space for initiatives), before they are checked; problems name the
    remaining features by their number in the file."""
    none = np.zeros(0, dtype=object)
    skipped = {"numbers": np.zeros(0, dtype=int), "ids": none, "kinds": none}
    columns = spec["fields"].get("kind") or []
    if not spec["skip_kinds"] or not columns:
        return source, skipped
    by_key = {column_key(c): c for c in source.frame.columns}
    found = [c if c in source.frame.columns else by_key.get(column_key(c)) for c in columns]
    found = [c for c in found if c is not None]
    if not found:
        return source, skipped  # the missing column is reported by map_attributes
    kinds = source.frame[found[0]].astype(object).where(source.frame[found[0]].notna(), None)
    for col in found[1:]:
        kinds = kinds.where(kinds.notna(), source.frame[col])
    text = kinds.astype(str).str.strip()
    skip = (kinds.notna() & text.str.lower().isin(spec["skip_kinds"])).to_numpy(bool)
    if not skip.any():
        return source, skipped
    keep = np.flatnonzero(~skip)
    id_columns = [
        c if c in source.frame.columns else by_key.get(column_key(c))
        for c in spec["fields"].get("id", ["id"])
    ]
    id_columns = [c for c in id_columns if c is not None]
    ids = (
        source.frame[id_columns[0]].to_numpy(dtype=object)[skip]
        if id_columns
        else np.full(int(skip.sum()), None, dtype=object)
    )
    skipped = {
        "numbers": np.flatnonzero(skip) + 1,
        "ids": np.array([_id_text(v) for v in ids], dtype=object),
        "kinds": text.to_numpy(object)[skip],
    }
    dropped = set((np.flatnonzero(skip) + 1).tolist())
    problems.items = [p for p in problems.items if p.feature not in dropped]
    problems.numbers = keep + 1
    frame = source.frame.iloc[keep].reset_index(drop=True)
    return Source(frame, source.geoms[keep], source.crs, source.geom_reported[keep]), skipped


def _id_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _fill_area(
    table: dict[str, Any], geo: dict[str, Any], source: Source, problems: Problems
) -> None:
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


def _geometry(
    source: Source, problems: Problems, areas: AreaIndex | None, *, strict: bool = False
) -> dict[str, Any]:
    """Check geometries, reproject them to RD New and join them to buurten, all vectorised.

    Returns ``ok`` (usable geometry, located), ``type_id``, ``area`` (m², RD New), ``place``
    (inside, snapped or outside) and the Property geometry columns.
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
    place = np.full(n, "inside", dtype=object)
    distance = np.full(n, np.nan)
    if ok.any():
        if areas is None or len(areas.buurt_codes) == 0:
            problems.file("geometry", "no buurten in the store: load the areas first (init-db)")
            ok[:] = False
        else:
            buurt[ok] = areas.buurt_of(rd[ok])
            outside = ok & (buurt == None)  # noqa: E711
            if strict:
                problems.mask(outside, "geometry", "outside Amsterdam: lies in no buurt")
                ok &= ~outside
            elif outside.any():
                nearest, dist = areas.nearest_buurt(rd[outside])
                at = np.flatnonzero(outside)
                distance[at] = np.round(dist, 1)
                near = dist <= SNAP_M
                buurt[at[near]] = nearest[near]
                buurt[at[~near]] = ""
                place[at[near]] = "snapped"
                place[at[~near]] = "outside"

    area = np.zeros(n)
    area[ok] = shapely.area(rd[ok])
    geom_type = np.full(n, "", dtype=object)
    for tid, name in GEOM_TYPES.items():
        geom_type[type_id == tid] = name
    columns: dict[str, Any] = {"geom_type": geom_type, "buurt_code": buurt, "outside_m": distance}
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
    return {"ok": ok, "type_id": type_id, "area": area, "columns": columns, "place": place}


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
    report: ImportReport | None = None,
    hook: Callable[[str, int, int], None] | None = None,
) -> int:
    """Replace the layer's properties in one transaction; returns how many statuses were kept."""
    n = len(table["source_id"])
    table = {**table, "layer": slug, "id": (f"{slug}." + pd.Series(table["source_id"])).to_numpy()}
    keys = [c.name for c in Property.__table__.columns]
    columns = []
    for key in keys:
        value = table[key]
        if key == "outside_m":  # nan (inside a buurt) is stored as NULL
            # numpy's stubs take where(cond, x, None) for the one-argument form (a tuple)
            value = cast(np.ndarray, np.where(np.isfinite(value), value, None)).astype(object)
        columns.append(value.tolist() if isinstance(value, np.ndarray) else [value] * n)
    with store.session() as session:
        # Lock the layer's rows (PostgreSQL; SQLite locks the whole file on write anyway), so a
        # workflow step taken during the import is not lost between reading and replacing.
        row = session.get(Layer, slug, with_for_update=True)
        query = select(Property.id, Property.status, Property.uses).where(Property.layer == slug)
        stored_rows = session.execute(query.with_for_update()).all()
        stored = {r.id: r.status for r in stored_rows}
        kept = 0
        if stored:
            # Use classes an officer gave a unit of unknown kind stay while the file gives none.
            officer_uses = pd.Series(table["id"], dtype=object).map(
                {r.id: r.uses for r in stored_rows if r.uses}
            )
            given = np.asarray(columns[keys.index("uses")], dtype=object)
            keep_uses = officer_uses.notna().to_numpy(bool) & (given == "")
            if keep_uses.any():
                columns[keys.index("uses")] = np.where(
                    keep_uses, officer_uses.to_numpy(object), given
                ).tolist()
            mapped = pd.Series(table["id"], dtype=object).map(stored)
            previous = mapped.to_numpy(object)
            keep = mapped.notna().to_numpy(bool) & np.isin(previous, WORKFLOW_STATUSES)
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
        row.report = report.to_json() if report is not None else ""
        session.flush()

        properties = cast(Table, Property.__table__)  # a mapped class's table is a Table
        session.execute(properties.delete().where(properties.c.layer == slug))
        insert = properties.insert()
        for start in range(0, n, INSERT_BATCH):
            stop = min(start + INSERT_BATCH, n)
            batch = [
                dict(zip(keys, values, strict=True))
                for values in zip(*(c[start:stop] for c in columns), strict=True)
            ]
            session.execute(insert, batch)
            bar.update(stop - start)
            if hook is not None:
                hook("write", stop, n)
        bump_data_version(session)
    return kept


def _default_title(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").capitalize()
