"""Reading a layer file: format, size and encoding guards, geometry columns, and its CRS.

Part of the layer import (:mod:`spacematch.ingest.importer` is the entry point); Flask-free.

Formats: GeoJSON, GeoPackage, Shapefile (``.shp`` or a zipped one) and CSV, all read with
pyogrio; JSON lines (``.jsonl``, ``.ndjson``, ``.geojsonl``, ``.geojsons``) read here, one
record per line: either a GeoJSON Feature (RFC 8142) or a flat record whose ``geometrie`` or
``geometry`` member is a GeoJSON geometry object or WKT text (as the city's exports write them).

CRS: every file must declare its CRS; nothing is guessed.

- GeoPackage and Shapefile: their own CRS (a Shapefile without ``.prj`` is refused, unless the
  mapping gives ``crs``).
- GeoJSON: its ``crs`` member; without one it is WGS84 by RFC 7946, unless the mapping gives
  ``crs`` (for legacy files in RD New written without a member).
- JSON lines: the mapping's ``crs``, else a ``crs`` member of the first record's geometry, else
  WGS84 for GeoJSON Feature lines (RFC 8142); flat records without either are refused.
- CSV has no CRS of its own. It is declared by the mapping's ``crs``, else by a sidecar
  ``<name>.prj`` (WKT or ``EPSG:28992`` text), else by the geometry column's name when that name
  states it: ``WKT_LNG_LAT`` and ``lon``/``lat`` mean WGS84. Geometry comes from the first of the
  columns ``WKT, wkt, geometry, WKT_LNG_LAT`` (WKT), else ``x/y, X/Y, lon/lat``, or the mapping's
  ``[geometry]``.

A CRS declared twice (by the file and the mapping) must agree; the mapping's ``crs`` does override
the WGS84 that CSV column names imply.

Size, vertex and encoding limits: :mod:`spacematch.ingest.limits`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from spacematch.geo import WGS84
from spacematch.ingest.cells import as_text
from spacematch.ingest.limits import (
    MAX_FILE_BYTES,
    MAX_VERTICES,
    geojson_object_limit,
    is_utf8,
    limit_vertices,
    within_size,
)
from spacematch.ingest.problems import Problem, Problems

WKT_COLUMNS = ("WKT", "wkt", "geometry", "geometrie", "WKT_LNG_LAT")
JSONL_GEOMETRY = ("geometrie", "geometry")
XY_COLUMNS = (("x", "y"), ("X", "Y"), ("lon", "lat"))
_USE_ARROW = importlib.util.find_spec("pyarrow") is not None


@dataclass
class Source:
    """A file as read: attributes, geometries in the source CRS, and the declared CRS."""

    frame: pd.DataFrame
    geoms: np.ndarray
    crs: CRS | None
    geom_reported: np.ndarray  # features whose geometry problem was reported while reading


def file_kind(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, kind in (
        (".geojson", "geojson"),
        (".json", "geojson"),
        (".gpkg", "gpkg"),
        (".shp", "shp"),
        (".shp.zip", "shp"),
        (".zip", "shp"),
        (".csv", "csv"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".geojsonl", "jsonl"),
        (".geojsons", "jsonl"),
    ):
        if name.endswith(suffix):
            return kind
    return None


def read_source(
    path: Path,
    spec: dict[str, Any],
    problems: Problems,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_vertices: int = MAX_VERTICES,
) -> Source | None:
    """Read the file and settle its CRS; None when it cannot be read at all."""
    kind = file_kind(path)
    if kind is None:
        problems.file(
            "file", f"unsupported file type {path.suffix!r} (GeoJSON, GeoPackage, Shapefile or CSV)"
        )
        return None
    if not path.is_file():
        problems.file("file", f"file not found: {path}")
        return None
    if not within_size(path, max_bytes, problems):
        return None
    if kind in ("geojson", "csv", "jsonl") and not is_utf8(path, kind, problems):
        return None
    if kind == "jsonl":
        return _read_jsonl(path, spec, problems, max_vertices)
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
            with geojson_object_limit(max_vertices if kind == "geojson" else None):
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
        if "too complex/large" in str(exc):
            where = str(exc).split(";")[1].split(":")[0].strip() if ";" in str(exc) else ""
            problems.file(
                "geometry",
                f"a feature is too large to read ({where}): at most {max_vertices:,} vertices "
                "per feature; simplify the geometry first",
            )
        else:
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
    limit_vertices(geoms, reported, max_vertices, problems)
    return Source(frame, geoms, crs, reported)


def _read_jsonl(
    path: Path, spec: dict[str, Any], problems: Problems, max_vertices: int
) -> Source | None:
    """A JSON-lines file: one GeoJSON Feature or one flat record per line (see the docstring)."""
    records: list[dict[str, Any]] = []
    geometries: list[Any] = []
    reported: list[bool] = []
    features = 0
    member_crs: str | None = None
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                problems.file("file", f"line {number} is not JSON: {exc}")
                return None
            if not isinstance(record, dict):
                problems.file("file", f"line {number} is not a JSON object")
                return None
            if record.get("type") == "Feature":
                features += 1
                props = record.get("properties") or {}
                raw = record.get("geometry")
                if "id" in record and "id" not in props:
                    props = {"id": record["id"], **props}
            else:
                key = next((k for k in JSONL_GEOMETRY if k in record), None)
                raw = record.get(key) if key else None
                props = {k: v for k, v in record.items() if k != key}
            if isinstance(raw, dict) and member_crs is None and isinstance(raw.get("crs"), dict):
                member_crs = str((raw["crs"].get("properties") or {}).get("name", "")) or None
            geom, bad = _jsonl_geometry(raw)
            if bad:
                problems.items.append(
                    Problem(len(records) + 1, "geometry", f"not a valid geometry: {bad}")
                )
            records.append(props)
            geometries.append(geom)
            reported.append(bool(bad))
    if not records:
        problems.file("file", "the file has no features")
        return None
    frame = pd.DataFrame.from_records(records)
    geoms = np.empty(len(geometries), dtype=object)
    geoms[:] = geometries
    geom_reported = np.array(reported, dtype=bool)
    crs: CRS | None = None
    if spec["crs"] is not None:
        crs = _parse_crs(spec["crs"], "the mapping", problems)
    elif member_crs is not None:
        crs = _parse_crs(member_crs, "the first geometry's crs member", problems)
    elif features == len(records):
        crs = WGS84  # RFC 8142: GeoJSON text sequences are WGS84 lon/lat
    else:
        problems.file(
            "crs",
            'no CRS declared (JSON-lines records carry none: give crs = "EPSG:28992" in a '
            "mapping, or a crs member in the geometry)",
        )
    limit_vertices(geoms, geom_reported, max_vertices, problems)
    return Source(frame, geoms, crs, geom_reported)


def _jsonl_geometry(raw: Any) -> tuple[Any, str | None]:
    """A record's geometry (GeoJSON object or WKT text) as shapely, 2D; or why it is unusable."""
    if raw is None or raw == "":
        return None, None
    try:
        if isinstance(raw, dict):
            geom = shapely.from_geojson(json.dumps({k: v for k, v in raw.items() if k != "crs"}))
        elif isinstance(raw, str):
            geom = shapely.from_wkt(raw)
        else:
            return None, f"unexpected {type(raw).__name__}"
    except (shapely.errors.GEOSException, ValueError) as exc:
        return None, str(exc)[:80]
    return shapely.force_2d(geom), None


def _csv_geometry(
    frame: pd.DataFrame, spec: dict[str, Any], problems: Problems
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
        text = as_text(frame[wkt])
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
        text = as_text(frame[col])
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
    crs_of_file: CRS | None,  # a GeoDataFrame's own, None for CSV
    spec: dict[str, Any],
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
            "crs", f"the file declares {crs_label(own)} but the mapping says {crs_label(mapped)}"
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


def crs_label(crs: CRS | None) -> str:
    """Short name of a CRS for the layer table: ``EPSG:28992``, else its name."""
    if crs is None:
        return ""
    authority = crs.to_authority(min_confidence=90)
    return ":".join(authority) if authority else crs.name[:64]
