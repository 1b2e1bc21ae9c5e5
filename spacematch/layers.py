"""Layer import: read a property layer file, validate every feature, replace the layer atomically.

Flask-free: the CLI, the demo loader, the benchmark and the tests call :func:`import_layer`.

Formats: GeoJSON, GeoPackage, Shapefile (``.shp`` or a zipped one) and CSV, all read with
pyogrio. Attribute names are mapped by a small declarative mapping (TOML or JSON; the format is
documented in :mod:`spacematch.presets`), a preset, or nothing when the columns already carry the
design's field names.

CRS: every file must declare its CRS; nothing is guessed.

- GeoPackage and Shapefile: their own CRS (a Shapefile without ``.prj`` is refused, unless the
  mapping gives ``crs``).
- GeoJSON: its ``crs`` member; without one it is WGS84 by RFC 7946, unless the mapping gives
  ``crs`` (for legacy files in RD New written without a member).
- CSV has no CRS of its own. It is declared by the mapping's ``crs``, else by a sidecar
  ``<name>.prj`` (WKT or ``EPSG:28992`` text), else by the geometry column's name when that name
  states it: ``WKT_LNG_LAT`` and ``lon``/``lat`` mean WGS84. Geometry comes from the first of the
  columns ``WKT, wkt, geometry, WKT_LNG_LAT`` (WKT), else ``x/y, X/Y, lon/lat``, or the mapping's
  ``[geometry]``.

A CRS declared twice (by the file and the mapping) must agree; the mapping's ``crs`` does override
the WGS84 that CSV column names imply.

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

import importlib.util
import json
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from sqlalchemy import func, select
from tqdm import tqdm

from . import presets
from .areas import AreaIndex
from .db import Store, bump_data_version
from .geo import RD_NEW, WGS84, to_rd
from .models import Layer, Property
from .presets import PRESETS, LayerError, Problem, Problems, load_mapping

__all__ = [
    "PRESETS",
    "ImportResult",
    "LayerError",
    "Problem",
    "import_layer",
    "load_mapping",
]

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
WKT_COLUMNS = ("WKT", "wkt", "geometry", "WKT_LNG_LAT")
XY_COLUMNS = (("x", "y"), ("X", "Y"), ("lon", "lat"))
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
_USE_ARROW = importlib.util.find_spec("pyarrow") is not None


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


@dataclass
class _Source:
    """A file as read: attributes, geometries in the source CRS, and the declared CRS."""

    frame: pd.DataFrame
    geoms: np.ndarray
    crs: CRS | None
    geom_reported: np.ndarray  # features whose geometry problem was reported while reading


def _resolve_mapping(preset: str | None, mapping: str | Path | dict | None) -> dict:
    """The preset and/or the mapping as one normalised mapping (the mapping wins where both
    speak; a mapping can also name its preset with ``extends``)."""
    out = presets.empty_mapping()
    if preset is not None:
        if preset not in PRESETS:
            message = f"unknown preset {preset!r} (presets: {', '.join(PRESETS)})"
            raise LayerError([Problem(None, "mapping", message)])
        out = load_mapping(PRESETS[preset])
    if mapping is not None:
        out = presets.merge(out, load_mapping(mapping))
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
) -> ImportResult:
    """Validate a layer file and replace the layer with it in one transaction.

    Raises LayerError with every problem found, before anything is written; the previous
    version of the layer then stays as it was. ``areas`` saves rebuilding the buurt index when
    several layers are imported in a row.
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
    source = _read(path, spec, problems)
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
        table = presets.map_attributes(source.frame, spec, layer, problems)
        geo = _geometry(source, problems, areas)
        _fill_area(table, geo, source, problems)
        if problems:
            raise LayerError(problems.items)
        validate_done = time.perf_counter()
        bar.set_description(f"{layer}: writing")
        crs_label = _crs_label(source.crs)
        kept = _replace(
            store,
            {**table, **geo["columns"]},
            slug=layer,
            title=title or spec["title"],
            source=path.name,
            is_demo=is_demo,
            source_crs=crs_label,
            bar=bar,
        )
    finished = time.perf_counter()
    stages = {
        "read": read_done - started,
        "validate": validate_done - read_done,
        "write": finished - validate_done,
    }
    return ImportResult(layer, n, crs_label, finished - started, kept, stages)


def _fill_area(table: dict, geo: dict, source: _Source, problems: Problems) -> None:
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


# --- reading ---------------------------------------------------------------------------------


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, kind in (
        (".geojson", "geojson"),
        (".json", "geojson"),
        (".gpkg", "gpkg"),
        (".shp", "shp"),
        (".shp.zip", "shp"),
        (".zip", "shp"),
        (".csv", "csv"),
    ):
        if name.endswith(suffix):
            return kind
    return None


def _read(path: Path, spec: dict, problems: Problems) -> _Source | None:
    """Read the file and settle its CRS; None when it cannot be read at all."""
    kind = _kind(path)
    if kind is None:
        problems.file(
            "file", f"unsupported file type {path.suffix!r} (GeoJSON, GeoPackage, Shapefile or CSV)"
        )
        return None
    if not path.is_file():
        problems.file("file", f"file not found: {path}")
        return None
    options: dict[str, Any] = {}
    if kind == "geojson":
        options["DATE_AS_STRING"] = "YES"  # dates are parsed (and refused) here, not by GDAL
    try:
        if kind == "gpkg" and spec["source_layer"] is None:
            names = [str(row[0]) for row in pyogrio.list_layers(path)]
            if len(names) > 1:
                problems.file(
                    "file",
                    f"the GeoPackage has several layers ({', '.join(names)}): "
                    "name one with source_layer in a mapping",
                )
                return None
        with warnings.catch_warnings():
            # pyogrio tries JSON-typed GeoJSON columns as JSON and warns when a cell is not;
            # such cells stay text and are checked below.
            warnings.filterwarnings(
                "ignore", message="Could not parse column", category=UserWarning
            )
            frame = pyogrio.read_dataframe(
                path,
                layer=spec["source_layer"],
                read_geometry=kind != "csv",
                force_2d=True,
                on_invalid="ignore",
                use_arrow=_USE_ARROW,
                **options,
            )
    except Exception as exc:
        problems.file("file", f"cannot read {path.name}: {exc}")
        return None
    if len(frame) == 0:
        problems.file("file", "the file has no features")
        return None

    if kind == "csv":
        frame = pd.DataFrame(frame).reset_index(drop=True)
        geoms, reported, lonlat = _csv_geometry(frame, spec, problems)
        crs = _declared_crs(kind, path, None, spec, problems, csv_lonlat=lonlat)
    else:
        crs_of_file = frame.crs
        geoms = np.asarray(frame.geometry.array, dtype=object)
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name)).reset_index(drop=True)
        reported = np.zeros(len(frame), dtype=bool)
        crs = _declared_crs(kind, path, crs_of_file, spec, problems)
    return _Source(frame, geoms, crs, reported)


def _csv_geometry(
    frame: pd.DataFrame, spec: dict, problems: Problems
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Geometries from a CSV's WKT or x/y columns; also whether the column names mean WGS84."""
    n = len(frame)
    none = np.full(n, None, dtype=object)
    reported = np.zeros(n, dtype=bool)
    columns = set(frame.columns)
    wkt = spec["geometry"].get("wkt")
    xy = (spec["geometry"]["x"], spec["geometry"]["y"]) if "x" in spec["geometry"] else None
    if not wkt and not xy:
        wkt = next((c for c in WKT_COLUMNS if c in columns), None)
        xy = None if wkt else next((p for p in XY_COLUMNS if set(p) <= columns), None)
    needed = [wkt] if wkt else list(xy or ())
    missing = [c for c in needed if c not in columns]
    if not needed or missing:
        found = f"columns {', '.join(missing)} not found" if missing else "no geometry columns"
        problems.file(
            "geometry",
            f"{found}: a CSV needs a WKT column "
            f"({', '.join(WKT_COLUMNS)}) or x/y columns (x/y, X/Y, lon/lat)",
        )
        return none, np.ones(n, dtype=bool), False
    if wkt:
        text = presets.as_text(frame[wkt])
        present = text != None  # noqa: E711 - elementwise on an object array
        geoms = none.copy()
        parsed = shapely.from_wkt(text[present].astype(str), on_invalid="ignore")
        geoms[present] = shapely.force_2d(parsed)
        bad = present & shapely.is_missing(geoms)
        problems.mask(bad, "geometry", f"{wkt}: not valid WKT")
        reported |= bad
        return geoms, reported, wkt == "WKT_LNG_LAT"
    x_col, y_col = xy  # type: ignore[misc]
    coords = []
    for col in (x_col, y_col):
        text = presets.as_text(frame[col])
        values = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(float)
        bad = (text != None) & ~np.isfinite(values)  # noqa: E711
        problems.mask(bad & ~reported, "geometry", f"{col}: must be a number")
        reported |= bad
        coords.append(values)
    ok = np.isfinite(coords[0]) & np.isfinite(coords[1])
    geoms = none.copy()
    geoms[ok] = shapely.points(coords[0][ok], coords[1][ok])
    return geoms, reported, (x_col, y_col) == ("lon", "lat")


def _parse_crs(text: str, where: str, problems: Problems) -> CRS | None:
    try:
        return CRS.from_user_input(text)
    except CRSError:
        shown = text if len(text) <= 80 else text[:77] + "..."
        problems.file("crs", f"unknown CRS {shown!r} in {where}")
        return None


def _declared_crs(
    kind: str,
    path: Path,
    crs_of_file: Any,
    spec: dict,
    problems: Problems,
    *,
    csv_lonlat: bool = False,
) -> CRS | None:
    """The CRS the file (or its mapping) declares; None, with a problem, when there is none."""
    mapped = None
    if spec["crs"] is not None:
        mapped = _parse_crs(spec["crs"], "the mapping", problems)
        if mapped is None:
            return None
    own: CRS | None = None
    prj = path.with_suffix(".prj")
    if kind == "csv" and prj.is_file():
        own = _parse_crs(
            prj.read_text(encoding="utf-8", errors="replace").strip(), prj.name, problems
        )
        if own is None:
            return None
    elif kind == "geojson":
        member = _geojson_crs_member(path)
        if member is not None:
            own = _parse_crs(member, "the file's crs member", problems)
            if own is None:
                return None
    elif kind in ("gpkg", "shp"):
        if crs_of_file is not None:
            own = CRS.from_user_input(crs_of_file)
        elif kind == "shp" and prj.is_file():
            problems.file("crs", f"unknown CRS in {prj.name}")
            return None
    if own is not None and mapped is not None and not own.equals(mapped, ignore_axis_order=True):
        problems.file(
            "crs", f"the file declares {_crs_label(own)} but the mapping says {_crs_label(mapped)}"
        )
        return None
    crs = own or mapped
    if crs is None and kind == "geojson":
        crs = WGS84  # RFC 7946: GeoJSON without a crs member is WGS84 lon/lat
    if crs is None and csv_lonlat:
        crs = WGS84
    if crs is None:
        hint = {
            "csv": 'a CSV carries none: give crs = "EPSG:28992" (or the right one) in a mapping, '
            "or a .prj file beside it",
            "shp": "the .prj file is missing",
            "gpkg": "the GeoPackage layer has an undefined spatial reference system",
        }[kind]
        problems.file("crs", f"no CRS declared ({hint})")
    return crs


def _geojson_crs_member(path: Path) -> str | None:
    """The name in a GeoJSON file's top-level ``crs`` member, if it has one.

    GDAL falls back to WGS84 for a crs it cannot parse, so the member is read here to refuse an
    unknown CRS instead of silently treating the coordinates as lon/lat. Only the file's head
    (before "features") and tail (after the last "]") are scanned, so large files stay cheap.
    """
    size = path.stat().st_size
    chunk = 65_536
    with open(path, "rb") as fh:
        if size <= 2 * chunk:
            head = tail = fh.read().decode("utf-8", errors="replace")
        else:
            head = fh.read(chunk).decode("utf-8", errors="replace")
            fh.seek(size - chunk)
            tail = fh.read().decode("utf-8", errors="replace")
    start = head.find('"features"')
    regions = [head[:start] if start >= 0 else head]
    end = tail.rfind("]")
    if end >= 0:
        regions.append(tail[end:])
    for region in regions:
        match = re.search(r'"crs"\s*:\s*', region)
        if not match:
            continue
        if region[match.end() :].startswith("null"):
            return None
        try:
            member, _ = json.JSONDecoder().raw_decode(region, match.end())
        except json.JSONDecodeError:
            return "(unreadable crs member)"
        props = member.get("properties", {}) if isinstance(member, dict) else {}
        if isinstance(member, dict) and member.get("type") == "name" and "name" in props:
            return str(props["name"])
        if isinstance(member, dict) and member.get("type") == "EPSG" and "code" in props:
            return f"EPSG:{props['code']}"
        return json.dumps(member)[:60]
    return None


def _crs_label(crs: CRS | None) -> str:
    """Short name of a CRS for the layer table: ``EPSG:28992``, else its name."""
    if crs is None:
        return ""
    authority = crs.to_authority(min_confidence=90)
    return ":".join(authority) if authority else crs.name[:64]


def _geometry(source: _Source, problems: Problems, areas: AreaIndex | None) -> dict[str, Any]:
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
        label = _crs_label(crs)
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
